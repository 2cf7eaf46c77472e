"""The leaderboard benchmark runs end to end with tiny counts (no figures checked: it never asserts on
time), so ``make bench`` does not rot; its cross-check of the per-assessment sums against the raw scores
must hold."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_leaderboard


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_leaderboard_benchmark_measures_each_board_against_its_raw_sql(
    capsys: pytest.CaptureFixture[str], backend: str
) -> None:
    bench_leaderboard.main(
        ["--learners", "30", "--activities", "3", "--criteria", "3", "--requests", "1", "--backends", backend]
    )
    output = capsys.readouterr().out
    assert re.search(
        rf"cadre-{backend} seeded 30 learners x 3 activities x 3 criteria: \d+ assessments, \d+ criterion "
        r"scores, \d+ assessment sums, 18 people on the board",
        output,
    ), output
    boards = re.findall(
        rf"cadre-{backend} leaderboard +\w+ x \w+ *: +\d+\.\d\dx +board +\d+\.\d\d ms \((\d+) ranked\), "
        r"raw SQL +\d+\.\d\d ms",
        output,
    )
    assert len(boards) == 9 and all(int(ranked) > 0 for ranked in boards), output
    assert re.search(r"assessment sums: +\d+\.\d\d ms \( *\d+\.\d\dx faster\); same figures: yes", output), (
        output
    )
