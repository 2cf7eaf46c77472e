"""Validation of a statement before Cadre stores it: ralph's xAPI models, then Cadre's own rules.

Ralph's ``BaseXapiStatement`` checks the xAPI 1.0.3 data model (IRIs, language tags, UUIDs, agents' one
identifier, score bounds, no empty values outside extensions, platform only on an Activity). Cadre adds
what its store relies on: an id, a timestamp (when given) with a time zone, and a verb and extensions from its
profile (a typo in an IRI would otherwise reach every LRS and stay there: statements are never edited).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement

from xapi.vocabulary import PROFILE_IRI, Extension, Verb

KNOWN_VERBS = frozenset(concept.iri for concept in Verb.ALL)
KNOWN_EXTENSIONS = frozenset(concept.iri for concept in Extension.ALL)
MAX_REPORTED_PROBLEMS = 3
ZONE_OFFSET = re.compile(r"[+-]\d\d:?\d\d$")
UNION_NOISE = frozenset({"missing", "literal_error", "extra_forbidden"})


class InvalidStatement(ValueError):
    """A statement Cadre refuses to store; the message names each problem's place in the statement."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


def _place(location: tuple[Any, ...]) -> str:
    """``('context', 'instructor', 'account', 'homePage')`` → ``context.instructor.account.homePage``.

    Pydantic also names the union member it tried (``BaseXapiAgentWithAccount``, ``function-after[…]``);
    those are the model's insides, not places in the statement, so they are left out.
    """
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part[:1].isupper() or "[" in part or part in {"str", "int", "float", "bool", "list", "dict"}:
            continue
        else:
            parts.append(f".{part}" if parts else part)
    return "".join(parts) or "statement"


def _readable(error: ValidationError) -> tuple[str, ...]:
    """One line per place. A union (an agent's four kinds of identifier) reports every member's failure;
    the member that got furthest into the statement is the one the author meant, so another member's
    "field required" or "objectType should be 'Group'" beside a real error of the same object is left out."""
    details = [(_place(detail["loc"]), detail) for detail in error.errors()]
    deeper = {place for place, detail in details if detail["type"] not in UNION_NOISE}
    by_place: dict[str, str] = {}
    for place, detail in sorted(details, key=lambda item: -len(item[1]["loc"])):
        parent = place.rpartition(".")[0]
        if detail["type"] in UNION_NOISE and any(p.startswith(parent + ".") for p in deeper):
            continue
        if not any(known.startswith(place) for known in by_place):
            by_place[place] = detail["msg"]
    return tuple(f"{place}: {message}" for place, message in by_place.items())


def _cadre_problems(statement: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not statement.get("id"):
        problems.append("id: Cadre stores only statements with an id (deterministic: see xapi.statements)")
    stamp = statement.get("timestamp")  # absent: the store sets it to ``stored``, as an LRS would
    if stamp is not None and not _has_time_zone(stamp):
        problems.append(f"timestamp: must be ISO 8601 with a time zone (UTC, ending in Z), not {stamp!r}")
    verb_iri = (statement.get("verb") or {}).get("id")
    if verb_iri not in KNOWN_VERBS:
        problems.append(f"verb.id: {verb_iri!r} is not a verb of Cadre's profile ({PROFILE_IRI})")
    for place, extensions in _extension_maps(statement):
        for iri in extensions:
            if iri.startswith(PROFILE_IRI) and iri not in KNOWN_EXTENSIONS:
                problems.append(f"{place}: {iri!r} is not an extension of Cadre's profile")
    return problems


def _has_time_zone(stamp: object) -> bool:
    """``…Z`` or ``…+01:00``: ralph accepts a timestamp without zone, which an LRS would read as its own."""
    return isinstance(stamp, str) and (stamp.endswith("Z") or ZONE_OFFSET.search(stamp) is not None)


def _extension_maps(statement: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    maps = []
    for place, holder in (
        ("context.extensions", statement.get("context") or {}),
        ("result.extensions", statement.get("result") or {}),
        ("object.definition.extensions", (statement.get("object") or {}).get("definition") or {}),
    ):
        extensions = holder.get("extensions") if isinstance(holder, dict) else None
        if isinstance(extensions, dict):
            maps.append((place, extensions))
    return maps


def _refuse(problems: tuple[str, ...]) -> InvalidStatement:
    shown = problems[:MAX_REPORTED_PROBLEMS]
    more = len(problems) - len(shown)
    message = "invalid xAPI statement: " + "; ".join(shown) + (f" (and {more} more)" if more > 0 else "")
    return InvalidStatement(message, problems)


def validate(statement: dict[str, Any]) -> dict[str, Any]:
    """Answer ``statement`` itself if Cadre may store it, else raise :class:`InvalidStatement`.

    The statement is returned as given (not ralph's re-serialisation of it), so what is stored is exactly
    what was built and validated.
    """
    if not isinstance(statement, dict):
        kind = type(statement).__name__
        raise InvalidStatement(f"invalid xAPI statement: a statement is a JSON object, not {kind}")
    try:
        BaseXapiStatement.model_validate(statement)
    except ValidationError as error:
        raise _refuse(_readable(error)) from None
    except ValueError as error:  # rfc3987 and langcodes raise plain ValueErrors from inside validators
        raise _refuse((str(error),)) from None
    problems = _cadre_problems(statement)
    if problems:
        raise _refuse(tuple(problems))
    return statement
