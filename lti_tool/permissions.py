"""Who may do what in Cadre: the one place that decides.

An :class:`Actor` is a person acting under a validated launch: their user, platform, course (if the launch
had one), Cadre role and the launch itself. The session layer (``lti_tool.lti.session``) finds the launch;
:func:`current_actor` turns it into an actor.

Rules are plain functions answering a :class:`Decision` (true when allowed, otherwise with the status,
title and a sentence for the person refused):

* **route rules** take only the actor (``may_use_rubric_library``): a view names its rule with
  ``@permission(rule)``; a view anyone may call says so with ``@public("why")``. A test walks the route
  table and fails for a view that has neither.
* **object rules** take the actor and the thing (``can_edit_rubric(actor, rubric)``); services and views
  call ``ensure(can_...(actor, thing))``, which raises :class:`PermissionDenied`, answered with Cadre's
  error page. Where a list is filtered in SQL, the SQL condition lives here too (``visible_rubrics``), next
  to the Python rule it must agree with.

Refusals never reveal what the actor may not see: another course's rubric is "not found" (404), not
"forbidden".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, Response, g
from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, or_, select
from sqlalchemy.orm import Session, aliased, object_session

from lti_tool.db import read_memo
from lti_tool.lti.errors import DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH, ROLE_NOT_ALLOWED
from lti_tool.models import (
    Activity,
    Assessment,
    CompetencyFramework,
    Context,
    Launch,
    ManagerLink,
    Membership,
    RosterMember,
    Rubric,
    User,
    WorkProduct,
)
from lti_tool.states import (
    ActivityKind,
    AssessmentStatus,
    AssessorRole,
    Assessors,
    CadreRole,
    FeedbackRelease,
    ManagerLinkRelation,
    ManagerLinkStatus,
    MessageType,
)

View = TypeVar("View", bound=Callable[..., Any])
Thing = TypeVar("Thing")
RouteRule = Callable[["Actor"], "Decision"]
ObjectRule = Callable[["Actor", Thing], "Decision"]

ROLE_LABELS = {
    CadreRole.ADMIN: "an administrator",
    CadreRole.DESIGNER: "a designer",
    CadreRole.MANAGER: "a manager",
    CadreRole.LEARNER: "a learner",
}
ROLES_BY_REACH = (CadreRole.LEARNER, CadreRole.MANAGER, CadreRole.DESIGNER, CadreRole.ADMIN)
EDITING_ROLES = frozenset({CadreRole.DESIGNER, CadreRole.ADMIN})

NO_COURSE = "This page belongs to a course: open Cadre from a course."
NO_COURSE_RUBRICS = "Rubrics belong to a course: open Cadre from a course to use the rubric library."
RUBRIC_NOT_FOUND = "This rubric does not exist, or it belongs to another course."
RUBRIC_EDITORS_ONLY = "Only designers and administrators change rubrics; you can preview this one."
RUBRIC_OF_ANOTHER_COURSE = (
    "'{title}' belongs to the course {course} and was shared with every course; duplicate it to change "
    "your own copy."
)
PUBLISH_ADMINS_ONLY = "Only an administrator publishes rubrics to every course of the platform."


# -- decisions ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 200
    title: str = ""
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def refuse(status: int, title: str, message: str) -> Decision:
    return Decision(False, status, title, message)


class PermissionDenied(Exception):
    """Raised by :func:`ensure`; answered with the decision's status and message."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.message)
        self.decision = decision


def ensure(decision: Decision) -> None:
    if not decision:
        raise PermissionDenied(decision)


# -- the actor ---------------------------------------------------------------------------------------------

INVITATION_CLAIM = "https://cadre.invalid/claim/invitation"
"""Where a Cadre session started outside the LMS says so. An invited manager's sign-in link is exchanged
for a :class:`Launch` row like any launch (so the cookie, the launch token, CSRF, browser binding, expiry
and ``no-store`` work unchanged), whose claims are only ``{INVITATION_CLAIM: <invitation id>}``: role
manager, the invitation's course, no resource link, no LTI claim. :meth:`Actor.from_launch` reads it into
``Actor.invitation_id``; rules that must differ for such a session look there. The claim name is a URL of
the ``.invalid`` domain, so no platform's id_token can carry it, and platforms' claims never reach this
row without validation anyway."""



@dataclass(frozen=True)
class Actor:
    """A person acting under a launch, in the course (if any) they launched from.

    Services take an actor, not a launch, so they can be called from a CLI command or a test with one
    built by hand; ``launch`` is there when the actor came from a request.
    """

    user_id: int
    name: str
    platform_id: int
    context_id: int | None
    role: CadreRole
    launch: Launch | None = None
    invitation_id: int | None = None
    """Set when the session was started by an invited manager's e-mailed sign-in link
    (``lti_tool.invitations``) rather than by the LMS: see :data:`INVITATION_CLAIM`."""

    @classmethod
    def from_launch(cls, launch: Launch) -> Actor:
        invitation = launch.claims.get(INVITATION_CLAIM)
        return cls(
            user_id=launch.user_id,
            name=launch.user.display_name,
            platform_id=launch.platform_id,
            context_id=launch.context_id,
            role=CadreRole(launch.role),
            launch=launch,
            invitation_id=invitation if isinstance(invitation, int) else None,
        )

    @property
    def signed_in_by_invitation(self) -> bool:
        return self.invitation_id is not None

    @property
    def course_id(self) -> int:
        """The course's id, for code behind a rule that required one (``in_a_course``)."""
        if self.context_id is None:
            raise PermissionDenied(in_a_course(self))
        return self.context_id

    @property
    def is_admin(self) -> bool:
        return self.role is CadreRole.ADMIN

    @property
    def may_edit(self) -> bool:
        return self.role in EDITING_ROLES

    @property
    def audit_label(self) -> str:
        return f"user {self.user_id}"


def current_actor() -> Actor | None:
    """The actor of this request, from the launch the session layer found (None without a valid one)."""
    if "cadre_actor" not in g:
        from lti_tool.lti.session import current_launch

        launch = current_launch()
        g.cadre_actor = Actor.from_launch(launch) if launch is not None else None
    return g.cadre_actor


def the_actor() -> Actor:
    """The actor, in a view behind ``@permission`` (which has already refused a request without one)."""
    actor = current_actor()
    if actor is None:
        raise RuntimeError("the_actor() outside a view protected by @permission")
    return actor


# -- route rules -------------------------------------------------------------------------------------------


def _role_in(actor: Actor, roles: frozenset[CadreRole]) -> Decision:
    if actor.role in roles:
        return ALLOWED
    allowed = " or ".join(ROLE_LABELS[role] for role in ROLES_BY_REACH if role in roles)
    return refuse(403, "Not for your role",
                  ROLE_NOT_ALLOWED.format(allowed=allowed, role=ROLE_LABELS[actor.role]))


def in_a_course(actor: Actor, message: str = NO_COURSE) -> Decision:
    if actor.context_id is None:
        return refuse(400, "No course", message)
    return ALLOWED


def has_launched(_actor: Actor) -> Decision:
    """Anyone with a valid launch (the landing page)."""
    return ALLOWED


def may_place_activities(actor: Actor) -> Decision:
    """Deep linking: designers and administrators, under the platform's deep-linking launch."""
    if not (decision := _role_in(actor, EDITING_ROLES)):
        return decision
    if actor.launch is None or actor.launch.message_type != MessageType.DEEP_LINKING:
        return refuse(400, "Not a deep-linking launch", DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH)
    return ALLOWED


def may_use_rubric_library(actor: Actor) -> Decision:
    """The library's lists, editing, versions, import and export: designers and administrators."""
    return _role_in(actor, EDITING_ROLES) and in_a_course(actor, NO_COURSE_RUBRICS)


def may_preview_rubrics(actor: Actor) -> Decision:
    """Reading one rubric as a manager sees it when assessing: everyone in a course."""
    return in_a_course(actor, NO_COURSE_RUBRICS)


def may_publish_rubrics(actor: Actor) -> Decision:
    return _role_in(actor, frozenset({CadreRole.ADMIN})) and in_a_course(actor, NO_COURSE_RUBRICS)


# -- object rules ------------------------------------------------------------------------------------------


