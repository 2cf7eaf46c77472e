"""Reminder e-mails to managers whose feedback is due soon or overdue, sent by ``cadre jobs run``.

Schedule, from an activity's due date, as its designer set it (:class:`ReminderSchedule`; by default 3
days before, on the day from midnight in the activity's time zone, then weekly for 8 weeks after it).
Each is an *occasion*; a manager gets one e-mail per activity, due day and occasion, however often the job
runs and from however many hosts: the outbox message is keyed
``reminder:<activity>:<manager>:<due day>:<occasion>``, and the job's period row is taken in the same
transaction. The due day (in the activity's time zone) is in the key because a due date moved to another
day makes new occasions ("3 days before" the new date is not the one already sent); a time moved within
the day does not, so managers are not e-mailed again for it. The job runs hourly, so a reminder leaves
within the hour of its occasion; a run that missed an occasion (cron stopped) still sends the latest one,
never a stale "due in 3 days" after the due date.

Who: every manager with an e-mail address and an active link in the course who still has people to give
feedback on in the activity (as :func:`lti_tool.feedback.services.my_people` counts them: the activity's
assessor rule applies), unless they opted out of the course's reminders (a link in each reminder). The
e-mail is written when it is sent, so feedback submitted in between cancels it. An invited manager's
reminder carries a fresh sign-in link.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import mail
from lti_tool.db import insert_with_conflicts, utcnow
from lti_tool.feedback import services as feedback
from lti_tool.form_values import whole_number
from lti_tool.invitations import services as invitations
from lti_tool.invitations.models import ManagerInvitation, ReminderOptOut, ReminderSchedule, ReminderTally
from lti_tool.models import Activity, ManagerLink, User
from lti_tool.outbox import Period, periodic
from lti_tool.permissions import FEEDBACK_KINDS, Actor
from lti_tool.states import Assessors, CadreRole, ManagerLinkStatus

MAIL_KIND = "reminder"
DAYS_BEFORE = 3
WEEKS_AFTER = 8
MAX_DAYS_BEFORE = 30
MAX_WEEKS_AFTER = 12
PENDING_STATES = frozenset({"not_started", "draft", "draft_changes", "withdrawn"})
OPT_OUT_PATH = "/reminders/opt-out/"


@dataclass(frozen=True)
class Occasion:
    key: str
    at: datetime
    overdue_weeks: int = 0


def schedule_of(session: Session | None, activity: Activity) -> ReminderSchedule:
    """The designer's schedule for ``activity``, or the default one (not added to the session)."""
    found = session.get(ReminderSchedule, activity.id) if session is not None and activity.id else None
    return found or ReminderSchedule(activity_id=activity.id, days_before=DAYS_BEFORE, on_due_day=True,
                                     weeks_after=WEEKS_AFTER)


