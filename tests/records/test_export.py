"""Bulk export (``cadre xapi export``, ``lti_tool.records.export``): NDJSON exactly as stored, CSV with
formula-safe cells, the filters, stored order, and memory that does not grow with the number of rows."""

from __future__ import annotations

import csv as plain_csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.records import export
from lti_tool.records.models import Statement
from tests.records.pull_data import (
    BASE_TIME,
    COMPLETED,
    SCORED,
    account_of,
    make_course,
    make_person,
    make_platform,
    make_statement,
    minutes,
    store,
)


@pytest.fixture
def in_app(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def bulk(db: Session, count: int, *, platform_id: int, context_id: int | None, start: int = 0,
         padding: int = 600) -> list[dict[str, Any]]:
    """``count`` statements inserted straight into the table (the export reads the table, not the store's
    path), each about ``padding`` bytes bigger, stored a second apart."""
    bodies = []
    for number in range(start, start + count):
        actor = {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": f"p{number}"}}
        body = make_statement(actor, verb=SCORED, activity=number % 17, score=number % 100)
        body["result"]["response"] = "x" * padding
        bodies.append(body)
    db.execute(insert(Statement), [
        {"id": body["id"], "platform_id": platform_id, "context_id": context_id,
         "activity_kind": "manager_feedback", "verb": SCORED, "object_id": body["object"]["id"],
         "actor_key": f"account:https://lms.example|{body['actor']['account']['name']}", "person_id": None,
         "registration": None, "timestamp": BASE_TIME, "stored": BASE_TIME + minutes(number) / 60,
         "voided": False, "voids_statement_id": None, "body": body} for number, body in
        zip(range(start, start + count), bodies, strict=True)
    ])
    return bodies


class Progress:
    def __init__(self) -> None:
        self.updates: list[int] = []

    def update(self, count: int) -> None:
        self.updates.append(count)


def exported(db: Session, chosen: export.ExportFilter, export_format: export.ExportFormat,
             batch: int = export.BATCH, progress: Any = None) -> str:
    return "".join(export.chunks(db.connection(), chosen, export_format, batch, progress))


def test_ndjson_is_every_statement_as_stored_in_stored_order(db: Session) -> None:
    platform = make_platform(db)
    bodies = bulk(db, 1200, platform_id=platform.id, context_id=None)
    progress = Progress()
    text = exported(db, export.ExportFilter(), export.ExportFormat.NDJSON, batch=500, progress=progress)
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == bodies
    assert progress.updates == [500, 500, 200]
    assert export.count(db, export.ExportFilter()) == 1200


def test_filters_since_until_course_and_platform(app: Flask, db: Session, in_app: None) -> None:
    lms, other = make_platform(db), make_platform(db, "https://other.example")
    course, elsewhere = make_course(db, lms, "course-2"), make_course(db, lms, "course-9")
    ada = make_person(db, lms, "ada")
    recorded = [store(db, make_statement(account_of(ada, lms), verb=COMPLETED, activity=number),
                      platform=lms, course=course if number % 2 else elsewhere, person=ada,
                      stored=BASE_TIME + minutes(number)) for number in range(1, 7)]
    bulk(db, 3, platform_id=other.id, context_id=None, start=1000)

    def ids(**chosen: Any) -> list[str]:
        text = exported(db, export.ExportFilter(**chosen), export.ExportFormat.NDJSON)
        return [json.loads(line)["id"] for line in text.splitlines()]

    assert ids(course="course-2") == [recorded[0].id, recorded[2].id, recorded[4].id]
    assert ids(course=f"context:{elsewhere.id}") == [recorded[1].id, recorded[3].id, recorded[5].id]
    assert ids(since=BASE_TIME + minutes(2), until=BASE_TIME + minutes(4)) == [recorded[2].id, recorded[3].id]
    assert ids(platform_id=lms.id) == [r.id for r in recorded]
    assert len(ids(platform_id=other.id)) == 3
    assert ids(person_id=ada.id, verb=COMPLETED) == [r.id for r in recorded]


def test_csv_has_the_query_columns_the_score_and_formula_safe_cells(db: Session) -> None:
    platform = make_platform(db)
    hostile = make_course(db, platform, "=HYPERLINK(\"http://evil.example\",\"click\")")
    bodies = bulk(db, 3, platform_id=platform.id, context_id=hostile.id)
    text = exported(db, export.ExportFilter(), export.ExportFormat.CSV)
    rows = list(plain_csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == export.CSV_COLUMNS
    first = dict(zip(export.CSV_COLUMNS, rows[1], strict=True))
    assert first["id"] == bodies[0]["id"] and first["verb"] == SCORED and first["voided"] == "false"
    assert first["score_raw"] == "0" and first["score_max"] == "100" and first["completion"] == "true"
    assert first["course"].startswith("'=")  # defusedcsv: a spreadsheet shows it as text, never runs it
    tabbed = make_course(db, platform, "\t=cmd|' /C calc'!A0")  # OWASP: a leading tab is escaped too
    bulk(db, 1, platform_id=platform.id, context_id=tabbed.id)
    again = list(plain_csv.reader(io.StringIO(exported(db, export.ExportFilter(), export.ExportFormat.CSV))))
    courses = [dict(zip(export.CSV_COLUMNS, row, strict=True))["course"] for row in again[1:]]
    assert "'\t=cmd|' /C calc'!A0" in courses, courses
    assert json.loads(first["statement"]) == bodies[0]
    assert first["stored"] == "2026-11-01T08:00:00Z" and len(rows) == 4


def test_export_memory_does_not_grow_with_the_rows(db: Session) -> None:
    """5,000 statements (~4 MB of NDJSON) through batches of 200: the peak of Python allocations stays a
    fraction of the whole, so the rows were never all held at once (server-side cursor on PostgreSQL,
    keyset batches on SQLite)."""
    platform = make_platform(db)
    bulk(db, 5000, platform_id=platform.id, context_id=None)
    db.flush()
    size = 0
    tracemalloc.start()
    try:
        for chunk in export.chunks(db.connection(), export.ExportFilter(), export.ExportFormat.NDJSON, 200):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 4_000_000
    assert peak < size / 5, f"peak {peak} bytes for {size} bytes exported"


# -- cadre xapi export --------------------------------------------------------------------------------------


def test_the_command_writes_the_file_with_progress_on_stderr(db: Session, runner: FlaskCliRunner,
                                                             in_app: None, tmp_path: Path) -> None:
    platform = make_platform(db)
    bodies = bulk(db, 2500, platform_id=platform.id, context_id=None, padding=10)
    output = tmp_path / "statements.ndjson"
    result = runner.invoke(main, ["xapi", "export", "--format", "ndjson", "--output", str(output),
                                  "--batch-size", "1000"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == [b["id"] for b in bodies]
    assert "Exporting 2500 statement(s)" in result.stderr and "Exported 2500 statement(s)" in result.stderr
    csv_output = tmp_path / "statements.csv"
    as_csv = runner.invoke(main, ["xapi", "export", "--format", "csv", "--output", str(csv_output),
                                  "--since", "2026-11-01T08:10:00Z", "--until", "2026-11-01T08:20:00"])
    assert as_csv.exit_code == 0, as_csv.output
    assert len(csv_output.read_text().splitlines()) == 1 + 600  # a second apart: (10 min, 20 min]


def test_the_command_writes_to_standard_output(db: Session, runner: FlaskCliRunner, in_app: None) -> None:
    platform = make_platform(db)
    bodies = bulk(db, 3, platform_id=platform.id, context_id=None, padding=0)
    result = runner.invoke(main, ["xapi", "export", "--output", "-"])
    assert result.exit_code == 0
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [b["id"] for b in bodies]


@pytest.mark.parametrize(("args", "words"), [
    (["--since", "yesterday"], "ISO 8601"),
    (["--since", "2026-12-02T00:00:00Z", "--until", "2026-12-01T00:00:00Z"], "before --until"),
    (["--platform", "987654"], "no platform 987654"),
    (["--format", "xml"], "'xml' is not one of"),
    ([], "--output"),
])
def test_the_command_refuses_bad_options(runner: FlaskCliRunner, in_app: None, tmp_path: Path,
                                         args: list[str], words: str) -> None:
    output = ["--output", str(tmp_path / "x.ndjson")] if args else []
    result = runner.invoke(main, ["xapi", "export", *args, *output])
    assert result.exit_code == 2 and words in result.output
    assert not (tmp_path / "x.ndjson").exists()



def test_ndjson_keeps_backslashes_quotes_and_other_scripts_and_one_line_per_statement(db: Session) -> None:
    platform = make_platform(db)
    bodies = bulk(db, 3, platform_id=platform.id, context_id=None, padding=0)
    tricky = 'C:\\dossiers\\n°1 "cité" \\\\ 日本語 ☃ \t end\\'
    bodies[0]["result"]["response"] = tricky
    db.execute(update(Statement).where(Statement.id == bodies[0]["id"]).values(body=bodies[0]))
    # A JSON text written by hand, with line breaks between its tokens (valid JSON, one statement).
    pretty = json.dumps(bodies[1], indent=2, ensure_ascii=False)
    by_hand = (text("UPDATE statements SET body = CAST(:body AS JSON) WHERE id = :id")
               if db.get_bind().dialect.name == "postgresql"
               else text("UPDATE statements SET body = :body WHERE id = :id"))
    db.execute(by_hand, {"body": pretty, "id": bodies[1]["id"]})
    progress = Progress()
    lines = exported(db, export.ExportFilter(), export.ExportFormat.NDJSON, progress=progress).splitlines()
    assert [json.loads(line) for line in lines] == bodies
    assert json.loads(lines[0])["result"]["response"] == tricky and sum(progress.updates) == 3