def visible_rubrics(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition for the rubrics ``actor`` may see: :func:`can_view_rubric` for a list."""
    return (Rubric.platform_id == actor.platform_id) & or_(
        Rubric.context_id == actor.context_id,
        Rubric.published_to_platform.is_(True) & Rubric.archived_at.is_(None),
    )


def can_view_rubric(actor: Actor, rubric: Rubric) -> Decision:
    """Everyone in a course sees its rubrics and the live ones an administrator shared with the platform."""
    own_course = actor.context_id is not None and rubric.context_id == actor.context_id
    shared = rubric.published_to_platform and rubric.archived_at is None
    if rubric.platform_id == actor.platform_id and (own_course or shared):
        return ALLOWED
    return refuse(404, "Rubric not found", RUBRIC_NOT_FOUND)


def can_edit_rubric(actor: Actor, rubric: Rubric) -> Decision:
    """Designers and administrators change their own course's rubrics (a shared one is copied first)."""
    if not (decision := can_view_rubric(actor, rubric)):
        return decision
    if not actor.may_edit:
        return refuse(403, "Not allowed", RUBRIC_EDITORS_ONLY)
    if rubric.context_id != actor.context_id:
        return refuse(403, "Not allowed", RUBRIC_OF_ANOTHER_COURSE.format(
            title=rubric.title, course=rubric.context.display_title))
    return ALLOWED


def can_copy_rubric(actor: Actor, rubric: Rubric) -> Decision:
    """Designers and administrators copy any rubric they can see into their course."""
    if not (decision := can_view_rubric(actor, rubric)):
        return decision
    if not actor.may_edit:
        return refuse(403, "Not allowed", RUBRIC_EDITORS_ONLY)
    return ALLOWED


FRAMEWORK_NOT_FOUND = "This competency framework does not exist, or it belongs to another course."


def can_view_framework(actor: Actor, framework: CompetencyFramework) -> Decision:
    """A framework is seen in its course, or in every course of its platform when it has none."""
    if framework.platform_id == actor.platform_id and framework.context_id in (None, actor.context_id):
        return ALLOWED
    return refuse(404, "Framework not found", FRAMEWORK_NOT_FOUND)


def can_publish_rubric(actor: Actor, rubric: Rubric) -> Decision:
    """Administrators share a rubric of their platform with every course of it, and withdraw it."""
    if not (decision := can_view_rubric(actor, rubric)):
        return decision
    if not actor.is_admin or rubric.platform_id != actor.platform_id:
        return refuse(403, "Not allowed", PUBLISH_ADMINS_ONLY)
    return ALLOWED


ACTIVITY_NOT_FOUND = "This activity does not exist, or it belongs to another course."
ACTIVITY_DESIGNERS_ONLY = "Only the course's designers and administrators set up its activities."


def may_configure_activities(actor: Actor) -> Decision:
    """The activity settings pages: designers and administrators, in a course."""
    return _role_in(actor, EDITING_ROLES) and in_a_course(actor)


def can_view_activity(actor: Actor, activity: Activity) -> Decision:
    """Everyone in the activity's course sees that it exists and what it asks."""
    if actor.context_id is not None and activity.context_id == actor.context_id \
            and activity.platform_id == actor.platform_id:
        return ALLOWED
    return refuse(404, "Activity not found", ACTIVITY_NOT_FOUND)


def can_configure_activity(actor: Actor, activity: Activity) -> Decision:
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if not actor.may_edit:
        return refuse(403, "Not allowed", ACTIVITY_DESIGNERS_ONLY)
    return ALLOWED


# -- feedback (lti_tool.feedback) -------------------------------------------------------------------------

FEEDBACK_KINDS = frozenset({ActivityKind.MANAGER_FEEDBACK, ActivityKind.SKILL_ASSESSMENT,
                            ActivityKind.WORK_PRODUCT_REVIEW, ActivityKind.SELF_ASSESSMENT,
                            ActivityKind.PEER_ASSESSMENT, ActivityKind.RELATIONSHIP_MAP})
"""The kinds of activity assessed with a rubric by a manager, the learner themself or their peers (a
relationship map is reviewed with one by the learner's manager)."""
NOT_A_FEEDBACK_ACTIVITY = "This activity is not assessed with a rubric, so there is no feedback to give here."
NOT_YOUR_PERSON = (
    "This person is not one of your people in this course, or does not exist. Your people are the "
    "learners linked to you as their manager."
)
SELF_ASSESSMENT_ONLY = "Learners assess themselves in this activity: managers do not give feedback on it."
LINE_MANAGER_ONLY = (
    "Only {name}'s line manager gives feedback in this activity. You are linked to {name} in this course, "
    "but as another of their managers."
)
MANAGERS_AND_LEARNERS_ONLY = "Only managers give feedback, and learners assess themselves."
FEEDBACK_NOT_FOUND = "This feedback does not exist, or it is not yours to read."
FEEDBACK_NOT_RELEASED = (
    "Your feedback is not released yet: the course staff release it once every manager has given theirs."
)
MANAGERS_ONLY = "These pages are for managers giving feedback on their people."
LEARNERS_ONLY = "This page is for learners reading their feedback."


def may_give_feedback(actor: Actor) -> Decision:
    """The manager's pages: managers in a course, and learner-role members who manage someone there
    (Moodle sends no mentor role: its managers launch as learners, :func:`is_manager_in_course`). Which
    learners and activities is :func:`can_assess`."""
    if actor.role is CadreRole.LEARNER and actor.launch is not None \
            and is_manager_in_course(actor, object_session(actor.launch)):
        return ALLOWED
    return _role_in(actor, frozenset({CadreRole.MANAGER})) and in_a_course(actor)


def may_read_own_feedback(actor: Actor) -> Decision:
    """The learner's page: learners, in a course (what they see is :func:`can_read_feedback`)."""
    return _role_in(actor, frozenset({CadreRole.LEARNER})) and in_a_course(actor)


def _managers_in_line_order(context_id: int | BindParameter[int], learner_id: int | ColumnElement[int],
                            link: type[ManagerLink] = ManagerLink) -> Select[tuple[int]]:
    """The learner's active managers in the course, their line manager first: the manager of their oldest
    active link as line manager; without one, of their oldest active link (a mentor or coach linked first
    stays second to a line manager linked later). ``link``: an alias, inside a query that has its own."""
    return (
        select(link.manager_id)
        .where(link.context_id == context_id, link.learner_id == learner_id,
               link.status == ManagerLinkStatus.ACTIVE)
        .order_by(*_line_order(link))
    )


def _line_order(link: type[ManagerLink]) -> tuple[ColumnElement[Any], ...]:
    """A learner's links, their line manager's first (see :func:`_managers_in_line_order`)."""
    return (link.relation != ManagerLinkRelation.LINE_MANAGER), link.created_at, link.id


def line_manager_id(session: Session, context_id: int, learner_id: int) -> int | None:
    """The learner's line manager in the course (the first of :func:`_managers_in_line_order`)."""
    return session.scalar(_managers_in_line_order(context_id, learner_id).limit(1))


def line_manager_of(learner_id: ColumnElement[int],
                    context_id: int | BindParameter[int]) -> ColumnElement[int]:
    """:func:`line_manager_id` in SQL, for each row of a list (``learner_id`` is the list's column)."""
    link = aliased(ManagerLink)
    return _managers_in_line_order(context_id, learner_id, link).limit(1).scalar_subquery()


def own_active_links(actor: Actor, context_id: int) -> ColumnElement[bool]:
    """The SQL condition for the actor's active manager links in a course: the learners :func:`can_assess`
    may allow them (a list also applies the activity's assessors rule, as :func:`can_assess` does)."""
    return active_links_of(actor.user_id, context_id)


def active_links_of(manager_id: int | BindParameter[int], context_id: int | BindParameter[int]
                    ) -> ColumnElement[bool]:
    """:func:`own_active_links` of the manager ``manager_id``; bound parameters for a statement built once."""
    return (ManagerLink.context_id == context_id) & (ManagerLink.manager_id == manager_id) \
        & (ManagerLink.status == ManagerLinkStatus.ACTIVE)


def person_with_managers(session: Session, context_id: int, person_id: int) -> User | None:
    """The person ``person_id`` (None if there is none), and with them, in the same query, their active
    managers in the course as :func:`can_assess` reads them (kept for it, ``db.read_memo``): a page about
    one of a manager's people asks both, on every autosave."""
    rows = session.execute(_person_with_managers(), {"context_id": context_id, "person_id": person_id}).all()
    if not rows:
        return None
    read_memo(session)[("active_managers", context_id, person_id)] = tuple(
        manager_id for _user, manager_id in rows if manager_id is not None)
    return rows[0][0]


@functools.cache
def _person_with_managers() -> Select[tuple[User, int | None]]:
    """Built once (with an alias and an outer join, building it cost more than running it)."""
    link = aliased(ManagerLink)
    return (
        select(User, link.manager_id)
        .outerjoin(link, (link.learner_id == User.id) & (link.context_id == bindparam("context_id"))
                   & (link.status == ManagerLinkStatus.ACTIVE))
        .where(User.id == bindparam("person_id"))
        .order_by(*_line_order(link))
    )


def _active_managers(session: Session, context_id: int, learner_id: int) -> tuple[int, ...]:
    """The learner's managers in the course, their line manager first. Read once per unit of work until it
    writes (``db.read_memo``): the view and the service both ask :func:`can_assess` on every autosave."""
    memo = read_memo(session)
    key = ("active_managers", context_id, learner_id)
    managers = memo.get(key)
    if managers is None:
        managers = memo[key] = tuple(session.scalars(_managers_in_line_order(context_id, learner_id)))
    assert isinstance(managers, tuple)
    return managers


def can_assess(actor: Actor, learner: User, activity: Activity) -> Decision:
    """Who may assess ``learner`` in ``activity``.

    The learner themself, always with the activity's rubric (their self-assessment, shown beside their
    managers' feedback). A manager (or a learner-role member, as Moodle's managers launch) only for a
    learner actively linked to them as their manager in the activity's course,
    and only where the activity's assessors include them: ``line_manager`` is the manager of the oldest
    active link, ``any_manager`` any active link; a self-assessment activity has no manager assessors.
    Another course's or platform's learner, or an id guessed, is "not found".
    """
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in FEEDBACK_KINDS:
        return refuse(400, "No feedback here", NOT_A_FEEDBACK_ACTIVITY)
    if learner.platform_id != actor.platform_id:
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    if learner.id == actor.user_id:
        if actor.role is CadreRole.LEARNER:
            return ALLOWED
        return refuse(403, "Not allowed", MANAGERS_AND_LEARNERS_ONLY)
    if actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):  # a learner-role manager of Moodle's
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    session = object_session(activity)
    assert session is not None, "can_assess needs an activity loaded from the database"
    if activity.kind is ActivityKind.PEER_ASSESSMENT and actor.role is CadreRole.LEARNER \
            and reviews_peer(session, actor, activity, learner.id):
        return ALLOWED
    # The learner's managers in the course, their line manager first (the order of line_manager_id): one
    # query answers both "linked to the actor?" and "is the actor the line manager?" (every autosave asks).
    managers = _active_managers(session, activity.context_id, learner.id)
    if actor.user_id not in managers:
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    if activity.assessors is Assessors.LEARNER:
        return refuse(403, "Not allowed", SELF_ASSESSMENT_ONLY)
    if activity.assessors is Assessors.LINE_MANAGER and managers[0] != actor.user_id:
        return refuse(403, "Not allowed", LINE_MANAGER_ONLY.format(name=learner.display_name))
    return ALLOWED


