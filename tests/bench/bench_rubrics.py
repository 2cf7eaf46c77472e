"""Rubric engine benchmark: scoring throughput and a 1,000-criterion CASE import.

Run: ``python tests/bench/bench_rubrics.py``. Times depend on the machine, so each figure is
also given as a ratio against a baseline run in the same process (a plain loop over the same
numbers, or ``json.loads`` of the same file); nothing here asserts a time.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from rubrics import Answer, Scorer, dumps_case_rubric, import_case_rubric, parse_rubric  # noqa: E402

ASSESSMENTS = 100_000
CASE_CRITERIA = 1_000


def weighted_rubric(criteria: int, mode: str = "weighted_percentage") -> dict[str, Any]:
    return {
        "title": f"Benchmark rubric ({criteria} criteria)",
        "scoring_mode": mode,
        "criteria": [
            {
                "identifier": f"c{index}",
                "title": f"Criterion {index}",
                "guidance": "Look for concrete evidence.",
                "weight": str(1 + index % 3),
                "competency_tags": [f"https://case.example/CFItems/{index}"],
                "levels": [
                    {"identifier": "l0", "title": "Beginning", "points": "0"},
                    {"identifier": "l1", "title": "Developing", "min_points": "1", "max_points": "2"},
                    {"identifier": "l2", "title": "Proficient", "points": "3"},
                    {"identifier": "l3", "title": "Exemplary", "points": "4.5"},
                ],
            }
            for index in range(criteria)
        ],
    }


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench_scoring() -> None:
    rubric = parse_rubric(weighted_rubric(10))
    scorer = Scorer(rubric)  # built once: lookup tables per level, no re-validation per score
    chooser = random.Random(20261130)
    levels = ("l0", "l1", "l2", "l3")
    assessments = [
        [Answer(f"c{index}", chooser.choice(levels)) for index in range(10)] for _ in range(ASSESSMENTS)
    ]
    level_points = {
        criterion.identifier: {level.identifier: level.max_points for level in criterion.levels}
        for criterion in rubric.criteria
    }

    def baseline() -> None:
        for answers in assessments:
            total = Decimal(0)
            for answer in answers:
                total += level_points[answer.criterion][answer.level]

    def scoring() -> None:
        for answers in assessments:
            scorer.score(answers)

    base_seconds = timed(baseline)
    score_seconds = timed(scoring)
    print(f"scoring: {ASSESSMENTS:,} assessments on a 10-criterion weighted rubric")
    print(f"  {score_seconds:.2f} s, {ASSESSMENTS / score_seconds:,.0f} assessments/s")
    print(f"  baseline (plain loop adding the same Decimal points): {base_seconds:.2f} s")
    print(f"  ratio scoring/baseline: {score_seconds / base_seconds:.1f}x")


def bench_case_import() -> None:
    # An identifier of its own, as a stored rubric has: one without takes its CASE UUID on import.
    rubric = parse_rubric({**weighted_rubric(CASE_CRITERIA, "points"), "identifier": "bench-rubric"})
    text = dumps_case_rubric(
        rubric, base_uri="https://cadre.example/case/v1p1", changed_at=datetime(2026, 11, 30, tzinfo=UTC)
    )
    imported: list[object] = []
    base_seconds = timed(lambda: json.loads(text))
    import_seconds = timed(lambda: imported.append(import_case_rubric(text)))
    assert imported[0] == rubric  # a benchmark of a wrong result would be worthless
    print(f"CASE import: {CASE_CRITERIA:,} criteria x 4 levels, {len(text.encode()) / 1e6:.2f} MB")
    print(f"  {import_seconds:.3f} s")
    print(f"  baseline (json.loads of the same file): {base_seconds:.3f} s")
    print(f"  ratio import/baseline: {import_seconds / base_seconds:.1f}x")


def main() -> None:
    bench_scoring()
    bench_case_import()


if __name__ == "__main__":
    main()
