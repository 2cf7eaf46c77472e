"""Properties that must hold for every valid rubric and assessment."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rubrics import (
    Answer,
    Rubric,
    ScoringMode,
    canonical_json,
    content_hash,
    diff,
    dumps_case_rubric,
    export_csv,
    import_case_rubric,
    import_csv,
    normalised_weights,
    parse_rubric,
    score,
)
from tests.rubrics.strategies import rubric_dicts, rubrics, rubrics_with_answers

CHANGED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
BASE_URI = "https://cadre.example/case/v1p1"
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rubrics_with_answers(ScoringMode.POINTS))
def test_points_total_is_between_zero_and_the_maximum(case: tuple[Rubric, list[Answer]]) -> None:
    rubric, answers = case
    result = score(rubric, answers)
    assert result.total is not None and result.max_possible is not None
    assert 0 <= result.total <= result.max_possible
    assert result.max_possible == rubric.max_points
    assert result.total == sum(line.contribution for line in result.criteria if line.contribution is not None)


@SETTINGS
@given(rubrics_with_answers())
def test_percentage_is_between_0_and_100(case: tuple[Rubric, list[Answer]]) -> None:
    rubric, answers = case
    result = score(rubric, answers)
    if rubric.scoring_mode is ScoringMode.LEVELS_ONLY:
        assert (result.total, result.max_possible, result.percentage) == (None, None, None)
    else:
        assert result.percentage is not None
        assert Decimal(0) <= result.percentage <= Decimal(100)
        assert result.percentage == result.percentage.quantize(Decimal("0.01"))
    assert [line.criterion for line in result.criteria] == [c.identifier for c in rubric.criteria]
    assert len(result.explanation) >= len(rubric.criteria) + 1


@SETTINGS
@given(rubrics_with_answers(ScoringMode.WEIGHTED_PERCENTAGE))
def test_weighted_percentage_reaches_100_only_at_the_top(case: tuple[Rubric, list[Answer]]) -> None:
    rubric, _ = case
    top = [
        Answer(c.identifier, max(c.levels, key=lambda level: level.max_points or 0).identifier, comment="ok")
        for c in rubric.criteria
    ]
    assert score(rubric, top).percentage == Decimal(100)


@SETTINGS
@given(rubrics())
def test_normalised_weights_sum_to_exactly_one(rubric: Rubric) -> None:
    shares = normalised_weights(rubric)
    assert sum(shares.values(), Fraction(0)) == 1
    assert all(share > 0 for share in shares.values())


@SETTINGS
@given(rubrics())
def test_csv_export_import_export_is_identical(rubric: Rubric) -> None:
    exported = export_csv(rubric)
    imported = import_csv(exported)
    assert imported == rubric
    assert export_csv(imported) == exported


@SETTINGS
@given(rubrics())
def test_case_export_import_export_is_identical(rubric: Rubric) -> None:
    exported = dumps_case_rubric(rubric, base_uri=BASE_URI, changed_at=CHANGED_AT)
    imported = import_case_rubric(exported)
    # A rubric without an identifier takes its CASE one, so it keeps its identity wherever it goes.
    expected_identifier = rubric.identifier or json.loads(exported)["identifier"]
    assert imported == dataclasses.replace(rubric, identifier=expected_identifier)
    again = dumps_case_rubric(imported, base_uri=BASE_URI, changed_at=CHANGED_AT)
    if rubric.identifier:
        assert again == exported
    else:  # the identifier is now the UUID; another host exports the same identifiers
        elsewhere = dumps_case_rubric(imported, base_uri="https://other.example/case", changed_at=CHANGED_AT)
        assert elsewhere == again
        assert json.loads(again)["identifier"] == json.loads(exported)["identifier"]
    assert dumps_case_rubric(import_case_rubric(again), base_uri=BASE_URI, changed_at=CHANGED_AT) == again


@SETTINGS
@given(rubrics())
def test_to_dict_from_dict_round_trips(rubric: Rubric) -> None:
    assert Rubric.from_dict(rubric.to_dict()) == rubric
    assert canonical_json(Rubric.from_dict(rubric.to_dict())) == canonical_json(rubric)


@SETTINGS
@given(rubrics())
def test_diff_of_a_rubric_with_itself_is_empty(rubric: Rubric) -> None:
    difference = diff(rubric, rubric)
    assert difference.is_empty
    assert not difference.affects_scoring
    assert difference.summary() == ("No changes",)


@SETTINGS
@given(rubric_dicts())
def test_criteria_order_in_the_input_does_not_change_the_rubric(data: dict) -> None:
    reordered = dict(data, criteria=list(reversed(data["criteria"])))
    assert content_hash(parse_rubric(reordered)) == content_hash(parse_rubric(data))


@SETTINGS
@given(rubrics(), st.data())
def test_value_objects_are_immutable(rubric: Rubric, data: st.DataObject) -> None:
    criterion = data.draw(st.sampled_from(rubric.criteria))
    level = data.draw(st.sampled_from(criterion.levels))
    for thing, field in ((rubric, "title"), (criterion, "weight"), (level, "max_points")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(thing, field, None)
    assert isinstance(rubric.criteria, tuple) and isinstance(criterion.levels, tuple)
    assert isinstance(criterion.competency_tags, tuple)
