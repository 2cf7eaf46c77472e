"""Peer assessment: who reviews whom, and the designer's settings. The reviews themselves are
:class:`~lti_tool.models.Assessment` rows with the role ``peer``, written with the feedback form, drafts,
revisions, withdrawal and release of :mod:`lti_tool.feedback.services` (``permissions.can_assess`` lets a
learner assess the peers assigned to them).

* **Settings**: ``k`` reviews per learner (1–10, default 2), anonymous or named (default anonymous),
  and the scope peers are drawn in: the whole course, or each manager's team (the learners who share a line
  manager). ``k`` and the scope are fixed once a review is started.
* **Assignment runs** (:func:`run_assignment`) draw with :mod:`lti_tool.feedback.peer_assignment`: the first
  run draws everyone, balanced; a later run places only newcomers (learners who joined since), moving
  reviews nobody started so that everyone still gives ``k`` and receives ``k``. The seed of the first run
  is kept, so a run repeats. A review that was started (a draft, a submission) is never moved or removed.
* **The designer** may add a pair by hand and remove one not started; pairs they add are never moved.
* **Anonymous** means the reviewed learner never learns who reviewed them: their pages name the review
  "Peer reviewer 1, 2…" (``reviewer_labels``), and nothing shown to them carries the reviewer's name or id.
  The staff always see who reviews whom.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.feedback import peer_assignment
from lti_tool.feedback.peer_models import PeerAssignment, PeerSettings
from lti_tool.feedback.services import HAS_DRAFT, STATE_LABELS, AssessmentState, FeedbackError, Learner
from lti_tool.models import Activity, Assessment, ManagerLink, Membership, RosterMember, User, audit
from lti_tool.permissions import (
    ACTIVITY_NOT_FOUND,
    Actor,
    ObjectRule,
    PermissionDenied,
    can_manage_peers,
    can_review_peers,
    ensure,
    may_know_reviewer,
    refuse,
)
from lti_tool.states import (
    AssessmentStatus,
    AssessorRole,
    CadreRole,
    ManagerLinkRelation,
    ManagerLinkStatus,
    PeerAssignmentSource,
    PeerScope,
)

DEFAULT_REVIEWS = 2
MAX_REVIEWS = 10
SCOPE_LABELS = {
    PeerScope.COURSE: "The whole course",
    PeerScope.TEAM: "Each manager's team (learners who share a line manager)",
}
FIXED_ONCE_STARTED = (
    "Reviews have been started, so the number of reviews and where peers are drawn can no longer change: "
    "changing them would move work people have begun."
)
NOT_A_PARTICIPANT = "Choose two learners of this course."
SAME_PERSON = "A learner does not review themself: choose two different learners."
ALREADY_PAIRED = "{reviewer} already reviews {reviewee} in this activity."
PAIR_STARTED = "This review has been started, so it stays: the reviewer's work is kept."
PAIR_NOT_FOUND = "This pair does not exist, or it belongs to another activity."
NOTHING_TO_CLEAR = "There are no pairs to clear."
CLEAR_STARTED = "Reviews have been started, so the pairs stay; remove the ones not started one by one."


class PeerProblems(FeedbackError):
    """What was typed cannot be saved; ``problems`` by field name."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("Nothing was saved: " + " ".join(problems.values()))


