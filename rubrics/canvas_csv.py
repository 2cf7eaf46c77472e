"""Rubrics in Canvas LMS's own rubric CSV layout (the "enhanced rubrics" import and its template).

One header row, then one row per criterion: ``Rubric Name``, ``Criteria Name``, ``Criteria
Description``, ``Criteria Enable Range``, then repeating ``Rating Name``, ``Rating Description``,
``Rating Points`` triplets (labels plain or numbered), highest rating first. A file may hold several
rubrics, told apart by ``Rubric Name``. Canvas has no weights, guidance, competency tags, required
comments or identifiers: imports get weight 1, ``points`` scoring and identifiers made from the
titles; exports drop those fields. See docs/rubrics.md, "Canvas rubric CSV".

Import is all-or-nothing and every problem names the line a row starts on and the column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rubrics import spreadsheet_cells
from rubrics.csv_io import read_rows
from rubrics.errors import ImportProblem, Problem, RubricImportError, RubricValidationError
from rubrics.exact_numbers import NotANumber, format_decimal, to_decimal
from rubrics.identifiers import UniqueSlugs
from rubrics.model import Level, Rubric, ScoringMode
from rubrics.parsing import DEFAULT_LIMITS, RubricLimits, describe, parse_rubric
from rubrics.uploads import DEFAULT_MAX_BYTES, read_upload

CRITERION_COLUMNS = ("Rubric Name", "Criteria Name", "Criteria Description", "Criteria Enable Range")
RATING_COLUMNS = ("Rating Name", "Rating Description", "Rating Points")
RUBRIC_NAME, CRITERIA_NAME, CRITERIA_DESCRIPTION, ENABLE_RANGE = range(4)
FIRST_RATING = len(CRITERION_COLUMNS)
# Canvas reads "true" and "1" as on; anything else is off. Cadre refuses what it cannot read
# instead of silently dropping a criterion's ranges.
RANGE_ON = frozenset({"true", "1"})
RANGE_OFF = frozenset({"false", "0", ""})
# Canvas reads "1,75" as 1.75 (it swaps the comma for a point); so does Cadre.
DECIMAL_COMMA = re.compile(r"\s*-?\d+,\d+\s*\Z")
RATING_LABEL = re.compile(r"(rating (?:name|description|points))(?:\s*\d+)?\Z")


class CanvasExportError(ValueError):
    """The rubric cannot be written in Canvas's layout (``levels_only`` rubrics have no points)."""


# -- detection ----------------------------------------------------------------------------------------


def looks_like_canvas_csv(source: str | bytes) -> bool:
    """True when the first row starts with Canvas's four criterion columns (a byte-order mark is fine).

    Only the header is read, and a file that is not UTF-8 is simply "not Canvas": the importer
    that handles it reports the encoding problem.
    """
    if isinstance(source, bytes):
        # The header is short; reading a little keeps detection cheap on a large upload.
        source = source[:4096].decode("utf-8-sig", errors="replace")
    text = source.removeprefix("\ufeff")
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error:
        return False
    return _labels(header[:FIRST_RATING]) == [_label(name) for name in CRITERION_COLUMNS]


# -- export -------------------------------------------------------------------------------------------


def export_canvas_csv(rubric: Rubric) -> str:
    """The rubric in Canvas's rubric CSV layout (RFC 4180, CRLF line ends), one row per criterion.

    Ratings are written highest first; a criterion with any point range gets ``Criteria Enable
    Range`` true and each rating's top as its points. Weights, guidance, competency tags, required
    comments, identifiers and the rubric description are not part of Canvas's layout and are left
    out. Cells a spreadsheet would run as formulas are written as text (:mod:`rubrics.spreadsheet_cells`;
    Canvas shows the leading apostrophe, Cadre's importer removes it). Raises CanvasExportError for a
    ``levels_only`` rubric: Canvas ratings need points.
    """
    if rubric.scoring_mode is ScoringMode.LEVELS_ONLY:
        raise CanvasExportError(
            f"'{rubric.title}' scores by levels only, without points; Canvas rubrics need points "
            "for every rating, so it cannot be exported for Canvas. Give the levels points "
            "(points or weighted percentage scoring) to export it."
        )
    buffer = io.StringIO()
    writer = spreadsheet_cells.writer(buffer)
    widest = max(len(criterion.levels) for criterion in rubric.criteria)
    header = list(CRITERION_COLUMNS)
    for number in range(1, widest + 1):
        header.extend(f"{name} {number}" for name in RATING_COLUMNS)
    writer.writerow(header)
    for criterion in rubric.criteria:
        uses_range = any(level.is_range for level in criterion.levels)
        row = [rubric.title, criterion.title, criterion.description, "true" if uses_range else "false"]
        for level in _highest_first(criterion.levels):
            assert level.max_points is not None  # every level has points outside levels_only
            row.extend([level.title, level.description, format_decimal(level.max_points)])
        writer.writerow(row)
    return buffer.getvalue()


