"""The course dashboard at scale: 10,000 learners x 20 activities x 10 criteria (``cadre tracking seed``'s
course), the page against the raw SQL of the same aggregates, in the same run.

* **page**: ``GET /courses/<id>/dashboard`` through Flask's test client (the launch, the permission check,
  every statement, the tables, the five SVG charts and the template), as a designer of the course.
* **raw SQL**: the page's aggregate statements (:func:`lti_tool.tracking.dashboard.statements`, the
  same numbers), compiled once and sent bare on a DBAPI connection, rows fetched and dropped.
* **scan**: for scale, the aggregate of the scores computed straight from the two million
  ``criterion_scores`` rows instead of their tallies (what the page would cost without them); the run
  checks that both give the same figures.

Interleaved, medians; PostgreSQL on 127.0.0.1:5432 (a database of its own, dropped after), and SQLite
when asked. Targets: page < 300 ms and <= 1.5x the raw SQL on PostgreSQL. Prints figures; never asserts
on time. ``python -m tests.bench.bench_dashboard --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope, utcnow
from lti_tool.migrate import upgrade
from lti_tool.models import Activity, Context, Launch
from lti_tool.settings import Settings
from lti_tool.states import Assessors, CadreRole, MessageType
from lti_tool.tracking import dashboard, seed
from lti_tool.tracking.models import CriterionScore, CriterionScoreTally
from tests.bench.bench_launch import SECRET_KEY, postgres_database

DEFAULT_LEARNERS = 10_000
DEFAULT_ACTIVITIES = 20
DEFAULT_CRITERIA = 10
DEFAULT_REQUESTS = 15
TARGET_MS = 300.0
TARGET_RATIO = 1.5


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


@contextlib.contextmanager
def database(backend: str, workdir: Path) -> Iterator[str | None]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'dashboard.db'}"
        return
    with postgres_database() as url:
        yield url


def designer_launch(session: Any, seeded: seed.Seeded) -> str:
    """A launch of the seeded course's designer, as a resource-link launch leaves it."""
    token = secrets.token_urlsafe(32)
    session.add(
        Launch(
            id=token,
            platform_id=seeded.platform_id,
            user_id=seeded.designer_id,
            context_id=seeded.context_id,
            message_type=MessageType.RESOURCE_LINK,
            role=CadreRole.DESIGNER,
            claims={},
            expires_at=utcnow() + timedelta(hours=2),
        )
    )
    return token


def assessors_of(engine: Engine, activity_ids: list[int]) -> dict[int, Assessors]:
    """Who assesses in each activity, as the page reads it with the activities (untimed)."""
    with engine.connect() as connection:
        return dict(connection.execute(
            select(Activity.id, Activity.assessors).where(Activity.id.in_(activity_ids))).all())


def raw_runner(engine: Engine, context_id: int, activity_ids: list[int]) -> tuple[Callable[[], int], int]:
    """A function sending the page's aggregate statements bare (compiled once), and their number."""
    assessors = assessors_of(engine, activity_ids)
    statements = list(dashboard.statements(context_id, assessors, dashboard.Filters(), utcnow()).values())
    return bare_runner(engine, statements), len(statements)


def bare_runner(engine: Engine, statements: list[Any]) -> Callable[[], int]:
    """A function sending ``statements`` bare on a DBAPI connection (compiled once), rows fetched."""
    compiled = [
        str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        for statement in statements
    ]
    raw = engine.raw_connection()

    def run() -> int:
        rows = 0
        cursor = raw.cursor()
        for sql in compiled:
            cursor.execute(sql)
            rows += len(cursor.fetchall())
        cursor.close()
        raw.rollback()
        return rows

    return run


def scan_statement(activity_ids: list[int]) -> Any:
    """The scores' aggregate from every criterion_scores row (no tallies)."""
    score = CriterionScore
    return (
        select(
            score.criterion,
            score.assessor_role,
            score.level_number,
            func.count(),
            func.coalesce(func.sum(func.round(score.percent * 100)), 0),
        )
        .where(score.activity_id.in_(activity_ids))
        .group_by(score.criterion, score.assessor_role, score.level_number)
    )


def bench_app(url: str) -> tuple[Flask, Engine]:
    """Cadre on the database ``url``, migrated."""
    settings = Settings(
        database_url=url,
        secret_key=SECRET_KEY,
        public_url="https://cadre.bench.invalid",
        log_level="WARNING",
        _env_file=None,
    )  # type: ignore[call-arg]
    app = create_app(settings)
    engine = get_engine(app)
    upgrade(engine)
    return app, engine


