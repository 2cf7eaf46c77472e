"""The rubric value objects.

Everything here is immutable: a rubric version that scored an assessment must read the same
forever, so nothing can change it in place. Build these through :func:`rubrics.parse_rubric`
(or ``Rubric.from_dict``), which validates; the constructors trust their arguments so that
code which already holds validated values (copies, imports) pays nothing twice.

``to_dict`` gives the canonical plain form (JSON-safe: numbers as exact decimal text) that
``from_dict`` reads back; a persistence layer can store either the dict or its parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rubrics.exact_numbers import format_decimal


class ScoringMode(StrEnum):
    """How a completed rubric turns into a result."""

    POINTS = "points"
    """Total = sum of (points x weight); shown as points and as a percentage of the maximum."""
    WEIGHTED_PERCENTAGE = "weighted_percentage"
    """Each criterion's share of its own maximum, weighted by its share of all weights; out of 100."""
    LEVELS_ONLY = "levels_only"
    """No numbers at all: the result is the level reached on each criterion."""


@dataclass(frozen=True, slots=True)
class Level:
    """One column of a criterion, e.g. 'Proficient'.

    A level is worth fixed points (``min_points == max_points``) or a range the assessor
    picks inside; ``levels_only`` rubrics leave both ``None``.
    """

    identifier: str
    title: str
    position: int
    description: str = ""
    guidance: str = ""
    min_points: Decimal | None = None
    max_points: Decimal | None = None

    @property
    def is_range(self) -> bool:
        return self.min_points != self.max_points

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "identifier": self.identifier,
            "title": self.title,
            "description": self.description,
            "guidance": self.guidance,
            "position": self.position,
        }
        if self.min_points is not None and self.max_points is not None:
            if self.is_range:
                data["min_points"] = format_decimal(self.min_points)
                data["max_points"] = format_decimal(self.max_points)
            else:
                data["points"] = format_decimal(self.max_points)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Level:
        """Read one level, checking its own fields (mode-dependent rules need the rubric)."""
        from rubrics.parsing import parse_level

        return parse_level(data)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One row of a rubric: what is assessed, how to judge it, and what it is worth.

    ``identifier`` is stable across versions (diffs and per-competency reports match on it);
    ``competency_tags`` are CASE CFItem URIs or short codes naming what the criterion evidences.
    ``levels`` are ordered by position.
    """

    identifier: str
    title: str
    position: int
    levels: tuple[Level, ...]
    description: str = ""
    guidance: str = ""
    weight: Decimal = Decimal(1)
    competency_tags: tuple[str, ...] = ()
    comment_required: bool = False

    @property
    def max_points(self) -> Decimal | None:
        """The most this criterion can earn before weighting; ``None`` without points."""
        tops = [level.max_points for level in self.levels if level.max_points is not None]
        return max(tops) if tops else None

    def level(self, identifier: str) -> Level:
        for level in self.levels:
            if level.identifier == identifier:
                return level
        raise KeyError(identifier)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "title": self.title,
            "description": self.description,
            "guidance": self.guidance,
            "position": self.position,
            "weight": format_decimal(self.weight),
            "competency_tags": list(self.competency_tags),
            "comment_required": self.comment_required,
            "levels": [level.to_dict() for level in self.levels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Criterion:
        """Read one criterion, checking its own fields and levels (not the rubric's mode)."""
        from rubrics.parsing import parse_criterion

        return parse_criterion(data)


@dataclass(frozen=True, slots=True)
class Rubric:
    """A whole rubric, criteria ordered by position.

    ``identifier`` is optional (templates use their slug; CASE imports keep the CFRubric
    identifier). ``competency_frameworks`` names the frameworks (CFDocument URIs or codes)
    the criteria's tags come from.
    """

    title: str
    scoring_mode: ScoringMode
    criteria: tuple[Criterion, ...]
    identifier: str = ""
    description: str = ""
    competency_frameworks: tuple[str, ...] = ()

    @property
    def max_points(self) -> Decimal | None:
        """Sum of (criterion maximum x weight); ``None`` for ``levels_only``."""
        if self.scoring_mode is ScoringMode.LEVELS_ONLY:
            return None
        return sum(
            (criterion.max_points or Decimal(0)) * criterion.weight for criterion in self.criteria
        )

    def criterion(self, identifier: str) -> Criterion:
        for criterion in self.criteria:
            if criterion.identifier == identifier:
                return criterion
        raise KeyError(identifier)

    def to_dict(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "title": self.title,
            "description": self.description,
            "scoring_mode": self.scoring_mode.value,
            "competency_frameworks": list(self.competency_frameworks),
            "criteria": [criterion.to_dict() for criterion in self.criteria],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rubric:
        """Same as :func:`rubrics.parse_rubric` with default limits."""
        from rubrics.parsing import parse_rubric

        return parse_rubric(data)
