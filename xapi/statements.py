"""Statement builders: one function per event of ``xapi.events``, each answering a JSON-ready dict.

Shape common to all (``docs/xapi-profile.md`` shows one full example per event):
- ``id``: uuid5 of the event's identity in the deployment's namespace (:func:`statement_id`), so building
  the same event again gives the same id, and a statement that refers to another (a reply to feedback, a
  revision, an acceptance) computes the other's id from the other's event identity.
- ``actor``: the person's ``account`` (platform issuer, LTI sub), or their e-mail when the deployment's
  identity mode says so and the e-mail is known (:class:`IdentityMode`).
- ``context``: the course as ``parent`` of the activity (or the activity as ``parent`` and the course as
  ``grouping`` when the object is something inside the activity), the profile version as ``category``, the
  assessor or manager as ``instructor`` where the actor is the learner, ``platform`` and ``language``.
- ``timestamp``: ISO 8601 in UTC, to the millisecond (what LRSs keep).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import langcodes
import rfc3987
from pydantic import validate_email

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
    FollowUpAnswered,
    FollowUpScheduled,
    InvalidEvent,
    Launched,
    ManagerNominated,
    NominationAccepted,
    PeerCoachingSessionHeld,
    Person,
    RefresherCompleted,
    Revised,
    Submitted,
    SurveyAnswered,
    Voided,
)
from xapi.vocabulary import (
    ACTIVITY_TYPE_BY_KIND,
    PROFILE_ACTIVITY_TYPE,
    PROFILE_VERSION_IRI,
    ActivityType,
    Concept,
    Extension,
    Verb,
)

Statement = dict[str, Any]

CADRE_AGENT_NAME = "cadre"
"""The account name of Cadre's own agent (homePage: the deployment's public URL)."""


class IdentityMode(StrEnum):
    """How actors are identified (``CADRE_ACTOR_IDENTITY``)."""

    ACCOUNT = "account"
    """``account {homePage: platform issuer, name: LTI sub}``: no personal data beyond the LMS's own id."""
    MBOX = "mbox"
    """``mbox: mailto:…`` where the platform sent an e-mail address, else the account."""
    MBOX_SHA1SUM = "mbox_sha1sum"
    """SHA-1 of the ``mailto:`` IRI: joins records across systems by e-mail without sending the address."""


