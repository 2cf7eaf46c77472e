"""The coaching log (80/20): the people of a course log the coaching and mentoring sessions they hold or
receive, and see the share of coaching in their time against the aim of 80% coaching, 20% mentoring.

Rules, decided here and in ``lti_tool.permissions`` (the coaching-log section):

* **Who keeps a log**: every manager of the course (who coaches their people and is coached) and every
  learner (who logs the coaching they receive), each their own log per activity. One person's log is
  theirs alone: nobody else lists, reads, edits or deletes a session of it (a guessed id is "not found").
* **The share** is of minutes, not of sessions: ``coaching minutes / all minutes``, rounded to a whole
  percent for display; no share is shown before a minute is logged. **The aim** is the designer's (1–100%
  coaching, on the activity's settings page; 80% until they set it), and the share is shown against it.
* **The well-being check** (stress 1–5, what is in my control, what is not) is optional and private:
  nobody but its owner reads it unless the owner ticks "share" on that session, and then only the
  course's designers and administrators. They otherwise see totals only (people, sessions, minutes, the
  coaching share of the course), never a session's topic, challenge or next step.
* **Dates**: a session is logged once held, so not after today (in UTC, a day's grace for people ahead of
  it), and not before 2000.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import Activity, audit
from lti_tool.permissions import (
    ACTIVITY_NOT_FOUND,
    Actor,
    PermissionDenied,
    can_change_coaching_session,
    can_configure_activity,
    can_keep_coaching_log,
    can_read_coaching_overview,
    can_read_wellbeing,
    ensure,
    refuse,
)
from lti_tool.programme import coaching_events, form_fields
from lti_tool.programme.coaching_models import CoachingSession, CoachingSettings
from lti_tool.programme.form_fields import plain_text
from lti_tool.states import ActivityKind, CoachingSessionKind

AIM_PERCENT = 80
"""The share of coaching in the time spent that a log aims for (the rest is mentoring) until its designer
sets another."""
MIN_AIM, MAX_AIM = 1, 100
MAX_MINUTES = 600
MAX_TOPIC = 200
MAX_TEXT = 2000
EARLIEST = form_fields.EARLIEST_SESSION
FIELDS = ("held_on", "kind", "minutes", "topic", "challenge", "next_step", "stress", "in_control",
          "not_in_control", "wellbeing_shared")
KIND_LABELS = {CoachingSessionKind.COACHING: "Coaching (asking)",
               CoachingSessionKind.MENTORING: "Mentoring (telling)"}
STRESS_LABELS = {1: "1 – calm", 2: "2 – a little", 3: "3 – noticeable", 4: "4 – high", 5: "5 – very high"}


class CoachingProblems(Exception):
    """What was typed cannot be stored; ``problems`` by field name."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("Some answers need your attention: see the messages beside them.")
        self.message = str(self)
        self.problems = problems


def empty_form() -> dict[str, str]:
    return {**{name: "" for name in FIELDS}, "held_on": utcnow().date().isoformat(), "kind": "coaching"}


def form_of(row: CoachingSession) -> dict[str, str]:
    """A logged session as the form shows it."""
    return {"held_on": row.held_on.isoformat(), "kind": row.kind.value, "minutes": str(row.minutes),
            "topic": row.topic, "challenge": row.challenge, "next_step": row.next_step,
            "stress": str(row.stress) if row.stress is not None else "", "in_control": row.in_control,
            "not_in_control": row.not_in_control, "wellbeing_shared": "1" if row.wellbeing_shared else ""}


def typed_form(form: Mapping[str, Any]) -> dict[str, str]:
    """What the form sent, every field a string (kept as typed for the form shown again)."""
    return form_fields.typed_form(form, FIELDS)


@dataclass(frozen=True)
class CleanSession:
    held_on: date
    kind: CoachingSessionKind
    minutes: int
    topic: str
    challenge: str
    next_step: str
    stress: int | None
    in_control: str
    not_in_control: str
    wellbeing_shared: bool


def _text(value: str, limit: int, name: str, label: str, problems: dict[str, str], *,
          required: bool = False) -> str:
    text = value.strip()
    if required and not text:
        problems[name] = f"Say what the {label} was."
    elif len(text) > limit:
        problems[name] = f"Keep the {label} to {limit} characters (it has {len(text)})."
    elif any(ord(char) < 32 and char not in "\n\r\t" for char in text):
        problems[name] = f"The {label} has control characters: type it again as plain text."
    return text


