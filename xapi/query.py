"""The xAPI 1.0.3 statement resource's GET parameters, read into a :class:`StatementQuery`, and the
``ids``/``canonical`` answer formats (xAPI 1.0.3 Part Three, 2.1.3 "GET Statements").

Pure: no web framework, no database. The web layer hands :func:`parse_statement_query` the query string's
``(name, value)`` pairs; a :class:`QueryError` names the parameter and says what is wrong with it, which
the web layer answers with ``400 Bad Request``.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

STANDARD_PARAMETERS = frozenset({
    "statementId", "voidedStatementId", "agent", "verb", "activity", "registration", "related_activities",
    "related_agents", "since", "until", "limit", "format", "attachments", "ascending",
})
SINGLE_STATEMENT_COMPANIONS = frozenset({"attachments", "format"})
"""xAPI: with ``statementId`` or ``voidedStatementId`` only these may be sent (plus the version header)."""

INVERSE_FUNCTIONAL_IDENTIFIERS = ("mbox", "mbox_sha1sum", "openid", "account")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IRI_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
MAX_PARAMETER_LENGTH = 4096


class QueryError(ValueError):
    """A parameter the statement resource cannot read: ``parameter`` names it, the message says why."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class StatementFormat(StrEnum):
    IDS = "ids"
    EXACT = "exact"
    CANONICAL = "canonical"


@dataclass(frozen=True)
class StatementQuery:
    """What a GET on the statement resource asks for; ``extra`` holds the caller's own parameters
    (``course``, ``activity_kind``, ``cursor``) for the web layer to read, untouched."""

    statement_id: str | None = None
    voided_statement_id: str | None = None
    agent: Mapping[str, Any] | None = None
    """An Agent or identified Group with exactly one identifier (its key is the store's business)."""
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    """0 asks for the server's maximum."""
    format: StatementFormat = StatementFormat.EXACT
    attachments: bool = False
    ascending: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def single(self) -> bool:
        """One statement by its id (answered as the statement, not a StatementResult)."""
        return self.statement_id is not None or self.voided_statement_id is not None


def parse_statement_query(pairs: Iterable[tuple[str, str]], *, extra: Iterable[str] = (),
                          max_limit: int = 500) -> StatementQuery:
    """Read the query string's pairs; ``extra`` names further parameters the caller accepts.

    A parameter sent twice, one nobody knows, or one xAPI forbids beside ``statementId`` raises
    :class:`QueryError`, as does a value of the wrong shape.
    """
    allowed = STANDARD_PARAMETERS | set(extra)
    values: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise QueryError(name, f"is not a parameter of the statement resource (known: {known})")
        if name in values:
            raise QueryError(name, "is given more than once")
        if len(value) > MAX_PARAMETER_LENGTH:
            raise QueryError(name, f"is longer than {MAX_PARAMETER_LENGTH} characters")
        if any(ord(character) < 32 for character in value):
            raise QueryError(name, "has a control character (such as NUL), which no IRI, id or JSON value "
                                   "of a query holds")
        values[name] = value

    for single in ("statementId", "voidedStatementId"):
        if single in values:
            others = sorted(set(values) - SINGLE_STATEMENT_COMPANIONS - {single})
            if others:
                raise QueryError(single, "cannot be combined with " + ", ".join(others)
                                 + " (only attachments and format may accompany it)")

    return StatementQuery(
        statement_id=_uuid(values, "statementId"),
        voided_statement_id=_uuid(values, "voidedStatementId"),
        agent=checked_agent(_agent(values["agent"])) if "agent" in values else None,
        verb=_iri(values, "verb"),
        activity=_iri(values, "activity"),
        registration=_uuid(values, "registration"),
        related_activities=_boolean(values, "related_activities"),
        related_agents=_boolean(values, "related_agents"),
        since=_timestamp(values, "since"),
        until=_timestamp(values, "until"),
        limit=_limit(values, max_limit),
        format=_format(values),
        attachments=_boolean(values, "attachments"),
        ascending=_boolean(values, "ascending"),
        extra={name: value for name, value in values.items() if name not in STANDARD_PARAMETERS},
    )


