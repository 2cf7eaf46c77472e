"""Score an assessment against a rubric and explain the result in plain words.

A :class:`Scorer` is built once per rubric version: it precomputes, per level, the points and
the (weighted) contribution, so scoring an assessment is a few dictionary look-ups and one sum.
The rubric is trusted -- it was validated when parsed -- and only the assessment is checked.

Arithmetic is exact Decimal. Points mode adds ``points x weight`` with no rounding at all.
Weighted-percentage mode divides, so it keeps 28 significant digits while adding and rounds
once at the end (half up, two places); lines in the explanation are rounded for reading, and
the explanation says so when the rounded lines do not add up to the rounded total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from rubrics.errors import AssessmentError, Problem
from rubrics.exact_numbers import NotANumber, format_decimal, round_hundredths, to_decimal
from rubrics.model import Criterion, Level, Rubric, ScoringMode
from rubrics.parsing import describe, titled

HUNDRED = Decimal(100)
MAX_COMMENT = 5000


class Answer(NamedTuple):
    """The assessor's choice for one criterion.

    ``points`` is only for levels with a point range (it defaults to the top of the range);
    a fixed-points level may repeat its own points but nothing else.
    """

    criterion: str
    level: str
    points: Decimal | int | float | str | None = None
    comment: str = ""


class CriterionScore(NamedTuple):
    """One line of the breakdown; ``contribution`` is what this criterion adds to the total.

    In points mode the contribution is ``points x weight``; in weighted-percentage mode it is
    percentage points out of 100 (rounded to two places for display); ``None`` in levels_only.
    """

    criterion: str
    title: str
    level: str
    level_title: str
    level_number: int
    level_count: int
    points: Decimal | None
    max_points: Decimal | None
    weight: Decimal
    contribution: Decimal | None
    max_contribution: Decimal | None
    comment: str

    def to_dict(self) -> dict[str, Any]:
        def text(number: Decimal | None) -> str | None:
            return None if number is None else format_decimal(number)

        return {
            "criterion": self.criterion,
            "title": self.title,
            "level": self.level,
            "level_title": self.level_title,
            "level_number": self.level_number,
            "level_count": self.level_count,
            "points": text(self.points),
            "max_points": text(self.max_points),
            "weight": format_decimal(self.weight),
            "contribution": text(self.contribution),
            "max_contribution": text(self.max_contribution),
            "comment": self.comment,
        }


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The outcome of one assessment. ``percentage`` is 0..100, two places, rounded half up.

    ``total``/``max_possible`` are points in points mode and out of 100 in weighted-percentage
    mode; all three are ``None`` in levels_only mode.
    """

    scoring_mode: ScoringMode
    total: Decimal | None
    max_possible: Decimal | None
    percentage: Decimal | None
    criteria: tuple[CriterionScore, ...]

    @property
    def explanation(self) -> tuple[str, ...]:
        """How the total was reached, one line per criterion and a closing line.

        Built on demand: most scores are stored and aggregated, and only some are read.
        """
        return explain(self)

    def to_dict(self) -> dict[str, Any]:
        def text(number: Decimal | None) -> str | None:
            return None if number is None else format_decimal(number)

        return {
            "scoring_mode": self.scoring_mode.value,
            "total": text(self.total),
            "max_possible": text(self.max_possible),
            "percentage": text(self.percentage),
            "criteria": [line.to_dict() for line in self.criteria],
            "explanation": list(self.explanation),
        }


def normalised_weights(rubric: Rubric) -> dict[str, Fraction]:
    """Each criterion's share of all weights, as exact fractions that sum to exactly 1."""
    total = sum((Fraction(criterion.weight) for criterion in rubric.criteria), Fraction(0))
    return {criterion.identifier: Fraction(criterion.weight) / total for criterion in rubric.criteria}


def score(rubric: Rubric, answers: Iterable[Answer | Mapping[str, Any]]) -> ScoreResult:
    """Score one assessment. To score many against the same rubric, build a Scorer once."""
    return Scorer(rubric).score(answers)


class _LevelEntry:
    """A level with its contribution worked out in advance."""

    __slots__ = ("level", "number", "points", "exact", "shown")

    def __init__(self, level: Level, number: int, points: Decimal | None, exact: Decimal | None,
                 shown: Decimal | None) -> None:
        self.level = level
        self.number = number
        self.points = points
        self.exact = exact
        self.shown = shown


class _CriterionEntry:
    __slots__ = ("criterion", "number", "where", "levels", "factor", "max_points", "max_contribution")

    def __init__(self, criterion: Criterion, number: int) -> None:
        self.criterion = criterion
        self.number = number
        self.where = titled(f"criterion {number}", criterion.title)
        self.levels: dict[str, _LevelEntry] = {}
        self.factor = Decimal(0)
        self.max_points = criterion.max_points
        self.max_contribution: Decimal | None = None