def clean(typed: Mapping[str, str], *, today: date | None = None) -> CleanSession:
    """The typed form checked field by field; :class:`CoachingProblems` names every field that is wrong."""
    today = today or utcnow().date()
    problems: dict[str, str] = {}
    held_on = form_fields.session_date(typed.get("held_on", ""), today, problems)
    try:
        kind = CoachingSessionKind(typed.get("kind", ""))
    except ValueError:
        kind = CoachingSessionKind.COACHING
        problems["kind"] = "Choose coaching or mentoring."
    raw_minutes = typed.get("minutes", "").strip()
    minutes = int(raw_minutes) if raw_minutes.isascii() and raw_minutes.isdigit() else 0
    if not 1 <= minutes <= MAX_MINUTES:
        problems["minutes"] = f"Give the length as a whole number of minutes, from 1 to {MAX_MINUTES}."
    topic = plain_text(typed.get("topic", ""), MAX_TOPIC, "topic", "topic", problems,
                       required="Say what the topic was.")
    challenge = plain_text(typed.get("challenge", ""), MAX_TEXT, "challenge", "challenge", problems)
    next_step = plain_text(typed.get("next_step", ""), MAX_TEXT, "next_step", "next step", problems)
    raw_stress = typed.get("stress", "").strip()
    stress = int(raw_stress) if raw_stress in ("1", "2", "3", "4", "5") else None
    if raw_stress and stress is None:
        problems["stress"] = "Choose a stress level from 1 to 5, or leave it out."
    in_control = plain_text(typed.get("in_control", ""), MAX_TEXT, "in_control", "what is in your control",
                            problems)
    not_in_control = plain_text(typed.get("not_in_control", ""), MAX_TEXT, "not_in_control",
                                "what is not in your control", problems)
    if problems:
        raise CoachingProblems(problems)
    return CleanSession(held_on, kind, minutes, topic, challenge, next_step, stress, in_control,
                        not_in_control, typed.get("wellbeing_shared", "") == "1")


def _audit(session: Session, actor: Actor, action: str, row: CoachingSession) -> None:
    # The audit log names the session, never what it was about or how its owner felt.
    audit(session, actor, action, activity_id=row.activity_id, coaching_session_id=row.id)


def log_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The coaching-log activity the actor keeps a log in (refused: another course, not a log, a role)."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise PermissionDenied(refuse(404, "Activity not found", ACTIVITY_NOT_FOUND))
    ensure(can_keep_coaching_log(actor, activity))
    return activity


def overview_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        raise PermissionDenied(refuse(404, "Activity not found", ACTIVITY_NOT_FOUND))
    ensure(can_read_coaching_overview(actor, activity))
    return activity


def own_session(session: Session, actor: Actor, activity: Activity, session_id: int) -> CoachingSession:
    row = session.get(CoachingSession, session_id)
    ensure(can_change_coaching_session(actor, row if row is None or row.activity_id == activity.id else None))
    assert row is not None
    return row


def my_sessions(session: Session, actor: Actor, activity: Activity) -> list[CoachingSession]:
    ensure(can_keep_coaching_log(actor, activity))
    return list(session.scalars(select(CoachingSession).where(
        CoachingSession.activity_id == activity.id, CoachingSession.owner_id == actor.user_id)
        .order_by(CoachingSession.held_on.desc(), CoachingSession.id.desc())))


def log_session(session: Session, actor: Actor, activity: Activity,
                typed: Mapping[str, str]) -> CoachingSession:
    ensure(can_keep_coaching_log(actor, activity))
    values = clean(typed)
    now = utcnow()
    row = CoachingSession(activity_id=activity.id, owner_id=actor.user_id, created_at=now, updated_at=now,
                          **values.__dict__)
    session.add(row)
    session.flush()
    _audit(session, actor, "coaching_session.logged", row)
    coaching_events.coaching_session_logged(session, row)
    return row


def change_session(session: Session, actor: Actor, row: CoachingSession,
                   typed: Mapping[str, str]) -> CoachingSession:
    ensure(can_change_coaching_session(actor, row))
    values = clean(typed)
    previous = row.updated_at  # names the statement of the version this change replaces
    for name, value in values.__dict__.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    _audit(session, actor, "coaching_session.changed", row)
    coaching_events.coaching_session_logged(session, row, replaces=previous)
    return row


def delete_session(session: Session, actor: Actor, row: CoachingSession) -> None:
    ensure(can_change_coaching_session(actor, row))
    _audit(session, actor, "coaching_session.deleted", row)
    coaching_events.coaching_session_deleted(session, row)
    session.delete(row)
    session.flush()


