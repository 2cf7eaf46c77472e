"""Rubric versions: a canonical form, a content hash, and what changed between two versions.

The rule (enforced by the persistence layer, not here): a rubric version that a submitted
assessment used is immutable; editing it creates a new version, so feedback already given
always reads against the rubric it was given with. The content hash lets that layer see that
an "edit" changed nothing and reuse the version instead of minting a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from rubrics.model import Criterion, Level, Rubric

RUBRIC_DIFF_FIELDS = ("identifier", "title", "description", "scoring_mode", "competency_frameworks")
CRITERION_DIFF_FIELDS = (
    "title", "description", "guidance", "position", "weight", "competency_tags", "comment_required",
)
LEVEL_DIFF_FIELDS = ("title", "description", "guidance", "position", "min_points", "max_points")
SCORING_CRITERION_FIELDS = frozenset({"weight"})
SCORING_LEVEL_FIELDS = frozenset({"min_points", "max_points"})


def canonical_json(rubric: Rubric) -> str:
    """The rubric as compact JSON with sorted keys: equal rubrics give equal text."""
    return json.dumps(rubric.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(rubric: Rubric) -> str:
    """``sha256:<hex>`` of the canonical form; stable across processes and machines."""
    return "sha256:" + hashlib.sha256(canonical_json(rubric).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class LevelChange:
    identifier: str
    title: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CriterionChange:
    """A criterion present in both versions; empty ``fields`` means only its levels changed."""

    identifier: str
    title: str
    fields: tuple[str, ...]
    levels_added: tuple[Level, ...]
    levels_removed: tuple[Level, ...]
    levels_changed: tuple[LevelChange, ...]


@dataclass(frozen=True, slots=True)
class RubricDiff:
    """Differences between two versions, matched by criterion and level identifier."""

    fields: tuple[str, ...]
    criteria_added: tuple[Criterion, ...]
    criteria_removed: tuple[Criterion, ...]
    criteria_changed: tuple[CriterionChange, ...]

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.criteria_added or self.criteria_removed or self.criteria_changed)

    @property
    def affects_scoring(self) -> bool:
        """Whether the same choices could now give a different total (so, warn the designer)."""
        if "scoring_mode" in self.fields or self.criteria_added or self.criteria_removed:
            return True
        return any(
            SCORING_CRITERION_FIELDS.intersection(change.fields)
            or change.levels_added
            or change.levels_removed
            or any(SCORING_LEVEL_FIELDS.intersection(level.fields) for level in change.levels_changed)
            for change in self.criteria_changed
        )

    def summary(self) -> tuple[str, ...]:
        """One readable line per change, e.g. "Changed criterion 'Listening': weight"."""
        lines = [f"Changed rubric {field.replace('_', ' ')}" for field in self.fields]
        lines += [f"Added criterion '{criterion.title}'" for criterion in self.criteria_added]
        lines += [f"Removed criterion '{criterion.title}'" for criterion in self.criteria_removed]
        for change in self.criteria_changed:
            parts = [", ".join(field.replace("_", " ") for field in change.fields)] if change.fields else []
            parts += [f"added level '{level.title}'" for level in change.levels_added]
            parts += [f"removed level '{level.title}'" for level in change.levels_removed]
            parts += [
                f"level '{level.title}': {', '.join(field.replace('_', ' ') for field in level.fields)}"
                for level in change.levels_changed
            ]
            lines.append(f"Changed criterion '{change.title}': {'; '.join(parts)}")
        return tuple(lines) if lines else ("No changes",)


def diff(old: Rubric, new: Rubric) -> RubricDiff:
    """What changed from ``old`` to ``new``; identifiers decide what counts as the same thing."""
    old_criteria = {criterion.identifier: criterion for criterion in old.criteria}
    new_criteria = {criterion.identifier: criterion for criterion in new.criteria}
    changed: list[CriterionChange] = []
    for identifier, new_criterion in new_criteria.items():
        old_criterion = old_criteria.get(identifier)
        if old_criterion is None:
            continue
        change = _criterion_change(old_criterion, new_criterion)
        if change is not None:
            changed.append(change)
    return RubricDiff(
        fields=_changed_fields(old, new, RUBRIC_DIFF_FIELDS),
        criteria_added=tuple(c for i, c in new_criteria.items() if i not in old_criteria),
        criteria_removed=tuple(c for i, c in old_criteria.items() if i not in new_criteria),
        criteria_changed=tuple(changed),
    )


def _criterion_change(old: Criterion, new: Criterion) -> CriterionChange | None:
    old_levels = {level.identifier: level for level in old.levels}
    new_levels = {level.identifier: level for level in new.levels}
    levels_changed = tuple(
        LevelChange(identifier, level.title, fields)
        for identifier, level in new_levels.items()
        if identifier in old_levels
        and (fields := _changed_fields(old_levels[identifier], level, LEVEL_DIFF_FIELDS))
    )
    change = CriterionChange(
        identifier=new.identifier,
        title=new.title,
        fields=_changed_fields(old, new, CRITERION_DIFF_FIELDS),
        levels_added=tuple(level for i, level in new_levels.items() if i not in old_levels),
        levels_removed=tuple(level for i, level in old_levels.items() if i not in new_levels),
        levels_changed=levels_changed,
    )
    if change.fields or change.levels_added or change.levels_removed or change.levels_changed:
        return change
    return None


def _changed_fields(old: Any, new: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(old, name) != getattr(new, name))
