"""``Scorer.factors``: what a client (the feedback form's script) multiplies a level's points by, and each
criterion's greatest contribution, reproduce the engine's totals for every template's rubric."""

from __future__ import annotations

import itertools
from decimal import Decimal

import rubrics
from rubrics.exact_numbers import round_hundredths


def test_the_factors_rebuild_every_total_of_every_template() -> None:
    for summary in rubrics.list_templates():
        rubric = rubrics.get_template(summary.slug)
        scorer = rubrics.Scorer(rubric)
        factors = scorer.factors()
        assert list(factors) == [criterion.identifier for criterion in rubric.criteria]
        if rubric.scoring_mode is rubrics.ScoringMode.LEVELS_ONLY:
            assert all(most is None for _factor, most in factors.values())
            continue
        choices = [[(criterion, level) for level in criterion.levels] for criterion in rubric.criteria]
        for picked in itertools.islice(itertools.product(*choices), 0, None, 7):
            result = scorer.score([{"criterion": c.identifier, "level": level.identifier, "comment": "Seen."}
                                   for c, level in picked])
            exact = sum((level.max_points * factors[c.identifier][0] for c, level in picked), Decimal(0))
            if rubric.scoring_mode is rubrics.ScoringMode.POINTS:
                assert exact == result.total, summary.slug
            else:
                assert round_hundredths(exact) == result.total, summary.slug
        if rubric.scoring_mode is rubrics.ScoringMode.POINTS:  # weighted shares are rounded to show
            most = sum((factor_most[1] for factor_most in factors.values()), Decimal(0))
            assert most == scorer.max_possible, summary.slug
