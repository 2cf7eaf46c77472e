"""``cadre worker``, ``cadre outbox status|dead|retry-dead [--topic] [--id]`` and ``cadre jobs run|list``."""

from __future__ import annotations

import signal
from datetime import timedelta
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lti_tool import terminal
from lti_tool.db import get_engine, session_scope, utcnow
from lti_tool.ops import audit
from lti_tool.outbox.admin import backlog, dead_messages, retry_dead
from lti_tool.outbox.handlers import handlers
from lti_tool.outbox.jobs import jobs, last_runs, run_due_jobs
from lti_tool.outbox.worker import AnotherWorkerRunning, BatchReport, Worker, worker_slot
from lti_tool.states import OutboxStatus

COMMANDS: list[click.Command] = []


def _interval(every: timedelta) -> str:
    seconds = int(every.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _summary(report: BatchReport) -> str:
    return (f"delivered {report.delivered}, to retry {report.retried}, dead {report.dead}"
            + (f", handed back {report.released}" if report.released else "")
            + (f", lease lost {report.lost}" if report.lost else ""))


# --- cadre worker ---------------------------------------------------------------------------------------


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit (e.g. from cron).")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Messages claimed per transaction.")
@click.option("--idle-seconds", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
              help="How long to wait for new messages when none is due.")
@click.option("--lease-seconds", type=click.FloatRange(10, 86400), default=300.0, show_default=True,
              help="How long a claim lasts: a dead worker's messages are delivered again after this.")
@click.option("--topic", "topics", multiple=True, help="Deliver only this topic (repeatable).")
@click.option("--statements/--no-statements", default=True, show_default=True,
              help="Also deliver xAPI statements to the learning record stores (lti_tool.records).")