@dataclass(frozen=True, slots=True)
class Deployment:
    """What a Cadre deployment decides about its statements; one per app, made from its settings."""

    public_url: str
    identity: IdentityMode = IdentityMode.ACCOUNT
    language: str = "en"
    platform: str = "Cadre"

    def __post_init__(self) -> None:
        web = self.public_url.startswith(("https://", "http://"))
        if not web or rfc3987.match(self.public_url, rule="IRI") is None:
            raise InvalidEvent(f"Deployment.public_url must be an http(s) URL, not {self.public_url!r}")
        if not langcodes.tag_is_valid(self.language):
            raise InvalidEvent(
                f"Deployment.language must be a language tag (like en or fr-CA), not {self.language!r}"
            )
        object.__setattr__(self, "public_url", self.public_url.rstrip("/"))
        object.__setattr__(self, "identity", IdentityMode(self.identity))

    @property
    def namespace(self) -> uuid.UUID:
        """Statement ids are unique to the deployment: two Cadres with the same platform never collide."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"{self.public_url}/xapi/statements")

    def _iri(self, kind: str, key: str | int) -> str:
        """The IRI of one of this deployment's things: ``{public_url}/xapi/id/<kind>/<Cadre's id>``.

        Activity ids are the deployment's own (a course exists in one Cadre only), unlike the vocabulary's
        IRIs; ``/xapi/id/`` keeps them apart from Cadre's pages and from the statement resource.
        """
        return f"{self.public_url}/xapi/id/{kind}/{quote(str(key), safe='')}"

    def course_iri(self, context_id: str | int) -> str:
        return self._iri("course", context_id)

    def activity_iri(self, activity_id: str | int) -> str:
        return self._iri("activity", activity_id)

    def nomination_iri(self, nomination_id: str | int) -> str:
        return self._iri("nomination", nomination_id)

    def follow_up_iri(self, follow_up_id: str | int) -> str:
        return self._iri("follow-up", follow_up_id)

    def refresher_iri(self, refresher_id: str | int) -> str:
        return self._iri("refresher", refresher_id)

    def coaching_session_iri(self, session_id: str | int) -> str:
        return self._iri("coaching-session", session_id)

    def peer_coaching_session_iri(self, session_id: str | int) -> str:
        return self._iri("peer-coaching-session", session_id)

    def peer_group_iri(self, group_id: str | int) -> str:
        return self._iri("peer-coaching-group", group_id)

    def cadre_agent(self) -> Statement:
        """The actor of what Cadre does by itself (scheduling, voiding on erasure)."""
        return {"objectType": "Agent", "account": {"homePage": self.public_url, "name": CADRE_AGENT_NAME}}


def statement_id(deployment: Deployment, identity: str) -> str:
    """The id of the statement for the event named by ``identity`` (``"evaluated:<issuer>:<id>:<rev>"``)."""
    return str(uuid.uuid5(deployment.namespace, identity))


def launched_id(deployment: Deployment, platform_issuer: str, launch_id: str | int) -> str:
    return statement_id(deployment, f"launched:{platform_issuer}:{launch_id}")


def submitted_id(deployment: Deployment, platform_issuer: str, submission_id: str | int) -> str:
    return statement_id(deployment, f"submitted:{platform_issuer}:{submission_id}")


def evaluated_id(
    deployment: Deployment, platform_issuer: str, assessment_id: str | int, revision: int
) -> str:
    """The scored statement of one revision: what a withdrawal or the next revision voids."""
    return statement_id(deployment, f"evaluated:{platform_issuer}:{assessment_id}:{revision}")


def nominated_id(deployment: Deployment, platform_issuer: str, nomination_id: str | int) -> str:
    return statement_id(deployment, f"nominated:{platform_issuer}:{nomination_id}")


def follow_up_scheduled_id(deployment: Deployment, platform_issuer: str, follow_up_id: str | int) -> str:
    return statement_id(deployment, f"follow-up-scheduled:{platform_issuer}:{follow_up_id}")


def voided_id(deployment: Deployment, target_statement_id: str) -> str:
    """Voiding a statement twice (a retried withdrawal) gives one voiding statement."""
    return statement_id(deployment, f"voided:{uuid.UUID(str(target_statement_id))}")


# --- pieces ---------------------------------------------------------------------------------------------


def timestamp(at: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-12-03T09:30:00.000Z``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidEvent(f"a statement's time must carry a time zone: {at.isoformat()}")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def usable_email(person: Person) -> str | None:
    """The person's e-mail, trimmed and in lower case, if xAPI accepts it as an ``mbox`` (else None)."""
    email = (person.email or "").strip().lower()
    if not email:
        return None
    try:
        validate_email(email)
    except ValueError:  # pydantic's PydanticCustomError is one
        return None
    return email


def agent(deployment: Deployment, person: Person) -> Statement:
    """The actor object for ``person`` in the deployment's identity mode."""
    email = usable_email(person) if deployment.identity is not IdentityMode.ACCOUNT else None
    if email and deployment.identity is IdentityMode.MBOX:
        return {"objectType": "Agent", "mbox": f"mailto:{email}"}
    if email and deployment.identity is IdentityMode.MBOX_SHA1SUM:
        digest = hashlib.sha1(f"mailto:{email}".encode(), usedforsecurity=False).hexdigest()
        return {"objectType": "Agent", "mbox_sha1sum": digest}
    return {"objectType": "Agent", "account": {"homePage": person.platform_issuer, "name": person.lti_sub}}


def verb(concept: Concept) -> Statement:
    return {"id": concept.iri, "display": concept.display()}


def _activity_object(deployment: Deployment, iri: str, title: str, type_iri: str) -> Statement:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {"name": {deployment.language: title}, "type": type_iri},
    }


def course_object(deployment: Deployment, course: Course) -> Statement:
    return _activity_object(deployment, course.iri, course.title, ActivityType.COURSE.iri)


