"""The secret Cadre makes for itself when none is configured: one secret, whoever starts first."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from lti_tool import _instance_secret


class _App:
    def __init__(self, instance_path: Path) -> None:
        self.instance_path = str(instance_path)


def _secret_in(instance_path: str) -> str:
    return _instance_secret(_App(Path(instance_path)))  # type: ignore[arg-type]


def test_processes_starting_together_share_one_secret(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=6) as pool:
        secrets = list(pool.map(_secret_in, [str(tmp_path)] * 24))
    assert len(set(secrets)) == 1 and len(secrets[0]) >= 48
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no candidate files left behind
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_an_empty_secret_file_is_refused_not_used(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="empty"):
        _secret_in(str(tmp_path))
