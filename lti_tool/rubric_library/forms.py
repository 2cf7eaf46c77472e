"""The rubric edit form: posted field names in, the engine's plain dict out, and problems back beside fields.

Field names are flat and structured, so the form works as plain HTML (no JavaScript needed)::

    title  description  scoring_mode  competency_frameworks  identifier  lock_version
    criteria-0-title  criteria-0-description  criteria-0-guidance  criteria-0-weight
    criteria-0-competency_tags  criteria-0-comment_required  criteria-0-identifier  criteria-0-position
    criteria-0-levels-1-title  criteria-0-levels-1-points  ...  criteria-0-levels-1-remove

A level's ``points`` field holds either a number (``3``) or a range (``1.5-2.5``). Rows are kept in the
order posted and renumbered from 0, so a problem's path in the engine (``("criteria", 2, "levels", 1,
"min_points")``) is also the name of the field to show it beside. Identifiers are hidden: a new row gets
one made from its title, and it never changes afterwards (versions and reports match on it).

A post is read in time linear in its size, and the page it gets back is bounded: rows beyond the rubric
limits (``rubrics.RubricLimits``: criteria, and levels per criterion) are counted, not read or shown, and
such a form never saves (one POST of 22,000 rows used to hold a worker 36 s and get a 56 MB page back).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rubrics
from rubrics.exact_numbers import format_decimal
from rubrics.identifiers import UniqueSlugs

# Nine digits at most: Python refuses to read integers of more than 4,300 digits (a ValueError, a 500).
FIELD_INDEX = re.compile(r"criteria-(\d{1,9})-")
LEVEL_INDEX = re.compile(r"criteria-(\d{1,9})-levels-(\d{1,9})-")
POINT_RANGE = re.compile(r"\s*([^\s\-–]+)\s*(?:-|–|to)\s*(\S+)\s*\Z")
POINTS_NAMES = frozenset({"points", "min_points", "max_points"})
HIDDEN_NAMES = frozenset({"identifier", "position"})
ADD_CRITERION = "add-criterion"
ADD_LEVEL_PREFIX = "add-level-"
MOVE_UP_PREFIX = "move-up-"
MOVE_DOWN_PREFIX = "move-down-"
SAVE = "save"

# The engine names fields as files do (CSV columns, JSON keys); the form shows labels and one "Points"
# field for a number or a range, so its messages say that (rubrics.parsing.Words).
FORM_WORDS = {
    "min_points": "the lowest points of the range",
    "max_points": "the highest points of the range",
    "min-above-max": "the range {low}-{high} goes down; write the lower number first",
    "points-or-range": "a number, or a range like 1.5-2.5",
    "levels-only-points": (
        "a rubric scored by levels only carries no points; clear the points, or choose another scoring"
    ),
    "scoring_mode": "scoring",
    "comment_required": "“A comment is required”",
}


@dataclass
class LevelFields:
    identifier: str = ""
    position: str = ""
    title: str = ""
    description: str = ""
    guidance: str = ""
    points: str = ""


@dataclass
class CriterionFields:
    identifier: str = ""
    position: str = ""
    title: str = ""
    description: str = ""
    guidance: str = ""
    weight: str = "1"
    competency_tags: str = ""
    comment_required: bool = False
    levels: list[LevelFields] = field(default_factory=list)
    posted_index: int | None = None
    """The row number in the posted field names (``criteria-N-``), which buttons name; None if new."""


@dataclass
class RubricForm:
    """The values of the edit form as typed, and the problems to show beside them."""

    title: str = ""
    description: str = ""
    scoring_mode: str = rubrics.ScoringMode.POINTS.value
    competency_frameworks: str = ""
    identifier: str = ""
    lock_version: int | None = None
    criteria: list[CriterionFields] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Field name (or a row: ``criteria-1``, ``criteria-1-levels-0``) → messages."""
    problems: list[tuple[str, str]] = field(default_factory=list)
    """Every problem in order, as (field name, message), for the summary at the top."""
    too_large: bool = False
    """The post had more rows than the limits allow; the rows past them were dropped, so never save."""
    template: str = ""
    """The slug of the template a new rubric started from (for the audit log), else empty."""
    focus: str = ""
    """The id of the field to focus when the form comes back after a button (the row it added or moved)."""

    # -- building ---------------------------------------------------------------------------------------

    @classmethod
    def from_rubric(cls, rubric: rubrics.Rubric, lock_version: int | None = None) -> RubricForm:
        return cls(
            title=rubric.title,
            description=rubric.description,
            scoring_mode=rubric.scoring_mode.value,
            competency_frameworks=" ".join(rubric.competency_frameworks),
            identifier=rubric.identifier,
            lock_version=lock_version,
            criteria=[
                CriterionFields(
                    identifier=criterion.identifier,
                    position=str(criterion.position),
                    title=criterion.title,
                    description=criterion.description,
                    guidance=criterion.guidance,
                    weight=format_decimal(criterion.weight),
                    competency_tags=" ".join(criterion.competency_tags),
                    comment_required=criterion.comment_required,
                    levels=[
                        LevelFields(
                            identifier=level.identifier,
                            position=str(level.position),
                            title=level.title,
                            description=level.description,
                            guidance=level.guidance,
                            points=_points_text(level),
                        )
                        for level in criterion.levels
                    ],
                )
                for criterion in rubric.criteria
            ],
        )

    @classmethod
    def blank(cls) -> RubricForm:
        """A new rubric: one criterion with two levels to fill in."""
        form = cls()
        form.add_criterion()
        return form

    @classmethod
    def from_post(
        cls, posted: Mapping[str, str], limits: rubrics.RubricLimits = rubrics.DEFAULT_LIMITS
    ) -> RubricForm:
        """Read a posted form; rows ticked "remove" are dropped and the rest renumbered from 0.

        Rows past ``limits`` (criteria; levels of one criterion) are left out and reported: the form
        then shows the first ones with the problem and cannot be saved as it is.
        """
        lock_version = posted.get("lock_version", "").strip()
        form = cls(
            title=posted.get("title", ""),
            description=posted.get("description", ""),
            scoring_mode=posted.get("scoring_mode", ""),
            competency_frameworks=posted.get("competency_frameworks", ""),
            identifier=posted.get("identifier", ""),
            lock_version=whole_number(lock_version),
            template=posted.get("template", "")[:100],
        )
        # One pass over the field names finds every row before any row is read.
        criterion_indexes: set[int] = set()
        level_indexes: dict[int, set[int]] = {}
        for key in posted:
            if not key.startswith("criteria-"):
                continue
            if match := FIELD_INDEX.match(key):
                criterion_indexes.add(int(match.group(1)))
            if match := LEVEL_INDEX.match(key):
                level_indexes.setdefault(int(match.group(1)), set()).add(int(match.group(2)))
        kept_criteria = sorted(criterion_indexes)
        if len(kept_criteria) > limits.max_criteria:
            form.refuse(
                ("criteria",),
                f"the form has {len(kept_criteria):,} criteria, more than the limit of "
                f"{limits.max_criteria:,}; only the first {limits.max_criteria:,} are shown below",
            )
            kept_criteria = kept_criteria[: limits.max_criteria]
        for index in kept_criteria:
            prefix = f"criteria-{index}-"
            if posted.get(prefix + "remove"):
                continue
            criterion = CriterionFields(
                identifier=posted.get(prefix + "identifier", "").strip(),
                position=posted.get(prefix + "position", "").strip(),
                title=posted.get(prefix + "title", ""),
                description=posted.get(prefix + "description", ""),
                guidance=posted.get(prefix + "guidance", ""),
                weight=posted.get(prefix + "weight", ""),
                competency_tags=posted.get(prefix + "competency_tags", ""),
                comment_required=bool(posted.get(prefix + "comment_required")),
                posted_index=index,
            )
            kept_levels = sorted(level_indexes.get(index, ()))
            if len(kept_levels) > limits.max_levels:
                form.refuse(
                    ("criteria", len(form.criteria), "levels"),
                    f"criterion {len(form.criteria) + 1} has {len(kept_levels):,} levels, more than the "
                    f"limit of {limits.max_levels}; only the first {limits.max_levels} are shown",
                )
                kept_levels = kept_levels[: limits.max_levels]
            for level_index in kept_levels:
                level_prefix = f"{prefix}levels-{level_index}-"
                if posted.get(level_prefix + "remove"):
                    continue
                criterion.levels.append(
                    LevelFields(
                        identifier=posted.get(level_prefix + "identifier", "").strip(),
                        position=posted.get(level_prefix + "position", "").strip(),
                        title=posted.get(level_prefix + "title", ""),
                        description=posted.get(level_prefix + "description", ""),
                        guidance=posted.get(level_prefix + "guidance", ""),
                        points=posted.get(level_prefix + "points", ""),
                    )
                )
            form.criteria.append(criterion)
        form._fill_identifiers(limits)
        return form

    def refuse(self, path: tuple[str | int, ...], message: str) -> None:
        """Record a problem found while reading the post itself; such a form is never saved."""
        self.too_large = True
        self.add_problems([rubrics.Problem(path, message)])

    def add_criterion(self) -> None:
        levels = 1 if self.scoring_mode == rubrics.ScoringMode.LEVELS_ONLY.value else 2
        self.criteria.append(CriterionFields(levels=[LevelFields() for _ in range(levels)]))

    def add_level(self, criterion_index: int) -> None:
        if 0 <= criterion_index < len(self.criteria):
            levels = self.criteria[criterion_index].levels
            levels.append(LevelFields())
            self.focus = f"field-criteria-{criterion_index}-levels-{len(levels) - 1}-title"

    def move_criterion(self, criterion_index: int, offset: int) -> None:
        """Swap a criterion with its neighbour above (-1) or below (+1); the two keep the positions of
        their places, so the stored rubric stays numbered 1, 2, 3..."""
        target = criterion_index + offset
        if not (0 <= criterion_index < len(self.criteria) and 0 <= target < len(self.criteria)):
            return
        moved, other = self.criteria[criterion_index], self.criteria[target]
        moved.position, other.position = other.position, moved.position
        self.criteria[criterion_index], self.criteria[target] = other, moved
        # Keyboard users keep their place: the same button at the row's new place, or the other one once
        # the row reached the end (the button that would move it further is not shown there).
        at_end = target == 0 if offset < 0 else target == len(self.criteria) - 1
        direction = ("down" if offset < 0 else "up") if at_end else ("up" if offset < 0 else "down")
        self.focus = f"move-{direction}-{target}"

    def _row_of(self, text: str) -> int | None:
        """The criterion a button names by its posted row number, as an index into ``criteria``.

        Rows removed before the post leave gaps in the posted numbers, so the number is looked up, not
        used as an index (rows the form added itself have no posted number and are never named).
        """
        posted = whole_number(text)
        if posted is None:
            return None
        for index, criterion in enumerate(self.criteria):
            if criterion.posted_index == posted:
                return index
        return None

    def apply_action(self, action: str) -> bool:
        """Carry out an "add a row" or "move" button (the no-JavaScript path); True if ``action`` was one.

        Nothing is added to a form that was already too large: it goes on to :meth:`parse`, which
        refuses it.
        """
        if self.too_large:
            return False
        if action == ADD_CRITERION:
            self.add_criterion()
            self.focus = f"field-criteria-{len(self.criteria) - 1}-title"
            return True
        for prefix in (ADD_LEVEL_PREFIX, MOVE_UP_PREFIX, MOVE_DOWN_PREFIX):
            if action.startswith(prefix):
                row = self._row_of(action[len(prefix) :])
                if row is not None and prefix == ADD_LEVEL_PREFIX:
                    self.add_level(row)
                elif row is not None:
                    self.move_criterion(row, -1 if prefix == MOVE_UP_PREFIX else 1)
                return True  # a button of a row gone since: show the form as it is
        return False

    def _fill_identifiers(self, limits: rubrics.RubricLimits) -> None:
        """Give new rows an identifier made from their title, unique among their siblings (linear time)."""
        criterion_slugs = UniqueSlugs(
            (criterion.identifier for criterion in self.criteria if criterion.identifier),
            limit=min(60, limits.max_identifier),
        )
        for number, criterion in enumerate(self.criteria, start=1):
            if not criterion.identifier:
                criterion.identifier = criterion_slugs.make(criterion.title, f"criterion-{number}")
            level_slugs = UniqueSlugs(
                (level.identifier for level in criterion.levels if level.identifier),
                limit=min(60, limits.max_identifier),
            )
            for level_number, level in enumerate(criterion.levels, start=1):
                if not level.identifier:
                    level.identifier = level_slugs.make(level.title, f"level-{level_number}")

    # -- to the engine ----------------------------------------------------------------------------------

    def to_data(self) -> dict[str, Any]:
        """The engine's plain form (``rubrics.parse_rubric`` validates it); row i is ``criteria[i]``."""
        numeric = self.scoring_mode != rubrics.ScoringMode.LEVELS_ONLY.value
        criterion_positions = _positions([criterion.position for criterion in self.criteria])
        criteria = []
        for criterion, position in zip(self.criteria, criterion_positions, strict=True):
            level_positions = _positions([level.position for level in criterion.levels])
            levels = []
            for level, level_position in zip(criterion.levels, level_positions, strict=True):
                level_data: dict[str, Any] = {
                    "identifier": level.identifier,
                    "title": level.title,
                    "description": level.description,
                    "guidance": level.guidance,
                    "position": level_position,
                }
                level_data.update(_points_fields(level.points, numeric))
                levels.append(level_data)
            criteria.append(
                {
                    "identifier": criterion.identifier,
                    "title": criterion.title,
                    "description": criterion.description,
                    "guidance": criterion.guidance,
                    "position": position,
                    "weight": criterion.weight.strip(),
                    "competency_tags": criterion.competency_tags.split(),
                    "comment_required": criterion.comment_required,
                    "levels": levels,
                }
            )
        return {
            "identifier": self.identifier.strip(),
            "title": self.title,
            "description": self.description,
            "scoring_mode": self.scoring_mode,
            "competency_frameworks": self.competency_frameworks.split(),
            "criteria": criteria,
        }

    def parse(self) -> rubrics.Rubric | None:
        """The validated rubric, or None with every problem attached to its field."""
        if self.too_large:
            return None
        try:
            return rubrics.parse_rubric(self.to_data(), words=FORM_WORDS)
        except rubrics.RubricValidationError as error:
            self.add_problems(error.problems)
            return None

    def add_problems(self, problems: list[rubrics.Problem]) -> None:
        for problem in problems:
            name = field_name(problem.path)
            self.errors.setdefault(name, []).append(problem.message)
            self.problems.append((name, problem.message))

    def errors_for(self, name: str) -> list[str]:
        return self.errors.get(name, [])


