"""The xAPI delivery benchmark runs end to end with a few statements (no figures checked: it never asserts
on time), so ``make bench`` does not rot; it fails by itself unless every statement arrives once."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_xapi_delivery


def test_the_xapi_delivery_benchmark_delivers_every_statement_once(
        capsys: pytest.CaptureFixture[str]) -> None:
    bench_xapi_delivery.main(["--statements", "30", "--backends", "sqlite", "--rounds", "1"])
    output = capsys.readouterr().out
    assert re.search(r"cadre-sqlite: +\d+\.\d statements/s through Cadre's delivery worker \(\d+\.\d\d s, 1 "
                     r"POSTs\), raw batched POSTs +\d+\.\d/s \(\d+\.\d\d s\): \d+\.\d\dx", output), output