def feedback_is_released(assessment: Assessment) -> bool:
    """Whether the learner may read the newest submitted revision of ``assessment`` (their own
    self-assessment is theirs to read whatever the activity says)."""
    if assessment.status is not AssessmentStatus.SUBMITTED or assessment.revision_count < 1:
        return False
    if assessment.assessor_role is AssessorRole.SELF:
        return True
    return assessment.activity.feedback_release is FeedbackRelease.ON_SUBMISSION \
        or assessment.released_at is not None


def can_read_feedback(actor: Actor, assessment: Assessment) -> Decision:
    """The learner once it is released (on submission, or when staff released it), its assessor, and the
    course's designers and administrators; nobody else learns that it exists."""
    activity = assessment.activity
    if not can_view_activity(actor, activity):
        return refuse(404, "Feedback not found", FEEDBACK_NOT_FOUND)
    if actor.user_id == assessment.assessor_id or actor.may_edit:
        return ALLOWED
    if actor.user_id == assessment.learner_id:
        if feedback_is_released(assessment):
            return ALLOWED
        return refuse(404, "Feedback not released", FEEDBACK_NOT_RELEASED)
    return refuse(404, "Feedback not found", FEEDBACK_NOT_FOUND)


STAFF_ONLY = (
    "Only the course's designers and the platform's administrators follow the feedback of an activity."
)


# -- peer assessment (lti_tool.feedback.peers) --------------------------------------------------------------

PEER_KINDS = frozenset({ActivityKind.PEER_ASSESSMENT})
NOT_A_PEER_ASSESSMENT = "This activity is not a peer assessment."
PEER_REVIEWERS_ONLY = (
    "Learners review each other in a peer assessment: this page is for the course's learners."
)
PEERS_DESIGNERS_ONLY = "Only the course's designers and administrators decide who reviews whom."
PEER_NOT_FOUND = "This person is not one of the peers you review in this activity, or does not exist."


def reviews_peer(session: Session, actor: Actor, activity: Activity, learner_id: int) -> bool:
    """Whether the actor is assigned to review ``learner_id`` in ``activity``."""
    from lti_tool.feedback.peer_models import PeerAssignment

    return session.scalar(select(PeerAssignment.id).where(
        PeerAssignment.activity_id == activity.id, PeerAssignment.reviewer_id == actor.user_id,
        PeerAssignment.reviewee_id == learner_id).limit(1)) is not None


def may_review_peers(actor: Actor) -> Decision:
    """The peer reviewer's pages (the peers to review, the review form): learners, in a course; whom they
    review is :func:`can_assess` (an assignment)."""
    if actor.context_id is not None and actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", PEER_REVIEWERS_ONLY)
    return in_a_course(actor)


def can_review_peers(actor: Actor, activity: Activity) -> Decision:
    """A learner of a peer assessment's course sees the peers assigned to them; another course's activity is
    "not found", an activity of another kind too."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in PEER_KINDS:
        return refuse(404, "Activity not found", NOT_A_PEER_ASSESSMENT)
    if actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", PEER_REVIEWERS_ONLY)
    return ALLOWED


def can_manage_peers(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and administrators set a peer assessment up, draw and change who reviews whom,
    and see it (reviewers' names included, anonymous or not)."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in PEER_KINDS:
        return refuse(404, "Activity not found", NOT_A_PEER_ASSESSMENT)
    if not actor.may_edit:
        return refuse(403, "Not allowed", PEERS_DESIGNERS_ONLY)
    return ALLOWED


def may_know_reviewer(actor: Actor, assessment: Assessment, *, anonymous: bool) -> bool:
    """Whether ``actor`` may learn who wrote ``assessment``: always for a manager's and a self-assessment;
    for a peer's, its reviewer and the course's staff always, the reviewed learner only when the activity is
    not anonymous."""
    if assessment.assessor_role is not AssessorRole.PEER or actor.user_id == assessment.assessor_id:
        return True
    if actor.may_edit:
        return True
    return not anonymous


def may_oversee_feedback(actor: Actor) -> Decision:
    """The staff pages of an activity's feedback: designers (in a course) and administrators."""
    if actor.role is CadreRole.ADMIN:
        return ALLOWED
    return _role_in(actor, EDITING_ROLES) and in_a_course(actor)


def can_oversee_feedback(actor: Actor, activity: Activity) -> Decision:
    """Every assessment of ``activity`` with its history and grade delivery: the designers of its course and
    the administrators of its platform. Another course's designer, or a guessed id, is "not found"; the
    course's managers and learners, who know the activity, are told it is not for them."""
    if activity.platform_id != actor.platform_id:
        return refuse(404, "Activity not found", ACTIVITY_NOT_FOUND)
    if actor.is_admin:
        return ALLOWED
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if actor.role is not CadreRole.DESIGNER:
        return refuse(403, "Not allowed", STAFF_ONLY)
    return ALLOWED