def run_backend(backend: str, url: str, args: argparse.Namespace) -> None:
    app, engine = bench_app(url)
    started = time.perf_counter()
    plan = seed.generate(learners=args.learners, activities=args.activities, criteria=args.criteria)
    with session_scope(app) as session:
        seeded = seed.write(session, plan)
        token = designer_launch(session, seeded)
    seeding = time.perf_counter() - started
    with session_scope(app) as session:
        scores = session.scalar(select(func.count()).select_from(CriterionScore)) or 0
        context = session.get(Context, seeded.context_id)
        assert context is not None
    print(
        f"cadre-{backend} seeded {args.learners} learners x {args.activities} activities x {args.criteria} "
        f"criteria: {len(plan.assessments)} assessments, {scores} criterion scores in {seeding:.1f} s",
        flush=True,
    )

    client = app.test_client()
    path = f"/courses/{seeded.context_id}/dashboard"
    headers = {"X-Cadre-Launch": token}
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def page() -> int:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        return len(answer.data)

    event.listen(engine, "before_cursor_execute", count)
    size = page()
    event.remove(engine, "before_cursor_execute", count)
    raw, raw_count = raw_runner(engine, seeded.context_id, seeded.activity_ids)

    page_times: list[float] = []
    raw_times: list[float] = []
    for number in range(args.warmup + args.requests):
        for measure, samples in ((page, page_times), (raw, raw_times)):
            begun = time.perf_counter()
            measure()
            if number >= args.warmup:
                samples.append(time.perf_counter() - begun)
    scan_times = []
    with engine.connect() as connection:
        for _ in range(max(1, args.requests // 5)):
            begun = time.perf_counter()
            scanned = connection.execute(scan_statement(seeded.activity_ids)).all()
            scan_times.append(time.perf_counter() - begun)
        tally = CriterionScoreTally
        tallied = connection.execute(
            select(
                tally.criterion,
                tally.assessor_role,
                tally.level_number,
                func.sum(tally.scores),
                func.sum(tally.hundredths),
            )
            .where(tally.activity_id.in_(seeded.activity_ids))
            .group_by(tally.criterion, tally.assessor_role, tally.level_number)
            .having(func.sum(tally.scores) > 0)
        ).all()
    same = sorted(
        (str(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in scanned
    ) == sorted((str(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in tallied)
    page_ms, raw_ms, scan_ms = median_ms(page_times), median_ms(raw_times), median_ms(scan_times)
    ratio = page_ms / raw_ms if raw_ms else float("inf")
    verdict = "meets" if page_ms < TARGET_MS and ratio <= TARGET_RATIO else "misses"
    print(
        f"cadre-{backend} course dashboard: {ratio:5.2f}x  page {page_ms:8.2f} ms ({size // 1024} KB, "
        f"{len(statements)} statements), raw SQL {raw_ms:8.2f} ms ({raw_count} aggregate statements); "
        f"{verdict} the target (< {TARGET_MS:.0f} ms, <= {TARGET_RATIO}x)",
        flush=True,
    )
    print(
        f"cadre-{backend} scores from the {scores} rows instead of their tallies: {scan_ms:8.2f} ms; "
        f"same figures: {'yes' if same else 'NO'}",
        flush=True,
    )
    engine.dispose()


def scale_arguments(description: str | None, requests: int, warmup: int) -> argparse.ArgumentParser:
    """The options of a benchmark on ``cadre tracking seed``'s course."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=DEFAULT_LEARNERS)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--criteria", type=int, default=DEFAULT_CRITERIA)
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--backends", default="postgresql", help="comma-separated: postgresql, sqlite")
    return parser


def on_each_backend(args: argparse.Namespace, run: Callable[[str, str, argparse.Namespace], None]) -> None:
    """``run(backend, url, args)`` on a database of its own for each of ``args.backends``."""
    with tempfile.TemporaryDirectory(prefix="cadre-bench-") as workdir:
        for backend in [name.strip() for name in args.backends.split(",") if name.strip()]:
            with database(backend, Path(workdir)) as url:
                if url is None:
                    print(f"cadre-{backend}: no server on 127.0.0.1:5432, skipped", flush=True)
                    continue
                run(backend, url, args)


def main(argv: list[str] | None = None) -> None:
    on_each_backend(scale_arguments(__doc__, DEFAULT_REQUESTS, 2).parse_args(argv), run_backend)


if __name__ == "__main__":
    main(sys.argv[1:])