def _highest_first(levels: tuple[Level, ...]) -> list[Level]:
    return sorted(levels, key=lambda level: (level.max_points or Decimal(0), level.position), reverse=True)


# -- import -------------------------------------------------------------------------------------------


def import_canvas_csv(
    source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: RubricLimits = DEFAULT_LIMITS
) -> list[Rubric]:
    """Every rubric in a Canvas rubric CSV, in the order their names first appear.

    Canvas makes one rubric per distinct ``Rubric Name``, and so does this function; a caller
    that takes one rubric at a time decides what to do with more. Raises RubricImportError
    listing every problem as "line N" with the column in the message; nothing is returned then.
    """
    text = read_upload(source, max_bytes)
    problems: list[ImportProblem] = []
    rows = read_rows(text, problems)
    if problems:
        raise RubricImportError(problems)
    if not rows:
        raise RubricImportError([ImportProblem(
            "line 1", f"the file is empty; expected a header row starting {', '.join(CRITERION_COLUMNS)}"
        )])
    header_line, header = rows[0]
    rating_count = _check_header(header, header_line, problems)
    if problems:
        raise RubricImportError(problems)
    columns = _Columns(header)
    drafts: dict[str, _RubricDraft] = {}
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        if _width(cells) > len(header):
            problems.append(ImportProblem(
                f"line {line}",
                f"{_width(cells)} cells, but the header has {len(header)}; add Rating Name, "
                "Rating Description and Rating Points header columns for the extra ratings",
            ))
            continue
        cells = [spreadsheet_cells.restore(cell) for cell in cells] + [""] * (len(header) - len(cells))
        name = cells[RUBRIC_NAME].strip()
        if not name:
            problems.append(
                columns.problem(line, RUBRIC_NAME, "the rubric name is empty; every row names its rubric")
            )
            continue
        draft = drafts.setdefault(name, _RubricDraft(name, line))
        draft.criteria.append(_read_criterion(line, cells, rating_count, columns, problems))
    if not drafts and not problems:
        problems.append(ImportProblem(f"line {header_line + 1}", "the file has no rows after the header"))
    if problems:
        raise RubricImportError(problems)
    imported: list[Rubric] = []
    for draft in drafts.values():
        if len(draft.criteria) > limits.max_criteria:
            # Refused before identifiers are made for every row: a 5 MB file holds 200,000 short rows.
            problems.append(ImportProblem(
                f"line {draft.line}",
                f"the rubric '{draft.title[:40]}' has {len(draft.criteria):,} criteria (rows); "
                f"the limit is {limits.max_criteria:,}",
            ))
            continue
        try:
            imported.append(parse_rubric(draft.data(limits), limits))
        except RubricValidationError as error:
            problems.extend(draft.locate(problem, columns) for problem in error.problems)
    if problems:
        raise RubricImportError(problems)
    return imported


@dataclass
class _Rating:
    name: str
    description: str
    points: Decimal
    column: int
    """Index of the rating's Rating Name column."""


@dataclass
class _CriterionDraft:
    line: int
    title: str
    description: str
    uses_range: bool
    ratings: list[_Rating]
    """Lowest points first: the order of Cadre's level positions."""


