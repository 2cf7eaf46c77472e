"""A ``Server-Timing`` header on every answer of a benchmark app, and what the benchmark reads from it.

Only the launch benchmark's apps install it (:mod:`.cadre_app`, :mod:`.stock_tool`); no deployment does.
``app`` is the whole request in the worker (until the status line: the view, every hook, the commit);
with :func:`count_sql`, ``sql`` is the time spent in the database driver (``desc``: number of statements
and their kinds, e.g. ``5 INSERT:2 SELECT:3``) and ``commit`` the unit of work's flush + COMMIT.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker


@dataclass
class RequestCost:
    statements: Counter[str] = field(default_factory=Counter)
    sql_seconds: float = 0.0
    commit_seconds: float = 0.0
    commit_started: float | None = None

    def header(self, total_seconds: float) -> str:
        if not _sql_counted:
            return f"app;dur={total_seconds * 1000:.3f}"
        kinds = " ".join(f"{verb}:{count}" for verb, count in sorted(self.statements.items()))
        description = f"{sum(self.statements.values())} {kinds}".strip()
        return (f"app;dur={total_seconds * 1000:.3f}, "
                f'sql;dur={self.sql_seconds * 1000:.3f};desc="{description}", '
                f"commit;dur={self.commit_seconds * 1000:.3f}")


_current = threading.local()  # gthread workers serve each request on one thread from start to end
_sql_counted = False


def _cost() -> RequestCost | None:
    return getattr(_current, "cost", None)


def add_server_timing(app: Flask) -> None:
    wsgi_app = app.wsgi_app

    def timed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        cost = _current.cost = RequestCost()
        started = time.perf_counter()

        def start_with_timing(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            headers.append(("Server-Timing", cost.header(time.perf_counter() - started)))
            return start_response(status, headers, *rest)

        return wsgi_app(environ, start_with_timing)

    app.wsgi_app = timed  # type: ignore[method-assign]


def count_sql(engine: Engine, sessions: sessionmaker[Session]) -> None:
    global _sql_counted  # noqa: PLW0603 - one app per benchmark process
    _sql_counted = True

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _finished(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        cost = _cost()
        started = conn.info.pop("bench_started", None)
        if cost is not None and started is not None:
            cost.sql_seconds += time.perf_counter() - started
            cost.statements[statement.lstrip().split(None, 1)[0].upper()] += 1

    @event.listens_for(sessions, "before_commit")
    def _commit_started(session: Session) -> None:
        if (cost := _cost()) is not None:
            cost.commit_started = time.perf_counter()

    @event.listens_for(sessions, "after_commit")
    def _commit_finished(session: Session) -> None:
        cost = _cost()
        if cost is not None and cost.commit_started is not None:
            cost.commit_seconds += time.perf_counter() - cost.commit_started
            cost.commit_started = None


@dataclass(frozen=True)
class ServerTiming:
    app_ms: float
    sql_ms: float | None = None
    statements: int | None = None
    statement_kinds: str = ""
    commit_ms: float | None = None


ENTRY = re.compile(r'(\w+)((?:;\w+=(?:"[^"]*"|[^,;]*))*)')
PARAM = re.compile(r';(\w+)=("[^"]*"|[^,;]*)')


def parse_server_timing(value: str | None) -> ServerTiming | None:
    if not value:
        return None
    metrics: dict[str, dict[str, str]] = {}
    for match in ENTRY.finditer(value):
        metrics[match.group(1)] = {name: raw.strip('"') for name, raw in PARAM.findall(match.group(2))}
    if "app" not in metrics:
        return None
    sql = metrics.get("sql")
    count, _, kinds = (sql or {}).get("desc", "").partition(" ")
    return ServerTiming(
        app_ms=float(metrics["app"]["dur"]),
        sql_ms=float(sql["dur"]) if sql else None,
        statements=int(count) if count.isdigit() else None,
        statement_kinds=kinds,
        commit_ms=float(metrics["commit"]["dur"]) if "commit" in metrics else None,
    )
