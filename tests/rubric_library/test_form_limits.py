"""The edit form reads hostile posts in bounded time and answers them with bounded pages.

A designer's POST of 22,000 rows ``criteria-N-title=a`` (495 KB) held a worker 36.6 s (identifiers were
made by counting up from "a-2" for every row) and got a 56 MB page back; ``1e999999999`` as a weight
answered 500. These tests drive :class:`RubricForm` directly; test_form_limits_pages.py posts them.
"""

from __future__ import annotations

import time

import pytest

import rubrics
from lti_tool.rubric_library import forms
from lti_tool.rubric_library.forms import RubricForm
from rubrics.identifiers import UniqueSlugs

LIMITS = rubrics.DEFAULT_LIMITS
ROWS = 22_000


def hostile_post(rows: int = ROWS) -> dict[str, str]:
    posted = {"title": "Flood", "scoring_mode": "points"}
    posted.update({f"criteria-{index}-title": "a" for index in range(rows)})
    return posted


def test_identifiers_for_many_equal_titles_take_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: the candidates tried for n equal titles grow like n, not n squared."""
    tried = 0
    real_set = set

    class CountingSet(real_set):  # type: ignore[type-arg]
        def __contains__(self, item: object) -> bool:
            nonlocal tried
            tried += 1
            return super().__contains__(item)

    slugs = UniqueSlugs()
    slugs.taken = CountingSet()
    made = [slugs.make("a", "criterion") for _ in range(5_000)]
    assert len(set(made)) == 5_000
    assert made[:3] == ["a", "a-2", "a-3"]
    assert tried <= 2 * 5_000


def test_identifiers_skip_ones_already_taken() -> None:
    slugs = UniqueSlugs({"a", "a-2", "a-4"})
    assert [slugs.make("A", "x") for _ in range(3)] == ["a-3", "a-5", "a-6"]
    assert slugs.make("", "level-1") == "level-1"
    assert slugs.make("Qualité", "x") == "qualite"


def test_a_post_past_the_criteria_limit_is_cut_to_the_limit_reported_and_never_saved() -> None:
    started = time.perf_counter()
    form = RubricForm.from_post(hostile_post())
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"reading {ROWS:,} rows took {elapsed:.1f} s"  # was 36 s; about 0.05 s now
    assert len(form.criteria) == LIMITS.max_criteria
    assert form.too_large
    assert form.errors_for("criteria") == [
        f"the form has {ROWS:,} criteria, more than the limit of 1,000; only the first 1,000 are shown below"
    ]
    assert not form.apply_action(forms.ADD_CRITERION)
    assert len(form.criteria) == LIMITS.max_criteria
    assert form.parse() is None


def test_levels_past_the_limit_are_cut_and_reported() -> None:
    posted = {"title": "Deep", "scoring_mode": "points", "criteria-0-title": "Only"}
    posted.update({f"criteria-0-levels-{index}-title": f"L{index}" for index in range(5_000)})
    form = RubricForm.from_post(posted)
    assert len(form.criteria[0].levels) == LIMITS.max_levels
    assert form.errors_for("criteria-0-levels") == [
        "criterion 1 has 5,000 levels, more than the limit of 20; only the first 20 are shown"
    ]
    assert form.parse() is None


def test_a_post_within_the_limits_still_reads_and_saves() -> None:
    posted = hostile_post(LIMITS.max_criteria)
    form = RubricForm.from_post(posted)
    assert not form.too_large
    assert len({criterion.identifier for criterion in form.criteria}) == LIMITS.max_criteria


def test_row_numbers_too_long_to_be_rows_are_ignored() -> None:
    """Python refuses to read an int of more than 4,300 digits: such a name must not reach int()."""
    form = RubricForm.from_post({"title": "x", "scoring_mode": "points", f"criteria-{'9' * 5000}-title": "a"})
    assert form.criteria == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("criteria-0-weight", "1e999999999", "weight '1e999999999' is far too large; the limit is 1000"),
        ("criteria-0-levels-1-points", "1e999999999", "points '1e999999999' is far too large"),
        ("criteria-0-levels-1-points", "NaN", "points must be a number, got 'NaN'"),
        (
            "criteria-0-levels-1-points",
            "0-Infinity",
            "the highest points of the range must be a number, got 'Infinity'",
        ),
        ("criteria-0-weight", "9" * 10_000, "weight '" + "9" * 40 + "...' is far too large"),
    ],
    ids=["huge-weight", "huge-points", "nan", "infinite-range", "10k-digits"],
)
def test_hostile_numbers_are_problems_beside_their_field(field: str, value: str, message: str) -> None:
    posted = {
        "title": "Numbers",
        "scoring_mode": "points",
        "criteria-0-title": "Only",
        "criteria-0-weight": "1",
        "criteria-0-levels-0-title": "Low",
        "criteria-0-levels-0-points": "0",
        "criteria-0-levels-1-title": "High",
        "criteria-0-levels-1-points": "2",
    }
    posted[field] = value
    form = RubricForm.from_post(posted)
    assert form.parse() is None
    errors = form.errors_for(field)
    assert len(errors) == 1 and message in errors[0], form.errors
    assert len(errors[0]) < 200
