"""Periodic jobs (``cadre jobs run``): each job's work is done once per period, however often and from
however many hosts the command runs.

A job has a name and an interval; periods are aligned on the Unix epoch in UTC (a daily job's period starts
at midnight UTC). Running a job for the current period inserts its ``job_runs`` row *first*, then calls the
job's body, in one transaction: a second runner's insert of the same (job, period) waits for the first
transaction (PostgreSQL's unique index, SQLite's single writer), then finds the row and skips; if the first
failed and rolled back, the second does the work. So a body must keep its effects inside that transaction:
database writes, and outbox messages for anything that leaves Cadre (an e-mail, an HTTP call) -- never a
network call of its own, which would hold the transaction open and could not be taken back.

Cron every minute is enough for any interval: a run for a period already done costs one insert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Insert, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import session_scope, utcnow
from lti_tool.models import JobRun

log = logging.getLogger("cadre.jobs")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """The period a run does: ``[start, end)``; ``previous_start`` is the last period done before it
    (None the first time), so a job that missed periods (cron stopped) can catch up in one run."""

    job: str
    start: datetime
    end: datetime
    previous_start: datetime | None


JobBody = Callable[[Session, Period], str | None]
"""Does the period's work in the session (never commits); may answer a one-line summary."""


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    body: JobBody

    def period_of(self, moment: datetime) -> tuple[datetime, datetime]:
        periods = (moment - EPOCH) // self.every
        start = EPOCH + periods * self.every
        return start, start + self.every


@dataclass
class JobRegistry:
    jobs: dict[str, Job] = field(default_factory=dict)

    def register(self, name: str, every: timedelta, body: JobBody) -> None:
        if not name or len(name) > 100:
            raise ValueError("a job is named with 1 to 100 characters")
        if every < timedelta(minutes=1):
            raise ValueError("a job runs at most once a minute (cron's resolution)")
        existing = self.jobs.get(name)
        if existing is not None and existing.body is not body:
            raise ValueError(f"the job {name!r} is already registered")
        self.jobs[name] = Job(name, every, body)

    def periodic(self, name: str, every: timedelta) -> Callable[[JobBody], JobBody]:
        """Decorator form of :meth:`register`."""

        def decorator(body: JobBody) -> JobBody:
            self.register(name, every, body)
            return body

        return decorator

    def unregister(self, name: str) -> None:
        self.jobs.pop(name, None)

    def get(self, name: str) -> Job | None:
        return self.jobs.get(name)

    def __iter__(self) -> Iterator[Job]:
        return iter(sorted(self.jobs.values(), key=lambda job: job.name))


jobs = JobRegistry()
"""The process's jobs; ``cadre jobs run`` runs those found here."""


@dataclass(frozen=True)
class JobResult:
    job: str
    period_start: datetime
    ran: bool
    """False when the period was already done (by an earlier run, or another host just now)."""
    summary: str = ""
    error: str | None = None


def run_job(app: Flask, job: Job, now: datetime | None = None) -> JobResult:
    """Do ``job``'s current period unless it is done; its body and its ``job_runs`` row commit together."""
    start, end = job.period_of(now or utcnow())
    try:
        with session_scope(app) as session:
            started = utcnow()
            # The insert comes first: it is what waits for (or excludes) another runner of this period.
            inserted = session.execute(
                _claim_period(session, job.name, start, started).returning(JobRun.__table__.c.id)
            ).first()
            if inserted is None:
                return JobResult(job.name, start, ran=False)
            previous = session.scalar(
                select(func.max(JobRun.period_start))
                .where(JobRun.job == job.name, JobRun.period_start < start)
            )
            period = Period(job.name, start, end, previous)
            summary = (job.body(session, period) or "")[:500]
            session.execute(
                JobRun.__table__.update()
                .where(JobRun.job == job.name, JobRun.period_start == start)
                .values(finished_at=utcnow(), summary=summary)
            )
    except Exception as error:
        log.exception("scheduled job failed", extra={"fields": {"job": job.name}})
        return JobResult(job.name, start, ran=False, error=f"{type(error).__name__}: the job failed and "
                                                            "stored nothing (see the log); the next run "
                                                            "tries this period again")
    return JobResult(job.name, start, ran=True, summary=summary)


def run_due_jobs(app: Flask, registry: JobRegistry = jobs, names: list[str] | None = None,
                 now: datetime | None = None) -> list[JobResult]:
    """Every registered job (or those named), each in its own transaction: one failing does not stop
    the others."""
    selected = [job for job in registry if names is None or job.name in names]
    return [run_job(app, job, now) for job in selected]


def _claim_period(session: Session, name: str, start: datetime, started: datetime) -> Insert:
    values = {"job": name, "period_start": start, "started_at": started, "finished_at": started,
              "summary": ""}
    dialect = session.get_bind().dialect.name
    index = ["job", "period_start"]
    if dialect == "postgresql":
        return postgresql.insert(JobRun.__table__).values(values).on_conflict_do_nothing(index_elements=index)
    if dialect == "sqlite":
        return sqlite.insert(JobRun.__table__).values(values).on_conflict_do_nothing(index_elements=index)
    return insert(JobRun.__table__).values(values)  # pragma: no cover - Cadre runs on the two above


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = (
        select(JobRun.job, func.max(JobRun.period_start).label("period_start"))
        .group_by(JobRun.job).subquery()
    )
    rows = session.scalars(
        select(JobRun).join(latest, (JobRun.job == latest.c.job)
                            & (JobRun.period_start == latest.c.period_start))
    )
    return {run.job: run for run in rows}

