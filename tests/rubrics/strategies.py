"""Hypothesis strategies that build valid rubric dicts and matching assessments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from rubrics import Answer, Rubric, ScoringMode, parse_rubric

# Printable text, including the characters that stress CSV and JSON: quotes, commas, newlines.
TEXT_ALPHABET = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\x85\u2028\u2029"
) | st.sampled_from([",", '"', "\n", "'", ";", " "])
texts = st.text(TEXT_ALPHABET, max_size=40)
titles = st.text(TEXT_ALPHABET, min_size=1, max_size=30).filter(lambda text: text.strip())
identifiers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,12}", fullmatch=True)
tags = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9.:/_-]{0,20}", fullmatch=True)
points = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
weights = st.decimals(
    min_value=Decimal("0.0001"), max_value=1000, places=4, allow_nan=False, allow_infinity=False
)


@st.composite
def level_dicts(draw: st.DrawFn, identifier: str, position: int, mode: ScoringMode) -> dict[str, Any]:
    level: dict[str, Any] = {
        "identifier": identifier,
        "title": draw(titles),
        "description": draw(texts),
        "guidance": draw(texts),
        "position": position,
    }
    if mode is not ScoringMode.LEVELS_ONLY:
        low, high = sorted((draw(points), draw(points)))
        if draw(st.booleans()):
            level["points"] = str(high)
        else:
            level["min_points"], level["max_points"] = str(low), str(high)
    return level


@st.composite
def rubric_dicts(draw: st.DrawFn, mode: ScoringMode | None = None, max_criteria: int = 5) -> dict[str, Any]:
    mode = mode or draw(st.sampled_from(list(ScoringMode)))
    criterion_ids = draw(st.lists(identifiers, min_size=1, max_size=max_criteria, unique=True))
    positions = draw(st.permutations(range(1, len(criterion_ids) + 1)))
    criteria = []
    for identifier, position in zip(criterion_ids, positions, strict=True):
        minimum = 1 if mode is ScoringMode.LEVELS_ONLY else 2
        level_ids = draw(st.lists(identifiers, min_size=minimum, max_size=5, unique=True))
        levels = [draw(level_dicts(level_id, index, mode)) for index, level_id in enumerate(level_ids)]
        if mode is not ScoringMode.LEVELS_ONLY:
            # Validation requires a criterion to be worth something; make the top level so.
            top = levels[-1]
            top.pop("points", None)
            top.pop("min_points", None)
            top["max_points"] = str(draw(points.filter(lambda value: value > 0)))
            top["min_points"] = "0"
        criteria.append(
            {
                "identifier": identifier,
                "title": draw(titles),
                "description": draw(texts),
                "guidance": draw(texts),
                "position": position,
                "weight": str(draw(weights)),
                "competency_tags": draw(st.lists(tags, max_size=3, unique=True)),
                "comment_required": draw(st.booleans()),
                "levels": levels,
            }
        )
    return {
        "identifier": draw(st.one_of(st.just(""), identifiers)),
        "title": draw(titles),
        "description": draw(texts),
        "scoring_mode": mode.value,
        "competency_frameworks": draw(st.lists(tags, max_size=2, unique=True)),
        "criteria": criteria,
    }


def rubrics(mode: ScoringMode | None = None) -> st.SearchStrategy[Rubric]:
    return rubric_dicts(mode).map(parse_rubric)


@st.composite
def rubrics_with_answers(draw: st.DrawFn, mode: ScoringMode | None = None) -> tuple[Rubric, list[Answer]]:
    """A rubric and a complete, valid assessment of it (range points drawn inside the range)."""
    rubric = draw(rubrics(mode))
    answers = []
    for criterion in rubric.criteria:
        level = draw(st.sampled_from(criterion.levels))
        chosen = None
        if level.min_points is not None and level.max_points is not None and level.is_range:
            chosen = draw(
                st.decimals(min_value=level.min_points, max_value=level.max_points, places=2) | st.none()
            )
        answers.append(Answer(criterion.identifier, level.identifier, chosen, draw(titles)))
    return rubric, answers
