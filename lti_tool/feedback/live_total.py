"""What the feedback form's script (``static/feedback-total.js``) needs to explain the total as the assessor
picks levels, exactly as the server will when the form is submitted (``rubrics.Scorer``).

The engine's own factors go into the page as decimal text (``Scorer.factors``): the points of a level times
its criterion's factor, summed, rounded once, with Python's decimal arithmetic (28 significant digits, half
even; the total rounded half up to two places) redone in the script with integers. So the browser's lines
are the stored explanation's lines, digit for digit, and only the server's are ever stored.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

import rubrics


def _text(number: Decimal | None) -> str:
    """The decimal's own digits, without an exponent (the script reads plain decimal text)."""
    return "" if number is None else format(number, "f")


def scoring_data(rubric: rubrics.Rubric) -> dict[str, dict[str, str]]:
    """Per criterion identifier: ``factor`` and ``max-contribution`` (the engine's), ``max-points``."""
    factors = rubrics.Scorer(rubric).factors()
    return {
        criterion.identifier: {
            "factor": _text(factors[criterion.identifier][0]),
            "max-contribution": _text(factors[criterion.identifier][1]),
            "max-points": _text(criterion.max_points),
        }
        for criterion in rubric.criteria
    }


def max_possible(rubric: rubrics.Rubric) -> str:
    return _text(rubrics.Scorer(rubric).max_possible)


def init_app(app: Flask) -> None:
    app.add_template_global(scoring_data, "live_total_data")
    app.add_template_global(max_possible, "live_total_max")
    app.add_template_global(_text, "decimal_text")
