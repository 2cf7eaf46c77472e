"""The cost of an LTI launch in Cadre and in a stock pylti1p3next tool, measured in the same run.

Every app runs under gunicorn (gthread, as ``cadre serve``) on 127.0.0.1, in its own processes: Cadre
with 2 workers on a SQLite file (and on PostgreSQL when 127.0.0.1:5432 answers), the stock tool of
:mod:`.stock_tool` with 2 workers, and the platform of :mod:`.platform_app` (Cadre's demo platform; one
worker, it keeps pending launches in memory) with both tools registered. One browser (:mod:`.browser`) per
tool makes each launch as a new browser: OIDC login → platform auth (RS256 signing) → launch POST →
landing page (Cadre redirects after the POST; the stock tool answers the page itself).

The figure is **ratio = launch time / (requests in the launch × a bare GET of the tool's own server)**,
the bare GET being a trivial route of the same gunicorn app (``/bench/noop``), sampled as many times
as the launch has requests, interleaved with the launches so that noise hits both alike. Medians of
``--rounds`` rounds × ``--launches`` launches per tool. Then, from the ``Server-Timing`` header only the
benchmark apps send (:mod:`.server_timing`), where each of Cadre's requests spends its time: server
time, statements and their kinds, time in the database driver, the commit.

Prints figures; never asserts on time. ``python -m tests.bench.bench_launch --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.platform import PlatformKey
from lti_tool.demo.registration import register_platform
from lti_tool.migrate import upgrade
from lti_tool.settings import Settings
from tests.bench.browser import Answer, Browser
from tests.bench.platform_app import ToolRegistrationConfig, build_platform, platform_config
from tests.bench.server_timing import ServerTiming, parse_server_timing
from tests.bench.servers import NOOP_PATH, Servers, running
from tests.fixtures.live_server import free_port
from tests.fixtures.platform import parse_forms

DEFAULT_ROUNDS = 3
DEFAULT_LAUNCHES = 150
WARMUP_LAUNCHES = 10
TIME_LIMIT_SECONDS = 600.0
"""The whole measurement stops (with what it has) past this; a normal run takes well under a minute."""
TARGET_RATIO = 3.5
WORKERS = 2
LEARNER = "learner-ana"
LEARNER_NAME = "Ana Lima"
SECRET_KEY = "bench-secret-key-not-for-production"  # noqa: S105
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{database}"


@dataclass
class Step:
    name: str
    seconds: float
    timing: ServerTiming | None


@dataclass
class Tool:
    name: str
    url: str
    client_id: str
    browser: Browser
    launches: list[list[Step]] = field(default_factory=list)
    bare: list[Step] = field(default_factory=list)


class PortPicker:
    def __init__(self, base: int | None) -> None:
        self._next = base

    def __call__(self) -> int:
        if self._next is None:
            return free_port()
        port, self._next = self._next, self._next + 1
        return port


def timed(browser: Browser, name: str, url: str, form: dict[str, str] | None = None) -> tuple[Step, Answer]:
    started = time.perf_counter()
    answer = browser.request("GET" if form is None else "POST", url, form)
    seconds = time.perf_counter() - started
    return Step(name, seconds, parse_server_timing(answer.headers.get("server-timing"))), answer


def launch_once(tool: Tool, platform_url: str, control: Browser) -> list[Step]:
    """One learner launch as a new browser makes it; the time of each request."""
    query = urlencode({"client_id": tool.client_id, "user": LEARNER})
    prepared = json.loads(control.get(f"{platform_url}/bench/prepare?{query}").text)
    browser = tool.browser
    browser.cookies.clear()  # a new browser each time (state cookies would otherwise pile up)
    login, answer = timed(browser, "login", prepared["url"], prepared["fields"])
    if answer.status != 302:
        raise RuntimeError(f"{tool.name}: the login answered {answer.status}:\n{answer.text[:2000]}")
    auth, answer = timed(browser, "auth", answer.location)
    forms = parse_forms(answer.text)
    if answer.status != 200 or len(forms) != 1:
        raise RuntimeError(f"{tool.name}: the platform refused ({answer.status}):\n{answer.text[:2000]}")
    (form,) = forms
    launch, answer = timed(browser, "launch", form.action, form.fields)
    steps = [login, auth, launch]
    if answer.is_redirect:  # Cadre: POST-redirect-GET to its landing page
        landing, answer = timed(browser, "landing", answer.location)
        steps.append(landing)
    if answer.status != 200 or LEARNER_NAME not in answer.text:
        raise RuntimeError(f"{tool.name}: the launch did not reach the landing page "
                           f"({answer.status}):\n{answer.text[:2000]}")
    return steps


def bare_once(tool: Tool, count: int) -> list[Step]:
    return [timed(tool.browser, "bare", tool.url + NOOP_PATH)[0] for _ in range(count)]


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000 if values else float("nan")


@dataclass(frozen=True)
class Figures:
    launch_ms: float
    bare_ms: float
    requests: int

    @property
    def ratio(self) -> float:
        return self.launch_ms / (self.requests * self.bare_ms)


def figures(launches: list[list[Step]], bare: list[Step]) -> Figures:
    return Figures(
        launch_ms=median_ms([sum(step.seconds for step in steps) for steps in launches]),
        bare_ms=median_ms([step.seconds for step in bare]),
        requests=len(launches[0]) if launches else 0,
    )


def measure(tools: list[Tool], platform_url: str, rounds: int, launches: int, warmup: int,
            deadline: float) -> list[list[Figures]]:
    """Per round, each tool's figures; launches of all tools interleaved."""
    with contextlib.closing(Browser()) as control:
        for _ in range(warmup):
            for tool in tools:
                bare_once(tool, len(launch_once(tool, platform_url, control)))
        per_round: list[list[Figures]] = []
        for _ in range(rounds):
            round_launches: list[list[list[Step]]] = [[] for _ in tools]
            round_bare: list[list[Step]] = [[] for _ in tools]
            for _ in range(launches):
                if time.monotonic() > deadline:
                    print(f"(stopped early: past the {TIME_LIMIT_SECONDS:.0f} s limit)")
                    break
                for tool, sink, bare_sink in zip(tools, round_launches, round_bare, strict=True):
                    steps = launch_once(tool, platform_url, control)
                    sink.append(steps)
                    bare_sink.extend(bare_once(tool, len(steps)))
            for tool, sink, bare_sink in zip(tools, round_launches, round_bare, strict=True):
                tool.launches.extend(sink)
                tool.bare.extend(bare_sink)
            per_round.append([figures(sink, bare_sink)
                              for sink, bare_sink in zip(round_launches, round_bare, strict=True)])
            if time.monotonic() > deadline:
                break
    return per_round