class Scorer:
    """Scores assessments against one rubric; build it once and reuse it."""

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self.mode = rubric.scoring_mode
        self._entries: dict[str, _CriterionEntry] = {}
        shares = normalised_weights(rubric)
        for number, criterion in enumerate(rubric.criteria, start=1):
            entry = _CriterionEntry(criterion, number)
            if self.mode is ScoringMode.POINTS:
                entry.factor = criterion.weight
                assert entry.max_points is not None
                entry.max_contribution = entry.max_points * criterion.weight
            elif self.mode is ScoringMode.WEIGHTED_PERCENTAGE:
                share = shares[criterion.identifier]
                share_percent = Decimal(share.numerator) * HUNDRED / Decimal(share.denominator)
                assert entry.max_points is not None
                entry.factor = share_percent / entry.max_points
                entry.max_contribution = round_hundredths(share_percent)
            for level_number, level in enumerate(criterion.levels, start=1):
                points = level.max_points
                exact = None if points is None else self._exact(entry, points)
                entry.levels[level.identifier] = _LevelEntry(
                    level, level_number, points, exact, None if exact is None else self._shown(exact)
                )
            self._entries[criterion.identifier] = entry
        self.max_possible: Decimal | None = {
            ScoringMode.POINTS: rubric.max_points,
            ScoringMode.WEIGHTED_PERCENTAGE: HUNDRED,
            ScoringMode.LEVELS_ONLY: None,
        }[self.mode]

    def factors(self) -> dict[str, tuple[Decimal, Decimal | None]]:
        """Per criterion, what a chosen level's points are multiplied by (the weight in points mode, the
        criterion's share of 100 per point in weighted-percentage mode, 0 in levels_only) and its greatest
        contribution: what a client needs to total an assessment exactly as :meth:`score` does."""
        return {identifier: (entry.factor, entry.max_contribution)
                for identifier, entry in self._entries.items()}

    def _exact(self, entry: _CriterionEntry, points: Decimal) -> Decimal:
        return points * entry.factor

    def _shown(self, exact: Decimal) -> Decimal:
        if self.mode is ScoringMode.WEIGHTED_PERCENTAGE:
            return round_hundredths(exact)
        return exact

    def score(self, answers: Iterable[Answer | Mapping[str, Any]]) -> ScoreResult:
        """Check the answers against the rubric and score them, or raise AssessmentError."""
        problems: list[Problem] = []
        lines: dict[str, CriterionScore] = {}
        exact_total = Decimal(0)
        for position, raw in enumerate(answers, start=1):
            answer = raw if isinstance(raw, Answer) else _read_answer(raw, position, problems)
            if answer is None:
                continue
            entry = self._entries.get(answer.criterion)
            if entry is None:
                problems.append(Problem(
                    ("criteria", str(answer.criterion)),
                    f"criterion {describe(answer.criterion)} is not in this rubric",
                ))
                continue
            if answer.criterion in lines:
                problems.append(
                    Problem(("criteria", answer.criterion), f"{entry.where}: chosen more than once")
                )
                continue
            level_entry = entry.levels.get(answer.level)
            if level_entry is None:
                choices = ", ".join(entry.levels)
                problems.append(Problem(
                    ("criteria", answer.criterion, "level"),
                    f"{entry.where}: level {describe(answer.level)} is not one of "
                    f"this criterion's levels ({choices})",
                ))
                continue
            points, exact, shown = level_entry.points, level_entry.exact, level_entry.shown
            if answer.points is not None and answer.points != "":
                chosen = self._chosen_points(entry, level_entry, answer.points, problems)
                if chosen is None:
                    continue
                if chosen != points:
                    points = chosen
                    exact = self._exact(entry, chosen)
                    shown = self._shown(exact)
            comment = answer.comment
            if not self._comment_ok(entry, comment, problems):
                continue
            if exact is not None:
                exact_total += exact
            lines[answer.criterion] = CriterionScore(
                answer.criterion, entry.criterion.title, answer.level, level_entry.level.title,
                level_entry.number, len(entry.levels), points, entry.max_points, entry.criterion.weight,
                shown, entry.max_contribution, comment.strip() if comment else "",
            )
        for identifier, entry in self._entries.items():
            if identifier not in lines and not any(p.path[:2] == ("criteria", identifier) for p in problems):
                problems.append(Problem(("criteria", identifier), f"{entry.where}: no level chosen"))
        if problems:
            raise AssessmentError(problems)
        ordered = tuple(lines[identifier] for identifier in self._entries)
        return self._result(ordered, exact_total)

    def _result(self, lines: tuple[CriterionScore, ...], exact_total: Decimal) -> ScoreResult:
        if self.mode is ScoringMode.LEVELS_ONLY:
            return ScoreResult(self.mode, None, None, None, lines)
        if self.mode is ScoringMode.WEIGHTED_PERCENTAGE:
            total = round_hundredths(exact_total)
            return ScoreResult(self.mode, total, HUNDRED, total, lines)
        assert self.max_possible is not None
        percentage = round_hundredths(exact_total * HUNDRED / self.max_possible)
        return ScoreResult(self.mode, exact_total, self.max_possible, percentage, lines)

    def _chosen_points(
        self, entry: _CriterionEntry, level_entry: _LevelEntry, raw: object, problems: list[Problem]
    ) -> Decimal | None:
        level = level_entry.level
        where = titled(f"{entry.where}, level {level_entry.number}", level.title)
        path = ("criteria", entry.criterion.identifier, "points")
        if self.mode is ScoringMode.LEVELS_ONLY:
            problems.append(Problem(path, f"{where}: this rubric records levels only; leave points out"))
            return None
        try:
            chosen = to_decimal(raw)
        except NotANumber:
            problems.append(Problem(path, f"{where}: points must be a number, got {describe(raw)}"))
            return None
        assert level.min_points is not None and level.max_points is not None
        if not level.is_range and chosen != level.max_points:
            problems.append(Problem(
                path,
                f"{where}: this level is worth exactly {format_decimal(level.max_points)} points, "
                f"not {format_decimal(chosen)}",
            ))
            return None
        if not level.min_points <= chosen <= level.max_points:
            problems.append(Problem(
                path,
                f"{where}: points {format_decimal(chosen)} are outside this level's range "
                f"{format_decimal(level.min_points)} to {format_decimal(level.max_points)}",
            ))
            return None
        return chosen

    def _comment_ok(self, entry: _CriterionEntry, comment: object, problems: list[Problem]) -> bool:
        path = ("criteria", entry.criterion.identifier, "comment")
        if comment is None:
            comment = ""
        if not isinstance(comment, str):
            problems.append(Problem(path, f"{entry.where}: comment must be text, got {describe(comment)}"))
            return False
        if entry.criterion.comment_required and not comment.strip():
            problems.append(Problem(path, f"{entry.where}: a comment is required"))
            return False
        if len(comment) > MAX_COMMENT:
            problems.append(Problem(
                path,
                f"{entry.where}: comment is {len(comment):,} characters long; the limit is {MAX_COMMENT:,}",
            ))
            return False
        return True


