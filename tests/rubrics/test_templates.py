"""The starter templates: all valid, all complete enough to guide a manager."""

from __future__ import annotations

import pytest

from rubrics import Answer, ScoringMode, export_csv, get_template, import_csv, list_templates, score

SLUGS = [info.slug for info in list_templates()]


def test_there_are_the_templates_domain_md_asks_for() -> None:
    assert SLUGS == [
        "career-conversation-readiness",
        "change-management",
        "coaching-80-20",
        "communication",
        "manager-feedback-on-training-transfer",
        "skill-assessment-coaching-conversation",
        "skill-assessment-customer-conversation",
        "strategic-relationships",
        "work-product-review",
    ]
    assert {info.scoring_mode for info in list_templates()} == {mode.value for mode in ScoringMode}


@pytest.mark.parametrize("slug", SLUGS)
def test_template_guides_the_assessor_everywhere(slug: str) -> None:
    rubric = get_template(slug)  # loading validates; an invalid template raises here
    assert rubric.identifier == slug
    assert rubric.description and rubric.competency_frameworks
    for criterion in rubric.criteria:
        assert criterion.guidance, criterion.identifier
        assert criterion.competency_tags, criterion.identifier
        for level in criterion.levels:
            assert level.description and level.guidance, (criterion.identifier, level.identifier)


@pytest.mark.parametrize("slug", SLUGS)
def test_template_scores_and_round_trips(slug: str) -> None:
    rubric = get_template(slug)
    top = [
        Answer(c.identifier, c.levels[-1].identifier, comment="Seen in the team meeting.")
        for c in rubric.criteria
    ]
    result = score(rubric, top)
    assert result.percentage in (None, 100)
    assert import_csv(export_csv(rubric)) == rubric


def test_unknown_template_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get_template("nope")


def test_career_template_asks_the_four_questions() -> None:
    titles = [criterion.title for criterion in get_template("career-conversation-readiness").criteria]
    assert titles == [
        "Where could my career go in five years?",
        "Which parts of my work do I need to learn to manage?",
        "Which results and skills must I show?",
        "When will I be ready?",
    ]
