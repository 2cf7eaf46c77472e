"""The feedback benchmark runs end to end with tiny counts (no figures checked: it never asserts on time),
so ``make bench`` does not rot; the people list's statements are the same at both sizes it grows to."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_feedback


def test_the_feedback_benchmark_measures_the_people_list_and_the_autosave(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench_feedback, "SMALL_PEOPLE", 3)
    monkeypatch.setattr(bench_feedback, "SMALL_ACTIVITIES", 1)
    bench_feedback.main(["--people", "8", "--activities", "3", "--requests", "3", "--warmup", "1",
                         "--backends", "sqlite", "--workers", "1"])
    output = capsys.readouterr().out
    # Omar's two mentees from his launch and the eight people the course grew to.
    people = r"cadre-sqlite people list: +\d+\.\d\dx +page +\d+\.\d\d ms \(10 rows\), bare page"
    assert re.search(people, output), output
    statements = re.search(r"people list statements: (\d+) with 3 people x 1 activities, (\d+) with 8 x 3 "
                           r"\(bare page (\d+)\)", output)
    assert statements is not None, output
    assert statements.group(1) == statements.group(2) and int(statements.group(1)) > int(statements.group(3))
    autosave = re.search(r"cadre-sqlite autosave: +\d+\.\d\dx +save +\d+\.\d\d ms \((\d+) statements\), "
                         r"bare POST", output)
    assert autosave is not None and int(autosave.group(1)) > 0, output
