"""CSV import and export: documented columns, errors by line, nothing partial."""

from __future__ import annotations

import pytest

from rubrics import RubricImportError, export_csv, import_csv, parse_rubric
from rubrics.csv_io import COLUMNS
from tests.rubrics.examples import base

HEADER = (
    "rubric_title,scoring_mode,criterion_identifier,criterion_title,level_identifier,level_title,points\n"
)


def problems(source: str | bytes, **options: int) -> list[str]:
    with pytest.raises(RubricImportError) as caught:
        import_csv(source, **options)
    return [str(problem) for problem in caught.value.problems]


def test_export_has_one_row_per_level_and_rubric_fields_on_the_first_row_only() -> None:
    text = export_csv(parse_rubric(base()))
    lines = text.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + 2 + 2 + 4
    assert lines[1].startswith("coaching-skills,Coaching skills,Observed coaching conversation.,points,")
    assert lines[2].startswith(",,,,,listening,Listening,")
    assert (
        ",coaching-conversation,Coaching conversation,,,3,2,,yes,developing,Developing,,,2,,1.5,2.5" in text
    )


def test_minimal_columns_and_excel_bom_import() -> None:
    source = (
        "\ufeff" + HEADER + "Quick check,points,c1,Clarity,low,Low,0\n,,c1,Clarity,high,High,2.5\n"
    ).encode()
    rubric = import_csv(source)
    assert rubric.title == "Quick check"
    assert rubric.criteria[0].max_points == 2.5
    assert [level.position for level in rubric.criteria[0].levels] == [1, 2]


def test_validation_problems_name_the_line() -> None:
    source = (
        HEADER
        + "Quick check,points,c1,Clarity,low,Low,0\n"
        + ",,c1,Clarity,high,High,lots\n"
        + ",,c2,Tone,low,Low,0\n"
        + ",,c2,Tone,low,Again,1\n"
    )
    assert problems(source) == [
        "line 3: criterion 1 'Clarity', level 2 'High': points must be a number, got 'lots'",
        "line 5: criterion 2 'Tone', level 2 'Again': identifier 'low' is already used by level 1",
    ]


def test_quoted_multi_line_cells_keep_line_numbers_right() -> None:
    source = (
        HEADER
        + 'Quick check,points,c1,"Clarity\nover two lines",low,Low,0\n'
        + ',,c1,"Clarity\nover two lines",high,High,-1\n'
    )
    assert problems(source) == [
        "line 4: criterion 1 'Clarity\nover two lines', level 2 'High': points must be 0 or more, got -1"
    ]


def test_structural_problems() -> None:
    assert problems("") == ["line 1: the file is empty; expected a header row"]
    assert problems(HEADER) == ["line 2: the file has no rows after the header"]
    assert problems("rubric_title,wieght,criterion_title,criterion_title\n") == [
        "line 1: unknown column 'wieght'",
        "line 1: column 'criterion_title' appears twice",
        "line 1: missing column 'criterion_identifier'",
        "line 1: missing column 'level_identifier'",
        "line 1: missing column 'level_title'",
    ]
    assert problems(HEADER + "T,points,c1,C,a,A,1,extra\n") == ["line 2: 8 cells, but the header has 7"]


def test_rows_must_agree_with_each_other() -> None:
    source = (
        "rubric_title,scoring_mode,criterion_identifier,criterion_title,level_identifier,level_title,points,"
        "comment_required\n"
        "T,points,c1,Clarity,low,Low,0,no\n"
        "T,,c1,Clearness,high,High,2,maybe\n"
    )
    assert problems(source) == [
        "line 3: rubric_title must be blank after the first row (rubric fields are read from line 2)",
        "line 3: criterion 'c1' has criterion_title 'Clearness' here but 'Clarity' on line 2",
        "line 3: criterion 'c1' has comment_required 'maybe' here but 'no' on line 2",
    ]


def test_comment_required_must_be_yes_or_no() -> None:
    source = (
        "criterion_identifier,criterion_title,level_identifier,level_title,comment_required\n"
        "c,C,a,A,sometimes\n"
    )
    assert problems(source) == ["line 2: comment_required must be yes or no, got 'sometimes'"]


def test_too_big_and_not_utf8() -> None:
    assert problems(HEADER * 10, max_bytes=100) == ["file: the file is 990 bytes; the limit is 100"]
    assert problems(HEADER.encode() + b"T,points,c1,Caf\xe9,a,A,1\n") == [
        "line 2: the file is not UTF-8 text (byte 115 cannot be read)"
    ]


def test_csv_error_names_the_line() -> None:
    huge_cell = "x" * 200_000
    assert problems(HEADER + "T,points,c1,C,a,A,1\n" + f",,c1,C,b,{huge_cell},2\n") == [
        "line 3: the CSV cannot be read: field larger than field limit (131072)"
    ]


def test_control_characters_are_refused_by_line() -> None:
    assert problems(HEADER + "T,points,c1,C\x00,a,A,1\n,,c1,C\x00,b,B,2\n") == [
        "line 2: criterion 1: title contains a control character (U+0000); remove it"
    ]