def _zone(activity: Activity) -> ZoneInfo:
    try:
        return ZoneInfo(activity.due_timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def due_day(activity: Activity) -> date | None:
    """The day the activity is due, in its time zone: the date the occasions of one due date share."""
    return activity.due_at.astimezone(_zone(activity)).date() if activity.due_at is not None else None


def reminder_key(activity: Activity, manager_id: int, occasion: str) -> str:
    """The outbox key of a manager's reminder about ``activity`` at ``occasion`` of its due day (see the
    module); the activity is due (the job reminds of nothing else)."""
    due_on = due_day(activity)
    assert due_on is not None
    return f"reminder:{activity.id}:{manager_id}:{due_on.isoformat()}:{occasion}"


def occasions(activity: Activity, schedule: ReminderSchedule | None = None) -> list[Occasion]:
    """The activity's reminder occasions, in order."""
    due = activity.due_at
    if due is None:
        return []
    schedule = schedule or schedule_of(None, activity)
    zone = _zone(activity)
    local_day = datetime.combine(due.astimezone(zone).date(), time(0), tzinfo=zone)
    found = []
    if schedule.days_before:
        found.append(Occasion(f"before-{schedule.days_before}d", due - timedelta(days=schedule.days_before)))
    if schedule.on_due_day:
        found.append(Occasion("due-day", min(local_day, due)))
    found += [Occasion(f"overdue-w{week}", due + timedelta(weeks=week), week)
              for week in range(1, schedule.weeks_after + 1)]
    return sorted(found, key=lambda occasion: occasion.at)


def current_occasion(activity: Activity, now: datetime,
                     schedule: ReminderSchedule | None = None) -> Occasion | None:
    """The latest occasion that has come, if the next one has not (nothing after the last one's week)."""
    passed = [occasion for occasion in occasions(activity, schedule) if occasion.at <= now]
    if not passed or now - passed[-1].at >= timedelta(weeks=1):
        return None
    return passed[-1]


def opt_out_signature(user_id: int, context_id: int, secret_key: str) -> str:
    message = f"reminder-opt-out:{user_id}:{context_id}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def opt_out_url(user_id: int, context_id: int) -> str:
    signature = opt_out_signature(user_id, context_id, current_app.config["SECRET_KEY"])
    return current_app.config["CADRE"].url(f"{OPT_OUT_PATH}{user_id}/{context_id}/{signature}")


def opted_out(session: Session, user_id: int, context_id: int) -> bool:
    found = session.scalar(select(ReminderOptOut.id).where(ReminderOptOut.user_id == user_id,
                                                           ReminderOptOut.context_id == context_id))
    return found is not None


def opt_out(session: Session, user_id: int, context_id: int) -> None:
    """One INSERT that does nothing when the opt-out is there: a mail client's one-click POST racing the
    person's own click both succeed (a look first, then an insert, would fail the second on the UNIQUE)."""
    statement = insert_with_conflicts(session.get_bind().dialect.name)(ReminderOptOut).values(
        user_id=user_id, context_id=context_id, created_at=utcnow())
    session.execute(statement.on_conflict_do_nothing(index_elements=["user_id", "context_id"]))


def _manager_actor(manager: User, activity: Activity) -> Actor:
    return Actor(manager.id, manager.display_name, activity.platform_id, activity.context_id,
                 CadreRole.MANAGER)


def pending_people(session: Session, manager: User, activity: Activity,
                   now: datetime) -> list[feedback.PersonStatus]:
    people = feedback.my_people(session, _manager_actor(manager, activity), activity, now=now)
    return [person for person in people if person.state in PENDING_STATES]


@periodic("manager-reminders", every=timedelta(hours=1))
def remind_managers(session: Session, period: Period) -> str:
    now = utcnow()
    activities = session.scalars(
        select(Activity).where(
            Activity.kind.in_(FEEDBACK_KINDS), Activity.assessors != Assessors.LEARNER,
            Activity.configured_at.is_not(None), Activity.due_at.is_not(None),
            Activity.due_at > now - timedelta(weeks=MAX_WEEKS_AFTER + 1),
            Activity.due_at < now + timedelta(days=MAX_DAYS_BEFORE + 1),
        ).order_by(Activity.id)
    )
    queued = 0
    for activity in activities:
        occasion = current_occasion(activity, now, schedule_of(session, activity))
        if occasion is None:
            continue
        managers = session.scalars(
            select(User).where(User.id.in_(
                select(ManagerLink.manager_id).where(ManagerLink.context_id == activity.context_id,
                                                     ManagerLink.status == ManagerLinkStatus.ACTIVE)
            ), User.email.is_not(None)).order_by(User.id)
        )
        for manager in managers:
            if opted_out(session, manager.id, activity.context_id) or \
                    not pending_people(session, manager, activity, now):
                continue
            key = reminder_key(activity, manager.id, occasion.key)
            queued += mail.enqueue_mail(session, MAIL_KIND, key, {
                "activity_id": activity.id, "manager_id": manager.id, "occasion": occasion.key})
    return f"{queued} reminder(s) queued"


def _open_invitation(session: Session, manager: User, activity: Activity) -> ManagerInvitation | None:
    return session.scalars(
        select(ManagerInvitation).where(ManagerInvitation.context_id == activity.context_id,
                                        ManagerInvitation.manager_id == manager.id,
                                        ManagerInvitation.revoked_at.is_(None))
        .order_by(ManagerInvitation.created_at.desc()).limit(1)
    ).first()


def count_sent(session: Session, payload: dict[str, Any]) -> None:
    """One more reminder sent to the manager about the activity (``ReminderTally``)."""
    activity_id, manager_id = payload.get("activity_id"), payload.get("manager_id")
    if not isinstance(activity_id, int) or not isinstance(manager_id, int):
        return
    if session.get(Activity, activity_id) is None or session.get(User, manager_id) is None:
        return  # deleted since it was sent
    now = utcnow()
    statement = insert_with_conflicts(session.get_bind().dialect.name)(ReminderTally).values(
        activity_id=activity_id, manager_id=manager_id, sent=1, last_sent_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=["activity_id", "manager_id"],
        set_={"sent": ReminderTally.sent + 1, "last_sent_at": statement.excluded.last_sent_at},
    ))


