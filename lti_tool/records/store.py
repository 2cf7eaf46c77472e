"""Writing xAPI statements to Cadre's own store, in the transaction of the event they record.

For feature authors
-------------------
A feature that does something worth a learning record builds the statement with :mod:`xapi` (pure
builders from plain data; the statement id is deterministic, a uuid5 of the event's identity) and hands it
to :func:`record` **in the same session, before the unit of work commits**::

    from lti_tool.records.store import record
    from xapi import statements

    statement = statements.submitted(...)           # a dict, with its deterministic "id"
    record(session, statement, platform_id=course.platform_id, context_id=course.id,
           activity_kind=activity.kind, person_id=learner.id)

What happens then:

* The statement is validated (:func:`xapi.validation.validate`); an invalid one raises
  :class:`InvalidStatement` and nothing is stored (a programming error: the builders make valid ones).
* ``stored`` and ``authority`` (Cadre itself) are set on it; a missing ``timestamp`` becomes ``stored``.
* It is inserted into ``statements`` with the columns the xAPI query filters use, its related activities
  and agents, and one ``statement_deliveries`` row for each LRS whose filters (courses, verbs) take it,
  paused ones included (they catch up when resumed). All of it commits or rolls back with the event: a
  request answered with an error page stores no statement, and none leaves.
* The same statement id again is ignored (a retried event, a double click): :func:`record` answers False.
* A voiding statement (verb ``http://adlnet.gov/expapi/verbs/voided``, object a ``StatementRef``) marks its
  target ``voided``; it is delivered like any other, so every LRS hears of it. History is never edited:
  answer a withdrawn or superseded thing with a voiding statement.
* After the commit the in-process delivery worker is woken; ``cadre worker`` finds the rows at its next poll.

Arguments say what the statement is about, for Cadre's own filters and for erasure: ``platform_id`` and
``context_id`` (the course, None outside one), ``activity_kind`` (:class:`lti_tool.states.ActivityKind`
value, None when not about an activity) and ``person_id``: the :class:`~lti_tool.models.User` whose personal
data it holds (the learner it is about; for a manager's action on a learner, the learner).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Insert, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.db import after_commit, utcnow
from lti_tool.models import Context
from lti_tool.outbox.messages import wake_workers
from lti_tool.records import lrs as lrs_registry
from lti_tool.records.models import Statement, StatementActivity, StatementAgent, StatementDelivery
from lti_tool.states import DeliveryStatus

# InvalidStatement is xapi.validation's: one exception for every statement Cadre refuses.
from xapi.validation import InvalidStatement, validate

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
CONTEXT_ACTIVITY_ROLES = ("parent", "grouping", "category", "other")
MAX_KEY_LENGTH = 512
_WAKE_REGISTERED = "cadre.records.wake_registered"
statements_table = Statement.__table__


def record(session: Session, statement: Mapping[str, Any], *, platform_id: int | None, context_id: int | None,
           activity_kind: str | None, person_id: int | None) -> bool:
    """Store ``statement`` in ``session``'s transaction and queue it for every LRS that takes it; True if it
    is new, False if a statement with its id was already stored (nothing changes then). See the module."""
    body = validated(statement)
    moment = utcnow()
    # To the millisecond, as the body's ``stored`` says it: a client that asks ``since`` the last
    # ``stored`` it saw must not get that statement again (the column held microseconds).
    now = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    body["stored"] = xapi_timestamp(now)
    body["authority"] = cadre_authority()
    body.setdefault("timestamp", body["stored"])
    voided_id = voided_statement_id(body)
    values = {
        "id": body["id"], "platform_id": platform_id, "context_id": context_id,
        "activity_kind": activity_kind,
        "verb": body["verb"]["id"], "object_id": object_key(body["object"])[:2048],
        "actor_key": agent_key(body["actor"]), "person_id": person_id,
        "registration": (body.get("context") or {}).get("registration"),
        "timestamp": parse_timestamp(body["timestamp"]), "stored": now, "voided": False,
        "voids_statement_id": voided_id, "body": body,
    }
    seq = session.execute(_insert_ignoring_duplicates(session.get_bind().dialect.name), values).scalar()
    if seq is None:
        return False
    activities = [{"statement_seq": seq, "activity_id": activity_id[:2048], "role": role}
                  for activity_id, role in sorted(related_activities(body))]
    if activities:  # a voiding statement's object is a StatementRef: no activity (an empty list would
        session.execute(insert(StatementActivity), activities)  # insert one row of defaults)
    session.execute(insert(StatementAgent), agent_rows(seq, body))
    if voided_id is not None:
        # A voiding statement cannot itself be voided (xAPI 1.0.3, 2.3.2): such a target stays as it is.
        session.execute(
            update(Statement).where(Statement.id == voided_id, Statement.verb != VOIDED_VERB)
            .values(voided=True).execution_options(synchronize_session=False)
        )
    candidates = lrs_registry.stores_for_recording(session)
    # The course's keys cost a query: only asked for when an LRS filters by course.
    course_keys = _course_keys(session, context_id) if any(store.courses for store in candidates) else ()
    lrs_ids = {store.id for store in candidates if store.takes(verb=values["verb"], context=course_keys)}
    if voided_id is not None:
        # Whatever its filters say (a verb filter without "voided", say), an LRS that has the target hears
        # that it is voided: xAPI asks LRSs to honour voiding, and only what was sent can be honoured.
        lrs_ids |= lrs_that_have(session, voided_id)
    _deliver(session, seq, lrs_ids, now)
    return True


def lrs_that_have(session: Session, statement_id: str) -> set[int]:
    """The LRSs a statement was, or is to be, delivered to."""
    return set(session.scalars(
        select(StatementDelivery.lrs_id).join(Statement, Statement.seq == StatementDelivery.statement_seq)
        .where(Statement.id == statement_id)
    ))


def forward_voiding(session: Session, *, voiding_id: str, target_id: str) -> None:
    """Queue the stored voiding statement ``voiding_id`` for every LRS that has its target and not it yet
    (a voiding recorded before one of them had the target: erasure asks again)."""
    voiding_seq = session.scalar(select(Statement.seq).where(Statement.id == voiding_id))
    if voiding_seq is not None:
        _deliver(session, voiding_seq, lrs_that_have(session, target_id) - lrs_that_have(session, voiding_id),
                 utcnow())


def _deliver(session: Session, seq: int, lrs_ids: set[int], now: datetime) -> None:
    if lrs_ids:
        session.execute(insert(StatementDelivery), [
            {"statement_seq": seq, "lrs_id": lrs_id, "status": DeliveryStatus.PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now}
            for lrs_id in sorted(lrs_ids)
        ])
        _wake_after_commit(session)


# -- validation ----------------------------------------------------------------------------------------------


def validated(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``statement`` if Cadre may store it; :class:`InvalidStatement` with the reason if not.

    Cadre's own rules on top of xAPI's: an ``id`` (deterministic, so a retried event is one statement) and
    no ``stored`` or ``authority`` of the caller's (the store sets them)."""
    if not isinstance(statement, Mapping):
        raise InvalidStatement("a statement is a JSON object")
    body = dict(statement)
    for owned in ("stored", "authority"):
        if owned in body:
            raise InvalidStatement(f"'{owned}' is set by Cadre's store, not by the statement's builder")
    statement_id = body.get("id")
    if not isinstance(statement_id, str) or not statement_id:
        raise InvalidStatement("a statement needs its deterministic 'id' (uuid5 of the event)")
    try:
        validate(body)
    except InvalidStatement:
        raise
    except ValueError as error:  # a validator's own ValueError, reported the same way
        raise InvalidStatement(_first_lines(str(error))) from None
    body["id"] = statement_id.lower()
    return body


