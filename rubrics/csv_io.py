"""Rubrics as CSV: one row per criterion-level, for designers who work in spreadsheets.

Rubric fields sit on the first data row only; criterion fields repeat on every row of the
criterion (so rows can be sorted and filtered) and must agree. Columns are documented in
docs/rubrics.md. Import is all-or-nothing: any problem raises RubricImportError naming lines.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from rubrics import spreadsheet_cells
from rubrics.errors import ImportProblem, Problem, RubricImportError, RubricValidationError
from rubrics.exact_numbers import format_decimal
from rubrics.model import Criterion, Level, Rubric
from rubrics.parsing import DEFAULT_LIMITS, RubricLimits, describe, parse_rubric
from rubrics.uploads import DEFAULT_MAX_BYTES, read_upload

RUBRIC_COLUMNS = (
    "rubric_identifier", "rubric_title", "rubric_description", "scoring_mode", "competency_frameworks",
)
CRITERION_COLUMNS = (
    "criterion_identifier", "criterion_title", "criterion_description", "criterion_guidance",
    "criterion_position", "weight", "competency_tags", "comment_required",
)
LEVEL_COLUMNS = (
    "level_identifier", "level_title", "level_description", "level_guidance", "level_position",
    "points", "min_points", "max_points",
)
COLUMNS = RUBRIC_COLUMNS + CRITERION_COLUMNS + LEVEL_COLUMNS
POINTS_COLUMNS = ("points", "min_points", "max_points")
REQUIRED_COLUMNS = ("criterion_identifier", "criterion_title", "level_identifier", "level_title")
YES = frozenset({"yes", "true", "1"})
NO = frozenset({"no", "false", "0", ""})


def export_csv(rubric: Rubric) -> str:
    """The rubric as CSV text (RFC 4180, CRLF line ends) with every column present; cells a spreadsheet
    would run as formulas are written as text (:mod:`rubrics.spreadsheet_cells`)."""
    buffer = io.StringIO()
    writer = spreadsheet_cells.writer(buffer)
    writer.writerow(COLUMNS)
    first = True
    for criterion in rubric.criteria:
        for level in criterion.levels:
            writer.writerow(_rubric_cells(rubric, first) + _criterion_cells(criterion) + _level_cells(level))
            first = False
    return buffer.getvalue()


def import_csv(
    source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: RubricLimits = DEFAULT_LIMITS
) -> Rubric:
    """Read a rubric from CSV, or raise RubricImportError listing every problem by line."""
    text = read_upload(source, max_bytes)
    problems: list[ImportProblem] = []
    rows = read_rows(text, problems)
    if problems:
        raise RubricImportError(problems)
    if not rows:
        raise RubricImportError([ImportProblem("line 1", "the file is empty; expected a header row")])
    header_line, header = rows[0]
    _check_header(header, header_line, problems)
    if problems:
        raise RubricImportError(problems)
    for line, cells in rows[1:]:
        if len(cells) > len(header):
            problems.append(
                ImportProblem(f"line {line}", f"{len(cells)} cells, but the header has {len(header)}")
            )
    if problems:
        raise RubricImportError(problems)
    # Short rows are padded: spreadsheets drop trailing empty cells. Cells written as text on export
    # (formula-like ones) are read back as they were.
    records = [
        (line, dict(zip(header, [spreadsheet_cells.restore(cell) for cell in cells]
                        + [""] * (len(header) - len(cells)), strict=True)))
        for line, cells in rows[1:] if any(cell.strip() for cell in cells)
    ]
    if not records:
        problems.append(ImportProblem(f"line {header_line + 1}", "the file has no rows after the header"))
    if problems:
        raise RubricImportError(problems)
    data, criterion_lines, level_lines = _assemble(records, problems)
    if problems:
        raise RubricImportError(problems)
    try:
        return parse_rubric(data, limits)
    except RubricValidationError as error:
        raise RubricImportError(
            [_locate(problem, records[0][0], criterion_lines, level_lines) for problem in error.problems]
        ) from None


def _rubric_cells(rubric: Rubric, first: bool) -> list[str]:
    if not first:
        return [""] * len(RUBRIC_COLUMNS)
    return [
        rubric.identifier, rubric.title, rubric.description, rubric.scoring_mode.value,
        " ".join(rubric.competency_frameworks),
    ]


def _criterion_cells(criterion: Criterion) -> list[str]:
    return [
        criterion.identifier, criterion.title, criterion.description, criterion.guidance,
        str(criterion.position), format_decimal(criterion.weight), " ".join(criterion.competency_tags),
        "yes" if criterion.comment_required else "no",
    ]


def _level_cells(level: Level) -> list[str]:
    points = min_points = max_points = ""
    if level.min_points is not None and level.max_points is not None:
        if level.is_range:
            min_points, max_points = format_decimal(level.min_points), format_decimal(level.max_points)
        else:
            points = format_decimal(level.max_points)
    return [
        level.identifier, level.title, level.description, level.guidance, str(level.position),
        points, min_points, max_points,
    ]


def read_rows(text: str, problems: list[ImportProblem]) -> list[tuple[int, list[str]]]:
    """Rows with the line each starts on (a quoted cell may span several lines)."""
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(ImportProblem(f"line {start}", f"the CSV cannot be read: {error}"))
    return rows


def _check_header(header: list[str], line: int, problems: list[ImportProblem]) -> None:
    where = f"line {line}"
    seen: set[str] = set()
    for name in header:
        if name not in COLUMNS:
            problems.append(ImportProblem(where, f"unknown column {describe(name)}"))
        elif name in seen:
            problems.append(ImportProblem(where, f"column {describe(name)} appears twice"))
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.append(ImportProblem(where, f"missing column '{name}'"))


def _assemble(
    records: list[tuple[int, dict[str, str]]], problems: list[ImportProblem]
) -> tuple[dict[str, Any], list[int], list[list[int]]]:
    """Group rows into the dict parse_rubric reads, remembering which line each part came from."""
    first_line, first = records[0]
    data: dict[str, Any] = {
        "identifier": first.get("rubric_identifier", ""),
        "title": first.get("rubric_title", ""),
        "description": first.get("rubric_description", ""),
        "scoring_mode": first.get("scoring_mode", ""),
        "competency_frameworks": first.get("competency_frameworks", "").split(),
        "criteria": [],
    }
    criteria: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {}
    criterion_lines: list[int] = []
    level_lines: list[list[int]] = []
    for line, record in records:
        if line != first_line:
            for column in RUBRIC_COLUMNS:
                if record.get(column, "").strip():
                    problems.append(ImportProblem(
                        f"line {line}",
                        f"{column} must be blank after the first row "
                        f"(rubric fields are read from line {first_line})",
                    ))
        key = record["criterion_identifier"].strip()
        if key in criteria:
            index, criterion, cells = criteria[key]
            for column in CRITERION_COLUMNS:
                if record.get(column, "").strip() != cells.get(column, "").strip():
                    problems.append(ImportProblem(
                        f"line {line}",
                        f"criterion {describe(key)} has {column} {describe(record.get(column, ''))} here "
                        f"but {describe(cells.get(column, ''))} on line {criterion_lines[index]}",
                    ))
        else:
            criterion = _criterion_data(record, line, problems)
            criteria[key] = (len(criterion_lines), criterion, record)
            criterion_lines.append(line)
            level_lines.append([])
            data["criteria"].append(criterion)
            index = criteria[key][0]
        criterion["levels"].append({
            "identifier": record["level_identifier"],
            "title": record["level_title"],
            "description": record.get("level_description", ""),
            "guidance": record.get("level_guidance", ""),
            "position": record.get("level_position", ""),
            **{name: record[name] for name in POINTS_COLUMNS if record.get(name, "").strip()},
        })
        level_lines[index].append(line)
    return data, criterion_lines, level_lines


def _criterion_data(record: dict[str, str], line: int, problems: list[ImportProblem]) -> dict[str, Any]:
    required = record.get("comment_required", "").strip().lower()
    if required not in YES | NO:
        problems.append(ImportProblem(
            f"line {line}", f"comment_required must be yes or no, got {describe(record['comment_required'])}"
        ))
    return {
        "identifier": record["criterion_identifier"],
        "title": record["criterion_title"],
        "description": record.get("criterion_description", ""),
        "guidance": record.get("criterion_guidance", ""),
        "position": record.get("criterion_position", ""),
        "weight": record.get("weight", ""),
        "competency_tags": record.get("competency_tags", "").split(),
        "comment_required": required in YES,
        "levels": [],
    }


def _locate(
    problem: Problem, first_line: int, criterion_lines: list[int], level_lines: list[list[int]]
) -> ImportProblem:
    """Point a validation problem at the CSV line it came from."""
    path = problem.path
    line = first_line
    if len(path) >= 2 and path[0] == "criteria" and isinstance(path[1], int):
        line = criterion_lines[path[1]]
        if len(path) >= 4 and path[2] == "levels" and isinstance(path[3], int):
            line = level_lines[path[1]][path[3]]
    return ImportProblem(f"line {line}", problem.message)
