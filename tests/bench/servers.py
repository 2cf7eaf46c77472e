"""Apps of the launch benchmark served by gunicorn in their own processes, on 127.0.0.1.

Each server is ``gunicorn --worker-class gthread`` (as ``cadre serve``) started from a temporary
directory, so no ``.env`` of the checkout leaks into it; its stderr goes to a file there, shown if the
server fails to start. :class:`Servers` stops every process it started, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parents[2]
READY_TIMEOUT_SECONDS = 180.0
STOP_TIMEOUT_SECONDS = 10.0
NOOP_PATH = "/bench/noop"
"""The trivial route every benchmark app serves: the bare GET each launch is compared with."""


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class Servers:
    workdir: Path
    started: list[Server] = field(default_factory=list)

    def start(self, name: str, app: str, port: int, *, workers: int, env: dict[str, str]) -> Server:
        """``gunicorn app`` on 127.0.0.1:``port``, not waiting for it (see :meth:`wait_ready`): the servers
        boot together, which matters on a busy machine where each takes seconds to import its app."""
        log_path = self.workdir / f"{name}.log"
        command = [
            sys.executable, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", "4", "--no-control-socket",
            "--log-level", "warning", "--timeout", "60",
        ]
        environment = {**os.environ, **env, "PYTHONPATH": str(REPOSITORY)}
        with log_path.open("wb") as log:
            # Its own process group, so that stopping it stops its workers too, even one that outlives
            # the master.
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=self.workdir, env=environment, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
        self.started.append(server)
        return server

    def wait_ready(self) -> None:
        """Until every server started answers :data:`NOOP_PATH` (from each of its workers, as far as
        asking a few times tells)."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with httpx.Client(timeout=READY_TIMEOUT_SECONDS) as client:
            for server in self.started:
                answers = 0
                while answers < 4:
                    if server.process.poll() is not None:
                        raise RuntimeError(f"{server.name} exited at start:\n{server.log_tail()}")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{server.name} did not answer within "
                                           f"{READY_TIMEOUT_SECONDS:.0f} s:\n{server.log_tail()}")
                    try:
                        answers += client.get(server.url + NOOP_PATH).status_code == 200
                    except httpx.TransportError:
                        time.sleep(0.1)

    def stop_all(self) -> None:
        for server in reversed(self.started):
            _signal_group(server.process, signal.SIGINT)  # gunicorn's quick shutdown
        for server in self.started:
            try:
                server.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
            _signal_group(server.process, signal.SIGKILL)  # any worker left behind
        self.started.clear()


def _signal_group(process: subprocess.Popen[bytes], number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, number)  # the group start_new_session made: this server's processes only


@contextmanager
def running(workdir: Path) -> Iterator[Servers]:
    servers = Servers(workdir)
    try:
        yield servers
    finally:
        servers.stop_all()
