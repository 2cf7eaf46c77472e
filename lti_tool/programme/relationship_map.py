"""Strategic relationships: each learner maps their network in the activity — people or roles, what each
relationship is to them (operational, or strategic: mentor, mentee, sponsor, strategic partner, a peer in
another unit or company), its strength, the last contact and what it is for — sets goals ("two new
strategic relationships this quarter") and follows them, then shares the map with their manager, who
reviews it with the activity's rubric through :mod:`lti_tool.feedback` (pinned rubric version, drafts,
submission, scores to the gradebook where graded).

Rules, decided here and in ``lti_tool.permissions`` (the strategic-relationships section):

* **Private**: a map is its owner's; their managers who assess them in the activity read it once it is
  shared; the course's designers and administrators read maps only where the designer's setting says so
  (otherwise they see how many learners mapped and shared, never a name). Anyone else: "not found".
* **The review waits for the map**: a manager's feedback is refused until the learner shared their map
  (:func:`missing_before_review`, registered with ``feedback.services.before_feedback``), as a
  work-product review waits for the work product.
* **History is kept**: adding, changing (type or strength) and taking a relationship off the map each
  append a dated :class:`~lti_tool.programme.relationship_models.RelationshipChange`; the map's state on
  any day, the counts by type week by week and a goal's progress are read from those rows.
* **A goal's progress** counts the relationships of the goal's type (any strategic type when it names
  none) that are on the map at the goal's end (or today, before then) and were not on the map as such the
  day before it started: added in its dates, or changed to that type in them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import Activity, User, audit
from lti_tool.permissions import Actor, ensure
from lti_tool.programme import relationship_events
from lti_tool.programme.errors import FieldProblems, ProgrammeError
from lti_tool.programme.form_fields import plain_text
from lti_tool.programme.relationship_models import (
    MappedRelationship,
    RelationshipChange,
    RelationshipGoal,
    RelationshipMap,
    RelationshipMapSettings,
    RelationshipMapShare,
)
from lti_tool.states import RelationshipType

TYPE_LABELS: dict[RelationshipType, str] = {
    RelationshipType.OPERATIONAL: "Operational",
    RelationshipType.MENTOR: "Mentor",
    RelationshipType.MENTEE: "Mentee",
    RelationshipType.SPONSOR: "Sponsor",
    RelationshipType.STRATEGIC_PARTNER: "Strategic partner",
    RelationshipType.PEER_OTHER_UNIT: "Peer in another unit",
    RelationshipType.PEER_OTHER_COMPANY: "Peer in another company",
}
TYPE_HINTS: dict[RelationshipType, str] = {
    RelationshipType.OPERATIONAL: "helps you get today's work done",
    RelationshipType.MENTOR: "gives you perspective and advice",
    RelationshipType.MENTEE: "someone you develop",
    RelationshipType.SPONSOR: "speaks for you where decisions are made",
    RelationshipType.STRATEGIC_PARTNER: "works with you on the future of the business",
    RelationshipType.PEER_OTHER_UNIT: "a peer in another business unit",
    RelationshipType.PEER_OTHER_COMPANY: "a peer in another organisation",
}
STRATEGIC = frozenset(RelationshipType) - {RelationshipType.OPERATIONAL}
STRENGTH_LABELS = {1: "1 – barely know each other", 2: "2 – occasional", 3: "3 – regular",
                   4: "4 – strong", 5: "5 – close and trusted"}
ANY_STRATEGIC = "strategic"
"""The goal form's value for "any strategic relationship" (a goal row without a type)."""
MAX_NAME = 200
MAX_PURPOSE = 2000
MAX_NOTE = 300
MAX_TARGET = 50
MAX_GOAL_DAYS = 366
EARLIEST = date(2000, 1, 1)
HISTORY_WEEKS = 13
"""The progress chart's reach: a quarter, week by week."""
RELATIONSHIP_FIELDS = ("name", "is_role", "relation_type", "strength", "last_contact_on", "purpose")
GOAL_FIELDS = ("goal_type", "target", "starts_on", "ends_on", "note")
NOTHING_TO_SHARE = "Add at least one relationship to your map before you share it."
NOT_SHARED_YET = (
    "{name} has not shared their relationship map yet: you review it once they have. Their map shows here "
    "then."
)


