"""Assessor calibration figures (rubrics.calibration): published examples, and properties that hold for any
ratings (hypothesis): bounds, symmetry, invariance under relabelling and shifting, perfect agreement, and
the flag of an assessor who always rates above the others."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rubrics.calibration import (
    Rating,
    agreement,
    cohen_kappa,
    flagged_assessors,
    fleiss_kappa,
    icc_one_way,
)

levels = st.integers(min_value=1, max_value=4)
subjects = st.lists(st.lists(levels, min_size=2, max_size=5), min_size=2, max_size=25)


def test_cohens_kappa_of_the_textbook_table() -> None:
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> observed 0.7, chance 0.5, kappa 0.4.
    first = [1] * 25 + [2] * 25
    second = [1] * 20 + [2] * 5 + [1] * 10 + [2] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_fleiss_kappa_of_fleiss_1971_as_wikipedia_gives_it() -> None:
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    by_subject = [[level for level, count in enumerate(row, start=1) for _ in range(count)] for row in table]
    assert fleiss_kappa(by_subject) == pytest.approx(0.210, abs=0.0005)


def test_icc_of_shrout_and_fleiss_1979() -> None:
    # Six targets, four judges: ICC(1,1) = 0.17 in Shrout & Fleiss's table 4.
    ratings = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    assert icc_one_way(ratings) == pytest.approx(0.166, abs=0.001)


def test_undefined_figures_are_none_not_a_division_by_zero() -> None:
    assert cohen_kappa([2, 2, 2], [2, 2, 2]) is None
    assert fleiss_kappa([[3, 3], [3, 3, 3]]) is None and fleiss_kappa([[1]]) is None
    assert icc_one_way([[5, 5], [5, 5]]) is None and icc_one_way([[1, 2]]) is None
    empty = agreement([Rating("a", "x", 1)])
    assert (empty.subjects, empty.pairs, empty.exact_agreement) == (0, 0, None)
    with pytest.raises(ValueError, match="same subjects"):
        cohen_kappa([1, 2], [1])


@given(st.lists(st.tuples(levels, levels), min_size=1, max_size=60))
def test_cohens_kappa_is_at_most_one_and_symmetric(pairs: list[tuple[int, int]]) -> None:
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    kappa = cohen_kappa(first, second)
    assert kappa == cohen_kappa(second, first)
    if kappa is not None:
        assert -1 - 1e-9 <= kappa <= 1 + 1e-9
        assert (kappa == pytest.approx(1)) == (first == second)


@given(subjects, st.permutations([1, 2, 3, 4]))
def test_kappa_and_agreement_do_not_depend_on_the_levels_names(
    by_subject: list[list[int]], names: list[int]
) -> None:
    renamed = [[names[level - 1] for level in levels_] for levels_ in by_subject]
    assert fleiss_kappa(renamed) == fleiss_kappa(by_subject)
    ratings = [
        Rating(index, rater, level)
        for index, found in enumerate(by_subject)
        for rater, level in enumerate(found)
    ]
    renamed_ratings = [
        Rating(index, rater, level)
        for index, found in enumerate(renamed)
        for rater, level in enumerate(found)
    ]
    assert agreement(ratings).exact_agreement == agreement(renamed_ratings).exact_agreement


@given(subjects)
def test_exact_agreement_counts_every_pair_of_ratings_of_a_subject(by_subject: list[list[int]]) -> None:
    ratings = [
        Rating(index, rater, level)
        for index, found in enumerate(by_subject)
        for rater, level in enumerate(found)
    ]
    figures = agreement(ratings)
    assert figures.subjects == len(by_subject) and figures.ratings == sum(map(len, by_subject))
    assert figures.pairs == sum(len(found) * (len(found) - 1) // 2 for found in by_subject)
    assert 0 <= figures.agreeing_pairs <= figures.pairs
    if all(len(set(found)) == 1 for found in by_subject) and len({found[0] for found in by_subject}) > 1:
        assert figures.exact_agreement == 1 and figures.fleiss_kappa == pytest.approx(1)


@given(
    st.lists(
        st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=2, max_size=4),
        min_size=2,
        max_size=15,
    ),
    st.floats(min_value=-5, max_value=5),
    st.floats(min_value=0.5, max_value=4),
)
def test_icc_ignores_the_scales_origin_and_unit(
    points: list[list[float]], shift: float, scale: float
) -> None:
    icc = icc_one_way(points)
    assume(icc is not None and math.isfinite(icc))
    moved = icc_one_way([[value * scale + shift for value in found] for found in points])
    assert moved is not None and moved == pytest.approx(icc, abs=1e-6)
    assert icc <= 1 + 1e-9


@given(st.lists(st.lists(levels, min_size=1, max_size=3), min_size=6, max_size=20))
def test_an_assessor_always_a_level_above_the_others_is_flagged_with_the_count(
    others: list[list[int]],
) -> None:
    ratings = []
    for subject, found in enumerate(others):
        ratings += [Rating(subject, f"colleague-{rater}", level) for rater, level in enumerate(found)]
        mean = sum(found) / len(found)
        ratings.append(Rating(subject, "generous", level=round(mean * 100) + 100))  # far above, every time
    flags = flagged_assessors(ratings, threshold=0.5, min_comparisons=5)
    generous = [flag for flag in flags if flag.assessor == "generous"]
    assert len(generous) == 1
    assert generous[0].direction == "above" and generous[0].comparisons == len(others)
    assert generous[0].same_direction == len(others) and generous[0].mean_difference > 0.5
    assert all(flag.direction == "below" for flag in flags if flag.assessor != "generous")


def test_too_few_comparisons_or_mixed_directions_are_not_flagged() -> None:
    few = [Rating(subject, who, level) for subject in range(3) for who, level in (("a", 4), ("b", 1))]
    assert flagged_assessors(few, min_comparisons=5) == []
    mixed = [
        Rating(subject, who, level)
        for subject in range(10)
        for who, level in (("a", 4 if subject % 2 else 1), ("b", 2))
    ]
    assert [flag.assessor for flag in flagged_assessors(mixed, threshold=0.1)] == []
