"""Turn a plain dict (from a form, JSON, CSV or the database) into a validated :class:`Rubric`.

Validation collects every problem instead of stopping at the first, and each message names
the place the way a designer sees it -- "criterion 3 'Coaching conversation', level 2: min 4
is above max 3" -- because the designer, not a programmer, has to act on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rubrics.errors import Path, Problem, RubricValidationError
from rubrics.exact_numbers import NotANumber, decimal_places, format_decimal, to_decimal
from rubrics.model import Criterion, Level, Rubric, ScoringMode

IDENTIFIER_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*\Z")
# Control characters and lone surrogates break CSV readers and UTF-8 encoders downstream.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

RUBRIC_FIELDS = frozenset(
    {"identifier", "title", "description", "scoring_mode", "competency_frameworks", "criteria"}
)
CRITERION_FIELDS = frozenset(
    {
        "identifier", "title", "description", "guidance", "position", "weight",
        "competency_tags", "comment_required", "levels",
    }
)
LEVEL_FIELDS = frozenset(
    {"identifier", "title", "description", "guidance", "position", "points", "min_points", "max_points"}
)


@dataclass(frozen=True, slots=True)
class RubricLimits:
    """Size limits. The defaults suit hand-written rubrics and still admit a 1,000-criterion
    CASE framework import; a deployment may pass tighter or looser ones."""

    max_criteria: int = 1000
    max_levels: int = 20
    max_title: int = 200
    max_text: int = 5000
    max_identifier: int = 100
    max_tags: int = 50
    max_tag: int = 500
    max_points: Decimal = Decimal(10000)
    max_weight: Decimal = Decimal(1000)
    points_places: int = 2
    weight_places: int = 4


DEFAULT_LIMITS = RubricLimits()


Words = Mapping[str, str]
"""How a context names things in messages: the names of fields (``points``, ``min_points``, ...) and of the
few phrases that combine them (``points-or-range``, ``levels-only-points``, and ``min-above-max`` with
``{low}`` and ``{high}`` in it). A name not
given stays as the engine's field name, which is also the CSV column and JSON key: the words of files."""


def parse_rubric(
    data: object, limits: RubricLimits = DEFAULT_LIMITS, *, words: Words | None = None
) -> Rubric:
    """Validate ``data`` and build a Rubric, or raise RubricValidationError with every problem.

    ``words`` renames fields in the messages for a context that shows other names (the edit form's
    labels); the rules are the same whatever the words.
    """
    reader = _Reader(limits, words or {})
    rubric = reader.rubric(data)
    if reader.problems or rubric is None:
        raise RubricValidationError(reader.problems)
    return rubric


def parse_criterion(data: object, limits: RubricLimits = DEFAULT_LIMITS) -> Criterion:
    """Validate one criterion on its own (rules that depend on the scoring mode are skipped)."""
    reader = _Reader(limits)
    criterion = reader.criterion(data, 0, None)
    if reader.problems or criterion is None:
        raise RubricValidationError(reader.problems)
    return criterion


def parse_level(data: object, limits: RubricLimits = DEFAULT_LIMITS) -> Level:
    """Validate one level on its own (rules that depend on the scoring mode are skipped)."""
    reader = _Reader(limits)
    level = reader.level(data, "level 1", (), 0, None)
    if reader.problems or level is None:
        raise RubricValidationError(reader.problems)
    return level


def describe(value: object) -> str:
    """Show a bad value in a message: text quoted and shortened, numbers shortened, other things by kind.

    Never longer than about 50 characters, whatever was posted or uploaded: messages echo input back.
    """
    if isinstance(value, str):
        return f"'{value[:40]}...'" if len(value) > 40 else f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 130:
        return "a number of more than 40 digits"  # str() of a huge int is slow, and refused past 4,300
    if isinstance(value, int | float | Decimal):
        text = str(value)
        return f"{text[:40]}..." if len(text) > 40 else text
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def titled(label: str, title: object) -> str:
    """'criterion 3' plus its title when it has a usable one."""
    if isinstance(title, str) and title.strip() and not CONTROL_CHARACTER.search(title):
        return f"{label} '{title.strip()}'"
    return label