def activity_object(deployment: Deployment, activity: Activity) -> Statement:
    type_iri = ACTIVITY_TYPE_BY_KIND[activity.kind].iri
    return _activity_object(deployment, activity.iri, activity.title, type_iri)


def profile_category() -> Statement:
    return {
        "objectType": "Activity", "id": PROFILE_VERSION_IRI, "definition": {"type": PROFILE_ACTIVITY_TYPE}
    }


def _number(value: Decimal | int | float) -> int | float:
    """JSON numbers: integers stay integers (``3``, not ``3.0``), fractions become floats."""
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _context(
    deployment: Deployment,
    *,
    parent: list[Statement],
    grouping: list[Statement] | None = None,
    instructor: Statement | None = None,
    extensions: dict[str, Any] | None = None,
    statement_ref: str | None = None,
    object_is_activity: bool = True,
) -> Statement:
    context_activities: Statement = {"parent": parent, "category": [profile_category()]}
    if grouping:
        context_activities["grouping"] = grouping
    context: Statement = {"contextActivities": context_activities, "language": deployment.language}
    if object_is_activity:
        context["platform"] = deployment.platform  # xAPI allows a platform only for an Activity object
    if instructor is not None:
        context["instructor"] = instructor
    if statement_ref is not None:
        context["statement"] = {"objectType": "StatementRef", "id": statement_ref}
    if extensions:
        context["extensions"] = extensions
    return context


def _statement(
    made_id: str, actor: Statement, concept: Concept, obj: Statement, context: Statement, at: datetime,
    result: Statement | None = None,
) -> Statement:
    statement: Statement = {
        "id": made_id,
        "actor": actor,
        "verb": verb(concept),
        "object": obj,
    }
    if result is not None:
        statement["result"] = result
    statement["context"] = context
    statement["timestamp"] = timestamp(at)
    return statement


def _kind_extensions(activity: Activity) -> dict[str, Any]:
    return {Extension.ACTIVITY_KIND.iri: activity.kind}


def _criterion_result(line: CriterionResult) -> dict[str, Any]:
    return {
        "criterion": line.criterion,
        "level": line.level,
        "levelNumber": line.level_number,
        "levelCount": line.level_count,
        "points": None if line.points is None else _number(line.points),
        "maxPoints": None if line.max_points is None else _number(line.max_points),
        "competencies": list(line.competencies),
    }


# --- builders -------------------------------------------------------------------------------------------


def launched(deployment: Deployment, event: Launched) -> Statement:
    """Someone opened an activity from their platform."""
    return _statement(
        launched_id(deployment, event.actor.platform_issuer, event.launch_id),
        agent(deployment, event.actor), Verb.LAUNCHED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 extensions=_kind_extensions(event.activity)),
        event.at,
    )


def submitted(deployment: Deployment, event: Submitted) -> Statement:
    """A learner handed in a work product for an activity."""
    return _statement(
        submitted_id(deployment, event.learner.platform_issuer, event.submission_id),
        agent(deployment, event.learner), Verb.SUBMITTED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 extensions=_kind_extensions(event.activity)),
        event.at, result={"completion": True},
    )


def evaluated(deployment: Deployment, event: Evaluated) -> Statement:
    """One revision of a manager, peer or self assessment, in the learner's record (the learner acts)."""
    result: Statement = {"completion": True}
    if event.score is not None:
        result["score"] = {
            "scaled": _number(event.score.scaled()),
            "raw": _number(event.score.raw),
            "min": _number(event.score.minimum),
            "max": _number(event.score.maximum),
        }
    if event.success is not None:
        result["success"] = event.success
    if event.criteria:
        result["extensions"] = {Extension.CRITERIA.iri: [_criterion_result(line) for line in event.criteria]}
    extensions = _kind_extensions(event.activity) | {
        Extension.ASSESSOR_ROLE.iri: str(AssessorRole(event.assessor_role)),
        Extension.ASSESSMENT_REVISION.iri: event.revision,
    }
    if event.rubric is not None:
        extensions[Extension.RUBRIC_ID.iri] = event.rubric.identifier
        extensions[Extension.RUBRIC_VERSION.iri] = event.rubric.version
    is_self = event.assessor_role == AssessorRole.SELF
    return _statement(
        evaluated_id(deployment, event.learner.platform_issuer, event.assessment_id, event.revision),
        agent(deployment, event.learner), Verb.SCORED, activity_object(deployment, event.activity),
        _context(
            deployment, parent=[course_object(deployment, event.course)],
            instructor=None if is_self else agent(deployment, event.assessor), extensions=extensions,
        ),
        event.at, result=result,
    )


