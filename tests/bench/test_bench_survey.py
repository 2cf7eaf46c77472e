"""The survey benchmark runs with a small count (no time is checked: it never asserts on time), so
``make bench`` does not rot; the service's ranking equals the hand-written SQL's it is measured against."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_survey


def test_the_survey_benchmark_ranks_like_the_raw_group_by(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_survey, "GAPS", 3)
    bench_survey.main(["--answers", "400", "--rounds", "2", "--backends", "sqlite"])
    output = capsys.readouterr().out
    found = re.search(r"sqlite: 400 answers, (\d+) ranked lines \(3 gaps\), raw SQL (\d+) lines, "
                      r"same ranking: yes", output)
    assert found is not None, output
    assert found.group(1) == found.group(2) and int(found.group(1)) > 3
    assert re.search(r"sqlite ranked gaps: +\d+\.\d\d ms, raw SQL group-by of the same ranking "
                     r"+\d+\.\d\d ms, ratio ranked/raw: \d+\.\d\d", output), output