def _read_answer(raw: object, position: int, problems: list[Problem]) -> Answer | None:
    """Accept a plain mapping (a form post, a database row) as an Answer."""
    where = f"answer {position}"
    if not isinstance(raw, Mapping):
        problems.append(Problem(
            ("answers", position - 1),
            f"{where}: expected an object with criterion and level, got {describe(raw)}",
        ))
        return None
    for name in ("criterion", "level"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            problems.append(Problem(("answers", position - 1, name), f"{where}: {name} is missing"))
            return None
    return Answer(raw["criterion"], raw["level"], raw.get("points"), raw.get("comment") or "")


def explain(result: ScoreResult) -> tuple[str, ...]:
    """Plain-language lines showing how ``result`` was reached."""
    show = format_decimal
    lines: list[str] = []
    if result.scoring_mode is ScoringMode.LEVELS_ONLY:
        for line in result.criteria:
            lines.append(
                f"{line.title}: '{line.level_title}' (level {line.level_number} of {line.level_count})"
            )
        lines.append("This rubric records levels only, so there is no points total.")
        return tuple(lines)
    assert result.total is not None and result.max_possible is not None and result.percentage is not None
    if result.scoring_mode is ScoringMode.POINTS:
        for line in result.criteria:
            assert line.points is not None and line.max_points is not None
            points = f"{show(line.points)} of {show(line.max_points)} points"
            text = f"{line.title}: '{line.level_title}' = {points}"
            if line.weight != 1:
                assert line.contribution is not None and line.max_contribution is not None
                text += (
                    f" × weight {show(line.weight)} = "
                    f"{show(line.contribution)} of {show(line.max_contribution)}"
                )
            lines.append(text)
        lines.append(
            f"Total: {show(result.total)} of {show(result.max_possible)} points = {show(result.percentage)}%"
        )
        return tuple(lines)
    shown_sum = Decimal(0)
    for line in result.criteria:
        assert line.points is not None and line.max_points is not None
        assert line.contribution is not None and line.max_contribution is not None
        share = round_hundredths(line.points * HUNDRED / line.max_points)
        lines.append(
            f"{line.title}: '{line.level_title}' = {show(line.points)} of {show(line.max_points)} points "
            f"({show(share)}%) × weight share {show(line.max_contribution)}% = "
            f"{show(line.contribution)} of {show(line.max_contribution)}"
        )
        shown_sum += line.contribution
    lines.append(f"Total: {show(result.total)} of 100 = {show(result.percentage)}%")
    if shown_sum != result.total:
        lines.append("Lines are rounded to 2 decimal places; the total is rounded once, after adding.")
    return tuple(lines)