def field_name(path: tuple[str | int, ...]) -> str:
    """The form field (or row) a problem's path points at: the name shown beside it in the form.

    Hidden fields (identifier, position) report on their row; every points field on ``points``.
    """
    parts = [str(part) for part in path]
    if not parts:
        return "form"
    if parts[-1] in HIDDEN_NAMES and len(parts) > 1:
        parts = parts[:-1]
    elif parts[-1] in POINTS_NAMES:
        parts[-1] = "points"
    return "-".join(parts)


def _points_text(level: rubrics.Level) -> str:
    if level.min_points is None or level.max_points is None:
        return ""
    if level.is_range:
        return f"{format_decimal(level.min_points)}-{format_decimal(level.max_points)}"
    return format_decimal(level.max_points)


def _points_fields(text: str, numeric: bool) -> dict[str, str]:
    """``"3"`` → points; ``"1.5-2.5"`` (or ``1.5 to 2.5``) → a range; blank → nothing."""
    text = text.strip()
    if not text:
        return {}
    if numeric and (match := POINT_RANGE.match(text)):
        return {"min_points": match.group(1), "max_points": match.group(2)}
    return {"points": text}


def whole_number(text: str) -> int | None:
    """A small non-negative integer typed or posted as ASCII digits, else None.

    ``str.isdigit`` alone accepts characters such as '²' that ``int`` refuses, and long digit strings
    overflow the database's integer columns: both would turn hostile input into a server error.
    """
    text = text.strip()
    if text.isascii() and text.isdigit() and len(text) <= 9:
        return int(text)
    return None


def _positions(posted: list[str]) -> list[int]:
    """Keep the positions rows had (so an edit does not renumber the stored rubric) while they still
    increase down the form; a new or moved row takes the next number."""
    positions: list[int] = []
    previous: int | None = None
    for text in posted:
        value = whole_number(text)
        if value is not None and (previous is None or value > previous):
            position = value
        else:
            position = 1 if previous is None else previous + 1
        positions.append(position)
        previous = position
    return positions