def revised(deployment: Deployment, event: Revised) -> Statement:
    """The assessor's act of revising: refers to the new revision's scored statement.

    The record itself changes by two more statements the caller also writes: :func:`evaluated` for the new
    revision and :func:`voided` for the previous revision's scored statement (:func:`superseded_id`).
    """
    new_scored = evaluated_id(deployment, event.learner.platform_issuer, event.assessment_id, event.revision)
    return _statement(
        statement_id(
            deployment, f"revised:{event.assessor.platform_issuer}:{event.assessment_id}:{event.revision}"
        ),
        agent(deployment, event.assessor), Verb.UPDATED, activity_object(deployment, event.activity),
        _context(
            deployment, parent=[course_object(deployment, event.course)], statement_ref=new_scored,
            extensions=_kind_extensions(event.activity) | {Extension.ASSESSMENT_REVISION.iri: event.revision},
        ),
        event.at,
    )


def superseded_id(deployment: Deployment, event: Revised) -> str:
    """The scored statement a revision supersedes (the one to void)."""
    return evaluated_id(deployment, event.learner.platform_issuer, event.assessment_id, event.revision - 1)


def commented(deployment: Deployment, event: Commented) -> Statement:
    """A reply to feedback; the context's statement is the scored statement replied to."""
    replied_to = evaluated_id(deployment, event.author.platform_issuer, event.assessment_id, event.revision)
    return _statement(
        statement_id(deployment, f"commented:{event.author.platform_issuer}:{event.comment_id}"),
        agent(deployment, event.author), Verb.COMMENTED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)], statement_ref=replied_to,
                 extensions=_kind_extensions(event.activity)),
        event.at, result={"response": event.text},
    )


def completed(deployment: Deployment, event: Completed) -> Statement:
    """A learner finished an activity (once per learner and activity)."""
    learner = event.learner
    return _statement(
        statement_id(
            deployment, f"completed:{learner.platform_issuer}:{event.activity.iri}:{learner.lti_sub}"
        ),
        agent(deployment, learner), Verb.COMPLETED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 extensions=_kind_extensions(event.activity)),
        event.at, result={"completion": True},
    )


def _answers_result(answers: dict[str, Any] | Any) -> Statement:
    result: Statement = {"completion": True}
    if answers:
        result["extensions"] = {Extension.ANSWERS.iri: dict(answers)}
    return result


def survey_answered(deployment: Deployment, event: SurveyAnswered) -> Statement:
    return _statement(
        statement_id(deployment, f"survey-answered:{event.respondent.platform_issuer}:{event.response_id}"),
        agent(deployment, event.respondent), Verb.ANSWERED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 extensions=_kind_extensions(event.activity)),
        event.at, result=_answers_result(event.answers),
    )


def _nomination_object(deployment: Deployment, iri: str) -> Statement:
    return {"objectType": "Activity", "id": iri, "definition": {
        "name": {deployment.language: ActivityType.NOMINATION.label}, "type": ActivityType.NOMINATION.iri,
    }}


def manager_nominated(deployment: Deployment, event: ManagerNominated) -> Statement:
    """A learner nominated a manager; the nominee is the instructor."""
    return _statement(
        nominated_id(deployment, event.learner.platform_issuer, event.nomination.nomination_id),
        agent(deployment, event.learner), Verb.NOMINATED,
        _nomination_object(deployment, event.nomination.iri),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 instructor=agent(deployment, event.nominee)),
        event.at,
    )


