"""The learning-records benchmark runs (a few thousand statements; no figure checked), so ``make bench``
does not rot: every figure it promises is printed, and the database it made is gone afterwards."""

from __future__ import annotations

import psycopg
import pytest

from tests.bench import bench_records_pull


def test_the_records_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench_records_pull.main(3000)
    output = capsys.readouterr().out
    for figure in ("COPY TO STDOUT baseline:", "cadre xapi export --format ndjson:", "peak RSS",
                   "ratio export-ndjson/COPY time:", "cadre xapi export --format csv:",
                   "GET /xapi/statements, first page (500 of 3,000)", "half-way down", "ratio api/raw:"):
        assert figure in output, figure
    with psycopg.connect(bench_records_pull.ADMIN_DSN) as admin:
        left = admin.execute("SELECT count(*) FROM pg_database WHERE datname = ANY(%s)",
                             (bench_records_pull.MADE_DATABASES,)).fetchone()
    assert bench_records_pull.MADE_DATABASES and left == (0,)
