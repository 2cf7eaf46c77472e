"""``cadre jobs run`` from cron every minute on two hosts: the scheduled work Cadre does (refreshers scheduled
and e-mailed, six-month follow-ups created and reminded, overdue managers reminded) is done once, whether the
jobs run twice in a row, in later periods, or twice at once on separate connections, and every e-mail reaches
the SMTP server once.

Overdue work is not a stored mark in Cadre: an activity is overdue from its due date on, as the pages read it
(``feedback.services.overdue_days``); what the scheduler does about it is the weekly overdue reminder, which
these tests count."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from lti_tool import mail
from lti_tool.db import session_scope
from lti_tool.feedback import content, services
from lti_tool.models import OutboxMessage
from lti_tool.outbox import JobResult, Worker, run_due_jobs
from lti_tool.programme.models import FollowUp, FollowUpSettings
from lti_tool.states import ActivityKind, FollowUpAnchor, FollowUpStatus, RefresherStatus
from lti_tool.tracking import refreshers
from lti_tool.tracking.refresher_models import ScheduledRefresher
from tests.feedback.conftest import Course, complete_answers, course  # noqa: F401 - the fixture
from tests.mail.conftest import SmtpServer, smtp, tls_smtp  # noqa: F401 - the fixtures

JOBS = ["refreshers", "follow-up-reminders", "manager-reminders"]
HOURS = [datetime.now(UTC) + timedelta(hours=hour) for hour in range(4)]
"""Four periods of every job above (the shortest is ten minutes, the longest an hour)."""


def build(course: Course) -> dict[str, int]:  # noqa: F811 - the fixture's value
    """An activity overdue by a week (Omar assessed Ana, weakly, and not Ben yet) with a refresher whose
    first step has come, and a six-month follow-up of it that is due already; then committed."""
    db = course.db
    activity = course.activity(due_at=datetime.now(UTC) - timedelta(days=7, hours=2))
    for person, address in ((course.ana, "ana@example.org"), (db.get(type(course.ana), course.omar.user_id),
                                                             "omar@example.org")):
        assert person is not None
        person.email = address
    refreshers.save_refresher(db, course.designer, activity, refreshers.RefresherInput(
        target="criterion:effect-on-results", title="Show the result", body="Name the number."))
    draft = content.read_content(complete_answers(), services.rubric_of(activity))
    services.submit(db, course.omar, activity, course.ana, draft, based_on=0)
    follow_up = course.activity(kind=ActivityKind.SIX_MONTH_FOLLOW_UP)
    db.add(FollowUpSettings(activity_id=follow_up.id, source_activity_id=activity.id, offset_days=1,
                            anchor=FollowUpAnchor.COURSE_DATE, course_date=date.today() - timedelta(days=3)))
    db.commit()
    return {"activity": activity.id, "follow_up": follow_up.id}


def bring_the_first_step_forward(app: Flask) -> None:
    """The weak score was two days ago: step 1 (one day after) has come."""
    with session_scope(app) as session:
        session.execute(update(ScheduledRefresher).where(ScheduledRefresher.step == 1)
                        .values(due_at=datetime.now(UTC) - timedelta(hours=1)))


def outcome(app: Flask) -> dict[str, object]:
    with session_scope(app) as session:
        keys = Counter(session.scalars(select(OutboxMessage.dedupe_key)
                                       .where(OutboxMessage.topic == mail.TOPIC)))
        steps = session.execute(select(ScheduledRefresher.step, ScheduledRefresher.status)
                                .order_by(ScheduledRefresher.step)).all()
        follow_ups = session.scalar(select(func.count(FollowUp.id)).where(
            FollowUp.status == FollowUpStatus.SCHEDULED)) or 0
    return {"keys": keys, "steps": [(step, status) for step, status in steps], "follow_ups": follow_ups}


def kinds(keys: Counter[str]) -> Counter[str]:
    return Counter(key.split(":")[0] for key in keys.elements())


def expect_everything_once(app: Flask, ids: dict[str, int]) -> None:
    found = outcome(app)
    assert found["steps"] == [(step, RefresherStatus.SCHEDULED) for step in (1, 2, 3, 4)]
    assert found["follow_ups"] == 1
    keys = found["keys"]
    assert isinstance(keys, Counter) and max(keys.values()) == 1, keys
    # One refresher e-mail (step 1 has come), one follow-up reminder (due), one overdue reminder to Omar.
    assert kinds(keys) == Counter({"refresher": 1, "follow-up": 1, "reminder": 1}), keys
    (reminder,) = [key for key in keys if key.startswith("reminder:")]
    assert reminder.startswith(f"reminder:{ids['activity']}:") and reminder.endswith(":overdue-w1")


def deliver_and_count(app: Flask, smtp_server: SmtpServer) -> Counter[str]:
    Worker(app, topics=[mail.TOPIC]).run_once()
    Worker(app, topics=[mail.TOPIC]).run_once()
    return Counter(str(message["To"]).split("<")[-1].rstrip(">") for message in smtp_server.mailbox.messages)


def ran_without_errors(results: list[JobResult]) -> None:
    assert [result.error for result in results] == [None] * len(results)


def test_twice_in_a_row_and_in_later_periods_nothing_is_made_or_sent_twice(
        live_app: Flask, course: Course, smtp: SmtpServer) -> None:  # noqa: F811 - the fixtures
    ids = build(course)
    first = run_due_jobs(live_app, names=JOBS, now=HOURS[0])
    ran_without_errors(first)
    assert [result.ran for result in first] == [True] * 3
    bring_the_first_step_forward(live_app)
    again = run_due_jobs(live_app, names=JOBS, now=HOURS[0])
    assert [result.ran for result in again] == [False] * 3  # the same periods: done already
    for later in HOURS[1:]:  # later periods: every body runs again, and adds nothing
        results = run_due_jobs(live_app, names=JOBS, now=later)
        ran_without_errors(results)
        assert all(result.ran for result in results)
    expect_everything_once(live_app, ids)
    assert deliver_and_count(live_app, smtp) == Counter({"ana@example.org": 1, "omar@example.org": 2})
    run_due_jobs(live_app, names=JOBS, now=HOURS[3] + timedelta(hours=1))
    assert deliver_and_count(live_app, smtp) == Counter({"ana@example.org": 1, "omar@example.org": 2})


@pytest.mark.parametrize("same_period", [True, False], ids=["same-period", "different-periods"])
def test_two_hosts_at_once_make_and_send_everything_once(
        live_app: Flask, course: Course, smtp: SmtpServer, same_period: bool) -> None:  # noqa: F811
    ids = build(course)
    run_due_jobs(live_app, names=["refreshers"], now=HOURS[0] - timedelta(hours=1))
    bring_the_first_step_forward(live_app)
    start = threading.Barrier(2)
    results: list[list[JobResult]] = []
    lock = threading.Lock()

    def host(moment: datetime) -> None:
        start.wait()
        done = run_due_jobs(live_app, names=JOBS, now=moment)
        with lock:
            results.append(done)

    moments = [HOURS[1], HOURS[1]] if same_period else [HOURS[1], HOURS[2]]
    hosts = [threading.Thread(target=host, args=(moment,)) for moment in moments]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(120)
    assert len(results) == 2
    if same_period:  # each job's period is done by one host; the other finds it done
        by_job = Counter((result.job, result.ran) for done in results for result in done)
        assert by_job == Counter({(job, ran): 1 for job in JOBS for ran in (True, False)})
    # A host whose transaction lost a race stores nothing and says so; the next run does the period.
    run_due_jobs(live_app, names=JOBS, now=HOURS[3])
    expect_everything_once(live_app, ids)
    assert deliver_and_count(live_app, smtp) == Counter({"ana@example.org": 1, "omar@example.org": 2})