def activity_under(session: Session, actor: Actor, activity_id: int, rule: ObjectRule[Activity]) -> Activity:
    """The activity ``activity_id`` if ``rule`` lets the actor use it (a guessed id is "not found"); the
    peer pages' and peer coaching's way in."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise PermissionDenied(refuse(404, "Activity not found", ACTIVITY_NOT_FOUND))
    ensure(rule(actor, activity))
    return activity


def reviewing_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    return activity_under(session, actor, activity_id, can_review_peers)


def managed_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    return activity_under(session, actor, activity_id, can_manage_peers)


# -- settings


def settings_of(session: Session, activity: Activity) -> PeerSettings:
    """The saved settings, or the defaults (not stored) before the designer saved any."""
    return session.get(PeerSettings, activity.id) or PeerSettings(
        activity_id=activity.id, reviews_per_learner=DEFAULT_REVIEWS, anonymous=True, scope=PeerScope.COURSE
    )


def is_anonymous(session: Session, activity: Activity) -> bool:
    return settings_of(session, activity).anonymous


def _any_started(session: Session, activity: Activity) -> bool:
    return (
        session.scalar(
            select(Assessment.id)
            .where(Assessment.activity_id == activity.id, Assessment.assessor_role == AssessorRole.PEER)
            .limit(1)
        )
        is not None
    )


def save_settings(
    session: Session, actor: Actor, activity: Activity, typed: Mapping[str, str]
) -> PeerSettings:
    ensure(can_manage_peers(actor, activity))
    problems: dict[str, str] = {}
    raw = (typed.get("reviews_per_learner") or "").strip()
    reviews = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else 0
    if not 1 <= reviews <= MAX_REVIEWS:
        problems["reviews_per_learner"] = (
            f"Give the number of reviews as a whole number from 1 to {MAX_REVIEWS}."
        )
    try:
        scope = PeerScope(typed.get("scope", ""))
    except ValueError:
        scope = PeerScope.COURSE
        problems["scope"] = "Choose where peers are drawn: the whole course or each manager's team."
    current = settings_of(session, activity)
    if (
        not problems
        and (reviews != current.reviews_per_learner or scope is not current.scope)
        and _any_started(session, activity)
    ):
        problems["reviews_per_learner"] = FIXED_ONCE_STARTED
    if problems:
        raise PeerProblems(problems)
    saved = session.get(PeerSettings, activity.id)
    if saved is None:
        saved = PeerSettings(activity_id=activity.id)
        session.add(saved)
    saved.reviews_per_learner = reviews
    saved.scope = scope
    saved.anonymous = typed.get("anonymous", "") == "1"
    saved.updated_at = utcnow()
    session.flush()
    audit(
        session,
        actor,
        "peers.settings",
        activity_id=activity.id,
        reviews_per_learner=reviews,
        scope=scope.value,
        anonymous=saved.anonymous,
    )
    return saved


# -- participants and groups


def participants(session: Session, activity: Activity) -> list[int]:
    """The course's learners: those who launched as learners, and the roster's active learners."""
    launched = select(Membership.user_id).where(
        Membership.context_id == activity.context_id, Membership.role == CadreRole.LEARNER
    )
    rostered = select(RosterMember.user_id).where(
        RosterMember.context_id == activity.context_id,
        RosterMember.role == CadreRole.LEARNER,
        RosterMember.active.is_(True),
    )
    return sorted(set(session.scalars(launched)) | set(session.scalars(rostered)))


def groups_of(
    session: Session, activity: Activity, scope: PeerScope, people: list[int]
) -> dict[str, list[int]]:
    """The groups peers are drawn in: the course, or one per line manager (the learners without a line
    manager are in none)."""
    if scope is PeerScope.COURSE:
        return {"course": list(people)}
    line_managers: dict[int, int] = {}
    for learner_id, manager_id in session.execute(
        select(ManagerLink.learner_id, ManagerLink.manager_id)
        .where(
            ManagerLink.context_id == activity.context_id,
            ManagerLink.status == ManagerLinkStatus.ACTIVE,
            ManagerLink.learner_id.in_(people),
        )
        .order_by(
            ManagerLink.learner_id,
            (ManagerLink.relation != ManagerLinkRelation.LINE_MANAGER),
            ManagerLink.created_at,
            ManagerLink.id,
        )
    ):
        line_managers.setdefault(learner_id, manager_id)
    groups: dict[str, list[int]] = {}
    for learner_id in people:
        if learner_id in line_managers:
            groups.setdefault(f"team:{line_managers[learner_id]}", []).append(learner_id)
    return groups


def _started_pairs(session: Session, activity: Activity) -> set[peer_assignment.Pair]:
    return {
        (assessor, learner)
        for assessor, learner in session.execute(
            select(Assessment.assessor_id, Assessment.learner_id).where(
                Assessment.activity_id == activity.id, Assessment.assessor_role == AssessorRole.PEER
            )
        )
    }


# -- assignment runs


@dataclass(frozen=True)
class RunResult:
    added: int
    removed: int
    newcomers: list[int] = field(default_factory=list)
    short: int = 0
    """Reviews given on top of the balance because started ones could not move."""
    first_run: bool = False


def run_assignment(
    session: Session, actor: Actor, activity: Activity, *, seed: int | None = None
) -> RunResult:
    """Draw who reviews whom (first run), or place the learners who joined since (later runs)."""
    ensure(can_manage_peers(actor, activity))
    settings = session.get(PeerSettings, activity.id)
    if settings is None:
        settings = settings_of(session, activity)
        session.add(settings)
    if seed is not None:
        settings.seed = seed
    elif settings.seed is None:
        settings.seed = secrets.randbits(31)
    k = settings.reviews_per_learner
    people = participants(session, activity)
    groups = groups_of(session, activity, settings.scope, people)
    rows = list(session.scalars(select(PeerAssignment).where(PeerAssignment.activity_id == activity.id)))
    drawn = [row for row in rows if row.source is PeerAssignmentSource.RANDOM]
    now = utcnow()

    def add(pair: peer_assignment.Pair, group: str) -> PeerAssignment:
        row = PeerAssignment(
            activity_id=activity.id,
            reviewer_id=pair[0],
            reviewee_id=pair[1],
            source=PeerAssignmentSource.RANDOM,
            group_key=group,
            assigned_by_user_id=actor.user_id,
            assigned_at=now,
        )
        session.add(row)
        return row

    if not drawn:
        by_pair = {(row.reviewer_id, row.reviewee_id) for row in rows}
        added = 0
        for group, members in groups.items():
            for pair in sorted(peer_assignment.assign({group: members}, k, settings.seed) - by_pair):
                add(pair, group)
                added += 1
        session.flush()
        audit(session, actor, "peers.assign", activity_id=activity.id, added=added, seed=settings.seed)
        return RunResult(added, 0, [], 0, first_run=True)

    locked = _started_pairs(session, activity) | {
        (row.reviewer_id, row.reviewee_id) for row in rows if row.source is PeerAssignmentSource.DESIGNER
    }
    by_pair = {(row.reviewer_id, row.reviewee_id): row for row in drawn}
    placed = {person for row in drawn for person in (row.reviewer_id, row.reviewee_id)}
    added = removed = short = 0
    newcomers: list[int] = []
    for group, members in groups.items():
        in_group = [member for member in members if member in placed]
        for newcomer in [member for member in members if member not in placed]:
            pairs = set(by_pair)
            placement = peer_assignment.place_newcomer(
                pairs, in_group, newcomer, k, settings.seed, started=locked
            )
            for pair in placement.removed:
                session.delete(by_pair.pop(pair))
                removed += 1
            session.flush()
            for pair in sorted(placement.added):
                if pair in by_pair or pair in locked:
                    continue
                by_pair[pair] = add(pair, group)
                added += 1
            session.flush()  # the next newcomer may move one of these: it must be a stored row by then
            in_group.append(newcomer)
            newcomers.append(newcomer)
            short += placement.short
    session.flush()
    audit(
        session,
        actor,
        "peers.place_newcomers",
        activity_id=activity.id,
        newcomers=newcomers,
        added=added,
        removed=removed,
    )
    return RunResult(added, removed, newcomers, short)


def _participant(session: Session, activity: Activity, user_id: int | None) -> User | None:
    if user_id is None or user_id not in set(participants(session, activity)):
        return None
    return session.get(User, user_id)


def _whole(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def add_pair(session: Session, actor: Actor, activity: Activity, typed: Mapping[str, str]) -> PeerAssignment:
    """The designer has ``reviewer`` review ``reviewee`` (both learners of the course)."""
    ensure(can_manage_peers(actor, activity))
    reviewer = _participant(session, activity, _whole(typed.get("reviewer_id")))
    reviewee = _participant(session, activity, _whole(typed.get("reviewee_id")))
    if reviewer is None or reviewee is None:
        raise PeerProblems({"pair": NOT_A_PARTICIPANT})
    if reviewer.id == reviewee.id:
        raise PeerProblems({"pair": SAME_PERSON})
    if (
        session.scalar(
            select(PeerAssignment.id).where(
                PeerAssignment.activity_id == activity.id,
                PeerAssignment.reviewer_id == reviewer.id,
                PeerAssignment.reviewee_id == reviewee.id,
            )
        )
        is not None
    ):
        raise PeerProblems(
            {"pair": ALREADY_PAIRED.format(reviewer=reviewer.display_name, reviewee=reviewee.display_name)}
        )
    row = PeerAssignment(
        activity_id=activity.id,
        reviewer_id=reviewer.id,
        reviewee_id=reviewee.id,
        source=PeerAssignmentSource.DESIGNER,
        group_key="designer",
        assigned_by_user_id=actor.user_id,
        assigned_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit(session, actor, "peers.add_pair", activity_id=activity.id, assignment_id=row.id)
    return row


def remove_pair(session: Session, actor: Actor, activity: Activity, assignment_id: int) -> None:
    ensure(can_manage_peers(actor, activity))
    row = session.get(PeerAssignment, assignment_id)
    if row is None or row.activity_id != activity.id:
        raise PeerProblems({"pair": PAIR_NOT_FOUND})
    if (row.reviewer_id, row.reviewee_id) in _started_pairs(session, activity):
        raise PeerProblems({"pair": PAIR_STARTED})
    audit(session, actor, "peers.remove_pair", activity_id=activity.id, assignment_id=row.id)
    session.delete(row)
    session.flush()


def clear_pairs(session: Session, actor: Actor, activity: Activity) -> int:
    """Start over: every pair removed, while no review has been started."""
    ensure(can_manage_peers(actor, activity))
    if _any_started(session, activity):
        raise FeedbackError(CLEAR_STARTED)
    count = session.execute(delete(PeerAssignment).where(PeerAssignment.activity_id == activity.id)).rowcount
    if not count:
        raise FeedbackError(NOTHING_TO_CLEAR)
    settings = session.get(PeerSettings, activity.id)
    if settings is not None:
        settings.seed = None
    session.flush()
    audit(session, actor, "peers.clear", activity_id=activity.id, removed=count)
    return int(count)


# -- reading


def _learners(session: Session, ids: set[int]) -> dict[int, Learner]:
    if not ids:
        return {}
    return {
        row[0]: Learner(*row)
        for row in session.execute(
            select(User.id, User.sub, User.name, User.given_name, User.family_name, User.email).where(
                User.id.in_(ids)
            )
        )
    }


def _state_label(state: AssessmentState | None) -> str:
    if state is None:
        return STATE_LABELS["not_started"]
    if state.status is AssessmentStatus.SUBMITTED:
        return STATE_LABELS["draft_changes" if state.has_draft else "submitted"]
    return STATE_LABELS[state.status.value]


@dataclass(frozen=True)
class Review:
    """One pair, as the reviewer's page and the staff's list show it."""

    assignment_id: int
    reviewer: Learner
    reviewee: Learner
    source: PeerAssignmentSource
    state: AssessmentState | None

    @property
    def label(self) -> str:
        return _state_label(self.state)

    @property
    def started(self) -> bool:
        return self.state is not None


def _reviews(session: Session, activity: Activity, *conditions: Any) -> list[Review]:
    rows = session.execute(
        select(
            PeerAssignment.id, PeerAssignment.reviewer_id, PeerAssignment.reviewee_id, PeerAssignment.source
        ).where(PeerAssignment.activity_id == activity.id, *conditions)
    ).all()
    people = _learners(session, {row[1] for row in rows} | {row[2] for row in rows})
    states = {
        (assessor, learner): AssessmentState(assessment_id, status, has_draft)
        for assessor, learner, assessment_id, status, has_draft in session.execute(
            select(
                Assessment.assessor_id, Assessment.learner_id, Assessment.id, Assessment.status, HAS_DRAFT
            ).where(Assessment.activity_id == activity.id, Assessment.assessor_role == AssessorRole.PEER)
        )
    }
    reviews = [
        Review(row[0], people[row[1]], people[row[2]], row[3], states.get((row[1], row[2]))) for row in rows
    ]
    return sorted(
        reviews,
        key=lambda review: (
            review.reviewer.display_name.casefold(),
            review.reviewee.display_name.casefold(),
            review.assignment_id,
        ),
    )


def my_reviews(session: Session, actor: Actor, activity: Activity) -> list[Review]:
    """The peers the actor reviews, with where each review stands (three queries, however many)."""
    ensure(can_review_peers(actor, activity))
    return sorted(
        _reviews(session, activity, PeerAssignment.reviewer_id == actor.user_id),
        key=lambda review: review.reviewee.display_name.casefold(),
    )


@dataclass(frozen=True)
class PeersOverview:
    reviews: list[Review]
    given: dict[int, int]
    received: dict[int, int]
    people: list[Learner]
    unassigned: list[Learner]
    """Learners of the course in no pair (newcomers, or outside every team)."""


def overview(session: Session, actor: Actor, activity: Activity) -> PeersOverview:
    ensure(can_manage_peers(actor, activity))
    reviews = _reviews(session, activity)
    given, received = peer_assignment.given_and_received(
        (review.reviewer.id, review.reviewee.id) for review in reviews
    )
    ids = participants(session, activity)
    people = _learners(session, set(ids))
    everyone = sorted(people.values(), key=lambda learner: learner.display_name.casefold())
    unassigned = [learner for learner in everyone if learner.id not in given and learner.id not in received]
    return PeersOverview(reviews, given, received, everyone, unassigned)


def reviewer_labels(
    session: Session, actor: Actor, activity: Activity, assessments: list[Assessment]
) -> dict[int, str]:
    """How each assessment's author is named to ``actor``: their name, or "Peer reviewer n" (numbered in
    the order the reviews were begun) where the activity is anonymous."""
    anonymous = activity.kind.value == "peer_assessment" and is_anonymous(session, activity)
    labels: dict[int, str] = {}
    number = 0
    for assessment in sorted(assessments, key=lambda row: row.id):
        if assessment.assessor_role is AssessorRole.PEER:
            number += 1
            if not may_know_reviewer(actor, assessment, anonymous=anonymous):
                labels[assessment.id] = f"Peer reviewer {number}"
                continue
            labels[assessment.id] = f"{assessment.assessor.display_name} (peer)"
        else:
            labels[assessment.id] = assessment.assessor.display_name
    return labels
