"""A Ralph LRS (``ralph-malph[cli,lrs]``) on loopback with its file-system backend: what ``cadre demo`` sends
its statements to, and what the tests deliver to.

Ralph's file-system backend does not work as shipped (ralph-malph 5.1): its writes default to the ``CREATE``
operation, so the first POST creates ``fs_lrs.jsonl`` and every later one fails with HTTP 500 ("Statements
bulk indexation failed": the file already exists). Running Ralph through this module (``python -m
lti_tool.demo.ralph``) makes that backend append instead, which is what an LRS must do; nothing else of
Ralph is changed. ``ralph runserver`` is not used either: it starts uvicorn with ``reload=True``, a file
watcher that restarts the server whenever a file under the current directory changes.

Ralph serves xAPI under ``/xAPI`` (the endpoint is ``http://127.0.0.1:<port>/xAPI``) and has no ``/about``
resource.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from flask import Flask

READY_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RalphLrs:
    """One Ralph process on 127.0.0.1 keeping its statements, users and logs in ``directory``."""

    directory: Path
    username: str = "cadre"
    password: str = field(default="", repr=False)
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/xAPI"

    @property
    def statements_file(self) -> Path:
        return self.directory / "fs_lrs.jsonl"

    def environment(self) -> dict[str, str]:
        return {
            **{name: value for name, value in os.environ.items() if not name.startswith("RALPH_")},
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(self.directory),
            "RALPH_AUTH_FILE": str(self.directory / "auth.json"),
            "RALPH_HISTORY_FILE": str(self.directory / "history.json"),
            "RALPH_APP_DIR": str(self.directory),
        }

    def add_user(self, username: str, password: str, *, scopes: tuple[str, ...] = ("all",)) -> None:
        """A basic-auth user, written by ``ralph auth`` to this LRS's credentials file."""
        ralph = shutil.which("ralph", path=str(Path(sys.executable).parent)) or "ralph"
        command = [ralph, "auth", "--username", username, "--password", password, "--agent-ifi-mbox",
                   f"mailto:{username}@example.org", "--write-to-disk"]
        for scope in scopes:
            command += ["--scope", scope]
        # The arguments are this module's own and the caller's user name and password, never a shell line.
        subprocess.run(command, env=self.environment(), check=True, capture_output=True, timeout=60)  # noqa: S603

    def start(self) -> RalphLrs:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (self.directory / "auth.json").exists():
            self.add_user(self.username, self.password)
        self.port = self.port or free_port()
        log = (self.directory / "ralph.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter running this module
            [sys.executable, "-m", "lti_tool.demo.ralph", "127.0.0.1", str(self.port)],
            env=self.environment(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.wait_until_ready()
        return self

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Ralph exited with {self.process.returncode}; see "
                                   f"{self.directory / 'ralph.log'}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/__heartbeat__", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Ralph did not answer on port {self.port} within {READY_TIMEOUT_SECONDS:g} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def restart(self) -> None:
        """Stop and start on the same port, keeping the statements."""
        self.stop()
        self.start()

    def stored_statements(self) -> list[dict[str, Any]]:
        """Every statement Ralph wrote, in the order written (read from its file, not through its API)."""
        if not self.statements_file.exists():
            return []
        return [json.loads(line) for line in self.statements_file.read_text().splitlines() if line.strip()]


def _with_plain_iris(query_statements):  # type: ignore[no-untyped-def]
    """Ralph 5.1's GET /statements hands the backend ``verb`` and ``activity`` as its ``IRI`` model (a
    pydantic RootModel), which the file-system backend compares with the statements' strings: a query by
    verb or activity never matched anything. The backend gets the strings."""

    def query(self, params, target=None):  # type: ignore[no-untyped-def]
        for name in ("verb", "activity"):
            value = getattr(params, name, None)
            while hasattr(value, "root"):
                value = value.root
            if value is not None:
                setattr(params, name, str(value))
        return query_statements(self, params, target)

    return query


def serve(host: str, port: int) -> None:
    """Ralph's API with its file-system backend appending (see the module)."""
    import uvicorn
    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    FSLRSBackend.query_statements = _with_plain_iris(FSLRSBackend.query_statements)  # type: ignore[method-assign]
    uvicorn.run("ralph.api:app", host=host, port=port, log_level="warning")


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))


# -- the demo's LRS -----------------------------------------------------------------------------------------

DEMO_LRS_NAME = "demo-ralph"


def start_demo_lrs(app: Flask) -> RalphLrs | None:
    """For ``cadre demo``: a Ralph on loopback (statements under ``instance/demo-ralph/``), registered in
    Cadre as the LRS ``demo-ralph`` with a password made for this run. None when the environment names an
    LRS of its own (``CADRE_LRS_ENDPOINT``) or Ralph is not installed."""
    if app.config["CADRE"].lrs_endpoint or importlib.util.find_spec("ralph") is None:
        return None
    from lti_tool.db import session_scope
    from lti_tool.records import lrs as registry

    directory = Path(app.instance_path) / "demo-ralph"
    (directory / "auth.json").unlink(missing_ok=True)  # a fresh user and password every run
    lrs = RalphLrs(directory, password=secrets.token_urlsafe(24)).start()
    with app.app_context(), session_scope(app) as session:
        registry.add_store(session, name=DEMO_LRS_NAME, endpoint=lrs.endpoint, username=lrs.username,
                           password=lrs.password, courses=[], verbs=[], replace=True)
    return lrs
