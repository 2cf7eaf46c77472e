"""Identifiers made from titles ("Active listening" -> "active-listening"), unique among their siblings.

Used wherever rows arrive without identifiers: new rows of the edit form, Canvas CSV imports. Making
``n`` identifiers costs O(n) whatever the titles: each base remembers the next number to try, so 22,000
rows titled "a" do not each count up through "a-2" ... "a-21999" again (which held a worker 36 s).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(title: str, limit: int) -> str:
    """Lower-case ASCII letters and digits joined by "-", at most ``limit`` long; accents are dropped
    ("Qualité" -> "qualite"); "" when the title has nothing usable."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    return NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:limit].rstrip("-")


class UniqueSlugs:
    """Hands out identifiers unique among ``taken`` and among those it handed out before."""

    def __init__(self, taken: Iterable[str] = (), *, limit: int = 100) -> None:
        self.taken = set(taken)
        self.limit = limit
        self._next_number: dict[str, int] = {}

    def make(self, title: str, fallback: str) -> str:
        """``title``'s slug (``fallback`` when it has none); a repeat gets "-2", "-3" ..."""
        base = slug(title, self.limit) or fallback
        candidate = base
        number = self._next_number.get(base, 2)
        while candidate in self.taken:
            suffix = f"-{number}"
            candidate = base[: self.limit - len(suffix)].rstrip("-") + suffix
            number += 1
        self._next_number[base] = number
        if candidate:
            self.taken.add(candidate)
        return candidate
