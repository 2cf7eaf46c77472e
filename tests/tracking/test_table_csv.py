"""Every table a dashboard offers as CSV writes a formula-like cell as text: one starting with ``= + - @``
(defusedcsv), and one starting with a tab, a carriage return or an apostrophe (OWASP lists the first two;
the apostrophe keeps the escaping reversible), and the import's ``restore`` gives each cell back."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from lti_tool.tracking.tables import Table
from rubrics.spreadsheet_cells import restore

FORMULAS = ("=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=cmd|' /C calc'!A0", "\r=HYPERLINK(\"x\")", "'quoted")
HOSTILE = (*FORMULAS, "plain", "42", "-1.5")


def _table(cells: tuple[str, ...]) -> Table:
    return Table("t", "A table", tuple(f"h{n}" for n in range(len(cells))), (cells,), (False,) * len(cells))


def test_formula_like_cells_are_written_as_text() -> None:
    [header, row] = list(csv.reader(io.StringIO(_table(HOSTILE).csv(), newline="")))
    assert header == [f"h{n}" for n in range(len(HOSTILE))]
    written = dict(zip(HOSTILE, row, strict=True))
    for cell in FORMULAS:
        assert written[cell].startswith("'"), (cell, written[cell])
    assert written["plain"] == "plain" and written["42"] == "42" and written["-1.5"] == "-1.5"  # numbers stay


@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_every_cell_reads_back_as_it_was(cells: list[str]) -> None:
    [_header, row] = list(csv.reader(io.StringIO(_table(tuple(cells)).csv(), newline="")))
    assert [restore(cell) for cell in row] == cells
