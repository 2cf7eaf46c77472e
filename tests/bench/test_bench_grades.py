"""The grades benchmark runs end to end with a few scores (no figures checked: it never asserts on time),
so ``make bench`` does not rot; it fails by itself unless every score arrives once."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_grades


def test_the_grades_benchmark_delivers_every_score_once(capsys: pytest.CaptureFixture[str]) -> None:
    bench_grades.main(["--scores", "5", "--backends", "sqlite"])
    output = capsys.readouterr().out
    assert re.search(r"cadre-sqlite: +\d+\.\d scores/s through the outbox worker \(\d+\.\d\d s\), "
                     r"bare POSTs +\d+\.\d/s \(\d+\.\d\d s\): \d+\.\d\dx", output), output