class _Reader:
    """One validation pass; accumulates problems while building value objects."""

    def __init__(self, limits: RubricLimits, words: Words | None = None) -> None:
        self.limits = limits
        self.words = words or {}
        self.problems: list[Problem] = []

    def called(self, name: str, default: str | None = None) -> str:
        """What this context calls field or phrase ``name`` (see :data:`Words`)."""
        return self.words.get(name, name if default is None else default)

    def report(self, path: Path, where: str, text: str) -> None:
        self.problems.append(Problem(path, f"{where}: {text}"))

    # -- whole objects ---------------------------------------------------------------------

    def rubric(self, data: object) -> Rubric | None:
        where = "rubric"
        if not self.is_object(data, (), where):
            return None
        assert isinstance(data, Mapping)
        self.unknown_fields(data, RUBRIC_FIELDS, (), where)
        title = self.text(data, "title", (), where, required=True, limit=self.limits.max_title)
        description = self.text(data, "description", (), where, limit=self.limits.max_text)
        identifier = self.identifier(data, (), where, required=False)
        mode = self.scoring_mode(data, where)
        frameworks = self.tag_list(data, "competency_frameworks", "competency framework", (), where)
        raw_criteria = data.get("criteria")
        if not isinstance(raw_criteria, list | tuple):
            if raw_criteria is None:
                self.report(("criteria",), where, "add at least one criterion")
            else:
                self.report(("criteria",), where, f"criteria must be a list, got {describe(raw_criteria)}")
            return None
        if not raw_criteria:
            self.report(("criteria",), where, "add at least one criterion")
        if len(raw_criteria) > self.limits.max_criteria:
            self.report(
                ("criteria",),
                where,
                f"{len(raw_criteria):,} criteria is more than the limit of {self.limits.max_criteria:,}",
            )
            return None
        criteria: list[Criterion] = []
        seen_identifiers: dict[str, int] = {}
        seen_positions: dict[int, int] = {}
        for index, raw in enumerate(raw_criteria):
            criterion = self.criterion(raw, index, mode)
            if criterion is None:
                continue
            where_criterion = titled(f"criterion {index + 1}", criterion.title)
            path = ("criteria", index)
            if criterion.identifier in seen_identifiers:
                self.report(
                    (*path, "identifier"),
                    where_criterion,
                    f"identifier '{criterion.identifier}' is already used by "
                    f"criterion {seen_identifiers[criterion.identifier]}",
                )
            else:
                seen_identifiers[criterion.identifier] = index + 1
            if criterion.position in seen_positions:
                self.report(
                    (*path, "position"),
                    where_criterion,
                    f"position {criterion.position} is already used by "
                    f"criterion {seen_positions[criterion.position]}",
                )
            else:
                seen_positions[criterion.position] = index + 1
            criteria.append(criterion)
        if self.problems or title is None or mode is None:
            return None
        return Rubric(
            title=title,
            scoring_mode=mode,
            criteria=tuple(sorted(criteria, key=lambda criterion: criterion.position)),
            identifier=identifier or "",
            description=description or "",
            competency_frameworks=frameworks,
        )

    def criterion(self, data: object, index: int, mode: ScoringMode | None) -> Criterion | None:
        path: Path = ("criteria", index)
        where = f"criterion {index + 1}"
        if not self.is_object(data, path, where):
            return None
        assert isinstance(data, Mapping)
        where = titled(where, data.get("title"))
        before = len(self.problems)
        self.unknown_fields(data, CRITERION_FIELDS, path, where)
        identifier = self.identifier(data, path, where, required=True)
        title = self.text(data, "title", path, where, required=True, limit=self.limits.max_title)
        description = self.text(data, "description", path, where, limit=self.limits.max_text)
        guidance = self.text(data, "guidance", path, where, limit=self.limits.max_text)
        position = self.position(data, path, where, default=index + 1)
        weight = self.weight(data, path, where)
        tags = self.tag_list(data, "competency_tags", "competency tag", path, where)
        comment_required = data.get("comment_required", False)
        if not isinstance(comment_required, bool):
            self.report(
                (*path, "comment_required"),
                where,
                f"{self.called('comment_required')} must be true or false, got {describe(comment_required)}",
            )
        levels = self.levels(data.get("levels"), path, where, mode)
        if len(self.problems) > before or identifier is None or title is None or levels is None:
            return None
        if mode in (ScoringMode.POINTS, ScoringMode.WEIGHTED_PERCENTAGE):
            top = max(level.max_points or Decimal(0) for level in levels)
            if top == 0:
                self.report(
                    (*path, "levels"),
                    where,
                    "the highest level is worth 0 points; at least one level must be worth more than 0",
                )
                return None
        assert position is not None and weight is not None
        return Criterion(
            identifier=identifier,
            title=title,
            position=position,
            levels=levels,
            description=description or "",
            guidance=guidance or "",
            weight=weight,
            competency_tags=tags,
            comment_required=bool(comment_required),
        )

    def levels(
        self, raw_levels: object, path: Path, where: str, mode: ScoringMode | None
    ) -> tuple[Level, ...] | None:
        minimum = 1 if mode is ScoringMode.LEVELS_ONLY else 2
        if raw_levels is None:
            raw_levels = []
        if not isinstance(raw_levels, list | tuple):
            self.report((*path, "levels"), where, f"levels must be a list, got {describe(raw_levels)}")
            return None
        if len(raw_levels) < minimum:
            wanted = "one level" if minimum == 1 else "two levels"
            self.report((*path, "levels"), where, f"add at least {wanted} (found {len(raw_levels)})")
            return None
        if len(raw_levels) > self.limits.max_levels:
            self.report(
                (*path, "levels"),
                where,
                f"{len(raw_levels)} levels is more than the limit of {self.limits.max_levels}",
            )
            return None
        levels: list[Level] = []
        seen_identifiers: dict[str, int] = {}
        seen_positions: dict[int, int] = {}
        for index, raw in enumerate(raw_levels):
            level_path = (*path, "levels", index)
            level_where = f"{where}, level {index + 1}"
            level = self.level(raw, level_where, level_path, index, mode)
            if level is None:
                continue
            level_where = titled(level_where, level.title)
            if level.identifier in seen_identifiers:
                self.report(
                    (*level_path, "identifier"),
                    level_where,
                    f"identifier '{level.identifier}' is already used by "
                    f"level {seen_identifiers[level.identifier]}",
                )
            else:
                seen_identifiers[level.identifier] = index + 1
            if level.position in seen_positions:
                self.report(
                    (*level_path, "position"),
                    level_where,
                    f"position {level.position} is already used by level {seen_positions[level.position]}",
                )
            else:
                seen_positions[level.position] = index + 1
            levels.append(level)
        if len(levels) != len(raw_levels):
            return None
        return tuple(sorted(levels, key=lambda level: level.position))

    def level(
        self, data: object, where: str, path: Path, index: int, mode: ScoringMode | None
    ) -> Level | None:
        if not self.is_object(data, path, where):
            return None
        assert isinstance(data, Mapping)
        where = titled(where, data.get("title"))
        before = len(self.problems)
        self.unknown_fields(data, LEVEL_FIELDS, path, where)
        identifier = self.identifier(data, path, where, required=True)
        title = self.text(data, "title", path, where, required=True, limit=self.limits.max_title)
        description = self.text(data, "description", path, where, limit=self.limits.max_text)
        guidance = self.text(data, "guidance", path, where, limit=self.limits.max_text)
        position = self.position(data, path, where, default=index + 1)
        min_points, max_points = self.level_points(data, path, where, mode)
        if len(self.problems) > before or identifier is None or title is None or position is None:
            return None
        return Level(
            identifier=identifier,
            title=title,
            position=position,
            description=description or "",
            guidance=guidance or "",
            min_points=min_points,
            max_points=max_points,
        )

    # -- fields ----------------------------------------------------------------------------

    def level_points(
        self, data: Mapping[str, Any], path: Path, where: str, mode: ScoringMode | None
    ) -> tuple[Decimal | None, Decimal | None]:
        given = [name for name in ("points", "min_points", "max_points") if data.get(name) not in (None, "")]
        if mode is ScoringMode.LEVELS_ONLY:
            if given:
                self.report(
                    (*path, given[0]),
                    where,
                    self.called(
                        "levels-only-points",
                        "levels_only rubrics carry no points; remove points or choose another scoring mode",
                    ),
                )
            return None, None
        if not given:
            if mode is not None:
                either = self.called("points-or-range", "points or min_points and max_points")
                self.report((*path, "points"), where, f"points are missing; give {either}")
            return None, None
        if "points" in given:
            if len(given) > 1:
                either = self.called("points-or-range", "points or min_points and max_points")
                self.report((*path, "points"), where, f"give either {either}, not both")
                return None, None
            points = self.points(data, "points", path, where)
            return points, points
        for name in ("min_points", "max_points"):
            if name not in given:
                self.report(
                    (*path, name),
                    where,
                    f"{self.called(name)} is missing; a range needs both {self.called('min_points')} and "
                    f"{self.called('max_points')}",
                )
                return None, None
        low = self.points(data, "min_points", path, where)
        high = self.points(data, "max_points", path, where)
        if low is not None and high is not None and low > high:
            self.report(
                (*path, "min_points"),
                where,
                self.called("min-above-max", "min {low} is above max {high}").format(
                    low=format_decimal(low), high=format_decimal(high)
                ),
            )
            return None, None
        return low, high

    def points(self, data: Mapping[str, Any], name: str, path: Path, where: str) -> Decimal | None:
        return self.number(
            data, name, path, where, places=self.limits.points_places, maximum=self.limits.max_points,
            minimum_text="0 or more", allow_zero=True,
        )

    def weight(self, data: Mapping[str, Any], path: Path, where: str) -> Decimal | None:
        if data.get("weight") in (None, ""):
            return Decimal(1)
        return self.number(
            data, "weight", path, where, places=self.limits.weight_places, maximum=self.limits.max_weight,
            minimum_text="above 0", allow_zero=False,
        )

    def number(
        self,
        data: Mapping[str, Any],
        name: str,
        path: Path,
        where: str,
        *,
        places: int,
        maximum: Decimal,
        minimum_text: str,
        allow_zero: bool,
    ) -> Decimal | None:
        raw = data.get(name)
        called = self.called(name)
        try:
            number = to_decimal(raw)
        except NotANumber as refusal:
            shown = describe(raw)
            if refusal.reason == NotANumber.TOO_LARGE:
                text = f"{called} {shown} is far too large; the limit is {format_decimal(maximum)}"
            elif refusal.reason == NotANumber.TOO_PRECISE:
                text = f"{called} {shown} has far too many decimal places; use at most {places}"
            else:
                text = f"{called} must be a number, got {shown}"
            self.report((*path, name), where, text)
            return None
        shown = format_decimal(number)
        if number < 0 or (number == 0 and not allow_zero):
            self.report((*path, name), where, f"{called} must be {minimum_text}, got {shown}")
            return None
        if number > maximum:
            self.report(
                (*path, name), where, f"{called} {shown} is above the limit of {format_decimal(maximum)}"
            )
            return None
        if decimal_places(number) > places:
            self.report((*path, name), where, f"{called} {shown} has more than {places} decimal places")
            return None
        return number

    def position(self, data: Mapping[str, Any], path: Path, where: str, default: int) -> int | None:
        raw = data.get("position")
        if raw is None or raw == "":
            return default
        if isinstance(raw, str) and raw.strip().isdigit():
            return int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.report((*path, "position"), where, f"position must be a whole number, got {describe(raw)}")
            return None
        if raw < 0:
            self.report((*path, "position"), where, f"position must be 0 or more, got {raw}")
            return None
        return raw

    def text(
        self,
        data: Mapping[str, Any],
        name: str,
        path: Path,
        where: str,
        *,
        limit: int,
        required: bool = False,
    ) -> str | None:
        raw = data.get(name)
        called = self.called(name)
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            self.report((*path, name), where, f"{called} must be text, got {describe(raw)}")
            return None
        # Windows line endings from spreadsheets would otherwise make equal rubrics differ.
        value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
        control = CONTROL_CHARACTER.search(value)
        if control:
            code = f"U+{ord(control.group()):04X}"
            self.report((*path, name), where, f"{called} contains a control character ({code}); remove it")
            return None
        if required and not value:
            self.report((*path, name), where, f"{called} is missing")
            return None
        if len(value) > limit:
            self.report(
                (*path, name), where, f"{called} is {len(value):,} characters long; the limit is {limit:,}"
            )
            return None
        return value

    def identifier(self, data: Mapping[str, Any], path: Path, where: str, *, required: bool) -> str | None:
        limit = self.limits.max_identifier
        value = self.text(data, "identifier", path, where, required=required, limit=limit)
        if value and not IDENTIFIER_PATTERN.match(value):
            self.report(
                (*path, "identifier"),
                where,
                f"identifier '{value}' may use only letters, digits and . _ : - "
                "and must start with a letter or digit",
            )
            return None
        return value

    def scoring_mode(self, data: Mapping[str, Any], where: str) -> ScoringMode | None:
        raw = data.get("scoring_mode")
        choices = ", ".join(mode.value for mode in ScoringMode)
        called = self.called("scoring_mode")
        if raw is None or raw == "":
            self.report(("scoring_mode",), where, f"{called} is missing; choose one of {choices}")
            return None
        try:
            return ScoringMode(raw)
        except ValueError:
            self.report(("scoring_mode",), where, f"{called} {describe(raw)} is not one of {choices}")
            return None

    def tag_list(
        self, data: Mapping[str, Any], name: str, noun: str, path: Path, where: str
    ) -> tuple[str, ...]:
        raw = data.get(name)
        if raw is None:
            return ()
        if not isinstance(raw, list | tuple) or not all(isinstance(tag, str) for tag in raw):
            self.report((*path, name), where, f"{name} must be a list of text, got {describe(raw)}")
            return ()
        if len(raw) > self.limits.max_tags:
            self.report(
                (*path, name), where, f"{len(raw)} {noun}s is more than the limit of {self.limits.max_tags}"
            )
            return ()
        tags: list[str] = []
        for tag in raw:
            if not tag or not tag.isprintable() or any(character.isspace() for character in tag):
                self.report(
                    (*path, name),
                    where,
                    f"{noun} {describe(tag)} must not be empty or contain spaces or control characters",
                )
            elif len(tag) > self.limits.max_tag:
                self.report(
                    (*path, name),
                    where,
                    f"{noun} {describe(tag)} is {len(tag):,} characters long; "
                    f"the limit is {self.limits.max_tag:,}",
                )
            elif tag in tags:
                self.report((*path, name), where, f"{noun} '{tag}' is listed twice")
            else:
                tags.append(tag)
        return tuple(tags)

    def is_object(self, data: object, path: Path, where: str) -> bool:
        if isinstance(data, Mapping):
            return True
        self.report(path, where, f"expected an object with fields, got {describe(data)}")
        return False

    def unknown_fields(self, data: Mapping[str, Any], known: frozenset[str], path: Path, where: str) -> None:
        for name in data:
            if name not in known:
                self.report((*path, str(name)), where, f"unknown field '{name}'")
