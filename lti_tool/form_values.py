"""Reading numbers people type (forms, query strings, CLI arguments)."""

from __future__ import annotations


def whole_number(text: str, *, digits: int) -> int | None:
    """``text`` as a whole number when it is 1 to ``digits`` ASCII digits, else None.

    Not ``str.isdigit`` alone: ``"²"`` and ``"١"`` are digits to it, and ``int("²")`` raises ValueError."""
    if 0 < len(text) <= digits and text.isascii() and text.isdigit():
        return int(text)
    return None