def category(relation_type: RelationshipType) -> str:
    return "strategic" if relation_type in STRATEGIC else "operational"


def type_label(relation_type: RelationshipType | None) -> str:
    return "Any strategic relationship" if relation_type is None else TYPE_LABELS[relation_type]


class RelationshipError(ProgrammeError):
    """Refused by the relationship map's services."""


class RelationshipProblems(FieldProblems, RelationshipError):
    """What was typed cannot be stored; ``problems`` by field name."""


def _today(today: date | None) -> date:
    return today or utcnow().date()


# -- finding things ----------------------------------------------------------------------------------------


def map_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The strategic-relationships activity ``activity_id`` of the actor's course (otherwise "not found")."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.kind not in permissions.RELATIONSHIP_MAP_KINDS:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_view_activity(actor, activity))
    return activity


def settings_of(session: Session, activity: Activity) -> RelationshipMapSettings:
    return session.get(RelationshipMapSettings, activity.id) or RelationshipMapSettings(
        activity_id=activity.id, staff_may_read=False)


def find_map(session: Session, activity_id: int, owner_id: int) -> RelationshipMap | None:
    return session.scalar(select(RelationshipMap).where(RelationshipMap.activity_id == activity_id,
                                                        RelationshipMap.owner_id == owner_id))


def own_map(session: Session, actor: Actor, activity: Activity, *, create: bool = False) -> RelationshipMap:
    """The learner's map in the activity: stored on their first change; before it (``create`` false), an
    empty one that is not stored."""
    ensure(permissions.can_keep_relationship_map(actor, activity))
    found = find_map(session, activity.id, actor.user_id)
    if found is None:
        now = utcnow()
        found = RelationshipMap(activity=activity, activity_id=activity.id, owner_id=actor.user_id,
                                created_at=now, updated_at=now)
        if not create:
            return found
        session.add(found)
        session.flush()
    return found


def readable_map(session: Session, actor: Actor, activity: Activity, map_id: int) -> RelationshipMap:
    """A map of the activity the actor may read (its owner, an assessing manager once shared, staff where
    the setting allows); anything else, and a guessed id, is "not found"."""
    found = session.get(RelationshipMap, map_id)
    if found is not None and found.activity_id != activity.id:
        found = None
    ensure(permissions.can_read_relationship_map(
        actor, found, staff_may_read=settings_of(session, activity).staff_may_read))
    assert found is not None
    return found


def own_relationship(session: Session, actor: Actor, relationship_map: RelationshipMap,
                     relationship_id: int) -> MappedRelationship:
    ensure(permissions.can_change_relationship_map(actor, relationship_map))
    found = session.get(MappedRelationship, relationship_id)
    if found is None or found.map_id != relationship_map.id or found.ended_on is not None:
        ensure(permissions.refuse(404, "Relationship not found", permissions.RELATIONSHIP_NOT_FOUND))
    assert found is not None
    return found


def relationships_on(session: Session, relationship_map: RelationshipMap) -> list[MappedRelationship]:
    """The relationships on the map now, strategic ones first, then by strength and name."""
    if relationship_map.id is None:
        return []
    rows = session.scalars(select(MappedRelationship).where(
        MappedRelationship.map_id == relationship_map.id, MappedRelationship.ended_on.is_(None))
        .order_by(MappedRelationship.id))
    order = list(RelationshipType)
    return sorted(rows, key=lambda row: (row.relation_type is RelationshipType.OPERATIONAL,
                                         order.index(row.relation_type), -row.strength, row.name.lower()))


def goals_of(session: Session, relationship_map: RelationshipMap) -> list[RelationshipGoal]:
    if relationship_map.id is None:
        return []
    return list(session.scalars(select(RelationshipGoal).where(RelationshipGoal.map_id == relationship_map.id)
                                .order_by(RelationshipGoal.ends_on.desc(), RelationshipGoal.id.desc())))


def changes_of(session: Session, relationship_map: RelationshipMap) -> list[RelationshipChange]:
    if relationship_map.id is None:
        return []
    return list(session.scalars(
        select(RelationshipChange).where(RelationshipChange.map_id == relationship_map.id)
        .order_by(RelationshipChange.changed_on, RelationshipChange.id)))


