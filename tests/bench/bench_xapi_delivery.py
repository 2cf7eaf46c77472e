"""Statements to an LRS: 2,000 xAPI statements delivered by Cadre's delivery worker to a real Ralph LRS on
loopback, against a raw batched httpx POST of the same statements to an identical Ralph, in the same run.

Each side gets a fresh Ralph (``lti_tool.demo.ralph``: file-system backend, one uvicorn process), because
Ralph's file-system backend reads its whole file on every POST to find the ids it already has: both start
empty, so both pay the same. Cadre's side: the statements are recorded in Cadre's store first (not timed),
then ``StatementDeliverer(app).drain()`` (``cadre worker --once``) claims batches of 100, POSTs them and
records each outcome (the claim of the next batch and the outcome of the last overlapping each POST). The
raw side: one ``httpx.Client`` POSTing the same bodies in the same batches, no database. Every statement
must arrive once.

A shared machine's load moves a one-second run by tens of percent: the sides are measured in several rounds
(``--rounds``), each with new statements, a new LRS and two new Ralphs, which side goes first alternating;
the figures are the medians, with the range of the rounds' ratios and the load average.

Prints figures; never asserts on time. ``python -m tests.bench.bench_xapi_delivery --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, select

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.ralph import RalphLrs
from lti_tool.migrate import upgrade
from lti_tool.records import lrs as registry
from lti_tool.records.delivery import StatementDeliverer
from lti_tool.records.models import LearningRecordStore, Statement, StatementDelivery
from lti_tool.records.store import record
from lti_tool.settings import Settings
from tests.bench.bench_launch import postgres_database

DEFAULT_STATEMENTS = 2000
DEFAULT_ROUNDS = 5
BATCH = 100
PASSWORD = "bench-password"  # noqa: S105 - a throwaway LRS on loopback
VERB = "http://adlnet.gov/expapi/verbs/launched"


def made_statement(number: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms.example.org",
                                                     "name": f"learner-{number % 500:04d}"}},
        "verb": {"id": VERB, "display": {"en-US": "launched"}},
        "object": {"objectType": "Activity",
                   "id": f"https://cadre.example.org/xapi/id/activity/{number % 20}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"}},
        "timestamp": "2026-12-01T09:00:00.000Z",
    }


def measure(name: str, database_url: str, workdir: Path, count: int, rounds: int = DEFAULT_ROUNDS) -> str:
    settings = Settings(database_url=database_url, secret_key="bench-secret", public_url="http://127.0.0.1:9",
                        log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    upgrade(get_engine(app))
    cadre_times, raw_times, ratios, posts = [], [], [], 0
    try:
        for number in range(rounds):
            cadre_seconds, raw_seconds, posts = measure_round(app, f"{name}-{number}", workdir, count,
                                                              raw_first=number % 2 == 1)
            cadre_times.append(cadre_seconds)
            raw_times.append(raw_seconds)
            ratios.append(raw_seconds / cadre_seconds)
    finally:
        get_engine(app).dispose()
    cadre_seconds, raw_seconds = statistics.median(cadre_times), statistics.median(raw_times)
    cadre_rate, raw_rate = count / cadre_seconds, count / raw_seconds
    return (f"  {name}: {cadre_rate:7.1f} statements/s through Cadre's delivery worker "
            f"({cadre_seconds:.2f} s, {posts} POSTs), raw batched POSTs {raw_rate:7.1f}/s "
            f"({raw_seconds:.2f} s): "
            f"{statistics.median(ratios):.2f}x (median of {rounds} rounds' ratios; "
            f"{min(ratios):.2f}x-{max(ratios):.2f}x)")


def measure_round(app: Any, name: str, workdir: Path, count: int, *,
                  raw_first: bool) -> tuple[float, float, int]:
    """One round: (Cadre's seconds, the raw seconds, Cadre's POSTs); every statement arrived once a side."""
    cadre_side = RalphLrs(workdir / f"{name}-ralph-cadre", password=PASSWORD).start()
    raw_side = RalphLrs(workdir / f"{name}-ralph-raw", password=PASSWORD).start()
    try:
        with app.app_context(), session_scope(app) as session:
            store = registry.add_store(session, name=name, endpoint=cadre_side.endpoint, username="cadre",
                                       password=PASSWORD, courses=[], verbs=[], batch_size=BATCH)
            session.flush()
            lrs_id = store.id
            for number in range(count):
                record(session, made_statement(number), platform_id=None, context_id=None,
                       activity_kind=None, person_id=None)
        with session_scope(app) as session:
            bodies = list(session.scalars(
                select(Statement.body)
                .join(StatementDelivery, StatementDelivery.statement_seq == Statement.seq)
                .where(StatementDelivery.lrs_id == lrs_id).order_by(Statement.seq)))
        raw_seconds = raw_posts(raw_side, bodies) if raw_first else 0.0
        started = time.perf_counter()
        report = StatementDeliverer(app).drain()
        cadre_seconds = time.perf_counter() - started
        if not raw_first:
            raw_seconds = raw_posts(raw_side, bodies)
        arrived = [stored["id"] for stored in cadre_side.stored_statements()]
        if report.delivered != count or sorted(arrived) != sorted(body["id"] for body in bodies):
            raise RuntimeError(f"{name}: {report.summary()}; {len(arrived)} arrived, not {count} once each")
        raw_stored = len(raw_side.stored_statements())
        if raw_stored != count:
            raise RuntimeError(f"{name}: the raw POSTs stored {raw_stored}, not {count}")
        with session_scope(app) as session:  # the next round's statements are not queued for this LRS
            session.execute(delete(StatementDelivery).where(StatementDelivery.lrs_id == lrs_id))
            session.execute(delete(LearningRecordStore).where(LearningRecordStore.id == lrs_id))
    finally:
        cadre_side.stop()
        raw_side.stop()
    return cadre_seconds, raw_seconds, report.posts


def raw_posts(lrs: RalphLrs, bodies: list[dict[str, Any]]) -> float:
    with httpx.Client(auth=("cadre", PASSWORD), headers={"X-Experience-API-Version": "1.0.3"},
                      timeout=60) as client:
        started = time.perf_counter()
        for start in range(0, len(bodies), BATCH):
            client.post(f"{lrs.endpoint}/statements", json=bodies[start:start + BATCH]).raise_for_status()
        return time.perf_counter() - started


def load_text() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_xapi_delivery",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--statements", type=int, default=DEFAULT_STATEMENTS)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="interleaved rounds (medians)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="Cadre's databases, comma-separated (postgresql only if 127.0.0.1:5432 answers)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv or [])
    backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    lines = []
    load_before = load_text()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cadre-bench-xapi-")))
        postgres_url = stack.enter_context(postgres_database()) if "postgresql" in backends else None
        if "postgresql" in backends and postgres_url is None:
            print("(PostgreSQL at 127.0.0.1:5432 does not answer: Cadre is measured on SQLite only)")
        for backend in backends:
            database_url = f"sqlite:///{workdir / 'cadre.db'}" if backend == "sqlite" else postgres_url
            if database_url is not None:
                lines.append(measure(f"cadre-{backend}", database_url, workdir, arguments.statements,
                                     max(1, arguments.rounds)))
    print(f"{arguments.statements:,} xAPI statements to Ralph (file-system backend, loopback), batches of "
          f"{BATCH}; ratio = Cadre's rate / the raw rate (target >= 0.9)")
    print("\n".join(lines))
    print(f"  load average before {load_before}, after {load_text()}")


if __name__ == "__main__":
    main(sys.argv[1:])
