"""`cadre serve`: gunicorn with config/gunicorn.conf.py; on a database that lacks migrations it says so,
answers 503, and heals once `cadre db upgrade` has run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fixtures.live_server import free_port

CADRE = str(Path(sys.executable).parent / "cadre")
MESSAGE = "Cadre's database needs upgrading: run `cadre db upgrade`"


def wait_until_listening(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"cadre serve exited with {process.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_serve_warns_about_pending_migrations_then_heals(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CADRE_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "CADRE_SECRET_KEY": "serve-test-secret",
        "CADRE_PUBLIC_URL": "https://cadre.example.com",
        "CADRE_WORKERS": "1",
    }
    stderr_path = tmp_path / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        # tmp_path as working directory: the repository's config/gunicorn.conf.py is found all the same.
        process = subprocess.Popen(
            [CADRE, "serve", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        health = wait_until_listening(f"{base}/healthz", process)
        assert health.status_code == 503 and health.json()["hint"] == "run `cadre db upgrade`"
        page = httpx.get(f"{base}/lti/config/canvas.json")
        assert page.status_code == 503 and page.text.strip() == MESSAGE
        assert MESSAGE in stderr_path.read_text()

        upgrade = subprocess.run(
            [CADRE, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
        )
        assert upgrade.returncode == 0, upgrade.stderr
        time.sleep(5.5)  # the guard looks again every RECHECK_SECONDS while migrations are pending
        healed = httpx.get(f"{base}/lti/config/canvas.json")
        assert healed.status_code == 200
        assert healed.json()["oidc_initiation_url"] == "https://cadre.example.com/lti/login"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    log = stderr_path.read_text()
    assert "Starting gunicorn" in log and f"Listening at: http://127.0.0.1:{port}" in log
    # gunicorn's access log is off: the request lines are Cadre's JSON lines only.
    assert '"logger": "cadre.request"' in log and "GET /healthz HTTP/1.1" not in log
