"""The manager's feedback pages under load: the people list of a course with 200 people x 20 activities
against a bare page, and an autosave round trip against a bare POST, measured in the same run.

Cadre runs under gunicorn (gthread, as ``cadre serve``, 2 workers) on 127.0.0.1 on a SQLite file, and on
PostgreSQL when 127.0.0.1:5432 answers; the platform of :mod:`.platform_app` launches the demo course's
manager (Omar) once. The course is then grown in the database (:mod:`.feedback_course`: learners linked to
Omar, activities, assessments in a mix of states) first to a small size, then to the full one, and the
people page's statements are read from its ``Server-Timing`` header at both sizes: they must not grow.

* **people list**: ``GET /activities/<id>/people`` against ``GET /bench/page`` (Cadre's layout, empty,
  behind ``@permission`` like every page), interleaved, medians.
* **autosave**: ``POST …/feedback/draft`` with the JSON ``static/feedback-form.js`` sends (the draft
  revision check, the conditional UPDATE, the commit) against ``POST /bench/post`` (same headers, launch
  and CSRF check, an empty JSON answer), interleaved, medians.

Prints figures; never asserts on time. ``python -m tests.bench.bench_feedback --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import select, text

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.platform import PlatformKey
from lti_tool.models import Context, User
from lti_tool.settings import Settings
from tests.bench.bench_launch import (
    SECRET_KEY,
    PortPicker,
    cadre_environment,
    postgres_database,
    prepare_cadre_database,
)
from tests.bench.browser import Answer, Browser
from tests.bench.cadre_app import BARE_PAGE_PATH, BARE_POST_PATH
from tests.bench.feedback_course import draft_content, grow_course
from tests.bench.platform_app import ToolRegistrationConfig, platform_config
from tests.bench.server_timing import parse_server_timing
from tests.bench.servers import Servers, running
from tests.fixtures.platform import parse_forms

DEFAULT_PEOPLE = 200
DEFAULT_ACTIVITIES = 20
DEFAULT_REQUESTS = 300
SMALL_PEOPLE = 20
SMALL_ACTIVITIES = 2
WARMUP = 20
WORKERS = 2
TARGET_RATIO = 2.0
TIME_LIMIT_SECONDS = 600.0
MANAGER = "manager-omar"
MANAGER_NAME = "Omar Haddad"
COURSE = "course-lcc-101"


@dataclass
class Manager:
    """Omar's launch in one Cadre: the browser that holds it, and the tokens Cadre's scripts send."""

    browser: Browser
    url: str
    launch_token: str
    csrf_token: str

    @property
    def script_headers(self) -> dict[str, str]:
        return {"X-Cadre-Launch": self.launch_token, "X-CSRF-Token": self.csrf_token}


@dataclass(frozen=True)
class Timed:
    seconds: float
    answer: Answer

    @property
    def statements(self) -> int | None:
        timing = parse_server_timing(self.answer.headers.get("server-timing"))
        return timing.statements if timing else None


def timed(request: Callable[[], Answer], expected: int = 200) -> Timed:
    started = time.perf_counter()
    answer = request()
    seconds = time.perf_counter() - started
    if answer.status != expected:
        raise RuntimeError(f"{answer.url} answered {answer.status}, not {expected}:\n{answer.text[:2000]}")
    return Timed(seconds, answer)


def fewest_statements(request: Callable[[], Answer], tries: int = 3) -> int | None:
    """The page's own statements: the fewest of a few requests, since now and then a request also does
    the app's periodic housekeeping (expired launches purged, a cache's version read)."""
    counts = [count for _ in range(tries) if (count := timed(request).statements) is not None]
    return min(counts) if counts else None


def launch_manager(cadre_url: str, platform_url: str, client_id: str) -> Manager:
    browser = Browser()
    query = urlencode({"client_id": client_id, "user": MANAGER})
    prepared = json.loads(browser.get(f"{platform_url}/bench/prepare?{query}").text)
    answer = browser.post(prepared["url"], prepared["fields"])
    answer = browser.get(answer.location)
    (form,) = parse_forms(answer.text)
    answer = browser.post(form.action, form.fields)
    while answer.is_redirect:
        answer = browser.get(answer.location)
    tokens = {name: re.search(rf'name="{name}" content="([^"]+)"', answer.text)
              for name in ("cadre-launch", "csrf-token")}
    if answer.status != 200 or MANAGER_NAME not in answer.text or not all(tokens.values()):
        raise RuntimeError(f"the manager's launch did not land ({answer.status}):\n{answer.text[:2000]}")
    return Manager(browser, cadre_url, tokens["cadre-launch"].group(1),  # type: ignore[union-attr]
                   tokens["csrf-token"].group(1))  # type: ignore[union-attr]


def seeding_app(database_url: str, url: str) -> Flask:
    settings = Settings(database_url=database_url, secret_key=SECRET_KEY, public_url=url,
                        log_level="WARNING", _env_file=None)  # type: ignore[call-arg]
    return create_app(settings)


def grow(app: Flask, people: int, activities: int) -> tuple[list[int], list[int]]:
    with session_scope(app) as session:
        manager_id = session.scalar(select(User.id).where(User.sub == MANAGER))
        context_id = session.scalar(select(Context.id).where(Context.context_id == COURSE))
        assert manager_id is not None and context_id is not None, "the manager has not launched"
        grown = grow_course(session, context_id=context_id, manager_id=manager_id, people=people,
                            activities=activities)
    with get_engine(app).connect() as connection:  # the statistics autovacuum (or a DBA's ANALYZE) keeps on
        connection.execute(text("ANALYZE"))  # a live database; without them it plans for empty tables
        connection.commit()
    return grown.activity_ids, grown.learner_ids


def median_ms(samples: list[Timed]) -> float:
    return statistics.median(sample.seconds for sample in samples) * 1000 if samples else float("nan")


@dataclass
class Figures:
    name: str
    statements_small: int | None = None
    statements_full: int | None = None
    bare_statements: int | None = None
    people_rows: int = 0
    page: list[Timed] | None = None
    bare_page: list[Timed] | None = None
    autosave: list[Timed] | None = None
    bare_post: list[Timed] | None = None
    autosave_statements: int | None = None

    def ratio(self, measured: list[Timed] | None, bare: list[Timed] | None) -> float:
        return median_ms(measured or []) / median_ms(bare or [])


def measure(name: str, manager: Manager, app: Flask, people: int, activities: int, requests: int,
            warmup: int, deadline: float) -> Figures:
    figures = Figures(name)
    browser = manager.browser
    activity_ids, _ = grow(app, SMALL_PEOPLE, SMALL_ACTIVITIES)
    people_url = f"{manager.url}/activities/{activity_ids[0]}/people"
    bare_url = manager.url + BARE_PAGE_PATH
    figures.statements_small = fewest_statements(lambda: browser.get(people_url))
    activity_ids, learner_ids = grow(app, people, activities)
    full = timed(lambda: browser.get(people_url))
    figures.statements_full = fewest_statements(lambda: browser.get(people_url))
    figures.people_rows = full.answer.text.count('data-testid="person"')
    figures.bare_statements = fewest_statements(lambda: browser.get(bare_url))

    pages: list[Timed] = []
    bare_pages: list[Timed] = []
    for number in range(warmup + requests):
        if time.monotonic() > deadline:
            print(f"(stopped early: past the {TIME_LIMIT_SECONDS:.0f} s limit)")
            break
        page, bare = timed(lambda: browser.get(people_url)), timed(lambda: browser.get(bare_url))
        if number >= warmup:
            pages.append(page)
            bare_pages.append(bare)
    figures.page, figures.bare_page = pages, bare_pages

    # The last learner of the full course in the last activity: a cell the mix left not started, so the
    # first save makes the assessment and every other one saves over the draft it read.
    draft_url = (f"{manager.url}/activities/{activity_ids[-1]}/people/{learner_ids[-1]}/feedback/draft")
    post_url = manager.url + BARE_POST_PATH
    revision = _current_revision(browser, draft_url, manager)
    saves: list[Timed] = []
    bare_posts: list[Timed] = []
    for number in range(warmup + requests):
        if time.monotonic() > deadline:
            print(f"(stopped early: past the {TIME_LIMIT_SECONDS:.0f} s limit)")
            break
        body = json.dumps({"draft_revision": revision,
                           "content": draft_content(f"Typed so far: {number}")}).encode()
        save = timed(lambda body=body: browser.post_json(draft_url, body, manager.script_headers))
        revision = json.loads(save.answer.text)["draft_revision"]
        bare = timed(lambda body=body: browser.post_json(post_url, body, manager.script_headers))
        if number >= warmup:
            saves.append(save)
            bare_posts.append(bare)
    figures.autosave, figures.bare_post = saves, bare_posts
    figures.autosave_statements = saves[-1].statements if saves else None
    return figures


def _current_revision(browser: Browser, draft_url: str, manager: Manager) -> int:
    """The draft revision a first save from 0 finds (0 on a fresh cell; the server's copy on a 409)."""
    body = json.dumps({"draft_revision": 0, "content": draft_content()}).encode()
    answer = browser.post_json(draft_url, body, manager.script_headers)
    if answer.status not in (200, 409):
        raise RuntimeError(f"the autosave answered {answer.status}:\n{answer.text[:2000]}")
    return int(json.loads(answer.text)["draft_revision"])


def report(all_figures: list[Figures], people: int, activities: int, requests: int, workers: int) -> None:
    print(f"course of {people} people x {activities} activities (a third each not started, draft, "
          f"submitted); {requests} requests of each kind, interleaved; gunicorn gthread, {workers} "
          "worker(s); loopback.")
    for figures in all_figures:
        verdict = _verdict(figures.ratio(figures.page, figures.bare_page))
        print(f"  {figures.name} people list: {figures.ratio(figures.page, figures.bare_page):5.2f}x   "
              f"page {median_ms(figures.page or []):6.2f} ms ({figures.people_rows} rows), "
              f"bare page {median_ms(figures.bare_page or []):5.2f} ms{verdict}")
        print(f"  {figures.name} people list statements: {figures.statements_small} with "
              f"{SMALL_PEOPLE} people x {SMALL_ACTIVITIES} activities, {figures.statements_full} with "
              f"{people} x {activities} (bare page {figures.bare_statements})")
        verdict = _verdict(figures.ratio(figures.autosave, figures.bare_post))
        print(f"  {figures.name} autosave: {figures.ratio(figures.autosave, figures.bare_post):5.2f}x   "
              f"save {median_ms(figures.autosave or []):6.2f} ms ({figures.autosave_statements} statements), "
              f"bare POST {median_ms(figures.bare_post or []):5.2f} ms{verdict}")


def _verdict(ratio: float) -> str:
    return f"  ({'within' if ratio <= TARGET_RATIO else 'ABOVE'} the {TARGET_RATIO}x target)"


def start(servers: Servers, workdir: Path, backends: list[str], postgres_url: str | None, port: PortPicker,
          workers: int) -> tuple[str, list[tuple[str, str, str, str]]]:
    """The platform and one Cadre per backend: (platform URL, [(name, url, client_id, database URL)])."""
    platform_url = f"http://127.0.0.1:{port()}"
    key = PlatformKey.generate(kid="bench-platform-key")
    tools = []
    for backend in backends:
        database_url = f"sqlite:///{workdir / 'cadre.db'}" if backend == "sqlite" else postgres_url
        if database_url is not None:
            tools.append((f"cadre-{backend}", f"http://127.0.0.1:{port()}", f"cadre-{backend}", database_url))
    platform_json = platform_config(platform_url, key, [
        ToolRegistrationConfig(client_id=client_id, deployment_id=f"{client_id}-deployment", tool_url=url)
        for _name, url, client_id, _database in tools
    ])
    servers.start("platform", "tests.bench.platform_app:create_app()", int(platform_url.rsplit(":", 1)[1]),
                  workers=1, env={"BENCH_PLATFORM": platform_json})
    for name, url, client_id, database_url in tools:
        prepare_cadre_database(database_url, url, platform_json, client_id)
        servers.start(name, "tests.bench.cadre_app:create_app()", int(url.rsplit(":", 1)[1]), workers=workers,
                      env=cadre_environment(database_url, url))
    servers.wait_ready()
    return platform_url, tools


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_feedback",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--people", type=int, default=DEFAULT_PEOPLE)
    parser.add_argument("--activities", type=int, default=DEFAULT_ACTIVITIES)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="timed requests of each kind")
    parser.add_argument("--warmup", type=int, default=WARMUP, help="untimed requests of each kind first")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="Cadre's databases, comma-separated (postgresql only if 127.0.0.1:5432 answers)")
    parser.add_argument("--port-base", type=int, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv or [])
    backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    results: list[Figures] = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cadre-bench-")))
        postgres_url = stack.enter_context(postgres_database()) if "postgresql" in backends else None
        if "postgresql" in backends and postgres_url is None:
            print("(PostgreSQL at 127.0.0.1:5432 does not answer: Cadre is measured on SQLite only)")
        servers = stack.enter_context(running(workdir))
        platform_url, tools = start(servers, workdir, backends, postgres_url, PortPicker(arguments.port_base),
                                    arguments.workers)
        for name, url, client_id, database_url in tools:
            manager = launch_manager(url, platform_url, client_id)
            stack.callback(manager.browser.close)
            app = seeding_app(database_url, url)
            stack.callback(get_engine(app).dispose)
            results.append(measure(name, manager, app, arguments.people, arguments.activities,
                                   arguments.requests, arguments.warmup, deadline))
    report(results, arguments.people, arguments.activities, arguments.requests, arguments.workers)


if __name__ == "__main__":
    main(sys.argv[1:])
