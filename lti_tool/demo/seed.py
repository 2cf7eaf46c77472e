"""The demo course, seeded so that every role has something real to do on the first visit (``make demo``).

One activity of each kind of manager feedback, graded out of 10 and placed in the demo LMS's course with
a gradebook column, and in each some feedback already given and some still to give:

========================  ==========================================  ====================================
activity                  done already                                 left to do
========================  ==========================================  ====================================
manager feedback          Omar on Ana (2 revisions; Ana replied),      Omar: finish Ben's draft; Rita: Dev
                          Rita on Chloé
skill assessment          Rita on Dev (2 revisions), Omar on Ben       Omar: finish Ana's draft
work-product review       Ana's call plan (2 versions) reviewed by     Omar: finish Ben's review; Rita:
                          Omar (2 revisions), Ben's and Chloé's plans  review Chloé's plan; Dev: submit
self-assessment           Ana (2 revisions), Chloé                     Ben: finish his draft; Dev: start
========================  ==========================================  ====================================

Everything goes through Cadre's services, as the pages would do it: the roster as the LMS's Names and
Role service gives it, the links of the people page, the library's templates, the activity settings,
drafts, submissions (each enqueuing its score: the demo's worker posts it to the LMS's gradebook), the
learners' work products, replies and self-assessments. It runs once per database: a second ``make demo``
finds the course's seeded activities and leaves everything as people left it.

The demo LMS keeps its course in memory; :func:`place_in_lms` gives it back the resource link and the
gradebook column of every activity of the demo course on each start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.db import utcnow
from lti_tool.deliverables import services as activities
from lti_tool.deliverables.work_products import submit_work_product
from lti_tool.demo import seed_peers, seed_relationships
from lti_tool.demo.app import _member
from lti_tool.demo.platform import Activity as LmsActivity
from lti_tool.demo.platform import LtiPlatform
from lti_tool.demo.seed_programme import seed_programme
from lti_tool.demo.seed_refreshers import seed_refreshers
from lti_tool.feedback import content
from lti_tool.feedback import services as feedback
from lti_tool.form_values import whole_number
from lti_tool.lti.activity_kinds import ACTIVITY_PARAMETER, CUSTOM_PARAMETER, kind_info
from lti_tool.models import Activity, Context, Platform, User
from lti_tool.permissions import Actor
from lti_tool.relationships import roster
from lti_tool.relationships import services as relationships
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import (
    ActivityKind,
    Assessors,
    CadreRole,
    FeedbackRelease,
    ManagerLinkRelation,
    ManagerLinkSource,
)
from lti_tool.tracking.seed_outcome import seed_leaderboard, seed_outcome

POINTS = Decimal(10)
RESOURCE_LINK_PREFIX = "cadre-demo-"


@dataclass(frozen=True)
class SeededActivity:
    kind: ActivityKind
    title: str
    template: str
    instructions: str
    briefing: str


SEEDED = (
    SeededActivity(ActivityKind.MANAGER_FEEDBACK, "Feedback on your customer calls",
                   "manager-feedback-on-training-transfer",
                   "Use the **three questions** from the training on your calls this month.",
                   "Listen to one of their calls. Look for the *three questions* and for what changed."),
    SeededActivity(ActivityKind.SKILL_ASSESSMENT, "Observed coaching conversation",
                   "skill-assessment-coaching-conversation",
                   "Hold a coaching conversation with a colleague while your manager observes.",
                   "Observe one conversation; note what they asked, and what they told instead of asked."),
    SeededActivity(ActivityKind.WORK_PRODUCT_REVIEW, "Review of your call plan", "work-product-review",
                   "Submit the plan of a customer call you will make next week.",
                   "Read the plan before the call; say what will help and what is missing."),
    SeededActivity(ActivityKind.SELF_ASSESSMENT, "Rate your own customer conversations",
                   "skill-assessment-customer-conversation",
                   "Rate yourself with the rubric after a call; your manager reads it beside theirs.", ""),
)
RELATIONSHIP_MAP = SeededActivity(ActivityKind.RELATIONSHIP_MAP, seed_relationships.TITLE,
                                 seed_relationships.TEMPLATE, seed_relationships.INSTRUCTIONS,
                                 seed_relationships.BRIEFING)
"""Graded like the feedback activities above; its maps are seeded by ``demo.seed_relationships``."""
PEER_FEEDBACK = SeededActivity(ActivityKind.PEER_ASSESSMENT, seed_peers.PEER_TITLE, seed_peers.PEER_TEMPLATE,
                               seed_peers.PEER_INSTRUCTIONS, seed_peers.PEER_BRIEFING)
"""Graded like the feedback activities above (the manager's feedback goes to the gradebook); its peers and
the peer-coaching activity are seeded by ``demo.seed_peers``."""
LINE_MANAGERS = {"learner-ana": "manager-omar", "learner-ben": "manager-omar",
                 "learner-chloe": "manager-rita", "learner-dev": "manager-rita"}


@dataclass
class DemoCourse:
    session: Session
    context: Context
    users: dict[str, User]

    def actor(self, sub: str, role: CadreRole) -> Actor:
        user = self.users[sub]
        return Actor(user.id, user.display_name, self.context.platform_id, self.context.id, role)


def seeded_activities(session: Session, context: Context) -> list[Activity]:
    titles = [seeded.title for seeded in SEEDED]
    return list(session.scalars(select(Activity).where(Activity.context_id == context.id,
                                                       Activity.title.in_(titles)).order_by(Activity.id)))


def seed_demo_course(session: Session, platform: LtiPlatform) -> bool:
    """Seed the demo course in Cadre's database once; False when it was already seeded."""
    registered = session.scalar(select(Platform).where(Platform.issuer == platform.issuer))
    assert registered is not None, "register the demo LMS first"
    course = platform.course
    context = session.scalar(select(Context).where(Context.platform_id == registered.id,
                                                   Context.context_id == course.context_id))
    if context is not None and seeded_activities(session, context):
        return False
    if context is None:
        context = Context(platform_id=registered.id, context_id=course.context_id, title=course.title,
                          label=course.label)
        session.add(context)
        session.flush()
    # The roster as the LMS's Names and Role Provisioning service shares it: names before anyone launched.
    entries = [entry for person in course.people
               if (entry := roster.parse_member(_member(platform, person))) is not None]
    roster.store_roster(session, context, entries)
    users = {user.sub: user
             for user in session.scalars(select(User).where(User.platform_id == registered.id))}
    demo = DemoCourse(session, context, users)
    people = relationships.course_people(session, context.id)
    designer = demo.actor("designer-maya", CadreRole.DESIGNER)
    for learner, manager in LINE_MANAGERS.items():
        relationships.link(session, designer, context.id, people[users[learner].id],
                           people[users[manager].id], ManagerLinkRelation.LINE_MANAGER,
                           ManagerLinkSource.DESIGNER)
    placed = [_set_up(demo, designer, seeded, platform) for seeded in SEEDED]
    _give_feedback(demo, placed)
    seed_programme(demo, designer, placed[0])
    seed_peers.seed_peer_activities(demo, designer, _set_up(demo, designer, PEER_FEEDBACK, platform),
                                    demo.actor("manager-omar", CadreRole.MANAGER), answers)
    seed_relationships.seed_relationship_maps(demo, _set_up(demo, designer, RELATIONSHIP_MAP, platform))
    seed_refreshers(session, designer, placed[0], users["learner-ana"])  # weak scores there schedule them
    # The course's business outcome, and its leaderboard with Ana and Chloé on it (they chose to appear).
    seed_outcome(session, context.id, teams=("Omar's team", "Rita's team"))
    seed_leaderboard(session, context.id, [users["learner-ana"].id, users["learner-chloe"].id])
    return True


def _set_up(demo: DemoCourse, designer: Actor, seeded: SeededActivity, platform: LtiPlatform) -> Activity:
    """The activity as deep linking makes it and its designer sets it up, with its gradebook column."""
    session = demo.session
    rubric = rubric_library.create_from_template(session, designer, seeded.template)
    activity = activities.create_activity(session, designer, seeded.kind, seeded.title,
                                          points_possible=POINTS)
    settings = activities.ActivitySettings(
        title=seeded.title, instructions=seeded.instructions, manager_briefing=seeded.briefing,
        rubric_id=rubric.id, due_at=utcnow() + timedelta(days=7), due_timezone="Europe/Paris",
        points_possible=POINTS, grades_to_lms=True,
        assessors=Assessors.LEARNER if seeded.kind is ActivityKind.SELF_ASSESSMENT
        else Assessors.LINE_MANAGER,
        work_product_required=seeded.kind is ActivityKind.WORK_PRODUCT_REVIEW,
        feedback_release=FeedbackRelease.ON_SUBMISSION,
    )
    activities.update_settings(session, designer, activity.id, settings,
                               expected_lock_version=activity.lock_version)
    session.expire(activity, ["rubric_version"])  # pinned by id just now: read it again, as a request would
    # The line item the LMS makes from the deep-linking response's lineItem; a launch names it in its AGS
    # claim, and Cadre remembers it from there (set here because nobody launched yet).
    taken = [_line_item_number(url, platform) for url in session.scalars(
        select(Activity.line_item_url).where(Activity.context_id == demo.context.id))]
    number = max([n for n in taken if n is not None], default=0) + 1
    activity.line_item_url = platform.url(f"/api/contexts/{platform.course.context_id}/lineitems/{number}")
    session.flush()
    return activity


def answers(rubric: rubrics.Rubric, choice: int, next_steps: str) -> content.Draft:
    """A complete answer: level ``choice`` of each criterion (counted from the top, kept in range), points
    inside a range, a comment on every criterion that needs one."""
    criteria: dict[str, Any] = {}
    for number, criterion in enumerate(rubric.criteria):
        levels = sorted(criterion.levels, key=lambda level: level.position)
        level = levels[max(0, len(levels) - 1 - (choice + number) % len(levels))]
        points = level.min_points if level.is_range and level.min_points is not None else None
        criteria[criterion.identifier] = {
            "level": level.identifier, "points": "" if points is None else str(points),
            "comment": f"Seen on the call of the 12th: {level.title.lower()}." if criterion.comment_required
            or number == 0 else ""}
    return content.read_content({"criteria": criteria, "strengths": "Prepares well and listens.",
                                 "next_steps": next_steps}, rubric)


def _give_feedback(demo: DemoCourse, placed: list[Activity]) -> None:
    manager_feedback, skill, review, self_check = placed
    session, users = demo.session, demo.users
    omar, rita = demo.actor("manager-omar", CadreRole.MANAGER), demo.actor("manager-rita", CadreRole.MANAGER)
    learner = {sub: demo.actor(sub, CadreRole.LEARNER) for sub in LINE_MANAGERS}

    def submit(actor: Actor, activity: Activity, sub: str, choice: int, next_steps: str) -> None:
        found = feedback.find_assessment(session, activity, users[sub], actor.user_id)
        feedback.submit(session, actor, activity, users[sub],
                        answers(feedback.rubric_of(activity), choice, next_steps),
                        based_on=found.draft_revision if found else 0)

    def draft(actor: Actor, activity: Activity, sub: str, choice: int, next_steps: str) -> None:
        found = feedback.find_assessment(session, activity, users[sub], actor.user_id)
        feedback.save_draft(session, actor, activity, users[sub],
                            answers(feedback.rubric_of(activity), choice, next_steps),
                            based_on=found.draft_revision if found else 0)

    def reply(sub: str, activity: Activity, text: str) -> None:
        own = learner[sub]
        for assessment, _revision in feedback.feedback_for_learner(session, own, activity).given:
            feedback.acknowledge(session, own, assessment, text)

    submit(omar, manager_feedback, "learner-ana", 1, "Ask the third question before the price comes up.")
    submit(omar, manager_feedback, "learner-ana", 0, "Ask the third question before the price comes up; "
                                                     "you did it twice on Tuesday's call.")
    reply("learner-ana", manager_feedback, "Thank you. I will try it with the two renewals next week.")
    draft(omar, manager_feedback, "learner-ben", 2, "Half written: ")
    submit(rita, manager_feedback, "learner-chloe", 1, "Summarise at the end of each call.")

    submit(rita, skill, "learner-dev", 2, "Let the silence work after a question.")
    submit(rita, skill, "learner-dev", 1, "Let the silence work after a question: better already.")
    submit(omar, skill, "learner-ben", 1, "Ask before you advise.")
    draft(omar, skill, "learner-ana", 0, "")

    for sub, plans in (("learner-ana", ["Call plan for Nordwind: goals, three questions, the next step.",
                                         "Call plan for Nordwind, v2: with the objections I expect."]),
                       ("learner-ben", ["Call plan for Alba Foods: the renewal, what changed since May."]),
                       ("learner-chloe", ["Plan for the support review with Kestrel: open tickets first."])):
        for text in plans:
            submit_work_product(session, learner[sub], review, text, [])
    submit(omar, review, "learner-ana", 1, "Write down the one step you want them to agree to.")
    submit(omar, review, "learner-ana", 0, "The objections section is what makes this plan work.")
    reply("learner-ana", review, "The objections list helped on the call.")
    draft(omar, review, "learner-ben", 2, "Before the call: ")

    submit(learner["learner-ana"], self_check, "learner-ana", 2, "Prepare the questions, not the answers.")
    submit(learner["learner-ana"], self_check, "learner-ana", 1, "Prepare the questions, not the answers; "
                                                                  "better this week.")
    submit(learner["learner-chloe"], self_check, "learner-chloe", 1, "Slow down when the customer is upset.")
    draft(learner["learner-ben"], self_check, "learner-ben", 2, "")


def place_in_lms(session: Session, platform: LtiPlatform, tool_launch_url: str) -> int:
    """Give the demo LMS back the resource links and gradebook columns of the demo course's activities
    (it keeps its course in memory); answers how many it placed. An activity that was launched keeps its
    resource link id; one never launched gets a stable one, which its first launch binds."""
    course = platform.course
    context = session.scalar(select(Context).join(Platform, Platform.id == Context.platform_id)
                             .where(Platform.issuer == platform.issuer,
                                    Context.context_id == course.context_id))
    if context is None:
        return 0
    known = {activity.resource_link_id for activity in course.activities}
    columns: dict[int, dict[str, Any]] = {}
    placed = 0
    for activity in session.scalars(select(Activity).where(Activity.context_id == context.id)
                                    .order_by(Activity.id)):
        number = _line_item_number(activity.line_item_url, platform)
        link_id = activity.resource_link.resource_link_id if activity.resource_link \
            else f"{RESOURCE_LINK_PREFIX}{activity.public_id[:12]}"
        if number is not None and activity.points_possible is not None:
            columns[number] = {"id": activity.line_item_url, "label": activity.title,
                               "scoreMaximum": float(activity.points_possible),
                               "resourceId": activity.public_id, "tag": activity.kind.value}
        if link_id in known:
            continue
        course.activities.append(LmsActivity(
            link_id, activity.title, kind_info(activity.kind).label,
            {CUSTOM_PARAMETER: activity.kind.value, ACTIVITY_PARAMETER: activity.public_id},
            url=tool_launch_url, line_item=activity.line_item_url if number is not None else None))
        placed += 1
    for number in sorted(columns):
        while len(platform.line_items) < number:
            platform.line_items.append({"id": platform.url(f"/api/contexts/{course.context_id}/lineitems/"
                                                           f"{len(platform.line_items) + 1}"),
                                        "label": "(removed)", "scoreMaximum": 0})
        platform.line_items[number - 1] = columns[number]
    return placed


def _line_item_number(url: str | None, platform: LtiPlatform) -> int | None:
    prefix = urlsplit(platform.url(f"/api/contexts/{platform.course.context_id}/lineitems/")).path
    path = urlsplit(url or "").path
    tail = path.removeprefix(prefix) if path.startswith(prefix) else ""
    return whole_number(tail, digits=18)