def can_release_feedback(actor: Actor, assessment: Assessment) -> Decision:
    """The course's designers and the platform's administrators release feedback that waits for them
    (and retry the delivery of its score to the gradebook)."""
    if not (decision := can_oversee_feedback(actor, assessment.activity)):
        return refuse(404, "Feedback not found", FEEDBACK_NOT_FOUND) if decision.status == 404 else decision
    return ALLOWED


# -- dashboards (lti_tool.tracking) ------------------------------------------------------------------------

COURSE_NOT_FOUND = "This course does not exist, or it is not one whose dashboard you may read."
DASHBOARD_STAFF_ONLY = (
    "Only the course's designers and the platform's administrators read the course's dashboard: it shows "
    "every learner's scores."
)


def may_read_dashboards(actor: Actor) -> Decision:
    """The staff dashboards of a course and of its activities: designers (in a course) and administrators."""
    return may_oversee_feedback(actor)


def can_read_course_dashboard(actor: Actor, context: Context) -> Decision:
    """A course's dashboard: its designers and the administrators of its platform. Another course's
    designer, another platform's administrator or a guessed id is "not found"; the course's managers and
    learners are told it is not for them."""
    if context.platform_id != actor.platform_id:
        return refuse(404, "Course not found", COURSE_NOT_FOUND)
    if actor.is_admin:
        return ALLOWED
    if actor.context_id != context.id:
        return refuse(404, "Course not found", COURSE_NOT_FOUND)
    if actor.role is not CadreRole.DESIGNER:
        return refuse(403, "Not allowed", DASHBOARD_STAFF_ONLY)
    return ALLOWED


def can_read_activity_dashboard(actor: Actor, activity: Activity) -> Decision:
    """An activity's dashboard: whoever oversees its feedback (:func:`can_oversee_feedback`)."""
    return can_oversee_feedback(actor, activity)


# -- work products (lti_tool.deliverables.work_products) ---------------------------------------------------

WORK_PRODUCT_NOT_FOUND = "This work product or file does not exist, or it is not yours to open."
NO_WORK_PRODUCT_HERE = "This activity does not ask for a work product."
WORK_PRODUCTS_LEARNERS_ONLY = (
    "Learners submit their work products here. Managers read them beside their feedback form."
)


def accepts_work_products(activity: Activity) -> bool:
    """A work-product review always takes one; the other rubric activities when the designer asks for it."""
    return activity.kind is ActivityKind.WORK_PRODUCT_REVIEW or (
        activity.work_product_required and activity.kind in FEEDBACK_KINDS)


def may_submit_work_products(actor: Actor) -> Decision:
    """The learner's work-product page: learners, in a course (which activities: see
    :func:`can_submit_work_product`)."""
    return _role_in(actor, frozenset({CadreRole.LEARNER})) and in_a_course(actor)


def may_open_work_products(actor: Actor) -> Decision:
    """Downloading a work product's file: anyone in a course, and administrators (who may read which is
    :func:`can_read_work_product`)."""
    if actor.is_admin:
        return ALLOWED
    return in_a_course(actor)


def can_submit_work_product(actor: Actor, activity: Activity) -> Decision:
    """A learner of the activity's course submits (and resubmits) their own work product in it."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if not accepts_work_products(activity):
        return refuse(400, "No work product here", NO_WORK_PRODUCT_HERE)
    if actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", WORK_PRODUCTS_LEARNERS_ONLY)
    return ALLOWED


def can_read_work_product(actor: Actor, work_product: WorkProduct) -> Decision:
    """The learner who submitted it, the managers who may assess them in that activity (:func:`can_assess`:
    their active link, the activity's assessors rule), and the staff who oversee the activity's feedback.
    Anyone else, another course's manager or designer, or an id guessed, is told it does not exist."""
    activity = work_product.activity
    if actor.user_id == work_product.learner_id and can_view_activity(actor, activity):
        return ALLOWED
    if can_oversee_feedback(actor, activity):
        return ALLOWED
    if actor.role is CadreRole.MANAGER and can_assess(actor, work_product.learner, activity):
        return ALLOWED
    session = object_session(work_product)
    if actor.role is CadreRole.LEARNER and activity.kind in PEER_KINDS and session is not None \
            and can_view_activity(actor, activity) and reviews_peer(session, actor, activity,
                                                                    work_product.learner_id):
        return ALLOWED  # a peer assigned to review them
    return refuse(404, "Work product not found", WORK_PRODUCT_NOT_FOUND)


# -- people and relationships (lti_tool.relationships) ---------------------------------------------------

LINK_NOT_FOUND = "This link between a manager and a learner does not exist, or it belongs to another course."
NOMINATION_NOT_FOUND = "This nomination does not exist, was not addressed to you, or was answered already."
PEOPLE_DESIGNERS_ONLY = "Only the course's designers and administrators link managers to learners."
NOMINATION_LEARNERS_ONLY = "Learners nominate their managers; this page is for learners."
NOMINATIONS_MANAGERS_ONLY = "Nominations are answered by the managers they name; this page is for managers."


def may_manage_people(actor: Actor) -> Decision:
    """The course's roster, links, CSV import: designers and administrators, in a course."""
    if actor.context_id is not None and actor.role not in EDITING_ROLES:
        return refuse(403, "Not for your role", PEOPLE_DESIGNERS_ONLY)
    return _role_in(actor, EDITING_ROLES) and in_a_course(actor)


def may_nominate(actor: Actor) -> Decision:
    if actor.context_id is not None and actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", NOMINATION_LEARNERS_ONLY)
    return in_a_course(actor)


def may_answer_nominations(actor: Actor) -> Decision:
    if actor.context_id is not None and actor.role is not CadreRole.MANAGER:
        return refuse(403, "Not for your role", NOMINATIONS_MANAGERS_ONLY)
    return in_a_course(actor)


def can_change_link(actor: Actor, link: ManagerLink | None) -> Decision:
    """Designers and administrators end or change the links of their own course; another course's link,
    or an id guessed, is "not found"."""
    if link is None or actor.context_id is None or link.context_id != actor.context_id:
        return refuse(404, "Link not found", LINK_NOT_FOUND)
    if not actor.may_edit:
        return refuse(403, "Not allowed", PEOPLE_DESIGNERS_ONLY)
    return ALLOWED


def can_answer_nomination(actor: Actor, link: ManagerLink | None) -> Decision:
    """Only the nominated manager, in the nomination's course, while it waits for an answer."""
    if link is None or actor.context_id is None or link.context_id != actor.context_id \
            or link.manager_id != actor.user_id or link.status is not ManagerLinkStatus.PENDING:
        return refuse(404, "Nomination not found", NOMINATION_NOT_FOUND)
    return ALLOWED


# -- managers invited by e-mail (lti_tool.invitations) ------------------------------------------------------

INVITATION_NOT_FOUND = "This invitation does not exist, or it is not one you can change."
INVITING_ROLES = frozenset({CadreRole.LEARNER, CadreRole.DESIGNER, CadreRole.ADMIN})


def may_invite_managers(actor: Actor) -> Decision:
    """Inviting a manager from outside the LMS: designers and administrators (for any learners of the
    course) and learners (for themselves), in a course, under an LMS launch."""
    if actor.signed_in_by_invitation:
        return refuse(403, "Not allowed", "Invited managers do not invite others.")
    return _role_in(actor, INVITING_ROLES) and in_a_course(actor)


def can_revoke_invitation(actor: Actor, invitation: Any) -> Decision:
    """The course's designers and administrators withdraw any of its invitations; a learner the ones they
    made. Another course's invitation, or an id guessed, is "not found"."""
    if invitation is None or actor.context_id is None or invitation.context_id != actor.context_id \
            or invitation.platform_id != actor.platform_id or actor.signed_in_by_invitation:
        return refuse(404, "Invitation not found", INVITATION_NOT_FOUND)
    if actor.may_edit or invitation.invited_by_id == actor.user_id:
        return ALLOWED
    return refuse(404, "Invitation not found", INVITATION_NOT_FOUND)


# -- learning records (lti_tool.records): administrators' pages and API-token callers ----------------------

RECORDS_ADMINS_ONLY = "Only administrators see the learning records, export them and erase a person's."


def may_administer_records(actor: Actor) -> Decision:
    """The records admin pages (backlog, dead letters, statements, export, tokens, erasure): administrators,
    for their own platform's records, with or without a course."""
    if actor.signed_in_by_invitation:
        return refuse(403, "Not allowed", RECORDS_ADMINS_ONLY)
    return _role_in(actor, frozenset({CadreRole.ADMIN}))


@dataclass(frozen=True)
class ApiCaller:
    """A machine calling with an API token an administrator made (``lti_tool.records.tokens``), not a
    person under a launch: it reads one platform's records, or every platform's when ``platform_id`` is
    None."""

    token_id: int
    platform_id: int | None

    def sees_platform(self, platform_id: int) -> bool:
        return self.platform_id is None or self.platform_id == platform_id


ApiRule = Callable[[ApiCaller], Decision]


def may_pull_statements(_caller: ApiCaller) -> Decision:
    """The xAPI statement resource: any live token; what it returns is limited to the token's platform
    (:func:`visible_statement_platforms`)."""
    return ALLOWED


def visible_statement_platforms(caller: ApiCaller) -> int | None:
    """The one platform whose statements ``caller`` reads, None for every platform."""
    return caller.platform_id


API_TOKEN_CREDENTIALS = "api token"  # noqa: S105 - the kind of credential, not one


def api_permission(rule: ApiRule) -> Callable[[View], View]:
    """The view needs an API token (``Authorization: Bearer …``, or Basic with the token as password) and
    ``rule`` to allow its caller; otherwise the records layer answers 401 with ``WWW-Authenticate`` (no
    launch is looked at, and no cookie counts)."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from lti_tool.records.tokens import caller_refused, current_api_caller

            caller = current_api_caller()
            if caller is None:
                return caller_refused(None)
            if not (decision := rule(caller)):
                return caller_refused(decision)
            g.cadre_api_caller = caller
            return view(*args, **kwargs)

        wrapper.cadre_permission = rule  # type: ignore[attr-defined]
        wrapper.cadre_credentials = API_TOKEN_CREDENTIALS  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def the_api_caller() -> ApiCaller:
    """The token's caller, in a view behind ``@api_permission``."""
    caller = g.get("cadre_api_caller")
    if caller is None:
        raise RuntimeError("the_api_caller() outside a view protected by @api_permission")
    return caller


# -- manager insight survey and six-month follow-ups (lti_tool.programme) -----------------------------------

SURVEY_KINDS = frozenset({ActivityKind.MANAGER_INSIGHT_SURVEY})
FOLLOW_UP_KINDS = frozenset({ActivityKind.SIX_MONTH_FOLLOW_UP})
NOT_A_SURVEY = "This activity is not a manager insight survey."
NOT_A_FOLLOW_UP = "This activity is not a six-month follow-up."
SURVEY_MANAGERS_ONLY = (
    "This survey asks managers about the mistakes they see in their teams: only the course's managers "
    "answer it."
)
SURVEY_RESULTS_DESIGNERS_ONLY = "Only the course's designers and administrators read the survey's results."
FOLLOW_UP_NOT_FOUND = "This follow-up does not exist, or it is not addressed to you."


def is_manager_in_course(actor: Actor, session: Session | None) -> bool:
    """Whether the actor answers as a manager in their course: Cadre's manager role (an LMS mentor, an
    invited manager), or a learner-role member who is someone's manager there (Moodle sends no mentor
    role, so its managers launch as learners and Cadre knows them by their manager links)."""
    if actor.context_id is None:
        return False
    if actor.role is CadreRole.MANAGER:
        return True
    if actor.role is not CadreRole.LEARNER or session is None:
        return False
    memo = read_memo(session)
    key = _manages_key(actor.context_id, actor.user_id)
    if key not in memo:
        memo[key] = session.scalar(
            select(ManagerLink.id).where(own_active_links(actor, actor.context_id)).limit(1)) is not None
    return bool(memo[key])


def _manages_key(context_id: int, user_id: int) -> tuple[str, int, int]:
    return ("manages people", context_id, user_id)


def note_manages_people(session: Session, context_id: int, user_id: int, manages: bool) -> None:
    """What a read of the person's active links as manager in the course just found (e.g. the home page's
    list of their people), so that :func:`is_manager_in_course` need not ask again in this unit of work."""
    read_memo(session)[_manages_key(context_id, user_id)] = manages


def may_answer_surveys(actor: Actor) -> Decision:
    """The survey and follow-up pages of managers: managers and learners (a learner-role manager of
    Moodle), in a course; :func:`can_answer_survey` decides per activity."""
    if actor.context_id is not None and actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):
        return refuse(403, "Not for your role", SURVEY_MANAGERS_ONLY)
    return in_a_course(actor)


