"""The rubric benchmarks run (with tiny counts; no figures checked), so ``make bench`` does not rot: the
CASE import one checks that what it times imports the rubric it exported."""

from __future__ import annotations

import pytest

from tests.bench import bench_rubrics


def test_the_rubric_benchmarks_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_rubrics, "ASSESSMENTS", 200)
    monkeypatch.setattr(bench_rubrics, "CASE_CRITERIA", 20)
    bench_rubrics.main()
    output = capsys.readouterr().out
    assert "ratio scoring/baseline:" in output and "ratio import/baseline:" in output
