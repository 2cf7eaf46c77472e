"""One example event of every kind, as ``docs/xapi-profile.md`` shows them (a test keeps the two equal).

Tests of other packages may build on them too. ``python -m xapi.documentation`` rewrites the document's
examples (and its other generated parts) when a builder changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from xapi.events import (
    Activity,
    AssessorRole,
    CareerConversationHeld,
    CoachingSessionLogged,
    Commented,
    Completed,
    Course,
    CriterionResult,
    Evaluated,
    FollowUp,
    FollowUpAnswered,
    FollowUpScheduled,
    Launched,
    ManagerNominated,
    Nomination,
    NominationAccepted,
    PeerCoachingSessionHeld,
    Person,
    RefresherCompleted,
    Revised,
    Rubric,
    Score,
    Submitted,
    SurveyAnswered,
    Voided,
)
from xapi.statements import Deployment, Statement, build, evaluated_id

DEPLOYMENT = Deployment("https://cadre.example.com")
PLATFORM = "https://moodle.example.com"
AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)

LEARNER = Person(PLATFORM, "f0c3a1d2-learner", email="ana.lopez@example.com")
MANAGER = Person(PLATFORM, "7b9e44c0-manager", email="sam.okafor@example.com")
PEER = Person(PLATFORM, "a51d90e2-peer")
COURSE = Course(DEPLOYMENT.course_iri(3), "Leading customer conversations")
FEEDBACK = Activity(DEPLOYMENT.activity_iri(12), "Manager feedback: first customer call", "manager_feedback")
WORK_PRODUCT = Activity(DEPLOYMENT.activity_iri(13), "Call plan review", "work_product_review")
SURVEY = Activity(DEPLOYMENT.activity_iri(14), "Before we start: what do you see?", "manager_insight_survey")
FOLLOW_UP_ACTIVITY = Activity(DEPLOYMENT.activity_iri(15), "Six months on", "six_month_follow_up")
CAREER = Activity(DEPLOYMENT.activity_iri(16), "Career conversation", "career_conversation")
COACHING_LOG = Activity(DEPLOYMENT.activity_iri(17), "Coaching log (80/20)", "coaching_log")
PEER_COACHING = Activity(DEPLOYMENT.activity_iri(18), "Peer coaching", "peer_coaching")
REFRESHER = Activity(DEPLOYMENT.refresher_iri(88), "Refresher: open questions", "refresher")
RUBRIC = Rubric("customer-call", 2)
CRITERIA = (
    CriterionResult("opening", "clear", 3, 4, Decimal(3), Decimal(4),
                    ("https://case.example.com/ims/case/v1p0/CFItems/6f1b2c1e-0000-4000-8000-000000000001",)),
    CriterionResult("questions", "developing", 2, 4, Decimal("1.5"), Decimal(4)),
)
FOLLOW_UP = FollowUp(DEPLOYMENT.follow_up_iri(5), 5, "Six months on: Ana López")

EXAMPLES: dict[str, object] = {
    "launched": Launched(LEARNER, COURSE, FEEDBACK, launch_id=901, at=AT),
    "submitted": Submitted(LEARNER, COURSE, WORK_PRODUCT, submission_id=77, at=AT),
    "evaluated (manager)": Evaluated(
        LEARNER, MANAGER, AssessorRole.MANAGER, COURSE, FEEDBACK, assessment_id=41, revision=1, at=AT,
        rubric=RUBRIC, score=Score(Decimal("4.5"), 8), criteria=CRITERIA,
    ),
    "evaluated (peer)": Evaluated(
        LEARNER, PEER, AssessorRole.PEER, COURSE, FEEDBACK, assessment_id=42, revision=1, at=AT,
        rubric=RUBRIC, score=Score(6, 8), criteria=CRITERIA, success=True,
    ),
    "evaluated (self, levels only)": Evaluated(
        LEARNER, LEARNER, AssessorRole.SELF, COURSE, FEEDBACK, assessment_id=43, revision=1, at=AT,
        rubric=RUBRIC, criteria=(CriterionResult("opening", "clear", 3, 4),),
    ),
    "revised": Revised(MANAGER, LEARNER, COURSE, FEEDBACK, assessment_id=41, revision=2, at=AT),
    "commented": Commented(
        LEARNER, COURSE, FEEDBACK, comment_id=310, text="Thanks: I will open with the agenda next time.",
        assessment_id=41, revision=1, at=AT,
    ),
    "completed": Completed(LEARNER, COURSE, FEEDBACK, at=AT),
    "survey answered": SurveyAnswered(
        MANAGER, COURSE, SURVEY, response_id=55, at=AT,
        answers={"mistakes": "Calls end without a next step", "frequency": "weekly", "impact": 3},
    ),
    "manager nominated": ManagerNominated(
        LEARNER, MANAGER, COURSE, Nomination(DEPLOYMENT.nomination_iri(21), 21), at=AT
    ),
    "nomination accepted": NominationAccepted(
        MANAGER, LEARNER, COURSE, Nomination(DEPLOYMENT.nomination_iri(21), 21), at=AT
    ),
    "follow-up scheduled": FollowUpScheduled(
        MANAGER, COURSE, FOLLOW_UP_ACTIVITY, FOLLOW_UP, due_at=AT + timedelta(days=182), at=AT
    ),
    "follow-up answered": FollowUpAnswered(
        MANAGER, COURSE, FOLLOW_UP_ACTIVITY, FOLLOW_UP, at=AT + timedelta(days=185),
        answers={"still-happening": "rarely", "impact": 1},
    ),
    "career conversation held": CareerConversationHeld(
        LEARNER, MANAGER, COURSE, CAREER, conversation_id=8, at=AT
    ),
    "coaching session logged": CoachingSessionLogged(
        MANAGER, COURSE, COACHING_LOG, DEPLOYMENT.coaching_session_iri(21), 21, "coaching",
        held_on=date(2026, 12, 2), minutes=45, saved_at=AT,
    ),
    "peer coaching session held": PeerCoachingSessionHeld(
        LEARNER, (PEER,), COURSE, PEER_COACHING, DEPLOYMENT.peer_group_iri(4), "Group 2",
        DEPLOYMENT.peer_coaching_session_iri(31), 31,
        held_on=date(2026, 12, 2),
    ),
    "refresher completed": RefresherCompleted(
        LEARNER, COURSE, REFRESHER, refresher_id=88, at=AT, activity=FEEDBACK
    ),
    "voided": Voided(MANAGER, evaluated_id(DEPLOYMENT, PLATFORM, 41, 1), at=AT),
}
"""Keyed by the heading each example has in ``docs/xapi-profile.md``."""


def example_statements() -> dict[str, Statement]:
    return {name: build(DEPLOYMENT, event) for name, event in EXAMPLES.items()}