@with_appcontext
def worker_command(once: bool, batch_size: int, idle_seconds: float, lease_seconds: float,
                   topics: tuple[str, ...], statements: bool) -> None:
    """Deliver outbox messages (AGS scores, e-mail) and xAPI statements until stopped (SIGTERM or Ctrl+C)."""
    from lti_tool.records.delivery import BackgroundDeliverer

    unknown = sorted(set(topics) - {topic.name for topic in handlers})
    if unknown:
        raise click.UsageError(f"No handler for the topic(s) {', '.join(unknown)}; known: "
                               + (", ".join(sorted(t.name for t in handlers)) or "none"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = Worker(app, batch_size=batch_size, lease_seconds=lease_seconds, topics=topics or None)
    try:
        with worker_slot(app):
            if once:
                report = worker.drain()
                click.echo(f"Outbox: {_summary(report)}.")
                if statements:
                    delivered = BackgroundDeliverer(app, hold_slot=False).deliverer.drain()
                    if delivered.claimed or delivered.paused:
                        click.echo(f"Statements: {delivered.summary()}.")
                return
            # Statements go on a thread of their own: a slow LRS never holds up e-mail or grades.
            deliverer = BackgroundDeliverer(app, idle_seconds=idle_seconds, hold_slot=False) if statements \
                else None
            previous = {number: signal.signal(number, _stopper(worker, deliverer)) for number in
                        (signal.SIGTERM, signal.SIGINT)}
            try:
                names = ", ".join(worker.delivered_topics()) or "none registered"
                click.echo(f"Outbox worker {worker.name} delivering: {names}"
                           + (" and xAPI statements" if deliverer else "") + ". Stop with SIGTERM or Ctrl+C.")
                if deliverer is not None:
                    deliverer.start()
                report = worker.run(idle_seconds)
            finally:
                if deliverer is not None:
                    deliverer.stop()
                for number, handler in previous.items():
                    signal.signal(number, handler)
            click.echo(f"Outbox worker stopped: {_summary(report)}.")
    except AnotherWorkerRunning as error:
        raise click.ClickException(str(error)) from None


def _stopper(worker: Worker, deliverer=None):  # type: ignore[no-untyped-def]
    def stop(_number: int, _frame: FrameType | None) -> None:
        worker.stop()
        if deliverer is not None:
            deliverer.deliverer.stop()

    return stop


COMMANDS.append(worker_command)


# --- cadre outbox ---------------------------------------------------------------------------------------

outbox_group = AppGroup("outbox", help="See and repair the delivery of side effects.")
COMMANDS.append(outbox_group)


@outbox_group.command("status")
def outbox_status() -> None:
    """Messages per topic: pending, failed (will retry), dead, delivered, and the oldest waiting one."""
    now = utcnow()
    with session_scope(current_app) as session:
        topics = backlog(session)
    if not topics:
        click.echo("The outbox is empty.")
        return
    registered = {topic.name for topic in handlers}
    rows = [
        [entry.topic + ("" if entry.topic in registered else " (no handler)"),
         *(str(entry.counts[status]) for status in (OutboxStatus.PENDING, OutboxStatus.FAILED,
                                                     OutboxStatus.DEAD, OutboxStatus.DELIVERED)),
         terminal.age(entry.oldest_age(now))]
        for entry in topics
    ]
    click.echo(terminal.table(["TOPIC", "PENDING", "FAILED", "DEAD", "DELIVERED", "OLDEST WAITING"], rows))


@outbox_group.command("dead")
@click.option("--topic", help="Only this topic.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def outbox_dead(topic: str | None, limit: int) -> None:
    """The latest dead messages and why they were given up."""
    with session_scope(current_app) as session:
        rows = [[str(m.id), m.topic, m.dedupe_key[:40], str(m.attempts), (m.last_error or "")[:120]]
                for m in dead_messages(session, topic, limit)]
    if not rows:
        click.echo("No dead message" + (f" for {topic}." if topic else "."))
        return
    click.echo(terminal.table(["ID", "TOPIC", "KEY", "ATTEMPTS", "REASON"], rows))


@outbox_group.command("retry-dead")
@click.option("--topic", help="Only this topic (default: every topic).")
@click.option("--id", "ids", type=click.IntRange(1), multiple=True,
              help="Only this message (its ID in `cadre outbox dead`; repeatable).")
def outbox_retry_dead(topic: str | None, ids: tuple[int, ...]) -> None:
    """Deliver dead messages again, with a fresh count of attempts (once their cause is fixed)."""
    with session_scope(current_app) as session:
        count = retry_dead(session, topic, list(ids) if ids else None)
        if count:
            audit.record(session, "outbox.retry_dead", audit.CLI_ACTOR, topic=topic, count=count,
                         **({"ids": sorted(ids)} if ids else {}))
    click.echo(f"{count} dead message(s) will be delivered again" + (f" ({topic})." if topic else ".")
               if count else "No dead message to retry" + (f" for {topic}." if topic else "."))


# --- cadre jobs -----------------------------------------------------------------------------------------

jobs_group = AppGroup("jobs", help="Scheduled work (reminders, roster refreshes): run from cron.")
COMMANDS.append(jobs_group)


@jobs_group.command("run")
@click.option("--job", "names", multiple=True, help="Only this job (repeatable).")
def jobs_run(names: tuple[str, ...]) -> None:
    """Do each job's current period unless done. Safe every minute, and from several hosts at once."""
    unknown = sorted(set(names) - {job.name for job in jobs})
    if unknown:
        raise click.UsageError(f"No job named {', '.join(unknown)}; known: "
                               + (", ".join(job.name for job in jobs) or "none"))
    with get_engine(current_app).connect():  # a database that is down: one message, not one per job
        pass
    results = run_due_jobs(current_app._get_current_object(), jobs,  # type: ignore[attr-defined]
                           list(names) or None)
    failed = False
    for result in results:
        when = f"{result.period_start:%Y-%m-%d %H:%M} UTC"
        if result.error:
            failed = True
            click.echo(f"{result.job}: FAILED for the period from {when}: {result.error}", err=True)
        elif result.ran:
            click.echo(f"{result.job}: done for the period from {when}"
                       + (f": {result.summary}" if result.summary else "."))
        else:
            click.echo(f"{result.job}: already done for the period from {when}.")
    if not results:
        click.echo("No job is registered.")
    if failed:
        raise SystemExit(1)


@jobs_group.command("list")
def jobs_list() -> None:
    """Registered jobs, their interval and their last run."""
    with session_scope(current_app) as session:
        runs = last_runs(session)
    rows = []
    for job in jobs:
        run = runs.get(job.name)
        rows.append([job.name, _interval(job.every),
                     f"{run.period_start:%Y-%m-%d %H:%M} UTC" if run else "never",
                     run.summary[:60] if run else ""])
    if not rows:
        click.echo("No job is registered.")
        return
    click.echo(terminal.table(["JOB", "EVERY", "LAST PERIOD DONE", "SUMMARY"], rows))