# -- the relationship form -----------------------------------------------------------------------------------


def empty_relationship_form() -> dict[str, str]:
    return {name: "" for name in RELATIONSHIP_FIELDS} | {"strength": "3"}


def relationship_form_of(row: MappedRelationship) -> dict[str, str]:
    return {"name": row.name, "is_role": "1" if row.is_role else "", "relation_type": row.relation_type.value,
            "strength": str(row.strength),
            "last_contact_on": row.last_contact_on.isoformat() if row.last_contact_on else "",
            "purpose": row.purpose}


@dataclass(frozen=True)
class CleanRelationship:
    name: str
    is_role: bool
    relation_type: RelationshipType
    strength: int
    last_contact_on: date | None
    purpose: str


def _date(value: str, name: str, problems: dict[str, str], *, required: bool) -> date | None:
    text = value.strip()
    if not text:
        if required:
            problems[name] = "Give a date, for example 2026-11-30."
        return None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        problems[name] = "Give a date as YYYY-MM-DD, for example 2026-11-30."
        return None
    if found < EARLIEST:
        problems[name] = "Give a date from 2000 on."
        return None
    return found


def clean_relationship(typed: Mapping[str, str], *, today: date | None = None) -> CleanRelationship:
    """The typed relationship checked field by field; :class:`RelationshipProblems` names every field that
    is wrong."""
    today = _today(today)
    problems: dict[str, str] = {}
    name = plain_text(typed.get("name", ""), MAX_NAME, "name", "name", problems,
                 required="Name the person, or the role (for example “Head of procurement”).")
    try:
        relation_type = RelationshipType(typed.get("relation_type", ""))
    except ValueError:
        relation_type = RelationshipType.OPERATIONAL
        problems["relation_type"] = "Choose what this relationship is to you."
    raw = typed.get("strength", "").strip()
    strength = int(raw) if raw in ("1", "2", "3", "4", "5") else 0
    if not strength:
        problems["strength"] = "Choose a strength from 1 to 5."
    last_contact_on = _date(typed.get("last_contact_on", ""), "last_contact_on", problems, required=False)
    if last_contact_on is not None and last_contact_on > today + timedelta(days=1):
        problems["last_contact_on"] = "The last contact has happened already: this date is in the future."
    purpose = plain_text(typed.get("purpose", ""), MAX_PURPOSE, "purpose", "purpose", problems)
    if problems:
        raise RelationshipProblems(problems)
    return CleanRelationship(name, typed.get("is_role", "") == "1", relation_type, strength, last_contact_on,
                             purpose)


def _append_change(session: Session, row: MappedRelationship, day: date, *, on_map: bool) -> None:
    session.add(RelationshipChange(map_id=row.map_id, relationship_id=row.id, changed_on=day,
                                   relation_type=row.relation_type, strength=row.strength, on_map=on_map,
                                   created_at=utcnow()))


def _touch(relationship_map: RelationshipMap) -> None:
    relationship_map.updated_at = utcnow()


def add_relationship(session: Session, actor: Actor, activity: Activity, typed: Mapping[str, str], *,
                     today: date | None = None) -> MappedRelationship:
    values = clean_relationship(typed, today=today)
    relationship_map = own_map(session, actor, activity, create=True)
    day, now = _today(today), utcnow()
    row = MappedRelationship(map_id=relationship_map.id, added_on=day, created_at=now, updated_at=now,
                             **values.__dict__)
    session.add(row)
    session.flush()
    _append_change(session, row, day, on_map=True)
    _touch(relationship_map)
    session.flush()
    audit(session, actor, "relationship.added", activity_id=activity.id, map_id=relationship_map.id,
          relationship_id=row.id)
    return row


def change_relationship(session: Session, actor: Actor, relationship_map: RelationshipMap,
                        row: MappedRelationship, typed: Mapping[str, str], *,
                        today: date | None = None) -> MappedRelationship:
    ensure(permissions.can_change_relationship_map(actor, relationship_map))
    values = clean_relationship(typed, today=today)
    moved = (values.relation_type, values.strength) != (row.relation_type, row.strength)
    for name, value in values.__dict__.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    if moved:  # the history follows what the charts and goals count: type and strength
        _append_change(session, row, _today(today), on_map=True)
    _touch(relationship_map)
    session.flush()
    audit(session, actor, "relationship.changed", map_id=relationship_map.id, relationship_id=row.id)
    return row


