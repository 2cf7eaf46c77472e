"""The request lines the real servers write: ``cadre demo`` (Werkzeug) and ``cadre serve`` (gunicorn, with its
access log turned on) run as subprocesses, and what they print holds no credential value.

Dynamic registration's ``registration_token`` and ``invite``, the OIDC login's hints, states and codes
arrive in query strings whatever Cadre does; the servers' own log lines must cut them out.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.live_server import free_port

CADRE = str(Path(sys.executable).with_name("cadre"))
REPOSITORY = Path(__file__).resolve().parents[2]
# One distinct value per credential, so a leak names the parameter that leaked.
CREDENTIALS = {
    "lt": "LT-value-0123456789abcdefghij",
    "registration_token": "REGTOKEN-value-0123456789",
    "invite": "INVITE-value-0123456789",
    "csrf_token": "CSRF-value-0123456789",
    "id_token": "IDTOKEN-value-0123456789",
    "state": "STATE-value-0123456789",
    "code": "CODE-value-0123456789",
    "nonce": "NONCE-value-0123456789",
    "login_hint": "LOGINHINT-value-0123456789",
    "lti_message_hint": "MESSAGEHINT-value-0123456789",
}
QUERY = "&".join(f"{name}={value}" for name, value in CREDENTIALS.items())


def server_environment(tmp_path: Path, public_url: str, **extra: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("CADRE_")}
    environment.update(
        CADRE_PUBLIC_URL=public_url,
        CADRE_DATABASE_URL=f"sqlite:///{tmp_path / 'cadre.db'}",
        CADRE_SECRET_KEY="log-test-secret-key",
        CADRE_LOG_JSON="false",
        # the checkout's code, whatever the installed distribution lists (packages another branch adds)
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
        **extra,
    )
    return environment


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped: {process.communicate()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def stop(process: subprocess.Popen[str]) -> str:
    """Everything the server printed, once it stopped (Ctrl+C, as a person would). A server that does not
    stop is killed with every process of its session (a worker outliving its master holds the pipes:
    reading them would wait forever) and the test fails saying so."""
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        kill_session(process)
        stdout, stderr = process.communicate(timeout=10)
        raise AssertionError(f"the server did not stop on Ctrl+C within 20 s:\n{stdout}{stderr}") from None
    return stdout + stderr


def kill_session(process: subprocess.Popen[str]) -> None:
    """SIGKILL to the session ``start_new_session`` made for ``process``: the server and its workers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def send_malformed_request_line(port: int, path: str) -> None:
    """A request line with an extra word: the server logs the whole line as an error."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1 extra\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.recv(4096)


def assert_no_credential(output: str) -> None:
    leaked = [name for name, value in CREDENTIALS.items() if value in output]
    assert not leaked, f"{leaked} leaked into the log:\n{output}"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    cadre_port, lms_port = free_port(), free_port()
    cadre_url, lms_url = f"http://127.0.0.1:{cadre_port}", f"http://127.0.0.1:{lms_port}"
    process = subprocess.Popen(
        [CADRE, "demo"], cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, env=server_environment(tmp_path, cadre_url, CADRE_DEMO_PLATFORM_URL=lms_url),
    )
    try:
        wait_for_port(cadre_port, process)
        wait_for_port(lms_port, process)
        yield cadre_url, lms_url, process
    finally:
        if process.poll() is None:
            kill_session(process)
            process.communicate(timeout=10)


def test_cadre_demo_logs_request_lines_without_credentials(
    demo: tuple[str, str, subprocess.Popen[str]],
) -> None:
    cadre_url, lms_url, process = demo
    with httpx.Client(timeout=10) as client:
        for url in (f"{cadre_url}/home?{QUERY}", f"{cadre_url}/lti/register?{QUERY}",
                    f"{cadre_url}/lti/login?{QUERY}", f"{lms_url}/?{QUERY}"):
            client.get(url)
    send_malformed_request_line(int(cadre_url.rsplit(":", 1)[1]), f"/home?{QUERY}")
    output = stop(process)

    assert_no_credential(output)
    # the lines are there, with every value cut out: the log still says what was asked
    assert '"GET /home?lt=[redacted]&registration_token=[redacted]&invite=[redacted]' in output
    assert "/lti/register?lt=[redacted]" in output and "/lti/login?lt=[redacted]" in output
    assert 'extra" 400' in output  # the malformed line Werkzeug refused, redacted too
    assert all(line.startswith(("INFO ", "WARNING ", "ERROR ", "Cadre:", "Demo LMS:", "Demo LRS:", "Open ",
                                "Press ", "Stopping", " ")) or not line.strip()
               for line in output.splitlines()), output  # nothing bypasses Cadre's formatter
    # The seeded course's scores reach the demo LMS at the first try: it listens before the worker starts.
    assert "outbox message retried" not in output, output


def test_cadre_serve_access_log_lines_hold_no_credential(tmp_path: Path) -> None:
    port = free_port()
    environment = server_environment(tmp_path, f"http://127.0.0.1:{port}",
                                     CADRE_BIND=f"127.0.0.1:{port}", CADRE_WORKERS="1")
    subprocess.run([CADRE, "db", "upgrade"], cwd=tmp_path, env=environment, check=True,
                   capture_output=True, timeout=60)
    # The repository's configuration, with gunicorn's access log turned on and every atom a request line
    # can leak through: the line, the query string, the Referer.
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        f"exec(open({str(REPOSITORY / 'config' / 'gunicorn.conf.py')!r}).read())\n"
        "accesslog = '-'\n"
        "access_log_format = '%(h)s \"%(r)s\" %(s)s q=[%(q)s] ref=[%({referer}i)s]'\n"
    )
    process = subprocess.Popen(
        [CADRE, "serve", "--config", str(config)], cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, start_new_session=True,
    )
    try:
        wait_for_port(port, process)
        with httpx.Client(timeout=10) as client:
            for path in ("/home", "/lti/register", "/rubrics/"):
                response = client.get(f"http://127.0.0.1:{port}{path}?{QUERY}",
                                      headers={"Referer": f"http://127.0.0.1:{port}/home?{QUERY}"})
                assert response.status_code < 500, response.text[:500]
        send_malformed_request_line(port, f"/home?{QUERY}")
    finally:
        output = stop(process)

    assert_no_credential(output)
    assert '"GET /home?lt=[redacted]&registration_token=[redacted]' in output  # the access line is there
    assert "q=[lt=[redacted]&" in output and "ref=[http://127.0.0.1" in output