def can_answer_survey(actor: Actor, activity: Activity) -> Decision:
    """Every manager of the activity's course answers its survey once (their answer, revised as they
    like); a learner who manages nobody there is refused, another course's survey is "not found"."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in SURVEY_KINDS:
        return refuse(404, "Activity not found", NOT_A_SURVEY)
    if not is_manager_in_course(actor, object_session(activity)):
        return refuse(403, "Not for your role", SURVEY_MANAGERS_ONLY)
    return ALLOWED


def _in_course_or_platform_admin(actor: Actor, activity: Activity) -> Decision:
    """Someone of the activity's course, or an administrator of its platform; else "not found"."""
    if actor.is_admin and activity.platform_id == actor.platform_id:
        return ALLOWED
    return can_view_activity(actor, activity)


def can_read_survey_results(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and the platform's administrators (who read every course's dashboard, where
    the results are summed up) read a survey's aggregates (a survey activity, or a follow-up of one); who
    answered only when it is not anonymous (:func:`may_see_respondents`)."""
    if not (decision := _in_course_or_platform_admin(actor, activity)):
        return decision
    if activity.kind not in SURVEY_KINDS | FOLLOW_UP_KINDS:
        return refuse(404, "Activity not found", NOT_A_SURVEY)
    if not actor.may_edit:
        return refuse(403, "Not allowed", SURVEY_RESULTS_DESIGNERS_ONLY)
    return ALLOWED


def may_see_respondents(actor: Actor, *, anonymous: bool) -> bool:
    """Who answered a survey is shown to the course's designers and administrators unless it is
    anonymous; then to nobody, administrators included (the rows keep it for the manager's own use)."""
    return actor.may_edit and not anonymous


def can_answer_follow_up(actor: Actor, follow_up: Any) -> Decision:
    """Only the manager it asks, in its course; anyone else, and a guessed id, is "not found"."""
    if follow_up is None or actor.context_id is None or follow_up.activity.context_id != actor.context_id \
            or follow_up.activity.platform_id != actor.platform_id or follow_up.manager_id != actor.user_id:
        return refuse(404, "Follow-up not found", FOLLOW_UP_NOT_FOUND)
    return ALLOWED


def can_read_follow_up_report(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and the platform's administrators read a follow-up activity's change report
    (as :func:`can_read_survey_results`)."""
    if not (decision := _in_course_or_platform_admin(actor, activity)):
        return decision
    if activity.kind not in FOLLOW_UP_KINDS:
        return refuse(404, "Activity not found", NOT_A_FOLLOW_UP)
    if not actor.may_edit:
        return refuse(403, "Not allowed", SURVEY_RESULTS_DESIGNERS_ONLY)
    return ALLOWED


# -- coaching log, 80/20 (lti_tool.programme.coaching_log) ------------------------------------------------

COACHING_LOG_KINDS = frozenset({ActivityKind.COACHING_LOG})
NOT_A_COACHING_LOG = "This activity is not a coaching log."
COACHING_LOG_KEEPERS_ONLY = (
    "A coaching log is kept by the course's managers and learners, each their own: designers and "
    "administrators see the course's totals only."
)
COACHING_OVERVIEW_DESIGNERS_ONLY = "Only the course's designers and administrators read the coaching totals."
COACHING_SESSION_NOT_FOUND = "This session does not exist, or it is not in your coaching log."
WELLBEING_PRIVATE = "This well-being check is private to the person who logged it: they have not shared it."


def may_keep_coaching_log(actor: Actor) -> Decision:
    """The coaching log's own pages: managers (who coach and are coached) and learners (who log the
    coaching they receive), in a course."""
    if actor.context_id is not None and actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):
        return refuse(403, "Not for your role", COACHING_LOG_KEEPERS_ONLY)
    return in_a_course(actor)


def can_keep_coaching_log(actor: Actor, activity: Activity) -> Decision:
    """Every manager and learner of the activity's course keeps their own log in it; another course's
    activity is "not found"."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in COACHING_LOG_KINDS:
        return refuse(404, "Activity not found", NOT_A_COACHING_LOG)
    if actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):
        return refuse(403, "Not for your role", COACHING_LOG_KEEPERS_ONLY)
    return ALLOWED


