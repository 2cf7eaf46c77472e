"""Scheduled jobs: a period's work is done once, whether ``cadre jobs run`` runs twice in a row, twice at
once (two hosts' cron), or after a failure."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.db import session_scope, utcnow
from lti_tool.models import JobRun, OutboxMessage
from lti_tool.outbox import DELIVERED_RETENTION, JobRegistry, Period, enqueue, jobs, run_due_jobs
from lti_tool.states import OutboxStatus

EVERY = timedelta(hours=1)
NOON = datetime(2026, 12, 1, 12, 20, tzinfo=UTC)


class CountingJob:
    """A job body that takes a while, enqueues one message per period, and remembers each run."""

    def __init__(self, seconds: float = 0.0, fail: bool = False) -> None:
        self.periods: list[Period] = []
        self.seconds = seconds
        self.fail = fail
        self.lock = threading.Lock()

    def __call__(self, session: Session, period: Period) -> str:
        with self.lock:
            self.periods.append(period)
        time.sleep(self.seconds)  # long enough for a second runner to arrive while the first still works
        enqueue(session, "reminders", f"reminder:{period.start:%Y%m%d%H}", {"n": len(self.periods)})
        if self.fail:
            raise RuntimeError("the job failed after writing")
        return "1 reminder"


def runs(app: Flask) -> list[tuple[str, datetime, str]]:
    with session_scope(app) as session:
        return [(r.job, r.period_start, r.summary)
                for r in session.scalars(select(JobRun).order_by(JobRun.period_start))]


def outbox_keys(app: Flask) -> list[str]:
    with session_scope(app) as session:
        return list(session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)))


def test_two_runners_at_once_do_a_period_once(committed_app: Flask) -> None:
    body = CountingJob(seconds=0.5)
    registry = JobRegistry()
    registry.register("reminders", EVERY, body)
    results: list[list] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(run_due_jobs(committed_app, registry, now=NOON))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(body.periods) == 1
    assert sorted(result[0].ran for result in results) == [False, True]
    assert all(result[0].error is None for result in results)
    start_of_hour = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert runs(committed_app) == [("reminders", start_of_hour, "1 reminder")]
    assert outbox_keys(committed_app) == ["reminder:2026120112"]


def test_each_period_is_done_once_and_knows_the_previous_one(committed_app: Flask) -> None:
    body = CountingJob()
    registry = JobRegistry()
    registry.register("reminders", EVERY, body)
    for minutes in (0, 1, 30):  # cron every minute within one period
        run_due_jobs(committed_app, registry, now=NOON + timedelta(minutes=minutes))
    assert len(body.periods) == 1
    run_due_jobs(committed_app, registry, now=NOON + timedelta(hours=3))  # cron was stopped for two hours
    first, later = body.periods
    assert (first.start, first.end, first.previous_start) == (
        datetime(2026, 12, 1, 12, tzinfo=UTC), datetime(2026, 12, 1, 13, tzinfo=UTC), None)
    assert (later.start, later.previous_start) == (datetime(2026, 12, 1, 15, tzinfo=UTC), first.start)


def test_a_failed_run_stores_nothing_and_the_next_run_does_the_period(committed_app: Flask) -> None:
    body = CountingJob(fail=True)
    registry = JobRegistry()
    registry.register("reminders", EVERY, body)
    [result] = run_due_jobs(committed_app, registry, now=NOON)
    assert not result.ran
    assert result.error == ("RuntimeError: the job failed and stored nothing (see the log); the next run "
                            "tries this period again")
    assert runs(committed_app) == [] and outbox_keys(committed_app) == []
    body.fail = False
    [result] = run_due_jobs(committed_app, registry, now=NOON + timedelta(minutes=1))
    assert result.ran and len(body.periods) == 2
    assert outbox_keys(committed_app) == ["reminder:2026120112"]


def test_intervals_and_names_are_checked() -> None:
    registry = JobRegistry()
    with pytest.raises(ValueError, match="once a minute"):
        registry.register("fast", timedelta(seconds=10), CountingJob())
    with pytest.raises(ValueError, match="1 to 100"):
        registry.register("x" * 101, EVERY, CountingJob())
    registry.register("one", EVERY, body := CountingJob())
    registry.register("one", EVERY, body)  # the same registration again (a module imported twice) is fine
    with pytest.raises(ValueError, match="already registered"):
        registry.register("one", EVERY, CountingJob())


@pytest.fixture
def test_job() -> Iterator[CountingJob]:
    body = CountingJob()
    jobs.register("test-reminders", EVERY, body)
    yield body
    jobs.unregister("test-reminders")


def test_cadre_jobs_run_from_cron(committed_app: Flask, test_job: CountingJob) -> None:
    runner = committed_app.test_cli_runner()
    first = runner.invoke(main, ["jobs", "run", "--job", "test-reminders"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("test-reminders: done for the period from ")
    assert first.output.rstrip().endswith("UTC: 1 reminder")
    again = runner.invoke(main, ["jobs", "run", "--job", "test-reminders"])
    assert again.exit_code == 0 and "test-reminders: already done for the period from" in again.output
    assert len(test_job.periods) == 1

    listed = runner.invoke(main, ["jobs", "list"])
    lines = [line.split() for line in listed.output.splitlines()]
    assert ["outbox-purge-delivered", "1d", "never"] in lines
    assert ["test-reminders", "1h", *first.output.split()[6:8], "UTC", "1", "reminder"] in lines

    unknown = runner.invoke(main, ["jobs", "run", "--job", "nope"])
    assert unknown.exit_code == 2 and "No job named nope; known: " in unknown.output


def test_cadre_jobs_run_fails_loudly(committed_app: Flask, test_job: CountingJob) -> None:
    test_job.fail = True
    result = committed_app.test_cli_runner().invoke(main, ["jobs", "run", "--job", "test-reminders"])
    assert result.exit_code == 1
    assert "test-reminders: FAILED for the period from" in result.output
    assert runs(committed_app) == []


def test_the_purge_job_removes_only_old_delivered_messages(committed_app: Flask) -> None:
    old = utcnow() - DELIVERED_RETENTION - timedelta(hours=1)
    with session_scope(committed_app) as session:
        for key in ("old-delivered", "recent-delivered", "old-pending", "old-dead"):
            enqueue(session, "email", key, {})
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "old-delivered")
                        .values(status=OutboxStatus.DELIVERED, delivered_at=old, created_at=old))
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "recent-delivered")
                        .values(status=OutboxStatus.DELIVERED, delivered_at=utcnow()))
        session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == "old-dead")
                        .values(status=OutboxStatus.DEAD, created_at=old))
    [result] = run_due_jobs(committed_app, jobs, ["outbox-purge-delivered"])
    assert result.ran and result.summary == "1 delivered message(s) purged"
    assert sorted(outbox_keys(committed_app)) == ["old-dead", "old-pending", "recent-delivered"]
