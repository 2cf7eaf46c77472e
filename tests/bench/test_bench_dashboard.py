"""The dashboard benchmark runs end to end with tiny counts (no figures checked: it never asserts on time),
so ``make bench`` does not rot; its cross-check of the tallies against the raw scores must hold."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_dashboard


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_dashboard_benchmark_measures_the_page_against_its_raw_sql(
    capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    bench_dashboard.main(
        [
            "--learners",
            "30",
            "--activities",
            "3",
            "--criteria",
            "3",
            "--requests",
            "2",
            "--warmup",
            "1",
            "--backends",
            backend,
        ]
    )
    output = capsys.readouterr().out
    assert re.search(
        rf"cadre-{backend} seeded 30 learners x 3 activities x 3 criteria: \d+ assessments, "
        r"\d+ criterion scores",
        output,
    ), output
    figures = re.search(
        rf"cadre-{backend} course dashboard: +\d+\.\d\dx +page +\d+\.\d\d ms \(\d+ KB, (\d+) "
        r"statements\), raw SQL +\d+\.\d\d ms \(5 aggregate statements\)",
        output,
    )
    assert figures is not None and int(figures.group(1)) > 5, output
    assert re.search(
        r"scores from the \d+ rows instead of their tallies: +\d+\.\d\d ms; same figures: yes", output
    ), output
