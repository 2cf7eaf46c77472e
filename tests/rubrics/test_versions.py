"""Canonical form, content hash and diffs between versions."""

from __future__ import annotations

from rubrics import canonical_json, content_hash, diff, parse_rubric
from tests.rubrics.examples import base


def test_hash_is_stable_and_changes_with_content() -> None:
    original = parse_rubric(base())
    assert content_hash(original) == content_hash(parse_rubric(base()))
    assert content_hash(original).startswith("sha256:") and len(content_hash(original)) == 71
    edited = base()
    edited["criteria"][0]["guidance"] = "Count who talks more, and who decides."
    assert content_hash(parse_rubric(edited)) != content_hash(original)
    assert canonical_json(original).startswith('{"competency_frameworks":')


def test_diff_names_added_removed_and_changed_parts() -> None:
    old = parse_rubric(base())
    data = base()
    data["title"] = "Coaching skills (2027)"
    data["criteria"].pop(1)  # questions removed
    data["criteria"].append(
        {
            "identifier": "empathy",
            "title": "Empathy",
            "position": 9,
            "levels": [
                {"identifier": "low", "title": "Low", "points": 0},
                {"identifier": "high", "title": "High", "points": 1},
            ],
        }
    )
    coaching = data["criteria"][1]
    coaching["weight"] = "3"
    coaching["guidance"] = "Watch the whole conversation."
    coaching["levels"].pop()  # expert removed
    coaching["levels"][1]["max_points"] = "2.75"
    coaching["levels"].append({"identifier": "master", "title": "Master", "position": 5, "points": 5})
    difference = diff(old, parse_rubric(data))
    assert difference.fields == ("title",)
    assert [c.identifier for c in difference.criteria_added] == ["empathy"]
    assert [c.identifier for c in difference.criteria_removed] == ["questions"]
    (change,) = difference.criteria_changed
    assert change.fields == ("guidance", "weight")
    assert [level.identifier for level in change.levels_added] == ["master"]
    assert [level.identifier for level in change.levels_removed] == ["expert"]
    assert [(level.identifier, level.fields) for level in change.levels_changed] == [
        ("developing", ("max_points",))
    ]
    assert difference.affects_scoring
    assert difference.summary() == (
        "Changed rubric title",
        "Added criterion 'Empathy'",
        "Removed criterion 'Questions'",
        "Changed criterion 'Coaching conversation': guidance, weight; added level 'Master'; "
        "removed level 'Expert'; level 'Developing': max points",
    )


def test_wording_changes_do_not_affect_scoring() -> None:
    data = base()
    data["criteria"][0]["levels"][0]["description"] = "Talks over the other person."
    difference = diff(parse_rubric(base()), parse_rubric(data))
    assert not difference.is_empty
    assert not difference.affects_scoring
    assert difference.summary() == ("Changed criterion 'Listening': level 'Novice': description",)