@dataclass(frozen=True)
class Share:
    """Minutes of coaching and mentoring, and the share of coaching against the aim."""

    sessions: int
    coaching_minutes: int
    mentoring_minutes: int
    people: int = 1
    aim_percent: int = AIM_PERCENT

    @property
    def total_minutes(self) -> int:
        return self.coaching_minutes + self.mentoring_minutes

    @property
    def coaching_percent(self) -> int | None:
        """Rounded to a whole percent; None before any minute is logged."""
        if not self.total_minutes:
            return None
        return round(100 * self.coaching_minutes / self.total_minutes)

    @property
    def mentoring_percent(self) -> int | None:
        percent = self.coaching_percent
        return None if percent is None else 100 - percent

    @property
    def meets_aim(self) -> bool:
        return self.coaching_percent is not None and self.coaching_percent >= self.aim_percent

    @property
    def points_short(self) -> int | None:
        """How many percentage points of coaching the share lacks to meet the aim (None when met)."""
        percent = self.coaching_percent
        return None if percent is None or percent >= self.aim_percent else self.aim_percent - percent


# -- the designer's aim ------------------------------------------------------------------------------------


def aim_of(session: Session, activity: Activity) -> int:
    settings = session.get(CoachingSettings, activity.id)
    return settings.aim_percent if settings is not None else AIM_PERCENT


def save_aim(session: Session, actor: Actor, activity: Activity, typed: str) -> int:
    """The designer sets the share of coaching the log aims for; :class:`CoachingProblems` says what is
    wrong with what was typed, and nothing is stored."""
    ensure(can_configure_activity(actor, activity))
    if activity.kind is not ActivityKind.COACHING_LOG:
        raise PermissionDenied(refuse(404, "Activity not found", permissions.NOT_A_COACHING_LOG))
    text = typed.strip().removesuffix("%").strip()
    aim = int(text) if text.isascii() and text.isdigit() else None
    if aim is None or not MIN_AIM <= aim <= MAX_AIM:
        raise CoachingProblems({"aim_percent": f"Give the aim as a whole percent of coaching, from {MIN_AIM} "
                                               f"to {MAX_AIM} (80 is the 80/20 model)."})
    settings = session.get(CoachingSettings, activity.id)
    if settings is None:
        settings = CoachingSettings(activity_id=activity.id)
        session.add(settings)
    settings.aim_percent = aim
    settings.updated_at = utcnow()
    settings.updated_by_id = actor.user_id
    audit(session, actor, "coaching_log.aim", activity_id=activity.id, aim_percent=aim)
    session.flush()
    return aim


def _share(session: Session, activity: Activity, *conditions: Any) -> Share:
    coaching = func.coalesce(func.sum(CoachingSession.minutes).filter(
        CoachingSession.kind == CoachingSessionKind.COACHING), 0)
    mentoring = func.coalesce(func.sum(CoachingSession.minutes).filter(
        CoachingSession.kind == CoachingSessionKind.MENTORING), 0)
    row = session.execute(select(func.count(CoachingSession.id), coaching, mentoring,
                                 func.count(func.distinct(CoachingSession.owner_id)))
                          .where(CoachingSession.activity_id == activity.id, *conditions)).one()
    return Share(int(row[0]), int(row[1]), int(row[2]), int(row[3]), aim_of(session, activity))


def my_share(session: Session, actor: Actor, activity: Activity) -> Share:
    ensure(can_keep_coaching_log(actor, activity))
    return _share(session, activity, CoachingSession.owner_id == actor.user_id)


def course_share(session: Session, actor: Actor, activity: Activity) -> Share:
    """The course's totals for its designers: counts and minutes only."""
    ensure(can_read_coaching_overview(actor, activity))
    return _share(session, activity)


def shared_checks(session: Session, actor: Actor, activity: Activity) -> list[CoachingSession]:
    """The well-being checks their owners shared with the course's designers (newest first)."""
    ensure(can_read_coaching_overview(actor, activity))
    rows = session.scalars(select(CoachingSession).where(
        CoachingSession.activity_id == activity.id, CoachingSession.wellbeing_shared.is_(True),
        CoachingSession.stress.is_not(None) | (CoachingSession.in_control != "")
        | (CoachingSession.not_in_control != ""))
        .order_by(CoachingSession.held_on.desc(), CoachingSession.id.desc()))
    # The query already keeps to shared checks; the rule is asked too, so that it stays the one place.
    return [row for row in rows if can_read_wellbeing(actor, row)]
