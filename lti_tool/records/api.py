"""The xAPI statement resource for administrators' tools: ``GET /xapi/statements`` (xAPI 1.0.3, Part Three
2.1.3), read from Cadre's own store.

Callers are machines with an API token (``lti_tool.records.tokens``; the rule is
:func:`lti_tool.permissions.may_pull_statements`); a token of one platform reads that platform's statements
only. Besides xAPI's parameters, Cadre's own: ``course`` (the LMS's course id, or ``context:<Cadre id>``)
and ``activity_kind``.

Pages follow the stored order (``seq``), newest first unless ``ascending=true``. ``more`` is this query
again with a ``cursor``: the last ``seq`` sent, signed together with a digest of the query, so a cursor is
neither an offset (inserts between two pages shift nothing) nor usable with another query. Statements
stored after the first page appear at the end of an ascending listing and never inside a descending one.

``X-Experience-API-Consistent-Through`` is the request's time less :data:`CONSISTENCY_MARGIN`: a
statement's ``stored`` is set inside the transaction of its event, which may commit a moment later, so a
client polling with ``since`` should resume from this header, not from the newest ``stored`` it saw.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import ColumnElement, Select, Text, and_, cast, or_, select, true
from sqlalchemy.orm import Session, aliased

from lti_tool.db import get_session, utcnow
from lti_tool.permissions import (
    api_permission,
    may_pull_statements,
    the_api_caller,
    visible_statement_platforms,
)
from lti_tool.records.export import course_condition
from lti_tool.records.models import Statement, StatementActivity, StatementAgent
from lti_tool.records.store import agent_key, xapi_timestamp
from lti_tool.records.tokens import XAPI_VERSION, xapi_error
from lti_tool.states import ActivityKind
from xapi.query import (
    QueryError,
    StatementFormat,
    StatementQuery,
    accepted_languages,
    canonical_form,
    ids_form,
    parse_statement_query,
)

blueprint = Blueprint("xapi_statements", __name__, url_prefix="/xapi")

MAX_PAGE = 500
"""The most statements one page holds (``limit=0`` asks for this many)."""
CONSISTENCY_MARGIN = timedelta(seconds=10)
CADRE_PARAMETERS = ("course", "activity_kind", "cursor")
ACCEPTED_VERSION = re.compile(r"1\.0(\.\d+)?")
CURSOR_SALT = "cadre.xapi.statements.more"
MISSING_VERSION = ("The X-Experience-API-Version header is missing: send X-Experience-API-Version: "
                   f"{XAPI_VERSION}.")
WRONG_VERSION = "X-Experience-API-Version {sent!r} is not supported: Cadre answers xAPI 1.0.x (1.0.3)."
NOT_FOUND = "No statement {id} here (voided statements are only found by voidedStatementId)."
NOT_FOUND_VOIDED = "No voided statement {id} here."


class CursorError(QueryError):
    pass


@dataclass(frozen=True)
class StatementFilter:
    """A statement query as Cadre reads it: xAPI's parameters plus the caller's scope and Cadre's own."""

    query: StatementQuery
    platform_id: int | None
    """Only this platform's statements; None: every platform's."""
    course: str | None = None
    activity_kind: str | None = None
    after_seq: int | None = None
    """The cursor: continue after (ascending) or before (descending) this ``seq``."""

    @property
    def page_size(self) -> int:
        return min(self.query.limit or MAX_PAGE, MAX_PAGE)


def read_filter(pairs: Sequence[tuple[str, str]], platform_id: int | None, secret: str) -> StatementFilter:
    """The filter of a request's query string, or :class:`QueryError` naming the wrong parameter."""
    query = parse_statement_query(pairs, extra=CADRE_PARAMETERS, max_limit=MAX_PAGE)
    extra = query.extra
    if query.single and extra:
        raise QueryError("statementId" if query.statement_id else "voidedStatementId",
                         "cannot be combined with " + ", ".join(sorted(extra)))
    kind = extra.get("activity_kind")
    if kind is not None and kind not in {member.value for member in ActivityKind}:
        kinds = ", ".join(member.value for member in ActivityKind)
        raise QueryError("activity_kind", f"must be one of {kinds}, not {kind!r:.40}")
    course = extra.get("course")
    if course is not None and not course.strip():
        raise QueryError("course", "must name a course: the LMS's course id, or context:<Cadre id>")
    after_seq = None
    if "cursor" in extra:
        after_seq = read_cursor(extra["cursor"], pairs, secret)
    return StatementFilter(query, platform_id, course=course, activity_kind=kind, after_seq=after_seq)