def nomination_accepted(deployment: Deployment, event: NominationAccepted) -> Statement:
    """The nominee accepted; the context's statement is the nomination's."""
    nomination_id = event.nomination.nomination_id
    nomination_statement = nominated_id(deployment, event.learner.platform_issuer, nomination_id)
    return _statement(
        statement_id(deployment, f"nomination-accepted:{event.manager.platform_issuer}:{nomination_id}"),
        agent(deployment, event.manager), Verb.ACCEPTED, _nomination_object(deployment, event.nomination.iri),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 statement_ref=nomination_statement),
        event.at,
    )


def _follow_up_object(deployment: Deployment, event: FollowUpScheduled | FollowUpAnswered) -> Statement:
    return _activity_object(deployment, event.follow_up.iri, event.follow_up.title, ActivityType.SURVEY.iri)


def follow_up_scheduled(deployment: Deployment, event: FollowUpScheduled) -> Statement:
    """A follow-up is due from a respondent; the actor is who scheduled it (Cadre itself by default)."""
    actor = deployment.cadre_agent() if event.scheduled_by is None else agent(deployment, event.scheduled_by)
    return _statement(
        follow_up_scheduled_id(
            deployment, event.respondent.platform_issuer, event.follow_up.follow_up_id
        ),
        actor, Verb.SCHEDULED, _follow_up_object(deployment, event),
        _context(
            deployment, parent=[activity_object(deployment, event.activity)],
            grouping=[course_object(deployment, event.course)],
            extensions=_kind_extensions(event.activity) | {
                Extension.DUE_AT.iri: timestamp(event.due_at),
                Extension.RESPONDENT.iri: agent(deployment, event.respondent),
            },
        ),
        event.at,
    )


def follow_up_answered(deployment: Deployment, event: FollowUpAnswered) -> Statement:
    """The respondent answered a follow-up; the context's statement is its scheduling."""
    follow_up_id = event.follow_up.follow_up_id
    scheduled = follow_up_scheduled_id(deployment, event.respondent.platform_issuer, follow_up_id)
    return _statement(
        statement_id(deployment, f"follow-up-answered:{event.respondent.platform_issuer}:{follow_up_id}"),
        agent(deployment, event.respondent), Verb.ANSWERED, _follow_up_object(deployment, event),
        _context(
            deployment, parent=[activity_object(deployment, event.activity)],
            grouping=[course_object(deployment, event.course)], statement_ref=scheduled,
            extensions=_kind_extensions(event.activity),
        ),
        event.at, result=_answers_result(event.answers),
    )


def career_conversation_held(deployment: Deployment, event: CareerConversationHeld) -> Statement:
    """A learner held a career conversation with their manager (the instructor)."""
    return _statement(
        statement_id(
            deployment, f"career-conversation:{event.learner.platform_issuer}:{event.conversation_id}"
        ),
        agent(deployment, event.learner), Verb.ATTENDED, activity_object(deployment, event.activity),
        _context(deployment, parent=[course_object(deployment, event.course)],
                 instructor=agent(deployment, event.manager), extensions=_kind_extensions(event.activity)),
        event.at, result={"completion": True},
    )


def coaching_session_logged_id(deployment: Deployment, platform_issuer: str, session_id: str | int,
                              saved_at: datetime) -> str:
    """The statement of one saved version of a coaching session (the previous one's id, to void it)."""
    return statement_id(deployment, f"coaching-session:{platform_issuer}:{session_id}:{timestamp(saved_at)}")


def coaching_session_logged(deployment: Deployment, event: CoachingSessionLogged) -> Statement:
    """Someone held or received a coaching or mentoring session: the object is the session (a meeting),
    its parent the coaching log, the grouping the course; the result its length; the kind a context
    extension. The timestamp is the day it was held (00:00 UTC: the log keeps days, not times)."""
    kind = "Coaching" if event.session_kind == "coaching" else "Mentoring"
    held_at = datetime.combine(event.held_on, time(0, 0), UTC)
    return _statement(
        coaching_session_logged_id(deployment, event.owner.platform_issuer, event.session_id, event.saved_at),
        agent(deployment, event.owner), Verb.ATTENDED,
        _activity_object(deployment, event.session_iri, f"{kind} session", ActivityType.MEETING.iri),
        _context(deployment, parent=[activity_object(deployment, event.activity)],
                 grouping=[course_object(deployment, event.course)],
                 extensions=_kind_extensions(event.activity) | {
                     Extension.COACHING_KIND.iri: event.session_kind}),
        held_at, result={"completion": True, "duration": f"PT{event.minutes}M"},
    )


