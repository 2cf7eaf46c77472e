"""Every ``cadre`` command whose database cannot be reached says so in one line and exits 1, without a
driver's traceback (and without the URL's password, which the message never names)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.live_server import TEST_SECRET_KEY, free_port

CADRE = str(Path(sys.executable).with_name("cadre"))
COMMANDS = [
    ["db", "upgrade"],
    ["worker", "--once"],
    ["jobs", "run"],
    ["platform", "list"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_command_on_a_database_that_is_down_says_so_and_exits_1(command: list[str]) -> None:
    url = f"postgresql+psycopg://cadre:hunter2-secret@127.0.0.1:{free_port()}/cadre?connect_timeout=3"
    env = {**os.environ, "CADRE_DATABASE_URL": url, "CADRE_SECRET_KEY": TEST_SECRET_KEY}
    result = subprocess.run([CADRE, *command], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: cannot use the database: ")
    assert "Connection refused" in lines[0] and "CADRE_DATABASE_URL" in lines[0]
    assert "hunter2" not in result.stderr + result.stdout