def end_relationship(session: Session, actor: Actor, relationship_map: RelationshipMap,
                     row: MappedRelationship, *, today: date | None = None) -> None:
    """Take the relationship off the map: it stays in the history (earlier weeks still count it)."""
    ensure(permissions.can_change_relationship_map(actor, relationship_map))
    day = _today(today)
    row.ended_on = day
    row.updated_at = utcnow()
    _append_change(session, row, day, on_map=False)
    _touch(relationship_map)
    session.flush()
    audit(session, actor, "relationship.ended", map_id=relationship_map.id, relationship_id=row.id)


# -- goals ---------------------------------------------------------------------------------------------------


def empty_goal_form(*, today: date | None = None) -> dict[str, str]:
    day = _today(today)
    return {"goal_type": ANY_STRATEGIC, "target": "2", "starts_on": day.isoformat(),
            "ends_on": (day + timedelta(days=90)).isoformat(), "note": ""}


@dataclass(frozen=True)
class CleanGoal:
    relation_type: RelationshipType | None
    target: int
    starts_on: date
    ends_on: date
    note: str


def clean_goal(typed: Mapping[str, str]) -> CleanGoal:
    problems: dict[str, str] = {}
    raw_type = typed.get("goal_type", "")
    relation_type: RelationshipType | None = None
    if raw_type != ANY_STRATEGIC:
        try:
            relation_type = RelationshipType(raw_type)
        except ValueError:
            problems["goal_type"] = "Choose which relationships the goal counts."
    raw = typed.get("target", "").strip()
    target = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0
    if not 1 <= target <= MAX_TARGET:
        problems["target"] = f"Give the number of new relationships as a whole number from 1 to {MAX_TARGET}."
    starts_on = _date(typed.get("starts_on", ""), "starts_on", problems, required=True)
    ends_on = _date(typed.get("ends_on", ""), "ends_on", problems, required=True)
    if starts_on and ends_on:
        if ends_on < starts_on:
            problems["ends_on"] = "The goal must end on or after the day it starts."
        elif (ends_on - starts_on).days > MAX_GOAL_DAYS:
            problems["ends_on"] = "Keep a goal to a year at most: set another goal for the next one."
    note = plain_text(typed.get("note", ""), MAX_NOTE, "note", "note", problems)
    if problems:
        raise RelationshipProblems(problems)
    assert starts_on is not None and ends_on is not None
    return CleanGoal(relation_type, target, starts_on, ends_on, note)


def add_goal(session: Session, actor: Actor, activity: Activity,
             typed: Mapping[str, str]) -> RelationshipGoal:
    values = clean_goal(typed)
    relationship_map = own_map(session, actor, activity, create=True)
    goal = RelationshipGoal(map_id=relationship_map.id, created_at=utcnow(), **values.__dict__)
    session.add(goal)
    _touch(relationship_map)
    session.flush()
    audit(session, actor, "relationship_goal.set", map_id=relationship_map.id, goal_id=goal.id)
    relationship_events.relationship_goal_set(session, relationship_map, goal)
    return goal


def remove_goal(session: Session, actor: Actor, relationship_map: RelationshipMap, goal_id: int) -> None:
    ensure(permissions.can_change_relationship_map(actor, relationship_map))
    goal = session.get(RelationshipGoal, goal_id)
    if goal is None or goal.map_id != relationship_map.id:
        ensure(permissions.refuse(404, "Goal not found", permissions.RELATIONSHIP_NOT_FOUND))
    audit(session, actor, "relationship_goal.removed", map_id=relationship_map.id, goal_id=goal_id)
    session.delete(goal)
    _touch(relationship_map)
    session.flush()


# -- history, progress ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    relation_type: RelationshipType
    strength: int
    on_map: bool


def states_on(changes: Iterable[RelationshipChange], day: date) -> dict[int, State]:
    """Each relationship's state at the end of ``day``, from the map's changes (in date and id order)."""
    states: dict[int, State] = {}
    for change in changes:
        if change.changed_on > day:
            continue
        states[change.relationship_id] = State(change.relation_type, change.strength, change.on_map)
    return {key: state for key, state in states.items() if state.on_map}