def report(tools: list[Tool], per_round: list[list[Figures]], launches: int, warmup: int,
           workers: int) -> None:
    print(f"{len(per_round)} round(s) x {launches} launches per tool after {warmup} warm-up; "
          f"gunicorn gthread, {workers} worker(s) per tool; loopback.")
    print("ratio = launch / (requests in the launch x a bare GET of the tool's own server)")
    width = max(len(tool.name) for tool in tools)
    for number, round_figures in enumerate(per_round, 1):
        cells = "   ".join(f"{tool.name:<{width}} {fig.ratio:5.2f}x ({fig.launch_ms:6.2f} ms / "
                           f"{fig.requests} x {fig.bare_ms:4.2f} ms)"
                           for tool, fig in zip(tools, round_figures, strict=True))
        print(f"  round {number}: {cells}")
    print("all rounds:")
    for tool in tools:
        fig = figures(tool.launches, tool.bare)
        verdict = "" if not tool.name.startswith("cadre") else (
            f"  ({'within' if fig.ratio <= TARGET_RATIO else 'ABOVE'} the {TARGET_RATIO}x target)")
        print(f"  {tool.name:<{width}} {fig.ratio:5.2f}x   launch {fig.launch_ms:6.2f} ms over "
              f"{fig.requests} requests, bare GET {fig.bare_ms:4.2f} ms{verdict}")
    print("where each request spends its time (medians; server = in the worker, Server-Timing):")
    for tool in tools:
        names = [step.name for step in tool.launches[0]] if tool.launches else []
        for index, name in enumerate(names):
            steps = [launch[index] for launch in tool.launches]
            print(f"  {tool.name:<{width}} {name:<8} {step_summary(steps)}")
        print(f"  {tool.name:<{width}} {'bare GET':<8} {step_summary(tool.bare)}")


def step_summary(steps: list[Step]) -> str:
    text = f"round trip {median_ms([step.seconds for step in steps]):6.2f} ms"
    timings = [step.timing for step in steps if step.timing is not None]
    if not timings:
        return text
    text += f"   server {statistics.median(t.app_ms for t in timings):6.2f} ms"
    if any(t.statements is not None for t in timings):
        kinds = Counter(t.statement_kinds for t in timings).most_common(1)[0][0]
        statements = statistics.median(t.statements or 0 for t in timings)
        text += (f"   sql {statistics.median(t.sql_ms or 0.0 for t in timings):5.2f} ms, "
                 f"{statements:g} statements ({kinds or 'none'})"
                 f"   commit {statistics.median(t.commit_ms or 0.0 for t in timings):5.2f} ms")
    return text


# ------------------------------------------------------------------------------------------------ setup


