"""Canvas LMS rubric CSV: Canvas's files import, Cadre's rubrics export to files Canvas accepts,
every problem names line and column, and nothing partial is ever returned."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from rubrics import (
    CanvasExportError,
    Rubric,
    RubricImportError,
    ScoringMode,
    content_hash,
    export_canvas_csv,
    export_csv,
    get_template,
    import_canvas_csv,
    list_templates,
    looks_like_canvas_csv,
    parse_rubric,
)
from rubrics.canvas_csv import CRITERION_COLUMNS
from tests.rubrics.examples import base
from tests.rubrics.strategies import rubric_dicts

NUMBERED = (
    "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name 1,Rating Description 1,Rating Points 1,"
    "Rating Name 2,Rating Description 2,Rating Points 2,"
    "Rating Name 3,Rating Description 3,Rating Points 3\r\n"
)
PLAIN = (
    "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name,Rating Description,Rating Points,"
    "Rating Name,Rating Description,Rating Points,"
    "Rating Name,Rating Description,Rating Points\r\n"
)
# As Canvas writes it: ratings highest first, a ragged second row, quoted commas and a line break,
# and a criterion with ranges.
ROWS = (
    'Coaching check-in,Listening,"Lets the employee talk, then reflects back.",false,'
    "Strong,Reflects feelings and facts,3,Partly,,1.5,Not yet,Talks over the employee,0\r\n"
    'Coaching check-in,Next steps,"Agrees what happens next.\nIn writing.",FALSE,'
    "Agreed,Both sides commit,2,Missing,,0\r\n"
    "Coaching check-in,Questions,Open questions,True,"
    'Excellent,"Open, curious",10,Good,Mostly open,7,Weak,Closed questions,4\r\n'
)

CANVAS_TEMPLATE = (  # Canvas's own import_rubric_template.csv (RubricImport.template_file)
    "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name,Rating Description,Rating Points,Rating Name,Rating Description,Rating Points,"
    "Rating Name,Rating Description,Rating Points\n"
    "Rubric 1,Criteria 1,Criteria 1 Description,false,Rating 1,Rating 1 Description,2,Rating 2,"
    "Rating 2 Description,1,Rating 3,Rating 3 Description,0\n"
    "Rubric 1,Criteria 2,Criteria 2 Description,false,Criteria 2 Rating 1,Rating Description,1,"
    "Criteria 2 Rating 2,Rating 2 Description,1\n"
)


def problems(source: str | bytes, **options: int) -> list[str]:
    with pytest.raises(RubricImportError) as caught:
        import_canvas_csv(source, **options)
    return [str(problem) for problem in caught.value.problems]


def levels(rubric: Rubric, index: int) -> list[tuple[int, str, str, str | None, str | None]]:
    return [
        (level.position, level.identifier, level.title, _text(level.min_points), _text(level.max_points))
        for level in rubric.criteria[index].levels
    ]


def _text(number: Decimal | None) -> str | None:
    return None if number is None else str(number)


# -- import --------------------------------------------------------------------------------------------


def test_a_canvas_file_with_bom_quotes_ragged_rows_and_ranges_imports() -> None:
    [rubric] = import_canvas_csv(("\ufeff" + NUMBERED + ROWS).encode())
    assert rubric.title == "Coaching check-in"
    assert rubric.identifier == "coaching-check-in"
    assert rubric.scoring_mode is ScoringMode.POINTS
    assert [(c.position, c.identifier, c.title) for c in rubric.criteria] == [
        (1, "listening", "Listening"),
        (2, "next-steps", "Next steps"),
        (3, "questions", "Questions"),
    ]
    assert rubric.criteria[0].description == "Lets the employee talk, then reflects back."
    assert rubric.criteria[1].description == "Agrees what happens next.\nIn writing."
    assert all(c.weight == 1 and not c.guidance and not c.competency_tags for c in rubric.criteria)
    assert not any(c.comment_required for c in rubric.criteria)
    # Lowest points first, positions 1..n, as Cadre orders levels.
    assert levels(rubric, 0) == [
        (1, "not-yet", "Not yet", "0", "0"),
        (2, "partly", "Partly", "1.5", "1.5"),
        (3, "strong", "Strong", "3", "3"),
    ]
    assert levels(rubric, 1) == [(1, "missing", "Missing", "0", "0"), (2, "agreed", "Agreed", "2", "2")]
    # Enable Range: each rating tops a range starting just above the rating below (0 for the lowest).
    assert levels(rubric, 2) == [
        (1, "weak", "Weak", "0", "4"),
        (2, "good", "Good", "4.01", "7"),
        (3, "excellent", "Excellent", "7.01", "10"),
    ]
    assert rubric.criteria[2].levels[2].description == "Open, curious"
    assert rubric.max_points == 15


def test_numbered_and_plain_headers_read_the_same() -> None:
    [numbered] = import_canvas_csv(NUMBERED + ROWS)
    [plain] = import_canvas_csv(PLAIN.replace("\r\n", "\n") + ROWS.replace("\r\n", "\n"))
    assert content_hash(numbered) == content_hash(plain)


def test_canvas_own_template_imports_with_equal_points_and_decimal_commas() -> None:
    [rubric] = import_canvas_csv(CANVAS_TEMPLATE)
    assert [c.identifier for c in rubric.criteria] == ["criteria-1", "criteria-2"]
    # Equal points keep the file's order when exported highest first again.
    assert levels(rubric, 1) == [
        (1, "criteria-2-rating-2", "Criteria 2 Rating 2", "1", "1"),
        (2, "criteria-2-rating-1", "Criteria 2 Rating 1", "1", "1"),
    ]
    assert export_canvas_csv(rubric).splitlines()[2].split(",")[4::3] == [
        "Criteria 2 Rating 1", "Criteria 2 Rating 2"
    ]
    # Canvas reads "1,75" as 1.75; so does Cadre.
    [comma] = import_canvas_csv(PLAIN + 'R,C,,false,Top,,"1,75",Bottom,,0\r\n')
    assert comma.criteria[0].max_points == Decimal("1.75")


def test_identifiers_are_slugs_made_unique() -> None:
    source = PLAIN + (
        "R,Qualité,,false,Bon,,2,Bon,,1,Bon!,,0\n"
        "R,Qualité,,false,Oui,,1,Non,,0\n"
        "R,評価,,false,高,,1,低,,0\n"
    )
    [rubric] = import_canvas_csv(source)
    assert [c.identifier for c in rubric.criteria] == ["qualite", "qualite-2", "criterion-3"]
    assert [level.identifier for level in rubric.criteria[0].levels] == ["bon", "bon-2", "bon-3"]
    assert [level.identifier for level in rubric.criteria[2].levels] == ["level-1", "level-2"]


def test_several_rubric_names_give_several_rubrics_in_file_order() -> None:
    source = PLAIN + (
        "Second,A,,false,Hi,,2,Lo,,0\n"
        "First,B,,false,Hi,,4,Lo,,1\n"
        "Second,C,,false,Hi,,1,Lo,,0\n"
    )
    found = import_canvas_csv(source)
    assert [(r.title, [c.title for c in r.criteria]) for r in found] == [
        ("Second", ["A", "C"]),
        ("First", ["B"]),
    ]


def test_blank_rows_and_trailing_empty_cells_are_ignored() -> None:
    source = PLAIN + ",,,,,,,\n" + "R,C,,false,Hi,,2,Lo,,0,,,,,,\n\n"
    [rubric] = import_canvas_csv(source)
    assert len(rubric.criteria[0].levels) == 2


# -- import problems -----------------------------------------------------------------------------------


def test_missing_and_wrong_header_columns() -> None:
    assert problems("Rubric Name,Criteria Name,Description\nR,C,D\n") == [
        "line 1: column 3 should be 'Criteria Description', found 'Description'",
        "line 1: missing column 4 'Criteria Enable Range'",
    ]
    assert problems(
        "Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range,Rating Name,Rating Points\n"
    ) == [
        "line 1: column 6 should be 'Rating Description', found 'Rating Points'",
        "line 1: missing column 7 'Rating Points'; each rating needs Rating Name, Rating Description and "
        "Rating Points columns",
    ]
    assert problems("Rubric Name,Criteria Name,Criteria Description,Criteria Enable Range\nR,C,,false\n") == [
        "line 1: no rating columns; add Rating Name, Rating Description, Rating Points after "
        "Criteria Enable Range"
    ]


def test_empty_file_and_header_only() -> None:
    assert problems("") == [
        "line 1: the file is empty; expected a header row starting Rubric Name, Criteria Name, "
        "Criteria Description, Criteria Enable Range"
    ]
    assert problems(NUMBERED) == ["line 2: the file has no rows after the header"]


def test_rating_points_that_are_not_numbers_name_line_and_column() -> None:
    source = NUMBERED + "R,Clarity,,false,Good,,2,OK,,1\nR,Tone,,false,Warm,,lots,Cold,,0\n"
    assert problems(source) == [
        "line 3: column 7 'Rating Points 1': rating 'Warm' has points 'lots', which is not a number"
    ]


def test_rating_with_a_name_but_no_points_or_points_but_no_name() -> None:
    source = NUMBERED + "R,Clarity,,false,Good,,,OK,,1\nR,Tone,,false,Warm,,2,,Cold but fair,0\n"
    assert problems(source) == [
        "line 2: column 7 'Rating Points 1': rating 'Good' has no points",
        "line 3: column 8 'Rating Name 2': rating 2 has a description or points but no name",
    ]


def test_a_criterion_without_ratings() -> None:
    assert problems(NUMBERED + "R,Clarity,Is it clear,false\n") == [
        "line 2: criterion 'Clarity' has no ratings; give each rating a Rating Name and Rating Points"
    ]


def test_bad_enable_range_value() -> None:
    assert problems(NUMBERED + "R,Clarity,,yes,Good,,2,Poor,,0\n") == [
        "line 2: column 4 'Criteria Enable Range': expected true or false, got 'yes'"
    ]


def test_ranges_need_different_points() -> None:
    assert problems(NUMBERED + "R,Clarity,,true,Good,,2,Also good,,2,Poor,,0\n") == [
        "line 2: criterion 'Clarity' has Criteria Enable Range true, so each rating needs different points; "
        "'Good' and 'Also good' are both worth 2"
    ]


def test_rows_wider_than_the_header_and_rows_without_a_rubric_name() -> None:
    header = NUMBERED.split(",Rating Name 2")[0] + "\n"
    assert problems(header + "R,C,,false,Hi,,2,Lo,,0\n,C,,false,Hi,,2\n") == [
        "line 2: 10 cells, but the header has 7; add Rating Name, Rating Description and Rating Points "
        "header columns for the extra ratings",
        "line 3: column 1 'Rubric Name': the rubric name is empty; every row names its rubric",
    ]


def test_engine_rules_apply_and_name_line_and_column() -> None:
    source = NUMBERED + (
        "R,Clarity,,false,Only,,2\n"  # Cadre needs two levels in a points rubric
        'R,"Tone\nover two lines",,false,High,,-1,Low,,0\n'  # a quoted line break: the next row is line 5
        "R,Pace,,false,Fast,,0,Slow,,0\n"
        "R,Depth,,false,Deep,,1.005,Shallow,,0\n"
    )
    assert problems(source) == [
        "line 2: criterion 1 'Clarity': add at least two levels (found 1)",
        "line 3: column 7 'Rating Points 1': criterion 2 'Tone\nover two lines', level 1 'High': "
        "points must be 0 or more, got -1",
        "line 5: criterion 3 'Pace': the highest level is worth 0 points; at least one level must be "
        "worth more than 0",
        "line 6: column 7 'Rating Points 1': criterion 4 'Depth', level 2 'Deep': points 1.005 has more "
        "than 2 decimal places",
    ]
    assert problems(NUMBERED + f"{'x' * 201},C,,false,Hi,,2,Lo,,0\n") == [
        "line 2: column 1 'Rubric Name': rubric: title is 201 characters long; the limit is 200"
    ]
    assert problems(NUMBERED + "R,C,,false,Hi\x01,,2,Lo,,0\n") == [
        "line 2: column 5 'Rating Name 1': criterion 1 'C', level 2: title contains a control character "
        "(U+0001); remove it"
    ]


def test_nothing_partial_when_one_rubric_of_several_is_broken() -> None:
    source = PLAIN + "Good,A,,false,Hi,,2,Lo,,0\nBroken,B,,false,Hi,,2\n"
    assert problems(source) == ["line 3: criterion 1 'B': add at least two levels (found 1)"]


def test_too_big_and_not_utf8() -> None:
    assert problems(NUMBERED + ROWS, max_bytes=100) == [
        f"file: the file is {len((NUMBERED + ROWS).encode()):,} bytes; the limit is 100"
    ]
    assert problems(NUMBERED.encode() + b"R,Caf\xe9,,false,Hi,,2,Lo,,0\n") == [
        f"line 2: the file is not UTF-8 text (byte {len(NUMBERED) + 6} cannot be read)"
    ]


# -- detection -----------------------------------------------------------------------------------------


def test_canvas_headers_are_recognised() -> None:
    assert looks_like_canvas_csv(NUMBERED + ROWS)
    assert looks_like_canvas_csv(("\ufeff" + PLAIN).encode())
    assert looks_like_canvas_csv("rubric name , CRITERIA NAME,Criteria  Description,criteria enable range\n")
    assert not looks_like_canvas_csv(export_csv(parse_rubric(base())))
    assert not looks_like_canvas_csv(b'{"CFRubrics": []}')
    assert not looks_like_canvas_csv(b"")
    assert not looks_like_canvas_csv(b"\xff\xfe\x00R\x00u")
    assert not looks_like_canvas_csv("Rubric Name,Criteria Name,Criteria Description\n")


# -- export --------------------------------------------------------------------------------------------


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_export_writes_ratings_highest_first_in_position_order() -> None:
    rubric = parse_rubric(base())
    text = export_canvas_csv(rubric)
    header, *rows = rows_of(text)
    widest = max(len(criterion.levels) for criterion in rubric.criteria)
    assert header[:4] == list(CRITERION_COLUMNS)
    assert header[4:7] == ["Rating Name 1", "Rating Description 1", "Rating Points 1"]
    assert len(header) == 4 + 3 * widest
    assert [row[1] for row in rows] == [criterion.title for criterion in rubric.criteria]
    assert all(row[0] == rubric.title for row in rows)
    assert text.endswith("\r\n")
    for row, criterion in zip(rows, rubric.criteria, strict=True):
        assert len(row) == 4 + 3 * len(criterion.levels)  # ragged, like Canvas's template
        points = [Decimal(cell) for cell in row[6::3]]
        assert points == sorted(points, reverse=True)
        assert row[3] == ("true" if any(level.is_range for level in criterion.levels) else "false")


def test_export_of_a_range_writes_its_top() -> None:
    rubric = get_template("skill-assessment-customer-conversation")
    first = rows_of(export_canvas_csv(rubric))[1]
    assert first[3] == "true"
    assert first[4::3] == ["Exceeds standard", "Meets standard", "Below standard"]
    assert first[6::3] == ["5", "4", "2"]


def test_levels_only_rubrics_cannot_be_exported_for_canvas() -> None:
    rubric = get_template("career-conversation-readiness")
    with pytest.raises(CanvasExportError) as caught:
        export_canvas_csv(rubric)
    assert str(caught.value) == (
        "'Career-conversation readiness' scores by levels only, without points; Canvas rubrics need points "
        "for every rating, so it cannot be exported for Canvas. Give the levels points (points or weighted "
        "percentage scoring) to export it."
    )


def test_weighted_percentage_exports_points_and_loses_weights() -> None:
    rubric = get_template("coaching-80-20")
    assert rubric.scoring_mode is ScoringMode.WEIGHTED_PERCENTAGE
    [back] = import_canvas_csv(export_canvas_csv(rubric))
    assert back.scoring_mode is ScoringMode.POINTS
    assert {criterion.weight for criterion in rubric.criteria} != {Decimal(1)}
    assert {criterion.weight for criterion in back.criteria} == {Decimal(1)}


@pytest.mark.parametrize("slug", [template.slug for template in list_templates()])
def test_every_template_exports_a_file_canvas_accepts_and_reimports(slug: str) -> None:
    template = get_template(slug)
    if template.scoring_mode is ScoringMode.LEVELS_ONLY:
        with pytest.raises(CanvasExportError):
            export_canvas_csv(template)
        return
    text = export_canvas_csv(template)
    header, *rows = rows_of(text)
    # What Canvas's importer needs: its four columns, rating triplets, and on every row a rubric
    # name, a criteria name and ratings with numeric points.
    assert header[:4] == list(CRITERION_COLUMNS)
    assert [label.rsplit(" ", 1)[0] for label in header[4:]] == [
        "Rating Name", "Rating Description", "Rating Points"
    ] * ((len(header) - 4) // 3)
    assert len(rows) == len(template.criteria)
    for row in rows:
        assert row[0] and row[1] and row[3] in {"true", "false"}
        assert len(row) > 4 and (len(row) - 4) % 3 == 0
        assert all(name for name in row[4::3])
        assert all(Decimal(points) >= 0 for points in row[6::3])

    [back] = import_canvas_csv(text)
    assert back.title == template.title
    assert [criterion.title for criterion in back.criteria] == [c.title for c in template.criteria]
    for imported, original in zip(back.criteria, template.criteria, strict=True):
        assert imported.description == original.description
        assert [(level.title, level.description, level.max_points) for level in imported.levels] == [
            (level.title, level.description, level.max_points) for level in original.levels
        ]
    assert export_canvas_csv(back) == text


# -- round trip ----------------------------------------------------------------------------------------

STEP = Decimal("0.01")


def canvas_shaped(data: dict[str, Any]) -> dict[str, Any]:
    """A generated rubric cut down to what Canvas holds: points, weight 1, no guidance, tags or
    required comments, levels ordered by points, and ranges as Canvas draws them (each from just
    above the rating below, the lowest from 0) with different tops."""
    data = {**data, "scoring_mode": "points", "description": "", "competency_frameworks": []}
    criteria = []
    for position, criterion in enumerate(sorted(data["criteria"], key=lambda c: c["position"]), start=1):
        tops = [Decimal(level.get("points", level.get("max_points"))) for level in criterion["levels"]]
        has_range = any("min_points" in level for level in criterion["levels"])
        uses_range = has_range and len(set(tops)) == len(tops)
        ordered = sorted(zip(tops, criterion["levels"], strict=True), key=lambda pair: pair[0])
        levels = []
        below: Decimal | None = None
        for level_position, (top, level) in enumerate(ordered, start=1):
            level = {key: level[key] for key in ("identifier", "title", "description")}
            bottom = (Decimal(0) if below is None else below + STEP) if uses_range else top
            if bottom == top:
                level["points"] = str(top)
            else:
                level["min_points"], level["max_points"] = str(bottom), str(top)
            levels.append({**level, "position": level_position})
            below = top
        criteria.append({
            "identifier": criterion["identifier"],
            "title": criterion["title"],
            "description": criterion["description"],
            "position": position,
            "levels": levels,
        })
    return {**data, "criteria": criteria}


def canvas_view(rubric: Rubric) -> tuple[Any, ...]:
    """Everything of a rubric that Canvas's layout holds."""
    return (
        rubric.title,
        tuple(
            (
                criterion.position,
                criterion.title,
                criterion.description,
                tuple(
                    (level.position, level.title, level.description, level.min_points, level.max_points)
                    for level in criterion.levels
                ),
            )
            for criterion in rubric.criteria
        ),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric_dicts(ScoringMode.POINTS))