def counts_on(changes: list[RelationshipChange], day: date) -> dict[RelationshipType, int]:
    counts = {relation_type: 0 for relation_type in RelationshipType}
    for state in states_on(changes, day).values():
        counts[state.relation_type] += 1
    return counts


@dataclass(frozen=True)
class GoalProgress:
    goal: RelationshipGoal
    reached: int
    today: date

    @property
    def met(self) -> bool:
        return self.reached >= self.goal.target

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.reached / self.goal.target))

    @property
    def status(self) -> str:
        if self.met:
            return "met"
        if self.today > self.goal.ends_on:
            return "missed"
        if self.today < self.goal.starts_on:
            return "not started"
        return "under way"


def _counts_for(goal: RelationshipGoal, state: State | None) -> bool:
    if state is None:
        return False
    return state.relation_type is goal.relation_type if goal.relation_type is not None \
        else state.relation_type in STRATEGIC


def goal_progress(goal: RelationshipGoal, changes: list[RelationshipChange], *,
                  today: date | None = None) -> GoalProgress:
    """New relationships towards ``goal`` (the module's docstring says which count)."""
    day = _today(today)
    before = states_on(changes, goal.starts_on - timedelta(days=1))
    at_end = states_on(changes, min(goal.ends_on, day))
    reached = sum(1 for key, state in at_end.items()
                  if _counts_for(goal, state) and not _counts_for(goal, before.get(key)))
    return GoalProgress(goal, reached, day)


@dataclass(frozen=True)
class Week:
    day: date
    counts: dict[RelationshipType, int]

    @property
    def strategic(self) -> int:
        return sum(count for relation_type, count in self.counts.items() if relation_type in STRATEGIC)

    @property
    def operational(self) -> int:
        return self.counts[RelationshipType.OPERATIONAL]


def weekly_history(changes: list[RelationshipChange], *, today: date | None = None,
                   weeks: int = HISTORY_WEEKS) -> list[Week]:
    """The map's counts by type at the end of each week up to today, over the last ``weeks`` weeks (from the
    first change on, when the map is younger); empty before any change."""
    if not changes:
        return []
    day = _today(today)
    first = min(change.changed_on for change in changes)
    points = [day - timedelta(days=7 * back) for back in range(weeks - 1, -1, -1)]
    kept = [point for point in points if point >= first - timedelta(days=6)]
    return [Week(point, counts_on(changes, point)) for point in (kept or [day])]


@dataclass(frozen=True)
class MapView:
    """Everything a map's page shows, read once."""

    relationship_map: RelationshipMap
    relationships: list[MappedRelationship]
    goals: list[GoalProgress]
    history: list[Week]
    shares: int

    @property
    def strategic(self) -> int:
        return sum(1 for row in self.relationships if row.relation_type in STRATEGIC)

    @property
    def operational(self) -> int:
        return len(self.relationships) - self.strategic

    @property
    def by_type(self) -> dict[RelationshipType, list[MappedRelationship]]:
        grouped: dict[RelationshipType, list[MappedRelationship]] = {kind: [] for kind in RelationshipType}
        for row in self.relationships:
            grouped[row.relation_type].append(row)
        return grouped


def map_view(session: Session, relationship_map: RelationshipMap, *, today: date | None = None) -> MapView:
    """The map as its pages show it: call only after a rule allowed the actor to read it."""
    changes = changes_of(session, relationship_map)
    shares = 0 if relationship_map.id is None else int(session.scalar(
        select(func.count(RelationshipMapShare.id)).where(RelationshipMapShare.map_id == relationship_map.id))
        or 0)
    progress = [goal_progress(goal, changes, today=today) for goal in goals_of(session, relationship_map)]
    return MapView(relationship_map, relationships_on(session, relationship_map), progress,
                   weekly_history(changes, today=today), shares)


# -- sharing for review --------------------------------------------------------------------------------------


