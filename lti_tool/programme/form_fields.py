"""What the programme activities' forms share: the form as typed (kept as strings, to show again beside
the messages when it is refused) and a free-text field checked for length and control characters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any


def typed_form(form: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    """What the form sent for ``fields``, every one a string (a missing field is empty)."""
    return {name: str(form.get(name, "")) for name in fields}


def plain_text(value: str, limit: int, name: str, label: str, problems: dict[str, str], *,
               required: str | None = None) -> str:
    """``value`` trimmed, with Windows line ends made plain; a problem under ``name`` when it is empty and
    ``required`` (the message to show), longer than ``limit`` or has control characters."""
    text = value.replace("\r\n", "\n").strip()
    if required and not text:
        problems[name] = required
    elif len(text) > limit:
        problems[name] = f"Keep the {label} to {limit} characters (it has {len(text)})."
    elif any(ord(char) < 32 and char not in "\n\t" for char in text):
        problems[name] = f"The {label} has control characters: type it again as plain text."
    return text


EARLIEST_SESSION = date(2000, 1, 1)


def session_date(value: str, today: date, problems: dict[str, str], name: str = "held_on") -> date:
    """The day a session was held, as typed (ISO); a problem by ``name`` when it is not a date, is in the
    future (a day's grace for time zones) or is before 2000 (then :data:`EARLIEST_SESSION` stands in)."""
    try:
        held_on = date.fromisoformat(value.strip())
    except ValueError:
        problems[name] = "Give the date the session was held, as a date (for example 2026-11-30)."
        return EARLIEST_SESSION
    if held_on > today + timedelta(days=1):
        problems[name] = "Log a session once it was held: this date is in the future."
    elif held_on < EARLIEST_SESSION:
        problems[name] = "Give a date from 2000 on."
    return held_on