def _first_lines(text: str, lines: int = 6) -> str:
    return "\n".join(text.splitlines()[:lines])


# -- what the store fills in ---------------------------------------------------------------------------------


def xapi_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, the precision LRSs keep (xAPI 1.0.3, 4.5)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InvalidStatement(f"the timestamp {value!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise InvalidStatement("the timestamp needs a time zone (xAPI: UTC offset or Z)")
    return moment.astimezone(UTC)


def cadre_authority() -> dict[str, Any]:
    """Cadre as the authority of the statements it stores: an account on its public URL."""
    from lti_tool.settings import get_settings

    return {"objectType": "Agent", "name": "Cadre",
            "account": {"homePage": get_settings().public_url, "name": "cadre"}}


def voided_statement_id(body: Mapping[str, Any]) -> str | None:
    target = body.get("object") or {}
    if body["verb"].get("id") == VOIDED_VERB and target.get("objectType") == "StatementRef":
        return str(target["id"]).lower()
    return None


# -- keys the queries use ------------------------------------------------------------------------------------


def agent_key(agent: Mapping[str, Any]) -> str:
    """One string per inverse functional identifier: ``account:<homePage>|<name>``, ``mbox:mailto:…``,
    ``mbox_sha1sum:<hex>`` or ``openid:<uri>``; an anonymous group is ``group:`` and a digest of its members'
    keys. Two agents are the same person in xAPI's sense exactly when their keys are equal."""
    account = agent.get("account")
    if isinstance(account, Mapping):
        key = f"account:{account.get('homePage', '')}|{account.get('name', '')}"
    elif agent.get("mbox"):
        key = f"mbox:{str(agent['mbox']).lower()}"
    elif agent.get("mbox_sha1sum"):
        key = f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    elif agent.get("openid"):
        key = f"openid:{agent['openid']}"
    else:
        members = sorted(agent_key(member) for member in agent.get("member") or [])
        key = "group:" + hashlib.sha256("\n".join(members).encode()).hexdigest()
    if len(key) > MAX_KEY_LENGTH:  # kept whole where it fits; a longer one is still one key per agent
        key = key[:MAX_KEY_LENGTH - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()
    return key


def object_key(target: Mapping[str, Any]) -> str:
    if target.get("objectType") in {"Agent", "Group"}:
        return agent_key(target)
    if target.get("objectType") == "SubStatement":
        return object_key(target.get("object") or {})
    return str(target.get("id", ""))


def related_activities(body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(activity id, role) for the object and the context activities, a sub-statement's included."""
    found: set[tuple[str, str]] = set()
    for part in _with_sub_statement(body):
        target = part.get("object") or {}
        if target.get("objectType", "Activity") == "Activity" and target.get("id"):
            found.add((str(target["id"]), "object"))
        activities = (part.get("context") or {}).get("contextActivities") or {}
        for role in CONTEXT_ACTIVITY_ROLES:
            value = activities.get(role) or []
            for activity in [value] if isinstance(value, Mapping) else value:
                if activity.get("id"):
                    found.add((str(activity["id"]), role))
    return found


def related_agents(body: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(agent key, role) for the actor, an agent object, the instructor, the team and the authority, a
    sub-statement's included, and the members of each of them that is a group, in the group's role
    (xAPI's ``related_agents``; erasure finds a person in someone else's team by these)."""
    found: set[tuple[str, str]] = set()
    for part in _with_sub_statement(body):
        if part.get("actor"):
            found |= _agent_and_members(part["actor"], "actor")
        target = part.get("object") or {}
        if target.get("objectType") in {"Agent", "Group"}:
            found |= _agent_and_members(target, "object")
        context = part.get("context") or {}
        for role in ("instructor", "team"):
            if context.get(role):
                found |= _agent_and_members(context[role], role)
    if body.get("authority"):
        found |= _agent_and_members(body["authority"], "authority")
    return found


def agent_rows(seq: int, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``statement_agents`` rows of the statement ``seq`` whose body is ``body``."""
    return [{"statement_seq": seq, "agent_key": key, "role": role}
            for key, role in sorted(related_agents(body))]


def _agent_and_members(agent: Mapping[str, Any], role: str) -> set[tuple[str, str]]:
    # A group's members are related agents too: an anonymous group's own key is only a digest of theirs.
    members = agent.get("member") if agent.get("objectType") == "Group" else None
    return {(agent_key(agent), role)} | {(agent_key(member), role) for member in members or []
                                         if isinstance(member, Mapping)}


def _with_sub_statement(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield body
    target = body.get("object") or {}
    if target.get("objectType") == "SubStatement":
        yield target


# -- internals -----------------------------------------------------------------------------------------------


def _course_keys(session: Session, context_id: int | None) -> tuple[str, ...]:
    """What an LRS's course filter may name this course by: ``context:<Cadre id>`` or the LMS's course id."""
    if context_id is None:
        return ()
    lms_id = session.scalar(select(Context.context_id).where(Context.id == context_id))
    return (f"context:{context_id}",) + ((lms_id,) if lms_id else ())


@functools.cache
def _insert_ignoring_duplicates(dialect: str) -> Insert:
    """Compiled once per dialect; RETURNING tells a new statement from a duplicate id."""
    if dialect == "postgresql":
        statement = postgresql.insert(statements_table).on_conflict_do_nothing(index_elements=["id"])
    elif dialect == "sqlite":
        statement = sqlite.insert(statements_table).on_conflict_do_nothing(index_elements=["id"])
    else:  # pragma: no cover - Cadre runs on the two above
        statement = insert(statements_table)
    return statement.returning(statements_table.c.seq)


def _wake_after_commit(session: Session) -> None:
    # One wake-up per transaction, however many statements it records (the flag goes with the transaction).
    transaction = session.get_transaction()
    if session.info.get(_WAKE_REGISTERED) is not transaction:
        session.info[_WAKE_REGISTERED] = transaction
        after_commit(session, wake_workers)
