"""Learning-records benchmark on PostgreSQL: the bulk export against ``COPY … TO STDOUT`` of the same rows,
and one page of ``GET /xapi/statements`` against the raw keyset query it runs.

Run: ``python -m tests.bench.bench_records_pull [--statements N]`` (default 1,000,000; also
``CADRE_BENCH_STATEMENTS``). It makes its own database on 127.0.0.1:5432 (user postgres), loads the rows
with ``COPY … FROM STDIN``, and drops the database at the end. The export runs in a fresh child process, so
its peak RSS is the export's own (interpreter and imports included), not the loader's. Targets from issue
10: export ≥ 50,000 statements/s and peak RSS < 150 MB; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psycopg  # noqa: E402

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
STATEMENTS = int(os.environ.get("CADRE_BENCH_STATEMENTS", "1000000"))
PAGE_REPEATS = 30
START = datetime(2026, 1, 1, tzinfo=UTC)
VERBS = ("http://adlnet.gov/expapi/verbs/launched", "http://adlnet.gov/expapi/verbs/scored",
         "http://adlnet.gov/expapi/verbs/completed", "http://activitystrea.ms/schema/1.0.0/submit")


def statement_body(number: int, statement_id: str, verb: str, stored: datetime) -> dict:
    """About 1 kB, as Cadre's scored statements are: actor, verb, activity, course, result, extensions."""
    activities = "https://cadre.example/xapi/activities"
    return {
        "id": statement_id,
        "actor": {"objectType": "Agent",
                  "account": {"homePage": "https://lms.example", "name": f"u{number % 10000}"}},
        "verb": {"id": verb, "display": {"en": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": f"{activities}/activities/{number % 200}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/assessment",
                                  "name": {"en": f"Coaching conversation {number % 200}"}}},
        "result": {"score": {"raw": number % 40, "min": 0, "max": 40, "scaled": (number % 40) / 40},
                   "completion": True,
                   "extensions": {"https://w3id.org/xapi/cadre/extensions/criteria": [
                       {"criterion": f"c{index}", "level": "l2", "points": 3} for index in range(4)]}},
        "context": {"contextActivities": {
            "parent": [{"objectType": "Activity", "id": f"{activities}/courses/{number % 50}"}],
            "category": [{"objectType": "Activity", "id": "https://w3id.org/xapi/cadre/v1.0"}]},
            "platform": "Cadre", "language": "en",
            "extensions": {"https://w3id.org/xapi/cadre/extensions/activity-kind": "manager_feedback"}},
        "timestamp": stored.isoformat().replace("+00:00", "Z"),
        "stored": stored.isoformat().replace("+00:00", "Z"),
        "authority": {"objectType": "Agent", "name": "Cadre",
                      "account": {"homePage": "https://cadre.example", "name": "cadre"}},
        "version": "1.0.3",
    }


MADE_DATABASES: list[str] = []
"""Every database this process made (the smoke test checks each is gone)."""


def make_database() -> tuple[str, str]:
    name = f"cadre_bench_records_{uuid.uuid4().hex[:8]}"
    MADE_DATABASES.append(name)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load(name: str, url: str, count: int) -> int:
    """Migrate, then COPY ``count`` statements in; the platform's id."""
    from lti_tool import migrate
    from lti_tool.db import build_engine

    engine = build_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as connection:
        platform_id = connection.execute(
            "INSERT INTO platforms (name, issuer, client_id, auth_login_url, auth_token_url, key_set_url, "
            "created_at) VALUES ('LMS', 'https://lms.example', 'cadre', 'https://lms.example/a', "
            "'https://lms.example/t', 'https://lms.example/k', now()) RETURNING id").fetchone()[0]
        columns = ("id, platform_id, activity_kind, verb, object_id, actor_key, timestamp, stored, voided, "
                   "body")
        with connection.cursor().copy(f"COPY statements ({columns}) FROM STDIN") as copy:
            for number in range(count):
                statement_id = str(uuid.UUID(int=number + 1, version=4))
                verb = VERBS[number % len(VERBS)]
                stored = START + timedelta(milliseconds=number)
                body = statement_body(number, statement_id, verb, stored)
                copy.write_row((statement_id, platform_id, "manager_feedback", verb, body["object"]["id"],
                                f"account:https://lms.example|u{number % 10000}", stored, stored, False,
                                json.dumps(body)))
        connection.execute("ANALYZE statements")
    print(f"loaded {count:,} statements with COPY in {time.perf_counter() - started:.1f} s", flush=True)
    return platform_id


def copy_baseline(name: str) -> tuple[float, int]:
    """Seconds and bytes for ``COPY (SELECT body … ORDER BY seq) TO STDOUT`` read to the end."""
    started, size = time.perf_counter(), 0
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as connection, \
            connection.cursor().copy("COPY (SELECT body FROM statements ORDER BY seq) TO STDOUT") as copy:
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