def can_change_coaching_session(actor: Actor, coaching_session: Any) -> Decision:
    """Only its owner reads, edits or deletes a logged session, in its course: anyone else's, and a
    guessed id, is "not found" (saying "not yours" would confirm that it exists)."""
    if coaching_session is None or actor.context_id is None \
            or coaching_session.activity.context_id != actor.context_id \
            or coaching_session.activity.platform_id != actor.platform_id \
            or coaching_session.owner_id != actor.user_id:
        return refuse(404, "Session not found", COACHING_SESSION_NOT_FOUND)
    return ALLOWED


def can_read_coaching_overview(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and administrators read a coaching log's totals (sessions, minutes, the
    coaching share), never what a session was about."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in COACHING_LOG_KINDS:
        return refuse(404, "Activity not found", NOT_A_COACHING_LOG)
    if not actor.may_edit:
        return refuse(403, "Not allowed", COACHING_OVERVIEW_DESIGNERS_ONLY)
    return ALLOWED


def can_read_wellbeing(actor: Actor, coaching_session: Any) -> Decision:
    """A session's well-being check: its owner always; the course's designers and administrators only
    once the owner shared it; nobody else (another manager, the person's own manager) ever."""
    if (decision := can_change_coaching_session(actor, coaching_session)) or coaching_session is None:
        return decision
    if not can_read_coaching_overview(actor, coaching_session.activity):
        return decision
    if not coaching_session.wellbeing_shared:
        return refuse(403, "Private", WELLBEING_PRIVATE)
    return ALLOWED


# -- progress: the manager's team view and the learner's progress view (lti_tool.tracking.progress) ---------

TEAM_MANAGERS_ONLY = (
    "This page is for managers following their people's progress. Learners open their own progress; the "
    "course's designers read its dashboard."
)
PROGRESS_LEARNERS_ONLY = (
    "This page shows a learner their own progress. Managers follow their people on their team page; the "
    "course's designers read its dashboard."
)


def may_follow_team(actor: Actor) -> Decision:
    """The manager's team view: managers in a course, and learner-role members who manage someone there
    (Moodle's managers launch as learners, :func:`is_manager_in_course`). Which people:
    :func:`can_follow_person`."""
    if actor.role is CadreRole.LEARNER and actor.launch is not None \
            and is_manager_in_course(actor, object_session(actor.launch)):
        return ALLOWED
    if actor.context_id is not None and actor.role is not CadreRole.MANAGER:
        return refuse(403, "Not for your role", TEAM_MANAGERS_ONLY)
    return in_a_course(actor)


def may_read_own_progress(actor: Actor) -> Decision:
    """The learner's progress view: learners in a course (a Moodle manager launching as a learner sees their
    own progress there too); never anyone else's (:func:`own_progress_visible`)."""
    if actor.context_id is not None and actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", PROGRESS_LEARNERS_ONLY)
    return in_a_course(actor)


def team_members(actor: Actor) -> Any:
    """The SQL ``SELECT`` of the learners whose progress ``actor`` follows: those actively linked to them as
    their manager in the actor's course (:func:`can_follow_person` for one)."""
    return select(ManagerLink.learner_id).where(own_active_links(actor, actor.course_id),
                                                ManagerLink.learner_id != actor.user_id)


def can_follow_person(actor: Actor, session: Session, learner_id: int) -> Decision:
    """A manager reads the progress of a learner actively linked to them in the course; another manager's
    person, another course's learner, themself and a guessed id are "not found"."""
    if actor.context_id is None or learner_id == actor.user_id or session.scalar(
        team_members(actor).where(ManagerLink.learner_id == learner_id).limit(1)
    ) is None:
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    return ALLOWED


def team_scores_visible(actor: Actor, score: Any) -> ColumnElement[bool]:
    """The scores a manager's team view shows: those of the feedback they gave themself (as
    :func:`can_read_feedback` lets a manager read only their own feedback, never another assessor's or the
    learner's self-assessment)."""
    return score.assessor_id == actor.user_id


def released_to_learner(assessor_role: Any, activity: Any, released: Any) -> ColumnElement[bool]:
    """Scores their learner may read (:func:`feedback_is_released` as SQL): their self-assessment's, or
    feedback of an activity that shows it on submission, or feedback ``released`` (the assessment's
    ``released_at`` is set; a correlated EXISTS where the assessment is not joined). What the learner may
    not read yet, nobody is shown through them either: a leaderboard ranks by released scores only."""
    return or_(
        assessor_role == AssessorRole.SELF,
        activity.feedback_release == FeedbackRelease.ON_SUBMISSION,
        released,
    )


def own_progress_visible(actor: Actor, score: Any, assessment: Any, activity: Any) -> ColumnElement[bool]:
    """The scores a learner's progress view shows: their own, from their self-assessments and from the
    feedback released to them (:func:`released_to_learner`)."""
    return (score.learner_id == actor.user_id) & released_to_learner(
        assessment.assessor_role, activity, assessment.released_at.is_not(None)
    )


# -- peer coaching (lti_tool.programme.peer_coaching) ------------------------------------------------------

PEER_COACHING_KINDS = frozenset({ActivityKind.PEER_COACHING})
NOT_PEER_COACHING = "This activity is not a peer-coaching activity."
PEER_COACHING_LEARNERS_ONLY = (
    "Peer coaching is between the course's learners: designers and administrators form the groups and read "
    "their sessions on the groups page."
)
PEER_GROUPS_DESIGNERS_ONLY = "Only the course's designers and administrators form peer-coaching groups."
PEER_GROUP_NOT_FOUND = "This peer-coaching group does not exist, or you are not one of its members."
PEER_SESSION_NOT_FOUND = "This session does not exist, or it is not one you logged."


def may_peer_coach(actor: Actor) -> Decision:
    """The peer-coaching member pages: learners, in a course (which group is :func:`can_read_peer_group`)."""
    if actor.context_id is not None and actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", PEER_COACHING_LEARNERS_ONLY)
    return in_a_course(actor)