def test_round_trip_keeps_everything_canvas_holds(data: dict[str, Any]) -> None:
    rubric = parse_rubric(canvas_shaped(data))
    text = export_canvas_csv(rubric)
    [back] = import_canvas_csv(text)
    assert canvas_view(back) == canvas_view(rubric)
    assert back.scoring_mode is ScoringMode.POINTS
    assert all(criterion.weight == 1 for criterion in back.criteria)
    assert export_canvas_csv(back) == text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rubric_dicts(ScoringMode.WEIGHTED_PERCENTAGE))
def test_any_numeric_rubric_exports_and_canvas_text_is_stable(data: dict[str, Any]) -> None:
    """Rubrics with what Canvas cannot hold (weights, overlapping ranges) still give a file whose
    re-export is identical once it has been through Canvas's layout."""
    rubric = parse_rubric(data)
    try:
        [once] = import_canvas_csv(export_canvas_csv(rubric))
    except RubricImportError as error:
        # The one thing Canvas cannot say: ranges on a criterion whose ratings share a top.
        assert all("so each rating needs different points" in problem.message for problem in error.problems)
        return
    text = export_canvas_csv(once)
    [twice] = import_canvas_csv(text)
    assert export_canvas_csv(twice) == text
    assert content_hash(twice) == content_hash(once)