@contextlib.contextmanager
def postgres_database() -> Iterator[str | None]:
    """A fresh database on 127.0.0.1:5432 for this run (dropped after it), or None without a server."""
    import psycopg

    name = f"cadre_bench_{os.getpid()}"
    try:
        admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True,
                                connect_timeout=3)
    except psycopg.OperationalError:
        yield None
        return
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield POSTGRES_URL.format(database=name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cadre_environment(database_url: str, public_url: str) -> dict[str, str]:
    return {
        "CADRE_DATABASE_URL": database_url,
        "CADRE_SECRET_KEY": SECRET_KEY,
        "CADRE_PUBLIC_URL": public_url,
        "CADRE_LOG_LEVEL": "WARNING",
    }


def prepare_cadre_database(database_url: str, public_url: str, platform_json: str, client_id: str) -> None:
    """Migrate and register the platform, as ``cadre db upgrade`` and ``cadre platform add`` do."""
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY, public_url=public_url,
                        log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    engine = get_engine(app)
    upgrade(engine)
    with session_scope(app) as session:
        register_platform(session, build_platform(json.loads(platform_json)), client_id)
    engine.dispose()


def start_servers(servers: Servers, workdir: Path, backends: list[str], postgres_url: str | None,
                  port: PortPicker, workers: int) -> tuple[str, list[tuple[str, str, str]]]:
    """Start the platform, Cadre per backend and the stock tool; (platform URL, [(name, url, client_id)])."""
    platform_url = f"http://127.0.0.1:{port()}"
    key = PlatformKey.generate(kid="bench-platform-key")
    tools: list[tuple[str, str, str, str | None]] = []  # name, url, client_id, database URL
    for backend in backends:
        database_url = f"sqlite:///{workdir / 'cadre.db'}" if backend == "sqlite" else postgres_url
        if database_url is not None:
            tools.append((f"cadre-{backend}", f"http://127.0.0.1:{port()}", f"cadre-{backend}", database_url))
    tools.append(("stock", f"http://127.0.0.1:{port()}", "stock", None))
    platform_json = platform_config(platform_url, key, [
        ToolRegistrationConfig(client_id=client_id, deployment_id=f"{client_id}-deployment", tool_url=url)
        for _name, url, client_id, _database in tools
    ])
    servers.start("platform", "tests.bench.platform_app:create_app()", int(platform_url.rsplit(":", 1)[1]),
                  workers=1, env={"BENCH_PLATFORM": platform_json})
    for name, url, client_id, database_url in tools:
        port_number = int(url.rsplit(":", 1)[1])
        if database_url is None:
            stock = {"issuer": platform_url, "client_id": client_id,
                     "deployment_id": f"{client_id}-deployment", "auth_login_url": platform_url + "/auth",
                     "auth_token_url": platform_url + "/token",
                     "key_set": {"keys": [key.public_jwk()]}, "url": url}
            servers.start(name, "tests.bench.stock_tool:create_app()", port_number, workers=workers,
                          env={"BENCH_STOCK": json.dumps(stock)})
        else:
            prepare_cadre_database(database_url, url, platform_json, client_id)
            servers.start(name, "tests.bench.cadre_app:create_app()", port_number, workers=workers,
                          env=cadre_environment(database_url, url))
    servers.wait_ready()
    return platform_url, [(name, url, client_id) for name, url, client_id, _database in tools]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_launch",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--launches", type=int, default=DEFAULT_LAUNCHES, help="launches per tool per round")
    parser.add_argument("--warmup", type=int, default=WARMUP_LAUNCHES, help="untimed launches first")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers per tool")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="Cadre's databases, comma-separated (postgresql only if 127.0.0.1:5432 answers)")
    parser.add_argument("--port-base", type=int, default=None,
                        help="consecutive ports from here (default: free ports the system picks)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv or [])
    backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cadre-bench-")))
        postgres_url = stack.enter_context(postgres_database()) if "postgresql" in backends else None
        if "postgresql" in backends and postgres_url is None:
            print("(PostgreSQL at 127.0.0.1:5432 does not answer: Cadre is measured on SQLite only)")
        servers = stack.enter_context(running(workdir))
        platform_url, started = start_servers(servers, workdir, backends, postgres_url,
                                              PortPicker(arguments.port_base), arguments.workers)
        tools = [Tool(name, url, client_id, stack.enter_context(contextlib.closing(Browser())))
                 for name, url, client_id in started]
        per_round = measure(tools, platform_url, arguments.rounds, arguments.launches, arguments.warmup,
                            deadline)
    report(tools, per_round, arguments.launches, arguments.warmup, arguments.workers)


if __name__ == "__main__":
    main(sys.argv[1:])