def can_join_peer_coaching(actor: Actor, activity: Activity) -> Decision:
    """Every learner of a peer-coaching activity's course has a page in it (their group, once formed)."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in PEER_COACHING_KINDS:
        return refuse(404, "Activity not found", NOT_PEER_COACHING)
    if actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", PEER_COACHING_LEARNERS_ONLY)
    return ALLOWED


def can_manage_peer_groups(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and administrators form, change and dissolve groups, and read every group's
    sessions."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in PEER_COACHING_KINDS:
        return refuse(404, "Activity not found", NOT_PEER_COACHING)
    if not actor.may_edit:
        return refuse(403, "Not allowed", PEER_GROUPS_DESIGNERS_ONLY)
    return ALLOWED


def can_read_peer_group(actor: Actor, group: Any, member_ids: Any) -> Decision:
    """A group's sessions: its members (``member_ids``) and the course's designers and administrators; a
    member of another group, another course and a guessed id are "not found"."""
    if group is None or not can_view_activity(actor, group.activity):
        return refuse(404, "Group not found", PEER_GROUP_NOT_FOUND)
    if actor.may_edit or (actor.role is CadreRole.LEARNER and actor.user_id in member_ids):
        return ALLOWED
    return refuse(404, "Group not found", PEER_GROUP_NOT_FOUND)


def can_change_peer_session(actor: Actor, coaching_session: Any, member_ids: Any) -> Decision:
    """Only the member who logged a session changes or deletes it, while they are in its group."""
    if coaching_session is None or not can_read_peer_group(actor, coaching_session.group, member_ids) \
            or coaching_session.author_id != actor.user_id or actor.user_id not in member_ids:
        return refuse(404, "Session not found", PEER_SESSION_NOT_FOUND)
    return ALLOWED


# -- views ---------------------------------------------------------------------------------------------------


CAREER_KINDS = frozenset({ActivityKind.CAREER_CONVERSATION})
CAREER_NOT_FOUND = "This career conversation does not exist, or it is not yours to open."
CAREER_PARTIES_ONLY = "A career conversation is for a learner and their line manager."


def may_hold_career_conversations(actor: Actor) -> Decision:
    """The career conversation pages: learners and managers (Moodle's managers launch as learners) in a
    course; :func:`can_read_career_conversation` decides per conversation."""
    if actor.context_id is not None and actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):
        return refuse(403, "Not for your role", CAREER_PARTIES_ONLY)
    return in_a_course(actor)


def _career_in_course(actor: Actor, conversation: Any) -> bool:
    return conversation is not None and actor.context_id is not None \
        and conversation.activity.context_id == actor.context_id \
        and conversation.activity.platform_id == actor.platform_id \
        and conversation.activity.kind in CAREER_KINDS


def is_career_manager(actor: Actor, conversation: Any) -> bool:
    """Whether the actor is the conversation's learner's line manager in its course now (a mentor linked
    beside a line manager is not; an ended link is not)."""
    session = object_session(conversation)
    return session is not None and is_manager_in_course(actor, session) and actor.user_id != \
        conversation.learner_id and line_manager_id(session, conversation.activity.context_id,
                                                     conversation.learner_id) == actor.user_id


def can_edit_career_conversation(actor: Actor, conversation: Any) -> Decision:
    """Only its learner and their line manager read and change it (the manager once it is shared);
    anyone else, another course and a guessed id are "not found"."""
    if not _career_in_course(actor, conversation):
        return refuse(404, "Conversation not found", CAREER_NOT_FOUND)
    if conversation.learner_id == actor.user_id and actor.role is CadreRole.LEARNER:
        return ALLOWED
    if conversation.shared_at is not None and is_career_manager(actor, conversation):
        return ALLOWED
    return refuse(404, "Conversation not found", CAREER_NOT_FOUND)


def can_read_career_conversation(actor: Actor, conversation: Any, *, staff_may_read: bool) -> Decision:
    """Its two parties read it; the course's designers and administrators only where the designer's setting
    (``staff_may_read``) allows it and the learner consented; otherwise they see only that it took place
    (:func:`can_see_career_held`)."""
    if can_edit_career_conversation(actor, conversation):
        return ALLOWED
    if _career_in_course(actor, conversation) and actor.may_edit and staff_may_read \
            and conversation.staff_consent:
        return ALLOWED
    return refuse(404, "Conversation not found", CAREER_NOT_FOUND)


def can_see_career_held(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and administrators see whether and when each conversation took place."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in CAREER_KINDS:
        return refuse(404, "Activity not found", ACTIVITY_NOT_FOUND)
    if not actor.may_edit:
        return refuse(403, "Not allowed", ACTIVITY_DESIGNERS_ONLY)
    return ALLOWED

# -- spaced refreshers (lti_tool.tracking.refreshers) ------------------------------------------------------

REFRESHER_NOT_FOUND = "This refresher does not exist, or it is not yours."
REFRESHERS_NEED_A_RUBRIC = (
    "Refreshers follow the scores of an activity assessed with a rubric: choose the activity's rubric first."
)
REFRESHERS_LEARNERS_ONLY = "This page lists a learner's own refreshers; it is for learners."
REFRESHER_PEOPLE_ROLES = (
    "This page shows the refreshers of a manager's people; it is for managers and the course's staff."
)
REFRESHER_STOPPED = ("This refresher was stopped: a revised assessment scored at or above its threshold, so "
                     "it is no longer needed.")
REFRESHER_REMOVED = "The course's designer removed this refresher: there is nothing to mark done."
REFRESHER_NOT_DUE = "This refresher is not due yet: mark it done once its day has come."


def may_read_own_refreshers(actor: Actor) -> Decision:
    """The learner's refreshers page: learners, in a course (their own rows only)."""
    if not (decision := in_a_course(actor)):
        return decision
    return _role_in(actor, frozenset({CadreRole.LEARNER}))


def may_read_people_refreshers(actor: Actor) -> Decision:
    """The people's refreshers pages: managers (and Moodle's learner-role managers), designers and
    administrators, in a course; :func:`can_read_person_refreshers` decides per person."""
    if not (decision := in_a_course(actor)):
        return decision
    if actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER, *EDITING_ROLES):
        return refuse(403, "Not for your role", REFRESHER_PEOPLE_ROLES)
    return ALLOWED


REFRESHER_KINDS = frozenset((FEEDBACK_KINDS - {ActivityKind.SELF_ASSESSMENT})
                            | {ActivityKind.PEER_ASSESSMENT})
"""Activities whose scores call for refreshers: assessed by someone else with a rubric (a self-assessment
is the learner's own view, and triggers none)."""
NO_REFRESHERS_HERE = (
    "Refreshers follow the scores others give with a rubric: a manager's, a coach's or a peer's. This "
    "activity has none (a self-assessment is the learner's own view)."
)


def takes_refreshers(activity: Activity) -> bool:
    return activity.kind in REFRESHER_KINDS and activity.rubric_version_id is not None


def can_configure_refreshers(actor: Actor, activity: Activity) -> Decision:
    """An activity's refreshers: whoever configures the activity, for one others assess with a rubric."""
    if not (decision := can_configure_activity(actor, activity)):
        return decision
    if activity.kind not in REFRESHER_KINDS:
        return refuse(400, "No refreshers here", NO_REFRESHERS_HERE)
    if activity.rubric_version_id is None:
        return refuse(409, "No rubric yet", REFRESHERS_NEED_A_RUBRIC)
    return ALLOWED


def can_complete_refresher(actor: Actor, scheduled: Any) -> Decision:
    """Only the learner it was scheduled for, in its course, marks a refresher done; to anyone else (and
    for a guessed id) it does not exist."""
    if scheduled is None or scheduled.learner_id != actor.user_id \
            or scheduled.context_id != actor.context_id or actor.role is not CadreRole.LEARNER:
        return refuse(404, "Refresher not found", REFRESHER_NOT_FOUND)
    return ALLOWED


def can_read_person_refreshers(actor: Actor, learner: User | None, session: Session) -> Decision:
    """A person's refreshers in the actor's course: the person, their active managers there, and the
    course's designers and administrators for the course's people (launched from it, on its roster, linked
    to a manager there, or assessed in one of its activities: everyone its staff's list shows). Anyone else,
    another course's person or a guessed id is "not found"."""
    if learner is None or actor.context_id is None or learner.platform_id != actor.platform_id:
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    if learner.id == actor.user_id:
        return ALLOWED
    course_id = actor.context_id
    if actor.may_edit:
        in_course = session.scalar(select(or_(
            select(Membership.id).where(Membership.context_id == course_id,
                                        Membership.user_id == learner.id).exists(),
            select(RosterMember.id).where(RosterMember.context_id == course_id,
                                          RosterMember.user_id == learner.id).exists(),
            select(ManagerLink.id).where(ManagerLink.context_id == course_id,
                                         ManagerLink.learner_id == learner.id).exists(),
            select(Assessment.id).join(Activity, Activity.id == Assessment.activity_id)
            .where(Activity.context_id == course_id, Assessment.learner_id == learner.id).exists(),
        )))
        return ALLOWED if in_course else refuse(404, "Person not found", NOT_YOUR_PERSON)
    linked = session.scalar(select(ManagerLink.id).where(own_active_links(actor, course_id),
                                                         ManagerLink.learner_id == learner.id).limit(1))
    if linked is None or actor.role not in (CadreRole.MANAGER, CadreRole.LEARNER):
        return refuse(404, "Person not found", NOT_YOUR_PERSON)
    return ALLOWED


def permission(rule: RouteRule) -> Callable[[View], View]:
    """The view needs a valid launch (otherwise the page says how to open Cadre) and ``rule`` to allow it."""

    def decorator(view: View) -> View:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = current_actor()
            if actor is None:
                from lti_tool.lti.session import no_launch_page

                return no_launch_page()
            ensure(rule(actor))
            return view(*args, **kwargs)

        wrapper.cadre_permission = rule  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def public(reason: str) -> Callable[[View], View]:
    """Mark a view anyone may call (a platform, a browser before any launch); ``reason`` says why."""

    def decorator(view: View) -> View:
        view.cadre_permission = f"public: {reason}"  # type: ignore[attr-defined]
        return view

    return decorator


