"""CSV exports never hand a spreadsheet a formula, and Cadre's importers read the escaped cells back exactly.

Cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR were exported as typed in Cadre CSV and Canvas CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rubrics import (
    Rubric,
    ScoringMode,
    export_canvas_csv,
    export_csv,
    import_canvas_csv,
    import_csv,
    parse_rubric,
)
from rubrics.spreadsheet_cells import restore, writer
from tests.rubrics.examples import base
from tests.rubrics.strategies import TEXT_ALPHABET, rubric_dicts

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FORMULA_STARTS = ["=", "+", "-", "@", "|", "%", "\t", "\r", "'", "'=", "''", "-1", "=1|2", "\\|"]
# Text as a designer might type it, starting the way formulas (or escaped cells) start.
formula_like = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(FORMULA_STARTS),
    st.text(TEXT_ALPHABET | st.sampled_from(["|", "\\", "=", "'"]), max_size=20),
)


def written(cells: list[str]) -> list[str]:
    buffer = io.StringIO()
    writer(buffer).writerow(cells)
    return next(csv.reader(io.StringIO(buffer.getvalue(), newline="")))


@SETTINGS
@given(st.lists(formula_like | st.text(TEXT_ALPHABET, max_size=20), min_size=1, max_size=6))
def test_no_written_cell_starts_a_formula_and_restore_undoes_exactly_the_escaping(cells: list[str]) -> None:
    on_disk = written(cells)
    for cell in on_disk:
        is_plain_number = cell.lstrip("-").replace(",", "").replace(".", "").isdigit()
        assert is_plain_number or not cell.startswith(("=", "+", "-", "@", "|", "%", "\t", "\r")), cell
    assert [restore(cell) for cell in on_disk] == cells


def test_the_escaping_rule_on_examples() -> None:
    assert written(["=HYPERLINK(\"http://x\")", "-5", "-5 points", "@SUM(A1)", "a|b", "=a|b", "'quoted"]) == [
        "'=HYPERLINK(\"http://x\")",
        "-5",  # a plain number stays a number (defusedcsv's rule)
        "'-5 points",
        "'@SUM(A1)",
        "a|b",
        "'=a\\|b",
        "''quoted",
    ]


def formula_titled(data: dict[str, Any], title: str, description: str) -> dict[str, Any]:
    data["title"] = title if title.strip() else "=" + title
    data["description"] = description
    for criterion in data["criteria"]:
        criterion["title"], criterion["description"] = data["title"], description
        for level in criterion["levels"]:
            level["title"], level["guidance"] = data["title"], description
    return data


@st.composite
def formula_rubrics(draw: st.DrawFn, mode: ScoringMode | None = None, fixed_points: bool = False) -> Rubric:
    data = draw(rubric_dicts(mode))
    if fixed_points:  # what Canvas keeps exactly: distinct fixed points per level
        for criterion in data["criteria"]:
            for number, level in enumerate(criterion["levels"]):
                level.pop("min_points", None)
                level.pop("max_points", None)
                level["points"] = str(number)
    return parse_rubric(formula_titled(data, draw(formula_like), draw(formula_like)))


@SETTINGS
@given(formula_rubrics())
def test_cadre_csv_round_trip_is_lossless_for_formula_like_text(rubric: Rubric) -> None:
    exported = export_csv(rubric)
    cells = [cell for row in csv.reader(io.StringIO(exported, newline="")) for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    assert import_csv(exported) == rubric
    assert export_csv(import_csv(exported)) == exported


@SETTINGS
@given(formula_rubrics(ScoringMode.POINTS, fixed_points=True))
def test_canvas_csv_keeps_formula_like_titles_and_descriptions(rubric: Rubric) -> None:
    exported = export_canvas_csv(rubric)
    cells = [cell for row in csv.reader(io.StringIO(exported, newline="")) for cell in row]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells)
    [imported] = import_canvas_csv(exported)
    assert imported.title == rubric.title
    assert [(c.title, c.description) for c in imported.criteria] == [
        (c.title, c.description) for c in rubric.criteria
    ]


def test_an_export_of_a_formula_title_opens_as_text() -> None:
    rubric = dataclasses.replace(parse_rubric(base()), title='=HYPERLINK("http://evil.example","x")')
    first_row = export_csv(rubric).splitlines()[1]
    assert first_row.split(",")[1].startswith('"\'=HYPERLINK(')