@dataclass
class _RubricDraft:
    title: str
    line: int
    criteria: list[_CriterionDraft] = field(default_factory=list)

    def data(self, limits: RubricLimits) -> dict[str, Any]:
        """The plain dict :func:`parse_rubric` validates."""
        criterion_slugs = UniqueSlugs(limit=limits.max_identifier)
        criteria = []
        for index, criterion in enumerate(self.criteria):
            level_slugs = UniqueSlugs(limit=limits.max_identifier)
            levels = []
            below: Decimal | None = None
            for position, rating in enumerate(criterion.ratings, start=1):
                level: dict[str, Any] = {
                    "identifier": level_slugs.make(rating.name, f"level-{position}"),
                    "title": rating.name,
                    "description": rating.description,
                    "position": position,
                }
                level.update(_points(rating.points, below, criterion.uses_range, limits))
                levels.append(level)
                below = rating.points
            criteria.append({
                "identifier": criterion_slugs.make(criterion.title, f"criterion-{index + 1}"),
                "title": criterion.title,
                "description": criterion.description,
                "position": index + 1,
                "levels": levels,
            })
        return {
            "identifier": UniqueSlugs(limit=limits.max_identifier).make(self.title, ""),
            "title": self.title,
            "scoring_mode": ScoringMode.POINTS.value,
            "criteria": criteria,
        }

    def locate(self, problem: Problem, columns: _Columns) -> ImportProblem:
        """Point an engine problem at the line (and, when it is one cell, the column) it came from."""
        path = problem.path
        if len(path) >= 2 and path[0] == "criteria" and isinstance(path[1], int):
            criterion = self.criteria[path[1]]
            column: int | None = None
            if len(path) >= 4 and path[2] == "levels" and isinstance(path[3], int):
                rating = criterion.ratings[path[3]]
                field_name = path[4] if len(path) >= 5 else None
                offset = {"identifier": 0, "title": 0, "description": 1}.get(str(field_name), 2)
                column = rating.column + offset if field_name is not None else None
            elif len(path) >= 3:
                column = {"identifier": CRITERIA_NAME, "title": CRITERIA_NAME,
                          "description": CRITERIA_DESCRIPTION}.get(str(path[2]))
            if column is None:
                return ImportProblem(f"line {criterion.line}", problem.message)
            return columns.problem(criterion.line, column, problem.message)
        if path[:1] in (("title",), ("identifier",)):
            return columns.problem(self.line, RUBRIC_NAME, problem.message)
        return ImportProblem(f"line {self.line}", problem.message)


class _Columns:
    """Names columns in messages the way the file's own header does ("column 7 'Rating Points 1'")."""

    def __init__(self, header: list[str]) -> None:
        self.header = header

    def label(self, index: int) -> str:
        if index < len(self.header) and self.header[index].strip():
            return self.header[index].strip()
        if index < FIRST_RATING:
            return CRITERION_COLUMNS[index]
        return RATING_COLUMNS[(index - FIRST_RATING) % 3]

    def problem(self, line: int, index: int, message: str) -> ImportProblem:
        return ImportProblem(f"line {line}", f"column {index + 1} {describe(self.label(index))}: {message}")


