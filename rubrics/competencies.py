"""Competency frameworks (from a CASE CFPackage) that rubric criteria's tags point into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rubrics.model import Rubric


@dataclass(frozen=True, slots=True)
class CompetencyItem:
    """One competency (a CASE CFItem). ``human_coding_scheme`` is its short code, e.g. 'COM.2'."""

    identifier: str
    uri: str
    full_statement: str
    human_coding_scheme: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "uri": self.uri,
            "full_statement": self.full_statement,
            "human_coding_scheme": self.human_coding_scheme,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetencyItem:
        return cls(
            identifier=str(data["identifier"]),
            uri=str(data["uri"]),
            full_statement=str(data["full_statement"]),
            human_coding_scheme=str(data.get("human_coding_scheme") or ""),
        )


@dataclass(frozen=True, slots=True)
class CompetencyFramework:
    """A framework (a CASE CFDocument with its CFItems), in document order."""

    identifier: str
    uri: str
    title: str
    items: tuple[CompetencyItem, ...]
    creator: str = ""

    def find(self, tag: str) -> CompetencyItem | None:
        """The item a criterion tag names: by URI, identifier or human coding scheme."""
        for item in self.items:
            if tag in (item.uri, item.identifier):
                return item
            if item.human_coding_scheme and tag == item.human_coding_scheme:
                return item
        return None

    def unknown_tags(self, rubric: Rubric) -> tuple[str, ...]:
        """Tags in ``rubric`` that this framework does not define (typos, other frameworks)."""
        known = {item.uri for item in self.items} | {item.identifier for item in self.items}
        known |= {item.human_coding_scheme for item in self.items if item.human_coding_scheme}
        seen: dict[str, None] = {}
        for criterion in rubric.criteria:
            for tag in criterion.competency_tags:
                if tag not in known:
                    seen.setdefault(tag)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "uri": self.uri,
            "title": self.title,
            "creator": self.creator,
            "items": [item.to_dict() for item in self.items],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetencyFramework:
        return cls(
            identifier=str(data["identifier"]),
            uri=str(data["uri"]),
            title=str(data["title"]),
            creator=str(data.get("creator") or ""),
            items=tuple(CompetencyItem.from_dict(item) for item in data.get("items", [])),
        )