EXPORT_CHILD = """
import resource, sys, time
from lti_tool.db import build_engine
from lti_tool.records import export
engine = build_engine(sys.argv[1])
started, size, rows = time.perf_counter(), 0, 0
with engine.connect() as connection, open(sys.argv[2], "w", encoding="utf-8") as output:
    for chunk in export.chunks(connection, export.ExportFilter(), export.ExportFormat(sys.argv[3])):
        output.write(chunk)
        size += len(chunk)
elapsed = time.perf_counter() - started
print(elapsed, size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def export_in_child(url: str, export_format: str) -> tuple[float, int, int]:
    """Seconds, characters and peak RSS (KiB) of Cadre's export in a fresh process, written to /dev/null."""
    answer = subprocess.run([sys.executable, "-c", EXPORT_CHILD, url, os.devnull, export_format], check=True,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    elapsed, size, rss = answer.stdout.split()
    return float(elapsed), int(size), int(rss)


def bench_export(name: str, url: str, count: int) -> None:
    copy_seconds, copy_bytes = copy_baseline(name)
    print(f"COPY TO STDOUT baseline: {count / copy_seconds:,.0f} statements/s ({copy_seconds:.2f} s, "
          f"{copy_bytes / 1e6:,.0f} MB)", flush=True)
    for export_format in ("ndjson", "csv"):
        seconds, size, rss = export_in_child(url, export_format)
        rate, megabytes = count / seconds, rss / 1024
        targets = (f"; targets ≥ 50,000/s {'met' if rate >= 50_000 else 'MISSED'}, < 150 MB "
                   f"{'met' if megabytes < 150 else 'MISSED'}")
        print(f"cadre xapi export --format {export_format}: {rate:,.0f} statements/s ({seconds:.2f} s, "
              f"{size / 1e6:,.0f} MB), peak RSS {megabytes:.0f} MB{targets}", flush=True)
        print(f"ratio export-{export_format}/COPY time: {seconds / copy_seconds:.2f}", flush=True)


def bench_pull_page(name: str, url: str, platform_id: int, count: int) -> None:
    """One page (500 statements, the most a page holds) through the whole app — token, parsing, query,
    JSON — against the raw keyset query it sends, newest first and half-way down."""
    from lti_tool import create_app
    from lti_tool.db import session_scope
    from lti_tool.records import api
    from lti_tool.records.tokens import create_token
    from lti_tool.settings import Settings

    app = create_app(Settings(database_url=url, secret_key="b" * 32, _env_file=None))  # type: ignore[call-arg]
    logging.getLogger("cadre.request").setLevel(logging.WARNING)  # a line per request would hide the figures
    with app.app_context(), session_scope(app) as session:
        secret = create_token(session, name="bench", platform_id=platform_id, created_by="bench").secret
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "X-Experience-API-Version": "1.0.3"}
    middle = count // 2
    cursor = api.make_cursor(middle, [("limit", "0")], app.config["SECRET_KEY"])
    # What the API sends (the stored JSON as text: neither side parses it), without the app around it.
    raw = ("SELECT seq, CAST(body AS TEXT) FROM statements WHERE voided = false AND platform_id = %s {after} "
           "ORDER BY seq DESC LIMIT %s")
    verb = VERBS[1]
    cases = [
        ("first page", {"limit": "0"}, raw.format(after=""), (platform_id, api.MAX_PAGE + 1)),
        ("half-way down", {"limit": "0", "cursor": cursor}, raw.format(after="AND seq < %s"),
         (platform_id, middle, api.MAX_PAGE + 1)),
        ("by verb", {"limit": "0", "verb": verb}, raw.format(after="AND verb = %s"),
         (platform_id, verb, api.MAX_PAGE + 1)),
    ]
    with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}") as connection:
        for label, params, sql, arguments in cases:
            api_times, raw_times = [], []
            for _ in range(PAGE_REPEATS):
                started = time.perf_counter()
                response = client.get("/xapi/statements", query_string=params, headers=headers)
                api_times.append(time.perf_counter() - started)
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
                started = time.perf_counter()
                rows = connection.execute(sql, arguments).fetchall()
                raw_times.append(time.perf_counter() - started)
            assert len(response.get_json()["statements"]) == min(api.MAX_PAGE, len(rows))
            api_ms, raw_ms = statistics.median(api_times) * 1000, statistics.median(raw_times) * 1000
            print(f"GET /xapi/statements, {label} ({len(rows) - 1 if len(rows) > api.MAX_PAGE else len(rows)}"
                  f" of {count:,}): {api_ms:.1f} ms; raw keyset query {raw_ms:.1f} ms; "
                  f"ratio api/raw: {api_ms / raw_ms:.2f}", flush=True)


def main(count: int | None = None) -> None:
    count = count or STATEMENTS
    name, url = make_database()
    try:
        platform_id = load(name, url, count)
        bench_export(name, url, count)
        bench_pull_page(name, url, platform_id, count)
    finally:
        drop_database(name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=STATEMENTS, help="how many statements to load")
    main(parser.parse_args().statements)