@mail.composer(MAIL_KIND, on_sent=count_sent)
def reminder_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    activity = session.get(Activity, payload.get("activity_id"))
    manager = session.get(User, payload.get("manager_id"))
    if activity is None or manager is None or not manager.email or activity.due_at is None:
        return None
    if opted_out(session, manager.id, activity.context_id):
        return None
    now = utcnow()
    pending = pending_people(session, manager, activity, now)
    if not pending:
        return None  # submitted since the reminder was queued
    settings = current_app.config["CADRE"]
    course = activity.context.display_title
    due = activity.due_at.strftime("%Y-%m-%d %H:%M UTC")
    overdue = now > activity.due_at
    subject = (f"Overdue: feedback for {activity.title}" if overdue
               else f"Feedback due {due[:10]}: {activity.title}")
    lines = "\n".join(f"- {person.learner.display_name}: {person.label}" for person in pending)
    invitation = _open_invitation(session, manager, activity)
    if invitation is not None:
        sign_in = invitations.new_link(session, invitation, settings)
        link = settings.url("/invitations/sign-in/" + sign_in.token)
        until = f"{sign_in.expires_at:%Y-%m-%d %H:%M UTC}"
        where = f"Sign in with this link (it works once, until {until}):\n{link}"
    else:
        where = f"Open the activity \"{activity.title}\" in the course on your learning platform."
    unsubscribe = opt_out_url(manager.id, activity.context_id)
    text = (
        f"Hello {manager.display_name},\n\n"
        f"Your feedback in \"{activity.title}\" ({course}) {'was due' if overdue else 'is due'} {due}. "
        f"Still to do:\n{lines}\n\n{where}\n\n"
        f"No more reminders from this course: {unsubscribe}\n"
    )
    return mail.Mail(to=manager.email, to_name=manager.name or "", subject=subject, text=text,
                     headers=(("List-Unsubscribe", f"<{unsubscribe}>"),
                              ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))


class ScheduleProblems(Exception):
    """The schedule form's problems, by field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def _whole(text: str, field: str, low: int, high: int, problems: dict[str, str]) -> int:
    number = whole_number(text.strip(), digits=10)
    if number is None or not low <= number <= high:
        problems[field] = f"Give a whole number from {low} to {high}."
        return low
    return number


def save_schedule(session: Session, actor: Actor, activity: Activity, *, days_before: str, on_due_day: bool,
                  weeks_after: str) -> ReminderSchedule:
    """The designer's schedule for the activity's reminders (checked by the caller's
    ``can_configure_activity``); bad input stores nothing."""
    problems: dict[str, str] = {}
    days = _whole(days_before, "days_before", 0, MAX_DAYS_BEFORE, problems)
    weeks = _whole(weeks_after, "weeks_after", 0, MAX_WEEKS_AFTER, problems)
    if problems:
        raise ScheduleProblems(problems)
    schedule = session.get(ReminderSchedule, activity.id)
    if schedule is None:
        schedule = ReminderSchedule(activity_id=activity.id)
        session.add(schedule)
    schedule.days_before, schedule.on_due_day, schedule.weeks_after = days, on_due_day, weeks
    schedule.updated_at, schedule.updated_by_id = utcnow(), actor.user_id
    session.flush()
    return schedule
