"""Hostile uploads cost time linear in their size and produce bounded messages.

A CSV header with 200,000 unknown columns produced 200,004 problems and a 30 MB page; a Canvas CSV of
200,000 rows with one title made identifiers in quadratic time; cell text was echoed whole in messages.
"""

from __future__ import annotations

import pytest

from rubrics import RubricImportError, export_csv, import_canvas_csv, import_csv, parse_rubric
from rubrics.errors import LISTED_PROBLEMS, ImportProblem
from rubrics.identifiers import UniqueSlugs
from tests.rubrics.examples import base


def refusal(call: object, *args: object) -> RubricImportError:
    with pytest.raises(RubricImportError) as caught:
        call(*args)  # type: ignore[operator]
    return caught.value


def test_every_problem_is_kept_but_only_the_first_are_listed() -> None:
    header = ",".join(["criterion_identifier", "criterion_title", "level_identifier", "level_title"])
    header += "," + ",".join(f"x{index}" for index in range(200_000))
    error = refusal(import_csv, header + "\n")
    assert len(error.problems) == 200_000
    assert len(error.problems.listed) == LISTED_PROBLEMS
    assert error.problems.unlisted == 200_000 - LISTED_PROBLEMS
    message = str(error)
    assert message.endswith(f"and {200_000 - LISTED_PROBLEMS:,} more problems")
    assert len(message) < 100 * LISTED_PROBLEMS


def test_a_short_list_says_nothing_more() -> None:
    error = RubricImportError([ImportProblem("line 1", "one")])
    assert (error.problems.listed, error.problems.unlisted, str(error)) == (
        [ImportProblem("line 1", "one")],
        0,
        "line 1: one",
    )


def test_messages_shorten_what_the_file_holds() -> None:
    long_name = "y" * 100_000
    header = f"criterion_identifier,criterion_title,level_identifier,level_title,{long_name}\n"
    error = refusal(import_csv, header)
    assert [str(problem) for problem in error.problems] == [f"line 1: unknown column '{'y' * 40}...'"]

    text = export_csv(parse_rubric(base()))
    lines = text.splitlines()
    cells = lines[2].split(",")
    cells[7] = "z" * 100_000  # criterion_guidance differs from the row above
    lines[2] = ",".join(cells)
    error = refusal(import_csv, "\r\n".join(lines) + "\r\n")
    assert all(len(str(problem)) < 300 for problem in error.problems), error.problems


def test_a_canvas_file_with_too_many_rows_is_refused_before_identifiers_are_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = 0
    real_make = UniqueSlugs.make

    def counting_make(self: UniqueSlugs, title: str, fallback: str) -> str:
        nonlocal made
        made += 1
        return real_make(self, title, fallback)

    monkeypatch.setattr(UniqueSlugs, "make", counting_make)
    rows = ["Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
            "Rating Name,Rating Description,Rating Points"]
    rows += ["Flood,a,,false,Full,,1"] * 20_000
    error = refusal(import_canvas_csv, "\n".join(rows))
    assert [str(problem) for problem in error.problems] == [
        "line 2: the rubric 'Flood' has 20,000 criteria (rows); the limit is 1,000"
    ]
    assert made == 0
