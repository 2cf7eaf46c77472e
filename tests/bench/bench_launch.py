"""The cost of an LTI launch: login → platform auth → launch → landing page, against a do-nothing route.

Everything is served in this process by threaded werkzeug servers on 127.0.0.1 (Cadre on a fresh SQLite
database, the test platform, and a bare Flask app) and driven by one browser-like httpx client. The bare
route receives the same requests in the same order (same methods, same form bodies), so the ratio is what
Cadre's own work (OIDC state, signature check, nonce, provisioning, session, page) costs on top of HTTP and
WSGI plumbing. The platform's RS256 signing is inside the launch figure, as it would be for a user.

Prints figures; never asserts on time. ``python -m tests.bench.bench_launch [iterations]``.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.app import create_platform_app
from lti_tool.demo.platform import LtiPlatform, PlatformKey, ToolEndpoints
from lti_tool.demo.registration import register_platform
from lti_tool.migrate import upgrade
from lti_tool.settings import Settings
from tests.fixtures.live_server import free_port
from tests.fixtures.platform import browser_client, parse_forms

TARGET_RATIO = 2.5
DEFAULT_ITERATIONS = 200
WARMUP = 10


def serve(app: Flask) -> tuple[str, BaseWSGIServer]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}", server


def bare_app() -> Flask:
    app = Flask("bare")

    @app.route("/noop", methods=["GET", "POST"])
    def noop() -> str:
        return ""

    return app


class LaunchBench:
    def __init__(self, workdir: Path) -> None:
        cadre_port = free_port()
        cadre_url = f"http://127.0.0.1:{cadre_port}"
        settings = Settings(
            database_url=f"sqlite:///{workdir / 'bench.db'}",
            secret_key="bench-secret-key-not-for-production",  # noqa: S106
            public_url=cadre_url,
            log_level="WARNING",
            _env_file=None,  # type: ignore[call-arg]
        )
        self.cadre = create_app(settings)
        upgrade(get_engine(self.cadre))
        self.servers: list[BaseWSGIServer] = []
        server = make_server("127.0.0.1", cadre_port, self.cadre, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)

        platform_port = free_port()
        self.platform = LtiPlatform(
            f"http://127.0.0.1:{platform_port}", client_id="bench-client", deployment_id="bench-deployment",
            tool=ToolEndpoints(cadre_url), key=PlatformKey.generate(kid="bench-key"),
        )
        server = make_server("127.0.0.1", platform_port, create_platform_app(self.platform), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        with session_scope(self.cadre) as session:
            register_platform(session, self.platform)

        self.bare_url, server = serve(bare_app())
        self.servers.append(server)
        self.client = browser_client(cadre_url)
        self.last_bodies: list[dict[str, str] | None] = []

    def close(self) -> None:
        self.client.close()
        for server in self.servers:
            server.shutdown()

    def launch_once(self) -> list[float]:
        """One learner launch, as a browser does it; returns the time of each of its four requests."""
        self.client.cookies.clear()  # a new browser each time, as the state cookies would otherwise pile up
        request = self.platform.prepare_launch("learner-ana")
        login_url, login_form = self.platform.login_initiation(request)
        steps: list[float] = []

        started = time.perf_counter()
        login = self.client.post(login_url, data=login_form)
        steps.append(time.perf_counter() - started)

        started = time.perf_counter()
        auth = self.client.get(urljoin(login_url, login.headers["location"]))
        steps.append(time.perf_counter() - started)
        (form,) = parse_forms(auth.text)

        started = time.perf_counter()
        launched = self.client.post(form.action, data=form.fields)
        steps.append(time.perf_counter() - started)

        started = time.perf_counter()
        home = self.client.get(urljoin(form.action, launched.headers["location"]))
        steps.append(time.perf_counter() - started)

        if home.status_code != 200 or "Ana Lima" not in home.text:
            raise RuntimeError(f"the launch did not reach Cadre's home ({home.status_code}):\n{home.text}")
        self.last_bodies = [login_form, None, form.fields, None]
        return steps

    def bare_once(self) -> list[float]:
        """The same four requests (methods and bodies) to a route that does nothing."""
        self.client.cookies.clear()
        steps: list[float] = []
        for body in self.last_bodies:
            started = time.perf_counter()
            if body is None:
                response = self.client.get(self.bare_url + "/noop")
            else:
                response = self.client.post(self.bare_url + "/noop", data=body)
            steps.append(time.perf_counter() - started)
            response.raise_for_status()
        return steps


def measure(runs: list[Callable[[], list[float]]], iterations: int) -> list[list[list[float]]]:
    """Samples of each run, interleaved so that machine noise and drift hit both alike."""
    for _ in range(WARMUP):
        for run in runs:
            run()
    samples: list[list[list[float]]] = [[] for _ in runs]
    for _ in range(iterations):
        for run, sink in zip(runs, samples, strict=True):
            sink.append(run())
    return samples


def summarize(label: str, samples: list[list[float]]) -> float:
    totals = [sum(steps) * 1000 for steps in samples]
    median = statistics.median(totals)
    p95 = statistics.quantiles(totals, n=20)[-1]
    mean = statistics.fmean(totals)
    print(f"{label:<34} median {median:7.2f} ms   p95 {p95:7.2f} ms   mean {mean:7.2f} ms")
    return median


def main(iterations: int = DEFAULT_ITERATIONS) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="cadre-bench-") as workdir:
        bench = LaunchBench(Path(workdir))
        try:
            launches, bare = measure([bench.launch_once, bench.bare_once], iterations)
        finally:
            bench.close()
    print(f"{iterations} iterations after {WARMUP} warm-up runs; Cadre on SQLite, one httpx client, "
          "loopback.")
    launch_ms = summarize("full launch (4 requests)", launches)
    bare_ms = summarize("bare Flask route (same 4 requests)", bare)
    names = ["login (Cadre)", "auth (platform, RS256 sign)", "launch (Cadre)", "home (Cadre)"]
    for index, name in enumerate(names):
        step = statistics.median(sample[index] for sample in launches) * 1000
        bare_step = statistics.median(sample[index] for sample in bare) * 1000
        print(f"  {name:<30} median {step:6.2f} ms   (bare {bare_step:5.2f} ms)")
    ratio = launch_ms / bare_ms
    verdict = "within" if ratio <= TARGET_RATIO else "ABOVE"
    print(f"ratio launch / bare: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ITERATIONS)
