"""What happened, as plain frozen data: the builders in ``xapi.statements`` turn each event into a statement.

Callers copy what they need out of their rows into these classes (no ORM object crosses into ``xapi``).
Every event names the ids that make it *this* event (a launch id, an assessment id and revision, …): the
statement id is derived from them, so building the same event twice gives the same statement.
Bad input is refused here, when the event is made, with :class:`InvalidEvent`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

import rfc3987

from xapi.vocabulary import ACTIVITY_TYPE_BY_KIND

Number = Decimal | int | float


class InvalidEvent(ValueError):
    """An event cannot become a statement; the message says which field and why."""


class AssessorRole(StrEnum):
    MANAGER = "manager"
    PEER = "peer"
    SELF = "self"


def _require_text(owner: str, name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"{owner}.{name} must be a non-empty string, not {value!r}")


def _require_id(owner: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
        raise InvalidEvent(f"{owner}.{name} must be a non-empty id (string or integer), not {value!r}")


def _require_aware(owner: str, name: str, value: object) -> None:
    if not isinstance(value, datetime):
        raise InvalidEvent(f"{owner}.{name} must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidEvent(f"{owner}.{name} must carry a time zone (Cadre stores UTC): {value.isoformat()}")


def _require_iri(owner: str, name: str, value: object) -> None:
    """RFC 3987, as ralph checks it, so a bad IRI is refused where it was made, not when it is stored."""
    _require_text(owner, name, value)
    if rfc3987.match(value, rule="IRI") is None:
        raise InvalidEvent(f"{owner}.{name} must be an absolute IRI (like https://…), not {value!r}")


def _decimal(owner: str, name: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise InvalidEvent(f"{owner}.{name} must be a number, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InvalidEvent(f"{owner}.{name} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise InvalidEvent(f"{owner}.{name} must be a finite number, not {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class Person:
    """Someone on a learning platform: the platform's issuer and the LTI ``sub``; e-mail only if known.

    ``email`` is whatever the platform sent: the e-mail identity modes use it only when it is an address
    xAPI accepts (ralph's check), and fall back to the account otherwise, so odd platform data never
    makes a statement Cadre would refuse to store.
    """

    platform_issuer: str
    lti_sub: str
    email: str | None = None

    def __post_init__(self) -> None:
        _require_iri("Person", "platform_issuer", self.platform_issuer)
        _require_text("Person", "lti_sub", self.lti_sub)

    def same_person(self, other: Person) -> bool:
        """The same account on the same platform (e-mail aside, which platforms may send or not)."""
        return (self.platform_issuer, self.lti_sub) == (other.platform_issuer, other.lti_sub)


@dataclass(frozen=True, slots=True)
class Course:
    """A course (LTI context): its activity IRI (``Deployment.course_iri``) and title."""

    iri: str
    title: str

    def __post_init__(self) -> None:
        _require_iri("Course", "iri", self.iri)
        _require_text("Course", "title", self.title)


@dataclass(frozen=True, slots=True)
class Activity:
    """A Cadre activity (deliverable): IRI (``Deployment.activity_iri``), title and kind."""

    iri: str
    title: str
    kind: str
    """An ``ActivityKind`` value (``manager_feedback``, …) or ``refresher``."""

    def __post_init__(self) -> None:
        _require_iri("Activity", "iri", self.iri)
        _require_text("Activity", "title", self.title)
        if self.kind not in ACTIVITY_TYPE_BY_KIND:
            known = ", ".join(ACTIVITY_TYPE_BY_KIND)
            raise InvalidEvent(f"Activity.kind {self.kind!r} is not a Cadre activity kind ({known})")


@dataclass(frozen=True, slots=True)
class Rubric:
    """The rubric version an assessment was scored with."""

    identifier: str
    version: int

    def __post_init__(self) -> None:
        _require_text("Rubric", "identifier", self.identifier)
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidEvent(f"Rubric.version must be an integer of 1 or more, not {self.version!r}")


@dataclass(frozen=True, slots=True)
class Score:
    """A total: ``raw`` between ``minimum`` and ``maximum`` (``scaled`` is derived from them)."""

    raw: Number
    maximum: Number
    minimum: Number = 0

    def __post_init__(self) -> None:
        raw, low, high = (_decimal("Score", name, getattr(self, name))
                          for name in ("raw", "minimum", "maximum"))
        if high <= low:
            raise InvalidEvent(f"Score.maximum ({high}) must be greater than Score.minimum ({low})")
        if not low <= raw <= high:
            raise InvalidEvent(f"Score.raw ({raw}) must lie between minimum ({low}) and maximum ({high})")

    def scaled(self) -> Decimal:
        raw, low, high = (Decimal(str(value)) for value in (self.raw, self.minimum, self.maximum))
        return ((raw - low) / (high - low)).quantize(Decimal("0.0001"))


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """One criterion's outcome; ``points`` and ``max_points`` are None when the rubric gives no points."""

    criterion: str
    level: str
    level_number: int | None = None
    level_count: int | None = None
    points: Number | None = None
    max_points: Number | None = None
    competencies: tuple[str, ...] = ()
    """CASE CFItem URIs (or a framework's short codes) the criterion evidences."""

    def __post_init__(self) -> None:
        _require_text("CriterionResult", "criterion", self.criterion)
        _require_text("CriterionResult", "level", self.level)
        for name in ("points", "max_points"):
            if getattr(self, name) is not None:
                _decimal("CriterionResult", name, getattr(self, name))
        if not isinstance(self.competencies, tuple):
            raise InvalidEvent("CriterionResult.competencies must be a tuple of strings")
        for competency in self.competencies:
            _require_text("CriterionResult", "competencies[]", competency)

    @classmethod
    def from_breakdown(
        cls, line: Mapping[str, Any], competencies: tuple[str, ...] = ()
    ) -> CriterionResult:
        """From one ``rubrics.CriterionScore.to_dict()`` (as kept in ``assessment_revisions.criteria``)."""
        return cls(
            criterion=line["criterion"],
            level=line["level"],
            level_number=line.get("level_number"),
            level_count=line.get("level_count"),
            points=None if line.get("points") is None else Decimal(line["points"]),
            max_points=None if line.get("max_points") is None else Decimal(line["max_points"]),
            competencies=tuple(competencies),
        )


@dataclass(frozen=True, slots=True)
class Launched:
    actor: Person
    course: Course
    activity: Activity
    launch_id: str | int
    """What makes this launch unique (Cadre's launch row id): a retried event keeps it."""
    at: datetime

    def __post_init__(self) -> None:
        _require_id("Launched", "launch_id", self.launch_id)
        _require_aware("Launched", "at", self.at)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A learner handed in a work product (one submission; a resubmission is another one)."""

    learner: Person
    course: Course
    activity: Activity
    submission_id: str | int
    at: datetime

    def __post_init__(self) -> None:
        _require_id("Submitted", "submission_id", self.submission_id)
        _require_aware("Submitted", "at", self.at)


@dataclass(frozen=True, slots=True)
class Evaluated:
    """One submitted revision of an assessment of ``learner`` by ``assessor`` (the same person for self)."""

    learner: Person
    assessor: Person
    assessor_role: AssessorRole
    course: Course
    activity: Activity
    assessment_id: str | int
    revision: int
    at: datetime
    rubric: Rubric | None = None
    score: Score | None = None
    """None for a rubric that gives levels only."""
    criteria: tuple[CriterionResult, ...] = ()
    success: bool | None = None
    """Only where the activity sets a pass mark; None leaves ``result.success`` out."""

    def __post_init__(self) -> None:
        _require_id("Evaluated", "assessment_id", self.assessment_id)
        _require_revision("Evaluated", self.revision)
        _require_aware("Evaluated", "at", self.at)
        try:
            AssessorRole(self.assessor_role)
        except ValueError:
            raise InvalidEvent(
                f"Evaluated.assessor_role must be manager, peer or self, not {self.assessor_role!r}"
            ) from None
        is_self = self.assessor.same_person(self.learner)
        if (self.assessor_role == AssessorRole.SELF) != is_self:
            raise InvalidEvent(
                "Evaluated.assessor_role is 'self' exactly when the assessor is the learner "
                f"(role {self.assessor_role!r}, assessor {'is' if is_self else 'is not'} the learner)"
            )
        if not isinstance(self.criteria, tuple):
            raise InvalidEvent("Evaluated.criteria must be a tuple of CriterionResult")


def _require_revision(owner: str, revision: object) -> None:
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise InvalidEvent(f"{owner}.revision must be an integer of 1 or more, not {revision!r}")


@dataclass(frozen=True, slots=True)
class Revised:
    """The assessor submitted revision ``revision`` (2 or more) of an assessment, superseding the last."""

    assessor: Person
    learner: Person
    course: Course
    activity: Activity
    assessment_id: str | int
    revision: int
    at: datetime

    def __post_init__(self) -> None:
        _require_id("Revised", "assessment_id", self.assessment_id)
        _require_revision("Revised", self.revision)
        if self.revision < 2:
            raise InvalidEvent("Revised.revision must be 2 or more: the first submission is no revision")
        _require_aware("Revised", "at", self.at)


@dataclass(frozen=True, slots=True)
class Commented:
    """A reply to feedback: ``assessment_id``/``revision`` name the scored statement it answers."""

    author: Person
    course: Course
    activity: Activity
    comment_id: str | int
    text: str
    assessment_id: str | int
    revision: int
    at: datetime

    def __post_init__(self) -> None:
        _require_id("Commented", "comment_id", self.comment_id)
        _require_text("Commented", "text", self.text)
        _require_id("Commented", "assessment_id", self.assessment_id)
        _require_revision("Commented", self.revision)
        _require_aware("Commented", "at", self.at)


@dataclass(frozen=True, slots=True)
class Completed:
    learner: Person
    course: Course
    activity: Activity
    at: datetime

    def __post_init__(self) -> None:
        _require_aware("Completed", "at", self.at)


def _require_answers(owner: str, answers: object) -> None:
    if not isinstance(answers, Mapping):
        raise InvalidEvent(f"{owner}.answers must map question ids to answers")
    for question, answer in answers.items():
        _require_text(owner, "answers key", question)
        if isinstance(answer, bool) or not isinstance(answer, str | int | float):
            raise InvalidEvent(f"{owner}.answers[{question!r}] must be a string or a number, not {answer!r}")
        if isinstance(answer, float) and not math.isfinite(answer):
            raise InvalidEvent(f"{owner}.answers[{question!r}] must be a finite number, not {answer}")


@dataclass(frozen=True, slots=True)
class SurveyAnswered:
    respondent: Person
    course: Course
    activity: Activity
    response_id: str | int
    at: datetime
    answers: Mapping[str, str | int | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_id("SurveyAnswered", "response_id", self.response_id)
        _require_aware("SurveyAnswered", "at", self.at)
        _require_answers("SurveyAnswered", self.answers)


@dataclass(frozen=True, slots=True)
class Nomination:
    """A learner's nomination of a manager: its IRI (``Deployment.nomination_iri``) and id."""

    iri: str
    nomination_id: str | int

    def __post_init__(self) -> None:
        _require_iri("Nomination", "iri", self.iri)
        _require_id("Nomination", "nomination_id", self.nomination_id)


@dataclass(frozen=True, slots=True)
class ManagerNominated:
    learner: Person
    nominee: Person
    course: Course
    nomination: Nomination
    at: datetime

    def __post_init__(self) -> None:
        _require_aware("ManagerNominated", "at", self.at)
        if self.nominee.same_person(self.learner):
            raise InvalidEvent("ManagerNominated: a learner cannot nominate themself as their manager")


@dataclass(frozen=True, slots=True)
class NominationAccepted:
    manager: Person
    learner: Person
    course: Course
    nomination: Nomination
    at: datetime

    def __post_init__(self) -> None:
        _require_aware("NominationAccepted", "at", self.at)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One follow-up owed by one respondent: its IRI (``Deployment.follow_up_iri``), id and title."""

    iri: str
    follow_up_id: str | int
    title: str

    def __post_init__(self) -> None:
        _require_iri("FollowUp", "iri", self.iri)
        _require_id("FollowUp", "follow_up_id", self.follow_up_id)
        _require_text("FollowUp", "title", self.title)


@dataclass(frozen=True, slots=True)
class FollowUpScheduled:
    """``scheduled_by`` None: Cadre scheduled it itself (the actor is then Cadre's own agent)."""

    respondent: Person
    course: Course
    activity: Activity
    follow_up: FollowUp
    due_at: datetime
    at: datetime
    scheduled_by: Person | None = None

    def __post_init__(self) -> None:
        _require_aware("FollowUpScheduled", "due_at", self.due_at)
        _require_aware("FollowUpScheduled", "at", self.at)


@dataclass(frozen=True, slots=True)
class FollowUpAnswered:
    respondent: Person
    course: Course
    activity: Activity
    follow_up: FollowUp
    at: datetime
    answers: Mapping[str, str | int | float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _require_aware("FollowUpAnswered", "at", self.at)
        _require_answers("FollowUpAnswered", self.answers)


@dataclass(frozen=True, slots=True)
class CareerConversationHeld:
    learner: Person
    manager: Person
    course: Course
    activity: Activity
    conversation_id: str | int
    at: datetime

    def __post_init__(self) -> None:
        _require_id("CareerConversationHeld", "conversation_id", self.conversation_id)
        _require_aware("CareerConversationHeld", "at", self.at)
        if self.manager.same_person(self.learner):
            raise InvalidEvent("CareerConversationHeld: the manager and the learner must be two people")


COACHING_SESSION_KINDS = ("coaching", "mentoring")


@dataclass(frozen=True, slots=True)
class CoachingSessionLogged:
    """A session of someone's coaching log, as they saved it: its IRI (``Deployment.coaching_session_iri``),
    id, kind (coaching or mentoring), the day it was held and its minutes. ``saved_at`` tells one saved
    version from the next (a changed session is a new statement, and the previous one is voided). What was
    said and how its owner felt are never part of it."""

    owner: Person
    course: Course
    activity: Activity
    session_iri: str
    session_id: str | int
    session_kind: str
    held_on: date
    minutes: int
    saved_at: datetime

    def __post_init__(self) -> None:
        _require_iri("CoachingSessionLogged", "session_iri", self.session_iri)
        _require_id("CoachingSessionLogged", "session_id", self.session_id)
        _require_aware("CoachingSessionLogged", "saved_at", self.saved_at)
        if self.session_kind not in COACHING_SESSION_KINDS:
            raise InvalidEvent(f"CoachingSessionLogged.session_kind must be one of {COACHING_SESSION_KINDS}, "
                               f"not {self.session_kind!r}")
        if isinstance(self.minutes, bool) or not isinstance(self.minutes, int) or self.minutes < 1:
            raise InvalidEvent(f"CoachingSessionLogged.minutes must be a whole number above 0, not "
                               f"{self.minutes!r}")
        if self.activity.kind != "coaching_log":
            raise InvalidEvent(f"CoachingSessionLogged.activity.kind must be 'coaching_log', not "
                               f"{self.activity.kind!r}")


@dataclass(frozen=True, slots=True)
class PeerCoachingSessionHeld:
    """A member of a peer-coaching group attended one of its sessions (one event per member): the group's
    IRI (``Deployment.peer_group_iri``) and title, the session's IRI
    (``Deployment.peer_coaching_session_iri``) and id, the day it was held, and the other members (the
    statement's team). What the session was about is never part of it."""

    learner: Person
    others: tuple[Person, ...]
    course: Course
    activity: Activity
    group_iri: str
    group_title: str
    session_iri: str
    session_id: str | int
    held_on: date

    def __post_init__(self) -> None:
        _require_iri("PeerCoachingSessionHeld", "group_iri", self.group_iri)
        _require_text("PeerCoachingSessionHeld", "group_title", self.group_title)
        _require_iri("PeerCoachingSessionHeld", "session_iri", self.session_iri)
        _require_id("PeerCoachingSessionHeld", "session_id", self.session_id)
        if not isinstance(self.held_on, date) or isinstance(self.held_on, datetime):
            raise InvalidEvent(f"PeerCoachingSessionHeld.held_on must be a date, not {self.held_on!r}")
        if self.activity.kind != "peer_coaching":
            raise InvalidEvent(f"PeerCoachingSessionHeld.activity.kind must be 'peer_coaching', not "
                               f"{self.activity.kind!r}")
        if any(other.same_person(self.learner) for other in self.others):
            raise InvalidEvent("PeerCoachingSessionHeld: the learner is not one of the others")


@dataclass(frozen=True, slots=True)
class RefresherCompleted:
    """``refresher``: the one sent to this learner (kind ``refresher``); ``activity``: what it refreshes."""

    learner: Person
    course: Course
    refresher: Activity
    refresher_id: str | int
    at: datetime
    activity: Activity | None = None

    def __post_init__(self) -> None:
        _require_id("RefresherCompleted", "refresher_id", self.refresher_id)
        _require_aware("RefresherCompleted", "at", self.at)
        if self.refresher.kind != "refresher":
            raise InvalidEvent(
                f"RefresherCompleted.refresher.kind must be 'refresher', not {self.refresher.kind!r}"
            )


@dataclass(frozen=True, slots=True)
class Voided:
    """Takes back ``statement_id`` (a withdrawn or superseded assessment, an erased person's records)."""

    actor: Person | None
    """Who took it back; None: Cadre itself (erasure, supersession)."""
    statement_id: str
    at: datetime

    def __post_init__(self) -> None:
        try:
            uuid.UUID(str(self.statement_id))
        except ValueError:
            raise InvalidEvent(
                f"Voided.statement_id must be a statement's UUID, not {self.statement_id!r}"
            ) from None
        _require_aware("Voided", "at", self.at)