# -- values ------------------------------------------------------------------------------------------------


def _uuid(values: Mapping[str, str], name: str) -> str | None:
    if name not in values:
        return None
    value = values[name]
    if not _UUID.fullmatch(value):
        raise QueryError(name, f"must be a UUID such as 6f1c2b1e-0c5e-4a57-9f0e-2d3c4b5a6e7f, "
                               f"not {value!r:.60}")
    return str(uuid.UUID(value))


def _iri(values: Mapping[str, str], name: str) -> str | None:
    if name not in values:
        return None
    value = values[name]
    if not _IRI_SCHEME.fullmatch(value):
        raise QueryError(name, f"must be an IRI with a scheme (such as http://adlnet.gov/expapi/verbs/"
                               f"completed), not {value!r:.60}")
    return value


def _boolean(values: Mapping[str, str], name: str) -> bool:
    value = values.get(name, "false")
    if value not in ("true", "false"):
        raise QueryError(name, f"must be true or false, not {value!r:.20}")
    return value == "true"


def _timestamp(values: Mapping[str, str], name: str) -> datetime | None:
    if name not in values:
        return None
    value = values[name]
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(name, f"must be an ISO 8601 timestamp such as 2026-12-01T09:30:00Z, "
                               f"not {value!r:.40}") from None
    if moment.tzinfo is None:
        raise QueryError(name, "must give its time zone (Z or an offset such as +01:00)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first moment Python can hold
        raise QueryError(name, f"is out of range, not {value!r:.40}") from None


def _limit(values: Mapping[str, str], max_limit: int) -> int:
    value = values.get("limit", "0")
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise QueryError("limit", f"must be a whole number of 0 or more (0 asks for the most the server "
                                  f"sends, {max_limit}), not {value!r:.20}")
    return int(value)


def _format(values: Mapping[str, str]) -> StatementFormat:
    value = values.get("format", "exact")
    try:
        return StatementFormat(value)
    except ValueError:
        raise QueryError("format", f"must be ids, exact or canonical, not {value!r:.20}") from None


def _agent(value: str) -> dict[str, Any]:
    try:
        agent = json.loads(value)
    except json.JSONDecodeError as error:
        raise QueryError("agent", f"must be an Agent or identified Group as JSON ({error.msg} at character "
                                  f"{error.pos})") from None
    except RecursionError:  # "[[[[…" thousands deep, within the length allowed
        raise QueryError("agent", "must be an Agent or identified Group as JSON, not nested that deep") \
            from None
    if not isinstance(agent, dict):
        raise QueryError("agent", "must be a JSON object (an Agent or an identified Group)")
    return agent


# -- agents ------------------------------------------------------------------------------------------------


def checked_agent(agent: dict[str, Any]) -> dict[str, Any]:
    """``agent`` if it is an Agent or identified Group with exactly one inverse functional identifier of
    the right shape (xAPI 1.0.3, 2.4.2.1), else :class:`QueryError` for the ``agent`` parameter."""
    object_type = agent.get("objectType", "Agent")
    if object_type not in ("Agent", "Group"):
        raise QueryError("agent", f"objectType must be Agent or Group, not {object_type!r:.20}")
    present = [name for name in INVERSE_FUNCTIONAL_IDENTIFIERS if name in agent]
    if len(present) != 1:
        raise QueryError("agent", "must have exactly one of mbox, mbox_sha1sum, openid or account"
                                  + (f" (it has {', '.join(present)})" if present else ""))
    name = present[0]
    value = agent[name]
    if name == "account":
        if not isinstance(value, dict) or not isinstance(value.get("homePage"), str) \
                or not isinstance(value.get("name"), str) or not value["name"]:
            raise QueryError("agent", "account must have a homePage IRL and a name")
        if not _IRI_SCHEME.fullmatch(value["homePage"]):
            raise QueryError("agent", "account.homePage must be an IRL such as https://lms.example.edu")
        return agent
    if not isinstance(value, str) or not value:
        raise QueryError("agent", f"{name} must be a string")
    if name == "mbox" and not (value.startswith("mailto:") and "@" in value):
        raise QueryError("agent", "mbox must be a mailto IRI such as mailto:ada@example.com")
    if name == "mbox_sha1sum" and not _SHA1.fullmatch(value.lower()):
        raise QueryError("agent", "mbox_sha1sum must be 40 hexadecimal digits")
    if name == "openid" and not _IRI_SCHEME.fullmatch(value):
        raise QueryError("agent", "openid must be a URI")
    return agent


# -- answer formats ----------------------------------------------------------------------------------------


def ids_form(statement: Mapping[str, Any]) -> dict[str, Any]:
    """xAPI ``format=ids``: agents and groups keep only their identifiers (an anonymous group its members'),
    activities only their id, the verb only its id."""
    reduced = copy.deepcopy(dict(statement))
    _reduce_statement(reduced)
    return reduced


def _reduce_statement(statement: dict[str, Any]) -> None:
    for name in ("actor", "authority"):
        if isinstance(statement.get(name), dict):
            statement[name] = _ids_agent(statement[name])
    if isinstance(statement.get("verb"), dict):
        statement["verb"] = {"id": statement["verb"].get("id")}
    target = statement.get("object")
    if isinstance(target, dict):
        kind = target.get("objectType", "Activity")
        if kind == "Activity":
            statement["object"] = {"objectType": "Activity", "id": target.get("id")}
        elif kind in ("Agent", "Group"):
            statement["object"] = _ids_agent(target)
        elif kind == "SubStatement":
            _reduce_statement(target)
    context = statement.get("context")
    if isinstance(context, dict):
        for name in ("instructor", "team"):
            if isinstance(context.get(name), dict):
                context[name] = _ids_agent(context[name])
        activities = context.get("contextActivities")
        if isinstance(activities, dict):
            for role, listed in activities.items():
                items = listed if isinstance(listed, list) else [listed]
                activities[role] = [{"id": item.get("id"), "objectType": "Activity"}
                                    for item in items if isinstance(item, dict)]


def _ids_agent(agent: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {"objectType": agent.get("objectType", "Agent")}
    identifiers = {name: agent[name] for name in INVERSE_FUNCTIONAL_IDENTIFIERS if name in agent}
    kept.update(identifiers)
    if kept["objectType"] == "Group" and not identifiers:
        members = agent.get("member", [])
        kept["member"] = [_ids_agent(member) for member in members if isinstance(member, dict)]
    return kept


def canonical_form(statement: Mapping[str, Any], languages: Sequence[str]) -> dict[str, Any]:
    """xAPI ``format=canonical``: every language map keeps one entry, the first of ``languages`` (the
    caller's Accept-Language, best first) it has, else its first entry."""
    kept = copy.deepcopy(dict(statement))
    _canonical(kept, [language.lower() for language in languages])
    return kept


def _canonical(node: Any, languages: list[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _canonical(item, languages)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in ("display", "name", "description") and _is_language_map(value):
            node[key] = _one_language(value, languages)
        elif key in ("choices", "scale", "source", "target", "steps"):
            for item in value if isinstance(value, list) else []:
                if isinstance(item, dict) and _is_language_map(item.get("description")):
                    item["description"] = _one_language(item["description"], languages)
        else:
            _canonical(value, languages)


def _is_language_map(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(text, str) for text in value.values())


def _one_language(language_map: dict[str, str], languages: list[str]) -> dict[str, str]:
    by_lower = {tag.lower(): tag for tag in language_map}
    for wanted in languages:
        if wanted in by_lower:
            return {by_lower[wanted]: language_map[by_lower[wanted]]}
        for lower, tag in by_lower.items():  # "en" asked, "en-GB" given (and the other way round)
            if lower.split("-")[0] == wanted.split("-")[0]:
                return {tag: language_map[tag]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def accepted_languages(header: str | None) -> list[str]:
    """An Accept-Language header's tags, best first (``*`` and q=0 dropped)."""
    if not header:
        return []
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(weighted)]
