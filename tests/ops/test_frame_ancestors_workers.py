"""Under `cadre serve` with two gunicorn workers, every worker frames a platform from the moment its
registration is committed, and stops when it is removed (issue 7, section 2).

Before, each worker cached frame-ancestors for 30 s and only the worker that made the change refreshed its
copy: right after dynamic registration the other worker still refused the platform's iframe. Here the
registration goes through one worker over HTTP, the removal through the CLI (a third process), and many
requests on fresh connections make both workers answer each time, and Chromium opens a course page of the
LMS holding a dozen frames of Cadre (refused before the registration, shown after it). A test-only gunicorn
configuration tags each response with the pid of the worker that made it; Cadre's own configuration sends no
such header.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response
from sqlalchemy import Engine

from lti_tool.ops.serve import REPOSITORY_CONFIG
from tests.fixtures.database import empty_all_tables
from tests.fixtures.live_server import free_port, serve_in_thread
from tests.fixtures.lms_for_registration import CONFIGURATION_PATH, LmsBehaviour, create_lms
from tests.ops.test_serve import wait_until_listening

CADRE = str(Path(sys.executable).parent / "cadre")
WORKER_HEADER = "X-Test-Worker"
TAGGING_CONFIG = '''\
"""Cadre's gunicorn configuration, plus a response header naming the worker process (tests only)."""
import os

exec(compile(open({repository_config!r}).read(), {repository_config!r}, "exec"))
_cadre_post_worker_init = globals().get("post_worker_init")


def post_worker_init(worker):
    if _cadre_post_worker_init is not None:
        _cadre_post_worker_init(worker)
    app, pid = worker.wsgi, str(os.getpid())

    def tagged(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ({header!r}, pid)], exc_info)

        return app(environ, start)

    worker.wsgi = tagged
