"""Every set of values a column may hold, defined once.

Each is a ``StrEnum`` stored as its value in a ``VARCHAR`` with a ``CHECK`` constraint
(:func:`lti_tool.db.enum_column`), so SQLite and PostgreSQL refuse anything else, and Python code compares
members, not strings typed twice.
"""

from __future__ import annotations

from enum import StrEnum


class CadreRole(StrEnum):
    """What a person may do in Cadre, derived from LIS roles (see ``lti_tool.lti.roles``)."""

    ADMIN = "admin"
    DESIGNER = "designer"
    MANAGER = "manager"
    LEARNER = "learner"


class MessageType(StrEnum):
    """The LTI messages Cadre accepts at ``/lti/launch``."""

    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"


class GroupSource(StrEnum):
    """Where Cadre learned that a person belongs to a group, section or team of a course
    (``lti_tool.relationships.groups``)."""

    PLATFORM = "platform"
    """The course roster from the platform (NRPS), refreshed from it."""
    ROSTER_CSV = "roster_csv"
    """The ``group`` column of a roster CSV import."""


class ManagerLinkSource(StrEnum):
    """Where Cadre learned that a manager is responsible for a learner."""

    LTI_MENTOR = "lti_mentor"
    """Canvas's ``role_scope_mentor`` claim in the manager's launch."""
    ROSTER = "roster"
    DESIGNER = "designer"
    NOMINATION = "nomination"


class ManagerLinkStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    """No longer in force; kept with its history and the feedback given under it."""
    PENDING = "pending"
    """Nominated by the learner, waiting for the manager to accept or decline."""
    DECLINED = "declined"
    """A nomination the manager declined; kept so the learner sees the answer."""


class ManagerLinkRelation(StrEnum):
    """In what capacity a manager is linked to a learner (a learner may have several managers)."""

    LINE_MANAGER = "line_manager"
    MENTOR = "mentor"
    COACH = "coach"


class ActivityKind(StrEnum):
    """The kinds of activity a designer places by deep linking (``lti_tool.lti.activity_kinds`` describes
    each). Platforms store the key in the content item's custom parameters: never rename one."""

    MANAGER_FEEDBACK = "manager_feedback"
    SKILL_ASSESSMENT = "skill_assessment"
    WORK_PRODUCT_REVIEW = "work_product_review"
    SELF_ASSESSMENT = "self_assessment"
    PEER_ASSESSMENT = "peer_assessment"
    MANAGER_INSIGHT_SURVEY = "manager_insight_survey"
    SIX_MONTH_FOLLOW_UP = "six_month_follow_up"
    CAREER_CONVERSATION = "career_conversation"
    COACHING_LOG = "coaching_log"
    PEER_COACHING = "peer_coaching"
    RELATIONSHIP_MAP = "relationship_map"


class Assessors(StrEnum):
    """Who gives the feedback of an activity."""

    LINE_MANAGER = "line_manager"
    """The learner's line manager (the first active manager link) only."""
    ANY_MANAGER = "any_manager"
    """Any manager linked to the learner in the course (line manager, mentor, coach)."""
    LEARNER = "learner"
    """The learner themself (self-assessment)."""

    @property
    def completing_role(self) -> AssessorRole:
        """Whose submitted assessment completes (and grades) a learner's part: their own in a
        self-assessment activity, a manager's otherwise."""
        return AssessorRole.SELF if self is Assessors.LEARNER else AssessorRole.MANAGER


class FeedbackRelease(StrEnum):
    """When the learner sees the feedback given on them."""

    ON_SUBMISSION = "on_submission"
    WHEN_RELEASED = "when_released"
    """Only once course staff release it."""


class OutboxStatus(StrEnum):
    """Where an outbox message is on its way out (see ``lti_tool.outbox``)."""

    PENDING = "pending"
    """Not attempted yet."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """The last attempt failed; another is due at ``next_attempt_at``."""
    DEAD = "dead"
    """Given up (a permanent refusal, or too many attempts); ``last_error`` says why. An admin may retry
    it."""


class AssessorRole(StrEnum):
    """In what capacity someone assessed a learner (``lti_tool.feedback``)."""

    MANAGER = "manager"
    SELF = "self"
    """The learner assessed themself, with the activity's rubric."""
    PEER = "peer"
    """Another learner of the course, assigned to review them (``lti_tool.feedback.peers``)."""


class AssessmentStatus(StrEnum):
    """Where an assessment stands; its revisions keep every submission."""

    DRAFT = "draft"
    """Never submitted: only the assessor sees it."""
    SUBMITTED = "submitted"
    """At least one revision, the newest in force (a draft of changes may be open on top of it)."""
    WITHDRAWN = "withdrawn"
    """The assessor withdrew the submission, with a reason; submitting again makes a new revision."""


class LrsStatus(StrEnum):
    """Whether Cadre sends statements to a learning record store (``lti_tool.records``)."""

    ACTIVE = "active"
    PAUSED = "paused"
    """Nothing is sent until an admin resumes it (``cadre lrs resume``, or a ``cadre lrs test`` that
    passes): set by an admin, or by the worker when the LRS refused Cadre's credentials (401/403)."""


class DeliveryStatus(StrEnum):
    """Where one statement is on its way to one LRS."""

    PENDING = "pending"
    """Not delivered yet: due at ``next_attempt_at`` (the first attempt, or a retry after a failure)."""
    DELIVERED = "delivered"
    """The LRS stored it (or answered 409: it already had it)."""
    DEAD = "dead"
    """The LRS refused this statement (``last_error`` has its reason); an admin may retry it."""


