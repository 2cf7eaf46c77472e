"""Competency frameworks (from a CASE CFPackage) that rubric criteria's tags point into.

A framework keeps what its publisher wrote that Cadre shows or passes on: each item's type, language,
education levels and own ``lastChangeDateTime``, and the associations (the hierarchy, ``isChildOf``, and
the links to other items and frameworks), so that exporting a framework gives back what was imported.
``to_dict`` / ``from_dict`` are the stored form (times as ISO 8601 text in UTC); ``from_dict`` reads
frameworks stored before these fields existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rubrics.model import Rubric


def _time_text(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # A time without a zone is UTC here, as the CASE importer reads it (never the server's local time).
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _time(text: object) -> datetime | None:
    return datetime.fromisoformat(str(text)) if text else None


@dataclass(frozen=True, slots=True)
class CaseLink:
    """A CASE link (``LinkURI`` / ``LinkGenURI``): what an association or an item type points at."""

    title: str
    identifier: str
    uri: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "identifier": self.identifier, "uri": self.uri}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CaseLink:
        return cls(title=str(data["title"]), identifier=str(data["identifier"]), uri=str(data["uri"]))


@dataclass(frozen=True, slots=True)
class CompetencyItem:
    """One competency (a CASE CFItem). ``human_coding_scheme`` is its short code, e.g. 'COM.2'.

    ``item_type`` is the CASE ``CFItemType`` label ("Standard", "Cluster" ...) and ``item_type_uri`` the
    link to its definition; ``education_levels`` are CASE ``educationLevel`` values ("06", "KG");
    ``last_change`` is the item's own ``lastChangeDateTime`` (None when the file gave none).
    """

    identifier: str
    uri: str
    full_statement: str
    human_coding_scheme: str = ""
    item_type: str = ""
    item_type_uri: CaseLink | None = None
    language: str = ""
    education_levels: tuple[str, ...] = ()
    last_change: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "uri": self.uri,
            "full_statement": self.full_statement,
            "human_coding_scheme": self.human_coding_scheme,
            "item_type": self.item_type,
            "item_type_uri": self.item_type_uri.to_dict() if self.item_type_uri else None,
            "language": self.language,
            "education_levels": list(self.education_levels),
            "last_change": _time_text(self.last_change),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetencyItem:
        type_uri = data.get("item_type_uri")
        return cls(
            identifier=str(data["identifier"]),
            uri=str(data["uri"]),
            full_statement=str(data["full_statement"]),
            human_coding_scheme=str(data.get("human_coding_scheme") or ""),
            item_type=str(data.get("item_type") or ""),
            item_type_uri=CaseLink.from_dict(type_uri) if type_uri else None,
            language=str(data.get("language") or ""),
            education_levels=tuple(str(level) for level in data.get("education_levels") or ()),
            last_change=_time(data.get("last_change")),
        )


@dataclass(frozen=True, slots=True)
class CompetencyAssociation:
    """One CASE CFAssociation: ``origin`` ``association_type`` ``destination``, e.g. an item
    ``isChildOf`` its cluster (or of the document, for the top of the tree). ``sequence_number`` orders
    the children of one parent."""

    identifier: str
    uri: str
    association_type: str
    origin: CaseLink
    destination: CaseLink
    sequence_number: int | None = None
    last_change: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "uri": self.uri,
            "association_type": self.association_type,
            "origin": self.origin.to_dict(),
            "destination": self.destination.to_dict(),
            "sequence_number": self.sequence_number,
            "last_change": _time_text(self.last_change),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetencyAssociation:
        sequence = data.get("sequence_number")
        return cls(
            identifier=str(data["identifier"]),
            uri=str(data["uri"]),
            association_type=str(data["association_type"]),
            origin=CaseLink.from_dict(data["origin"]),
            destination=CaseLink.from_dict(data["destination"]),
            sequence_number=int(sequence) if sequence is not None else None,
            last_change=_time(data.get("last_change")),
        )


@dataclass(frozen=True, slots=True)
class CompetencyFramework:
    """A framework (a CASE CFDocument with its CFItems and CFAssociations), in document order.

    ``language`` and ``last_change`` are the CFDocument's own.
    """

    identifier: str
    uri: str
    title: str
    items: tuple[CompetencyItem, ...]
    creator: str = ""
    associations: tuple[CompetencyAssociation, ...] = ()
    language: str = ""
    last_change: datetime | None = None

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
            "language": self.language,
            "last_change": _time_text(self.last_change),
            "items": [item.to_dict() for item in self.items],
            "associations": [association.to_dict() for association in self.associations],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompetencyFramework:
        return cls(
            identifier=str(data["identifier"]),
            uri=str(data["uri"]),
            title=str(data["title"]),
            creator=str(data.get("creator") or ""),
            items=tuple(CompetencyItem.from_dict(item) for item in data.get("items", [])),
            associations=tuple(
                CompetencyAssociation.from_dict(association) for association in data.get("associations") or ()
            ),
            language=str(data.get("language") or ""),
            last_change=_time(data.get("last_change")),
        )