'''
REQUESTS_PER_ROUND = 24
ROUNDS = 16
FRAMES = 12
COURSE_PAGE = "/course-with-cadre-frames"


class TwoWorkers:
    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env

    def frame_ancestors_by_worker(self, path: str = "/") -> dict[str, set[str]]:
        """Ask until both workers have answered several times; the frame-ancestors each one sent."""
        seen: dict[str, list[str]] = {}

        def ask(_: int) -> tuple[str, str]:
            response = client.get(self.url + path)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
            [directive] = [
                part.strip().removeprefix("frame-ancestors ")
                for part in response.headers["Content-Security-Policy"].split(";")
                if part.strip().startswith("frame-ancestors ")
            ]
            return response.headers[WORKER_HEADER], directive

        # A new connection for every request (no keep-alive), so the kernel may hand it to either worker.
        client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10)
        with client, ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(ROUNDS):
                for worker, directive in pool.map(ask, range(REQUESTS_PER_ROUND)):
                    seen.setdefault(worker, []).append(directive)
                if len(seen) == 2 and all(len(answers) >= 5 for answers in seen.values()):
                    break
        assert len(seen) == 2, (
            f"only worker(s) {sorted(seen)} answered {ROUNDS * REQUESTS_PER_ROUND} requests"
        )
        return {worker: set(answers) for worker, answers in seen.items()}

    def cadre(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([CADRE, *args], env=self.env, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result


@pytest.fixture
def two_workers(database_url: str, migrated_engine: Engine, tmp_path: Path) -> Iterator[TwoWorkers]:
    """`cadre serve --workers 2` on a free loopback port, on the test database of this backend."""
    config = tmp_path / "gunicorn_tagging.conf.py"
    config.write_text(TAGGING_CONFIG.format(repository_config=str(REPOSITORY_CONFIG), header=WORKER_HEADER))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CADRE_DATABASE_URL": database_url,
        "CADRE_SECRET_KEY": "two-workers-test-secret",
        "CADRE_PUBLIC_URL": url,
        "CADRE_DYNAMIC_REGISTRATION": "open",
        "CADRE_LOG_LEVEL": "WARNING",
    }
    stderr_path = tmp_path / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [CADRE, "serve", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--config", str(config)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        assert wait_until_listening(f"{url}/healthz", process).status_code == 200, stderr_path.read_text()
        yield TwoWorkers(url, env)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        empty_all_tables(migrated_engine)


@dataclass
class LmsWithCourse:
    url: str
    behaviour: LmsBehaviour

    @property
    def configuration_url(self) -> str:
        return self.url + CONFIGURATION_PATH


@pytest.fixture
def lms_with_course(two_workers: TwoWorkers) -> Iterator[LmsWithCourse]:
    """The registration LMS, plus a course page holding FRAMES iframes of Cadre. A real loopback server:
    Chromium's local-network checks refuse a loopback frame inside a page Playwright made up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    behaviour = LmsBehaviour()
    lms = create_lms(url, behaviour)
    frames = "".join(
        f'<iframe name="frame-{n}" src="{two_workers.url}/?frame={n}"></iframe>' for n in range(FRAMES)
    )
    lms.add_url_rule(COURSE_PAGE, "course", lambda: f"<!doctype html><title>Course</title>{frames}")
    server = serve_in_thread(lms, port)
    yield LmsWithCourse(url, behaviour)
    server.shutdown()


def shown_by_chromium(page: Page, lms: LmsWithCourse, cadre_url: str) -> dict[str, set[bool]]:
    """Open the LMS's course page until both workers have served some of its frames; for each worker,
    whether Chromium showed the frames it served (a refused frame becomes chrome-error://chromewebdata/)."""
    served: dict[str, str] = {}  # frame number -> worker

    def note(response: Response) -> None:
        if response.url.startswith(f"{cadre_url}/?frame="):
            served[response.url.rpartition("=")[2]] = response.headers[WORKER_HEADER.lower()]

    page.on("response", note)
    shown: dict[str, set[bool]] = {}
    for _ in range(ROUNDS):
        served.clear()
        page.goto(lms.url + COURSE_PAGE, wait_until="load")
        frames = [frame for frame in page.frames if frame.name.startswith("frame-")]
        assert len(frames) == FRAMES
        for frame in frames:
            worker = served[frame.name.removeprefix("frame-")]
            cadre_page = frame.url.startswith(cadre_url) and "Cadre" in frame.content()
            shown.setdefault(worker, set()).add(cadre_page)
        if len(shown) == 2:
            break
    page.remove_listener("response", note)
    assert len(shown) == 2, f"only worker(s) {sorted(shown)} served the frames"
    return shown


@pytest.mark.browser
def test_both_workers_frame_a_platform_as_soon_as_it_is_registered(
    two_workers: TwoWorkers, lms_with_course: LmsWithCourse, page: Page
) -> None:
    lms = lms_with_course
    # Chromium refuses Cadre in the course's frames, whichever worker serves them.
    refused = shown_by_chromium(page, lms, two_workers.url)
    assert refused == {worker: {False} for worker in refused}
    # Both workers have answered, so both cache "nobody but Cadre may frame Cadre".
    before = two_workers.frame_ancestors_by_worker()
    assert before == {worker: {"'self'"} for worker in before}

    registration = httpx.get(
        f"{two_workers.url}/lti/register",
        params={
            "openid_configuration": lms.configuration_url,
            "registration_token": lms.behaviour.registration_token,
        },
        headers={"Connection": "close"},
        timeout=30,
    )
    assert registration.status_code == 200, registration.text[:2000]
    registering_worker = registration.headers[WORKER_HEADER]

    # At once, whichever worker answers (the one that registered and the other one) frames the LMS.
    after = two_workers.frame_ancestors_by_worker()
    assert registering_worker in after
    assert after == {worker: {f"'self' {lms.url}"} for worker in after}
    # And Chromium now shows Cadre in every frame of the course, whichever worker served it.
    shown = shown_by_chromium(page, lms, two_workers.url)
    assert shown == {worker: {True} for worker in after}

    # Another process removes the platform: no worker frames it any more.
    two_workers.cadre(
        "platform", "remove", "--issuer", lms.url, "--client-id", lms.behaviour.client_id, "--yes"
    )
    removed = two_workers.frame_ancestors_by_worker()
    assert removed == {worker: {"'self'"} for worker in removed}
