"""Bulk export of Cadre's statements (``cadre xapi export``, the records admin page's download): NDJSON (one
statement per line, exactly as stored) or CSV (one row per statement, the query columns and the score, and
the statement itself), in stored order.

Memory stays constant however many statements there are: on PostgreSQL NDJSON comes through ``COPY (SELECT
…) TO STDOUT`` and CSV rows from a server-side cursor (``stream_results`` with ``yield_per``); on SQLite in
keyset batches over ``seq`` (each a short read, so a long export never holds WAL checkpoints back). NDJSON
lines are the stored JSON text itself (``CAST(body AS TEXT)``): nothing is parsed and serialised again.
CSV cells go through :mod:`rubrics.spreadsheet_cells` (defusedcsv, and an apostrophe before a cell that
starts with a tab, a carriage return or an apostrophe), so a name such as ``=HYPERLINK(…)`` reaches a
spreadsheet as text, never as a formula.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Text, cast, func, select
from sqlalchemy.orm import Session

from lti_tool.form_values import whole_number
from lti_tool.models import Context
from lti_tool.records.models import Statement
from rubrics import spreadsheet_cells

BATCH = 5000
CSV_BATCH = 1000
CSV_COLUMNS = ("id", "stored", "timestamp", "actor", "verb", "object", "course", "activity_kind",
               "registration", "voided", "score_raw", "score_min", "score_max", "score_scaled", "success",
               "completion", "statement")


class ExportFormat(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"

    @property
    def media_type(self) -> str:
        return "application/x-ndjson" if self is ExportFormat.NDJSON else "text/csv"


@dataclass(frozen=True)
class ExportFilter:
    """Which statements: stored in ``(since, until]``, of one course (the LMS's id or ``context:<id>``), of
    one platform (None: every platform), and ``verb``/``person_id`` for the admin page's filters."""

    since: datetime | None = None
    until: datetime | None = None
    course: str | None = None
    platform_id: int | None = None
    verb: str | None = None
    person_id: int | None = None

    def conditions(self) -> list[Any]:
        where: list[Any] = []
        if self.since is not None:
            where.append(Statement.stored > self.since)
        if self.until is not None:
            where.append(Statement.stored <= self.until)
        if self.course is not None:
            where.append(course_condition(self.course))
        if self.platform_id is not None:
            where.append(Statement.platform_id == self.platform_id)
        if self.verb is not None:
            where.append(Statement.verb == self.verb)
        if self.person_id is not None:
            where.append(Statement.person_id == self.person_id)
        return where


def course_condition(course: str, table: Any = Statement) -> ColumnElement[bool]:
    """A course by the LMS's id (any platform's course of that id; a platform condition narrows it) or by
    ``context:<Cadre id>``, the two names an LRS's course filter takes too (on ``table``: the statements,
    or an alias of them)."""
    prefix, _, rest = course.partition("context:")
    if not prefix and (number := whole_number(rest, digits=18)) is not None:
        return table.context_id == number
    return table.context_id.in_(select(Context.id).where(Context.context_id == course))


def count(session: Session | Connection, chosen: ExportFilter) -> int:
    query = select(func.count()).select_from(Statement).where(*chosen.conditions())
    return session.execute(query).scalar_one()


def _columns(export_format: ExportFormat) -> Sequence[Any]:
    body_text = cast(Statement.body, Text).label("body_text")
    if export_format is ExportFormat.NDJSON:
        return (Statement.seq, body_text)
    return (Statement.seq, Statement.id, Statement.stored, Statement.timestamp, Statement.actor_key,
            Statement.verb, Statement.object_id, Context.context_id.label("course"), Statement.activity_kind,
            Statement.registration, Statement.voided, body_text)


def _query(chosen: ExportFilter, export_format: ExportFormat) -> Select[Any]:
    query = select(*_columns(export_format)).where(*chosen.conditions())
    if export_format is ExportFormat.CSV:
        query = query.outerjoin(Context, Context.id == Statement.context_id)
    return query


def rows(connection: Connection, chosen: ExportFilter, export_format: ExportFormat,
         batch: int = BATCH) -> Iterator[Sequence[Any]]:
    """The rows to export in stored order, a batch at a time: never all of them in memory."""
    query = _query(chosen, export_format)
    if connection.dialect.name == "postgresql":
        # Options on the statement, not the connection (whose options would stay for what runs next).
        result = connection.execute(query.order_by(Statement.seq)
                                    .execution_options(stream_results=True, yield_per=batch))
        for partition in result.partitions():
            yield from partition
        return
    after = 0
    while True:
        batch_query = query.where(Statement.seq > after).order_by(Statement.seq).limit(batch)
        page = connection.execute(batch_query).all()
        yield from page
        if len(page) < batch:
            return
        after = page[-1].seq


def copied_ndjson(connection: Connection, chosen: ExportFilter,
                  batch: int = BATCH) -> Iterator[tuple[str, int]]:
    """PostgreSQL: (NDJSON text, statements in it) as ``COPY (SELECT body::text …) TO STDOUT`` sends it,
    which streams as fast as the server writes (a cursor's FETCHes and per-row parsing cost several times
    more). The filter's values are bound by psycopg, never pasted into the SQL.

    COPY's text format doubles every backslash and writes a control character as ``\\n``-like escapes. A
    JSON text holds control characters only as whitespace between tokens (PostgreSQL refuses them inside
    strings), so undoing the doubling and turning those escapes into spaces gives the stored JSON back,
    one line per statement."""
    query = select(cast(Statement.body, Text)).where(*chosen.conditions()).order_by(Statement.seq)
    compiled = query.compile(dialect=connection.dialect)
    driver = connection.connection.driver_connection
    carry = b""
    decoder = codecs.getincrementaldecoder("utf-8")()  # a block may end inside a character
    blocks: list[bytes] = []
    with driver.cursor() as cursor, cursor.copy(f"COPY ({compiled}) TO STDOUT", compiled.params) as copy:
        for block in copy:  # one row a block, as PostgreSQL sends them: joined, then converted, by the batch
            blocks.append(bytes(block))
            if len(blocks) >= batch:
                carry, text, lines = _converted(carry, blocks, decoder)
                blocks = []
                yield text, lines
    carry, text, lines = _converted(carry, blocks, decoder)
    if text:
        yield text, lines
    if carry or decoder.decode(b"", final=True):
        raise ValueError("COPY ended inside an escape or a character")


def _converted(carry: bytes, blocks: list[bytes],
               decoder: codecs.IncrementalDecoder) -> tuple[bytes, str, int]:
    data = carry + b"".join(blocks)
    trailing = len(data) - len(data.rstrip(b"\\"))
    carry, data = (data[-1:], data[:-1]) if trailing % 2 else (b"", data)
    return carry, decoder.decode(_unescaped(data)), data.count(b"\n")


_COPY_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _unescaped(data: bytes) -> bytes:
    backslashes = data.count(b"\\")
    if not backslashes:  # the common case: JSON of ASCII text without escapes
        return data
    if backslashes == 2 * data.count(b"\\\\"):  # every backslash one of a doubled pair: nothing else
        return data.replace(b"\\\\", b"\\")
    placeholder = b"\x00"  # never in a JSON text: PostgreSQL refuses NUL in text
    data = data.replace(b"\\\\", placeholder)
    data = _COPY_ESCAPE.sub(b" ", data)  # a control character outside any string: JSON whitespace
    return data.replace(placeholder, b"\\")


def chunks(connection: Connection, chosen: ExportFilter, export_format: ExportFormat,
           batch: int = BATCH, progress: Any = None) -> Iterator[str]:
    """The export as text chunks (a header, then one chunk per batch); ``progress.update(n)`` is called
    with each chunk's count of statements."""
    if export_format is ExportFormat.CSV:
        buffer = io.StringIO()
        writer = spreadsheet_cells.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue()
    if export_format is ExportFormat.NDJSON and connection.dialect.name == "postgresql":
        collected: list[str] = []
        count = 0
        for text, statements in copied_ndjson(connection, chosen, batch):
            collected.append(text)
            count += statements
            if count >= batch:
                yield "".join(collected)
                if progress is not None:
                    progress.update(count)
                collected, count = [], 0
        if collected:
            yield "".join(collected)
            if progress is not None and count:
                progress.update(count)
        return
    if export_format is ExportFormat.NDJSON:
        pending: list[str] = []
        for row in rows(connection, chosen, export_format, batch):
            pending.append(_one_line(row.body_text))
            if len(pending) >= batch:
                yield "\n".join(pending) + "\n"
                if progress is not None:
                    progress.update(len(pending))
                pending = []
        if pending:
            yield "\n".join(pending) + "\n"
            if progress is not None:
                progress.update(len(pending))
        return
    batch = min(batch, CSV_BATCH)  # a CSV line is the statement and its columns: smaller batches
    buffer = io.StringIO()
    writer = spreadsheet_cells.writer(buffer, lineterminator="\n")  # one for the export, emptied per batch
    written = 0
    for row in rows(connection, chosen, export_format, batch):
        writer.writerow(_csv_cells(row))
        written += 1
        if written >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if progress is not None:
                progress.update(written)
            written = 0
    if written:
        yield buffer.getvalue()
        if progress is not None:
            progress.update(written)


def _one_line(text: str) -> str:
    """A stored JSON text on one line: a line break can only be whitespace between its tokens."""
    return text.replace("\r", " ").replace("\n", " ") if "\n" in text or "\r" in text else text


def _csv_cells(row: Any) -> list[str]:
    body = json.loads(row.body_text)
    result = body.get("result") or {}
    score = result.get("score") or {}
    return [
        row.id, _time(row.stored), _time(row.timestamp), row.actor_key, row.verb, row.object_id,
        row.course or "", row.activity_kind or "", row.registration or "", "true" if row.voided else "false",
        _cell(score.get("raw")), _cell(score.get("min")), _cell(score.get("max")), _cell(score.get("scaled")),
        _cell(result.get("success")), _cell(result.get("completion")), row.body_text,
    ]


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat().replace("+00:00", "Z")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