def peer_coaching_session_held(deployment: Deployment, event: PeerCoachingSessionHeld) -> Statement:
    """A member attended a peer-coaching session of their group: the object is the session (a meeting),
    its parent the group, the grouping the peer-coaching activity and the course, the team the group's
    other members. The timestamp is the day it was held (00:00 UTC)."""
    held_at = datetime.combine(event.held_on, time(0, 0), UTC)
    group = _activity_object(deployment, event.group_iri, event.group_title, ActivityType.PEER_GROUP.iri)
    context = _context(deployment, parent=[group],
                       grouping=[activity_object(deployment, event.activity),
                                 course_object(deployment, event.course)],
                       extensions=_kind_extensions(event.activity))
    if event.others:
        context["team"] = {"objectType": "Group",
                           "member": [agent(deployment, other) for other in event.others]}
    return _statement(
        statement_id(deployment, f"peer-coaching-session:{event.learner.platform_issuer}:{event.session_id}:"
                                 f"{event.learner.lti_sub}"),
        agent(deployment, event.learner), Verb.ATTENDED,
        _activity_object(deployment, event.session_iri, "Peer-coaching session", ActivityType.MEETING.iri),
        context, held_at, result={"completion": True},
    )


def refresher_completed(deployment: Deployment, event: RefresherCompleted) -> Statement:
    """A learner finished a refresher; its parent is the activity it refreshes, when there is one."""
    course = course_object(deployment, event.course)
    if event.activity is None:
        parent, grouping = [course], None
    else:
        parent, grouping = [activity_object(deployment, event.activity)], [course]
    return _statement(
        statement_id(deployment, f"refresher-completed:{event.learner.platform_issuer}:{event.refresher_id}"),
        agent(deployment, event.learner), Verb.COMPLETED, activity_object(deployment, event.refresher),
        _context(deployment, parent=parent, grouping=grouping, extensions=_kind_extensions(event.refresher)),
        event.at, result={"completion": True},
    )


def voided(deployment: Deployment, event: Voided) -> Statement:
    """Takes back a statement (xAPI 1.0.3, 2.3.2): the object is a StatementRef, nothing else is needed."""
    actor = deployment.cadre_agent() if event.actor is None else agent(deployment, event.actor)
    target = str(uuid.UUID(str(event.statement_id)))
    return {
        "id": voided_id(deployment, target),
        "actor": actor,
        "verb": verb(Verb.VOIDED),
        "object": {"objectType": "StatementRef", "id": target},
        "context": {"contextActivities": {"category": [profile_category()]}, "language": deployment.language},
        "timestamp": timestamp(event.at),
    }


BUILDERS = {
    Launched: launched,
    Submitted: submitted,
    Evaluated: evaluated,
    Revised: revised,
    Commented: commented,
    Completed: completed,
    SurveyAnswered: survey_answered,
    ManagerNominated: manager_nominated,
    NominationAccepted: nomination_accepted,
    FollowUpScheduled: follow_up_scheduled,
    FollowUpAnswered: follow_up_answered,
    CareerConversationHeld: career_conversation_held,
    CoachingSessionLogged: coaching_session_logged,
    PeerCoachingSessionHeld: peer_coaching_session_held,
    RefresherCompleted: refresher_completed,
    Voided: voided,
}
"""Each event class and its builder (:func:`build` picks one)."""


def build(deployment: Deployment, event: object) -> Statement:
    """The statement for any event of ``xapi.events``."""
    builder = BUILDERS.get(type(event))
    if builder is None:
        raise InvalidEvent(f"no statement is built from a {type(event).__name__}")
    return builder(deployment, event)  # type: ignore[operator]