def _read_criterion(
    line: int, cells: list[str], rating_count: int, columns: _Columns, problems: list[ImportProblem]
) -> _CriterionDraft:
    before = len(problems)
    title = cells[CRITERIA_NAME]
    range_cell = cells[ENABLE_RANGE].strip().lower()
    if range_cell not in RANGE_ON | RANGE_OFF:
        problems.append(columns.problem(
            line, ENABLE_RANGE, f"expected true or false, got {describe(cells[ENABLE_RANGE].strip())}"
        ))
    ratings: list[_Rating] = []
    for number in range(1, rating_count + 1):
        start = FIRST_RATING + 3 * (number - 1)
        name, description, points_cell = (cells[start + offset] for offset in range(3))
        if not (name.strip() or description.strip() or points_cell.strip()):
            continue  # trailing (or skipped) empty triplets mean "no rating here"
        if not name.strip():
            problems.append(columns.problem(
                line, start, f"rating {number} has a description or points but no name"
            ))
            continue
        shown = name.strip()[:40]
        if not points_cell.strip():
            problems.append(columns.problem(line, start + 2, f"rating '{shown}' has no points"))
            continue
        try:
            points = to_decimal(
                points_cell.replace(",", ".") if DECIMAL_COMMA.match(points_cell) else points_cell
            )
        except NotANumber as refusal:
            why = "which is not a number" if refusal.reason == NotANumber.UNREADABLE else "far out of range"
            problems.append(columns.problem(
                line, start + 2, f"rating '{shown}' has points {describe(points_cell.strip())}, {why}"
            ))
            continue
        ratings.append(_Rating(name, description, points, start))
    criterion_name = title.strip()[:40] or "(no name)"
    if len(problems) == before and not ratings:
        problems.append(ImportProblem(
            f"line {line}",
            f"criterion '{criterion_name}' has no ratings; give each rating a Rating Name and Rating Points",
        ))
    # Lowest points first; equal points keep the file's highest-first order reversed, so
    # exporting (highest first) writes them back in the same order.
    ranked = sorted(enumerate(ratings), key=lambda pair: (pair[1].points, -pair[0]))
    ordered = [rating for _, rating in ranked]
    uses_range = range_cell in RANGE_ON
    if uses_range:
        for lower, higher in zip(ordered, ordered[1:], strict=False):
            if lower.points == higher.points:
                problems.append(ImportProblem(
                    f"line {line}",
                    f"criterion '{criterion_name}' has Criteria Enable Range true, so each rating needs "
                    f"different points; '{higher.name.strip()[:40]}' and '{lower.name.strip()[:40]}' "
                    f"are both worth {format_decimal(lower.points)}",
                ))
    return _CriterionDraft(line, title, cells[CRITERIA_DESCRIPTION], uses_range, ordered)


def _points(points: Decimal, below: Decimal | None, uses_range: bool, limits: RubricLimits) -> dict[str, str]:
    """A level's points: fixed, or with ranges on, from just above the rating below up to ``points``."""
    if not uses_range:
        return {"points": format_decimal(points)}
    # The smallest step Cadre records: "just above 2" is 2.01 with two decimal places.
    bottom = Decimal(0) if below is None else below + Decimal(1).scaleb(-limits.points_places)
    if bottom == points:
        return {"points": format_decimal(points)}
    return {"min_points": format_decimal(bottom), "max_points": format_decimal(points)}


def _check_header(header: list[str], line: int, problems: list[ImportProblem]) -> int:
    """Check the header; return how many rating triplets it names."""
    where = f"line {line}"
    for index, expected in enumerate(CRITERION_COLUMNS):
        if index >= len(header):
            problems.append(ImportProblem(where, f"missing column {index + 1} '{expected}'"))
        elif _label(header[index]) != _label(expected):
            problems.append(ImportProblem(
                where, f"column {index + 1} should be '{expected}', found {describe(header[index].strip())}"
            ))
    if problems:
        return 0
    width = _width(header)
    rating_count = (width - FIRST_RATING + 2) // 3
    for index in range(FIRST_RATING, FIRST_RATING + 3 * rating_count):
        expected = RATING_COLUMNS[(index - FIRST_RATING) % 3]
        if index >= width:
            problems.append(ImportProblem(
                where,
                f"missing column {index + 1} '{expected}'; each rating needs "
                f"{', '.join(RATING_COLUMNS[:2])} and {RATING_COLUMNS[2]} columns",
            ))
            continue
        match = RATING_LABEL.match(_label(header[index]))
        if match is None or match.group(1) != _label(expected):
            problems.append(ImportProblem(
                where, f"column {index + 1} should be '{expected}', found {describe(header[index].strip())}"
            ))
    if rating_count == 0 and not problems:
        problems.append(ImportProblem(
            where, f"no rating columns; add {', '.join(RATING_COLUMNS)} after {CRITERION_COLUMNS[-1]}"
        ))
    return rating_count


def _label(name: str) -> str:
    return " ".join(name.split()).lower()


def _labels(names: list[str]) -> list[str]:
    return [_label(name) for name in names]


def _width(cells: list[str]) -> int:
    """The number of cells up to the last one that is not blank (spreadsheets pad rows)."""
    width = len(cells)
    while width and not cells[width - 1].strip():
        width -= 1
    return width