# -- cursors -------------------------------------------------------------------------------------------------


def _query_digest(pairs: Iterable[tuple[str, str]]) -> str:
    """What a cursor is bound to: every parameter but the cursor itself, in a stable order."""
    kept = sorted((name, value) for name, value in pairs if name != "cursor")
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:24]


def make_cursor(last_seq: int, pairs: Iterable[tuple[str, str]], secret: str) -> str:
    content = {"after": last_seq, "query": _query_digest(pairs)}
    return URLSafeSerializer(secret, salt=CURSOR_SALT).dumps(content)


def read_cursor(cursor: str, pairs: Iterable[tuple[str, str]], secret: str) -> int:
    try:
        content = URLSafeSerializer(secret, salt=CURSOR_SALT).loads(cursor)
    except BadSignature:
        raise CursorError("cursor", "is not one Cadre made: follow the 'more' link as given") from None
    if not isinstance(content, dict) or not isinstance(content.get("after"), int):
        raise CursorError("cursor", "is not one Cadre made: follow the 'more' link as given")
    if content.get("query") != _query_digest(pairs):
        raise CursorError("cursor", "belongs to another query: change no other parameter of a 'more' link")
    return content["after"]


# -- the query -----------------------------------------------------------------------------------------------


def conditions(found: StatementFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions of a (list) query: xAPI's filters, Cadre's, and the caller's platform.

    A statement whose object is a StatementRef (Cadre's: voiding statements) meets the filters that are
    not about time or order when the statement it targets meets them (xAPI 1.0.3, 2.1.3): a sync by verb,
    agent or activity hears of the voiding of what it was sent."""
    query = found.query
    where: list[ColumnElement[bool]] = [Statement.voided.is_(False)]
    if found.platform_id is not None:
        where.append(Statement.platform_id == found.platform_id)
    matching = _matching(found, Statement)
    if matching:
        target = aliased(Statement)
        targets = select(target.id).where(*_matching(found, target))
        if found.platform_id is not None:
            targets = targets.where(target.platform_id == found.platform_id)
        where.append(or_(and_(*matching), Statement.voids_statement_id.in_(targets)))
    if query.since is not None:
        where.append(Statement.stored > query.since)
    if query.until is not None:
        where.append(Statement.stored <= query.until)
    if found.after_seq is not None:
        where.append(Statement.seq > found.after_seq if query.ascending else Statement.seq < found.after_seq)
    return where


def _matching(found: StatementFilter, table: Any) -> list[ColumnElement[bool]]:
    """The filters about what a statement says (not when it was stored), on ``table`` (the statements or
    an alias of them)."""
    query = found.query
    where: list[ColumnElement[bool]] = []
    if query.agent is not None:
        key = agent_key(query.agent)
        if query.related_agents:
            where.append(table.seq.in_(select(StatementAgent.statement_seq)
                                       .where(StatementAgent.agent_key == key)))
        else:
            # xAPI: the agent is the statement's actor or its object (an agent's object_id is its key)
            where.append((table.actor_key == key) | (table.object_id == key))
    if query.verb is not None:
        where.append(table.verb == query.verb)
    if query.activity is not None:
        if query.related_activities:
            where.append(table.seq.in_(select(StatementActivity.statement_seq)
                                       .where(StatementActivity.activity_id == query.activity)))
        else:
            where.append(table.object_id == query.activity)
    if query.registration is not None:
        where.append(table.registration == query.registration)
    if found.course is not None:
        where.append(course_condition(found.course, table))
    if found.activity_kind is not None:
        where.append(table.activity_kind == found.activity_kind)
    return where


def page_query(found: StatementFilter,
               columns: Sequence[Any] = (Statement.seq, Statement.body)) -> Select[Any]:
    order = Statement.seq.asc() if found.query.ascending else Statement.seq.desc()
    return select(*columns).where(*conditions(found)).order_by(order).limit(found.page_size + 1)


@dataclass(frozen=True)
class Page:
    texts: list[str]
    """The statements as stored: JSON texts, handed on unparsed in the exact format."""
    last_seq: int | None
    """The ``seq`` to continue after, None when this is the last page."""


def read_page(session: Session, found: StatementFilter) -> Page:
    rows = session.execute(page_query(found, (Statement.seq, cast(Statement.body, Text).label("text")))).all()
    more = len(rows) > found.page_size
    rows = rows[:found.page_size]
    return Page([row.text for row in rows], rows[-1].seq if more else None)


def single_statement(session: Session, found: StatementFilter) -> dict[str, Any] | None:
    query = found.query
    wanted_id = query.statement_id or query.voided_statement_id
    voided = query.voided_statement_id is not None
    platform = Statement.platform_id == found.platform_id if found.platform_id is not None else true()
    return session.scalar(select(Statement.body).where(Statement.id == wanted_id,
                                                       Statement.voided.is_(voided), platform))


# -- answers -------------------------------------------------------------------------------------------------


def formatted(statement: Mapping[str, Any], query: StatementQuery) -> dict[str, Any]:
    if query.format is StatementFormat.IDS:
        return ids_form(statement)
    if query.format is StatementFormat.CANONICAL:
        return canonical_form(statement, accepted_languages(request.headers.get("Accept-Language")))
    return dict(statement)


def _answer(document: Mapping[str, Any] | str, attachments: bool) -> Response:
    payload = document if isinstance(document, str) else json.dumps(document, separators=(",", ":"),
                                                                     ensure_ascii=False)
    if attachments:
        # xAPI: attachments=true answers multipart/mixed with the statements first; Cadre's statements
        # carry no attachments, so the JSON part is the only one.
        boundary = uuid.uuid4().hex
        payload = (f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{payload}\r\n--{boundary}--\r\n")
        response = Response(payload, mimetype="multipart/mixed")
        response.headers["Content-Type"] = f"multipart/mixed; boundary={boundary}"
    else:
        response = Response(payload, mimetype="application/json")
    response.headers["X-Experience-API-Version"] = XAPI_VERSION
    response.headers["X-Experience-API-Consistent-Through"] = xapi_timestamp(utcnow() - CONSISTENCY_MARGIN)
    response.headers["Cache-Control"] = "no-store"
    return response


def _more_link(pairs: Sequence[tuple[str, str]], last_seq: int, secret: str) -> str:
    kept = [(name, value) for name, value in pairs if name != "cursor"]
    return f"{request.path}?{urlencode([*kept, ('cursor', make_cursor(last_seq, kept, secret))])}"


@blueprint.get("/statements")
@api_permission(may_pull_statements)
def statements() -> Response:
    version = request.headers.get("X-Experience-API-Version")
    if version is None:
        return xapi_error(400, MISSING_VERSION)
    if not ACCEPTED_VERSION.fullmatch(version.strip()):
        return xapi_error(400, WRONG_VERSION.format(sent=version[:20]))
    pairs = list(request.args.items(multi=True))
    secret = current_app.config["SECRET_KEY"]
    try:
        found = read_filter(pairs, visible_statement_platforms(the_api_caller()), secret)
    except QueryError as error:
        return xapi_error(400, f"Parameter {error.parameter} {error.reason}.")
    session = get_session()
    if found.query.single:
        statement = single_statement(session, found)
        if statement is None:
            wanted = found.query.statement_id or found.query.voided_statement_id
            return xapi_error(404, (NOT_FOUND_VOIDED if found.query.voided_statement_id else NOT_FOUND)
                              .format(id=wanted))
        return _answer(formatted(statement, found.query), found.query.attachments)
    page = read_page(session, found)
    more = "" if page.last_seq is None else _more_link(pairs, page.last_seq, secret)
    if found.query.format is StatementFormat.EXACT:  # the stored texts, spliced without parsing them again
        return _answer('{"statements":[' + ",".join(page.texts) + '],"more":' + json.dumps(more) + "}",
                       found.query.attachments)
    statements = [formatted(json.loads(text), found.query) for text in page.texts]
    return _answer({"statements": statements, "more": more}, found.query.attachments)


def init_app(app: Flask) -> None:
    from lti_tool.records import admin_views

    app.register_blueprint(blueprint)
    admin_views.init_app(app)