class SurveyResponseStatus(StrEnum):
    """Where a manager's answer to a manager insight survey stands (``lti_tool.programme``)."""

    DRAFT = "draft"
    """Never submitted: only its author sees it, and no aggregate counts it."""
    SUBMITTED = "submitted"
    """At least one revision submitted; the newest counts (a draft of changes may be open on top)."""


class MistakeFrequency(StrEnum):
    """How often a manager sees a mistake happen (the survey's second question)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    RARELY = "rarely"
    PER_WEEK = "per_week"
    """The manager's own estimate of occurrences per week."""


class FollowUpAnchor(StrEnum):
    """What a six-month follow-up's due date counts from."""

    SUBMISSION = "submission"
    """The date the manager submitted the answer being followed up."""
    COURSE_DATE = "course_date"
    """One date the designer gives (the end of the training, say) for everyone."""


class FollowUpStatus(StrEnum):
    """Where one follow-up (one manager, and one learner for a rubric follow-up) stands."""

    SCHEDULED = "scheduled"
    """Waiting for its due date, or due and not answered yet."""
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    """The answer it followed was withdrawn, or the designer pointed the follow-up elsewhere."""


class PeerScope(StrEnum):
    """Among whom peers are drawn at random in a peer-assessment activity."""

    COURSE = "course"
    """Every learner of the course."""
    TEAM = "team"
    """The learners who share a line manager (a manager's team); a learner without one is in no team."""


class PeerAssignmentSource(StrEnum):
    """How a reviewer came to review a learner."""

    RANDOM = "random"
    """Drawn by an assignment run (seeded: the same people and seed give the same pairs)."""
    DESIGNER = "designer"
    """Chosen by the course's designer on the peers page."""


class PeerGroupSource(StrEnum):
    """How a peer-coaching pair or triad was formed."""

    RANDOM = "random"
    DESIGNER = "designer"


class CoachingSessionKind(StrEnum):
    """What a session of a coaching log was (``lti_tool.programme.coaching_log``): the 80/20 aim is about
    the share of each in the time spent."""

    COACHING = "coaching"
    """Asking questions so the person finds their own answer."""
    MENTORING = "mentoring"
    """Telling: advice and experience passed on."""


class OutcomeDirection(StrEnum):
    """Which way a programme's business outcome improves (``lti_tool.tracking.outcome``)."""

    HIGHER = "higher"
    """Higher is better: customer satisfaction, first-call resolution, revenue per rep."""
    LOWER = "lower"
    """Lower is better: complaints, handling time, staff turnover."""


class LeaderboardMetric(StrEnum):
    """What a course's leaderboard ranks (``lti_tool.tracking.leaderboards``)."""

    COMPLETION = "completion"
    """The share of the course's feedback activities whose assessment is submitted."""
    AVERAGE_SCORE = "average_score"
    """The mean percentage of the in-force scores."""
    IMPROVEMENT = "improvement"
    """The latest activity's mean minus the first one's, in percentage points."""


class LeaderboardSubject(StrEnum):
    """Who a course's leaderboard ranks."""

    LEARNER = "learner"
    MANAGER = "manager"
    """Managers: their own feedback given (completion), or their people's scores."""
    TEAM = "team"
    """A line manager's team, from its members' figures."""


class LeaderboardDisplay(StrEnum):
    """How the people on a leaderboard are named to the learners and managers who read it."""

    NAMES = "names"
    INITIALS = "initials"
    PSEUDONYMS = "pseudonyms"
    """"Learner 7": a number each person keeps in the course."""
    OWN_RANK = "own_rank"
    """Each reader sees only their own rank, and how many are ranked."""


class RelationshipType(StrEnum):
    """What one relationship of a learner's network is to them (``lti_tool.programme.relationship_map``).
    Operational relationships get today's work done; the others are strategic: they bring perspective,
    advice and future opportunities (the source article's distinction)."""

    OPERATIONAL = "operational"
    """Someone who helps get the work done now: a colleague, a supplier, a team member."""
    MENTOR = "mentor"
    MENTEE = "mentee"
    SPONSOR = "sponsor"
    """Someone senior who speaks for the learner where decisions are made."""
    STRATEGIC_PARTNER = "strategic_partner"
    PEER_OTHER_UNIT = "peer_other_unit"
    """A peer in another business unit."""
    PEER_OTHER_COMPANY = "peer_other_company"
    """A peer in another organisation, in the same market or another."""


class RefresherTarget(StrEnum):
    """What a spaced refresher (``lti_tool.tracking.refreshers``) watches in its activity's rubric."""

    CRITERION = "criterion"
    """One criterion of the pinned rubric version, by its identifier."""
    COMPETENCY = "competency"
    """A competency tag: the mean of the criteria tagged with it."""


class RefresherStatus(StrEnum):
    """Where one scheduled refresher (one learner, one step of the spacing schedule) stands."""

    SCHEDULED = "scheduled"
    """Waiting for its day, or shown and not marked done yet."""
    DONE = "done"
    """The learner marked it done."""
    STOPPED = "stopped"
    """A revised assessment scored at or above the threshold before its day (or it was withdrawn)."""
    CANCELLED = "cancelled"
    """The designer removed the refresher."""