def rule_of(view: Callable[..., Any]) -> Any:
    """The rule a view declared (a function, or ``"public: …"``), None when it declared none."""
    return getattr(view, "cadre_permission", None)


def _refused(error: PermissionDenied) -> Response:
    from lti_tool.web import error_page

    decision = error.decision
    return error_page(decision.status, decision.title, decision.message)


def init_app(app: Flask) -> None:
    app.register_error_handler(PermissionDenied, _refused)


# -- programme outcome and leaderboards (lti_tool.tracking.outcome, .leaderboards) ------------------------

OUTCOME_VALUE_NOT_FOUND = "This value does not exist, or it belongs to another course."
OUTCOME_DESIGNERS_ONLY = (
    "Only the course's designers and the platform's administrators name the course's outcome and enter "
    "its values."
)
LEADERBOARD_NOT_FOUND = "This course has no leaderboard: its designer has not turned one on."
LEADERBOARD_COURSE_NOT_FOUND = "This course does not exist, or it is not the course you opened Cadre from."
LEADERBOARD_DESIGNERS_ONLY = (
    "Only the course's designers and the platform's administrators set up its leaderboard."
)
LEADERBOARD_NOT_RANKED = (
    "Designers and administrators are not ranked on a leaderboard: only the course's learners and managers "
    "choose whether to appear on it."
)


def can_edit_programme_outcome(actor: Actor, context: Context) -> Decision:
    """A course's outcome and its values: whoever reads its dashboard (its designers, its platform's
    administrators); another course or platform is "not found", the course's managers and learners are
    told it is not for them."""
    decision = can_read_course_dashboard(actor, context)
    if not decision and decision.status == 403:
        return refuse(403, "Not allowed", OUTCOME_DESIGNERS_ONLY)
    return decision


def may_open_leaderboards(actor: Actor) -> Decision:
    """The leaderboard's pages: anyone in a course (:func:`can_read_leaderboard` decides per course)."""
    return in_a_course(actor)


def _leaderboard_course(actor: Actor, context: Context) -> Decision:
    if context.platform_id != actor.platform_id or (actor.context_id != context.id and not actor.is_admin):
        return refuse(404, "Course not found", LEADERBOARD_COURSE_NOT_FOUND)
    return ALLOWED


def can_configure_leaderboard(actor: Actor, context: Context) -> Decision:
    """The course's designers and its platform's administrators turn the leaderboard on and set it up."""
    if not (decision := _leaderboard_course(actor, context)):
        return decision
    if not actor.may_edit:
        return refuse(403, "Not allowed", LEADERBOARD_DESIGNERS_ONLY)
    return ALLOWED


def can_read_leaderboard(actor: Actor, context: Context, settings: Any) -> Decision:
    """A course's leaderboard, once its designer turned it on: the course's members (its staff also
    before, to preview it). Another course's is "not found"."""
    if not (decision := _leaderboard_course(actor, context)):
        return decision
    if actor.may_edit:
        return ALLOWED
    if settings is None or not settings.enabled:
        return refuse(404, "No leaderboard", LEADERBOARD_NOT_FOUND)
    return ALLOWED


def can_choose_leaderboard_presence(actor: Actor, context: Context) -> Decision:
    """Each learner and manager of the course chooses for themself whether to appear (staff are not
    ranked); the choice can be made before the designer turns the leaderboard on."""
    if not (decision := _leaderboard_course(actor, context)):
        return decision
    if actor.may_edit:
        return refuse(403, "Not ranked", LEADERBOARD_NOT_RANKED)
    return ALLOWED


def may_see_leaderboard_figure(actor: Actor, settings: Any, *, own: bool) -> bool:
    """Whether ``actor`` reads a ranked row's figure (score, completion, improvement): their own always;
    the course's staff always; the others' only where the designer let learners see them."""
    return own or actor.may_edit or bool(settings is not None and settings.show_values)
# -- strategic relationships (lti_tool.programme.relationship_map) ----------------------------------------

RELATIONSHIP_MAP_KINDS = frozenset({ActivityKind.RELATIONSHIP_MAP})
NOT_A_RELATIONSHIP_MAP = "This activity is not a strategic-relationships activity."
RELATIONSHIP_MAP_LEARNERS_ONLY = (
    "Learners map their own network here. Their managers review a map once it is shared with them, from "
    "their people's list."
)
RELATIONSHIP_MAP_NOT_FOUND = "This relationship map does not exist, or it is not yours to open."
RELATIONSHIP_NOT_FOUND = "This relationship or goal does not exist, or it is not on your map."
RELATIONSHIP_OVERVIEW_DESIGNERS_ONLY = (
    "Only the course's designers and administrators read the activity's overview of relationship maps."
)


def may_map_relationships(actor: Actor) -> Decision:
    """The learner's own map pages: learners, in a course (Moodle's managers launch as learners and map
    their own network too)."""
    if actor.context_id is not None and actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", RELATIONSHIP_MAP_LEARNERS_ONLY)
    return in_a_course(actor)


def can_keep_relationship_map(actor: Actor, activity: Activity) -> Decision:
    """Every learner of the activity's course keeps their own map in it; another course's activity, or one
    of another kind, is "not found"."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in RELATIONSHIP_MAP_KINDS:
        return refuse(404, "Activity not found", NOT_A_RELATIONSHIP_MAP)
    if actor.role is not CadreRole.LEARNER:
        return refuse(403, "Not for your role", RELATIONSHIP_MAP_LEARNERS_ONLY)
    return ALLOWED


def _map_in_course(actor: Actor, relationship_map: Any) -> bool:
    return relationship_map is not None and actor.context_id is not None \
        and relationship_map.activity.context_id == actor.context_id \
        and relationship_map.activity.platform_id == actor.platform_id \
        and relationship_map.activity.kind in RELATIONSHIP_MAP_KINDS


def can_change_relationship_map(actor: Actor, relationship_map: Any) -> Decision:
    """Only its owner changes a map (its relationships, goals, sharing), in its course: anyone else, and a
    guessed id, is "not found"."""
    if not _map_in_course(actor, relationship_map) or relationship_map.owner_id != actor.user_id \
            or actor.role is not CadreRole.LEARNER:
        return refuse(404, "Map not found", RELATIONSHIP_MAP_NOT_FOUND)
    return ALLOWED


def can_read_relationship_map(actor: Actor, relationship_map: Any, *, staff_may_read: bool) -> Decision:
    """Who reads a learner's map: its owner; the managers who assess them in the activity
    (:func:`can_assess`), once the owner shared it; the course's designers and administrators only where
    the designer's setting (``staff_may_read``) says so. Nobody else learns that it exists."""
    if can_change_relationship_map(actor, relationship_map):
        return ALLOWED
    if not _map_in_course(actor, relationship_map):
        return refuse(404, "Map not found", RELATIONSHIP_MAP_NOT_FOUND)
    if actor.may_edit:
        return ALLOWED if staff_may_read else refuse(404, "Map not found", RELATIONSHIP_MAP_NOT_FOUND)
    if relationship_map.shared_at is not None and actor.user_id != relationship_map.owner_id \
            and can_assess(actor, relationship_map.owner, relationship_map.activity):
        return ALLOWED
    return refuse(404, "Map not found", RELATIONSHIP_MAP_NOT_FOUND)


def can_read_relationship_overview(actor: Actor, activity: Activity) -> Decision:
    """The course's designers and administrators read the activity's overview (how many learners mapped
    and shared; each learner's figures and map only where the designer's setting lets staff read maps)."""
    if not (decision := can_view_activity(actor, activity)):
        return decision
    if activity.kind not in RELATIONSHIP_MAP_KINDS:
        return refuse(404, "Activity not found", NOT_A_RELATIONSHIP_MAP)
    if not actor.may_edit:
        return refuse(403, "Not allowed", RELATIONSHIP_OVERVIEW_DESIGNERS_ONLY)
    return ALLOWED