def share(session: Session, actor: Actor, activity: Activity) -> RelationshipMapShare:
    """The learner shares their map (again) with their managers for review: a snapshot of its counts is
    kept, and the learning record says it was submitted."""
    relationship_map = own_map(session, actor, activity, create=False)
    on_map = relationships_on(session, relationship_map)
    if not on_map:
        raise RelationshipError(NOTHING_TO_SHARE, status=409, title="Nothing to share yet")
    now = utcnow()
    relationship_map.shared_at = now
    relationship_map.updated_at = now
    snapshot = RelationshipMapShare(map_id=relationship_map.id, shared_at=now, relationships=len(on_map),
                                    strategic=sum(1 for row in on_map if row.relation_type in STRATEGIC))
    session.add(snapshot)
    session.flush()
    audit(session, actor, "relationship_map.shared", map_id=relationship_map.id, share_id=snapshot.id)
    relationship_events.relationship_map_shared(session, relationship_map, snapshot)
    return snapshot


def missing_before_review(session: Session, activity: Activity, learner: User) -> str | None:
    """Why a manager may not submit their review of ``learner``'s map yet (not shared), or None; for the
    other kinds, None."""
    if activity.kind not in permissions.RELATIONSHIP_MAP_KINDS:
        return None
    found = find_map(session, activity.id, learner.id)
    if found is not None and found.shared_at is not None:
        return None
    return NOT_SHARED_YET.format(name=learner.display_name if learner.is_named else "This learner")


def map_for_review(session: Session, actor: Actor, activity: Activity, learner: User) -> MapView | None:
    """What the manager's feedback form shows of the learner's map: None before it is shared (or where the
    actor may not read it)."""
    found = find_map(session, activity.id, learner.id)
    if found is None or not permissions.can_read_relationship_map(
            actor, found, staff_may_read=settings_of(session, activity).staff_may_read):
        return None
    return map_view(session, found)


# -- the designer's setting and overview -----------------------------------------------------------------


def save_settings(session: Session, actor: Actor, activity: Activity, *, staff_may_read: bool) -> None:
    ensure(permissions.can_configure_activity(actor, activity))
    settings = session.get(RelationshipMapSettings, activity.id)
    if settings is None:
        settings = RelationshipMapSettings(activity_id=activity.id)
        session.add(settings)
    settings.staff_may_read = staff_may_read
    settings.updated_at = utcnow()
    settings.updated_by_id = actor.user_id
    session.flush()
    audit(session, actor, "relationship_map.settings", activity_id=activity.id,
          staff_may_read=staff_may_read)


@dataclass(frozen=True)
class LearnerRow:
    map_id: int
    learner: User
    relationships: int
    strategic: int
    shared_at: Any


@dataclass(frozen=True)
class Overview:
    maps: int
    shared: int
    learners: list[LearnerRow] | None
    """Each learner's figures, only where staff may read maps."""


def overview(session: Session, actor: Actor, activity: Activity) -> Overview:
    """The designers' view: how many learners mapped and shared; per learner only with the setting on.
    Three queries whatever the number of learners."""
    ensure(permissions.can_read_relationship_overview(actor, activity))
    maps, shared = session.execute(
        select(func.count(RelationshipMap.id), func.count(RelationshipMap.shared_at))
        .where(RelationshipMap.activity_id == activity.id)).one()
    if not settings_of(session, activity).staff_may_read:
        return Overview(int(maps), int(shared), None)
    strategic = func.count(MappedRelationship.id).filter(
        MappedRelationship.relation_type.in_([kind.value for kind in STRATEGIC]))
    counts = {map_id: (int(total), int(of_strategic)) for map_id, total, of_strategic in session.execute(
        select(MappedRelationship.map_id, func.count(MappedRelationship.id), strategic)
        .join(RelationshipMap, RelationshipMap.id == MappedRelationship.map_id)
        .where(RelationshipMap.activity_id == activity.id, MappedRelationship.ended_on.is_(None))
        .group_by(MappedRelationship.map_id))}
    rows = []
    for found, learner in session.execute(
        select(RelationshipMap, User).join(User, User.id == RelationshipMap.owner_id)
        .where(RelationshipMap.activity_id == activity.id).order_by(User.name, User.sub)
    ):
        total, of_strategic = counts.get(found.id, (0, 0))
        rows.append(LearnerRow(found.id, learner, total, of_strategic, found.shared_at))
    return Overview(int(maps), int(shared), rows)
