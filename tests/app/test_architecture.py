"""The layering rules of shared/ARCHITECTURE.md, checked by import-linter on every run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layering_contracts_are_kept() -> None:
    """Pure packages import neither Flask, SQLAlchemy nor the app; Cadre's code does not import requests."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "never through requests" in result.stdout
