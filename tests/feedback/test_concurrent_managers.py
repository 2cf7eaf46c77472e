"""Fifty managers at once on one activity, through ``cadre serve`` with two gunicorn workers on PostgreSQL
(the production shape: several processes and threads on one database).

Each manager launches from the stand-in platform, opens the feedback form on their own learner, autosaves
three times as ``static/feedback-form.js`` does, submits, edits and submits again (a second revision), and
leaves one more autosaved draft open. All fifty start together behind a barrier. Afterwards: no request
failed, every manager's two revisions and open draft are exactly what they sent for their own learner
(nothing lost, nothing crossed with another manager's), and the outbox holds exactly one ``ags.score``
message per revision. Bounded: 50 managers x 9 requests, every request within 30 s, the whole concurrent
part within :data:`TIME_LIMIT_SECONDS`.

PostgreSQL only, whatever ``CADRE_TEST_BACKENDS`` says: several workers on one database is a PostgreSQL
deployment (SQLite has one writer). The managers' clients open a connection per request, as a reverse
proxy in front of gunicorn does: gthread closes a kept-alive connection whose keep-alive ran out while
the next request waited for a busy worker, which a client reusing it sees as a reset.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.db import build_engine, get_engine, session_scope
from lti_tool.demo.app import create_platform_app
from lti_tool.demo.platform import Activity as LmsActivity
from lti_tool.demo.platform import Course, LmsUser, LtiPlatform, ToolEndpoints
from lti_tool.feedback.grades import TOPIC
from lti_tool.migrate import upgrade
from lti_tool.models import Assessment, AssessmentRevision, OutboxMessage, User
from lti_tool.states import AssessmentStatus
from tests.audit.helpers import create_from_template
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import TEMPLATE
from tests.feedback.test_pages import AGS_ENDPOINT, draft_body, filled
from tests.fixtures.database import _postgres_database
from tests.fixtures.live_server import free_port, settings_for_tests
from tests.fixtures.platform import InProcessCadre, PlatformServer, RunningPlatform
from tests.fixtures.visitors import Visitor, visitor_from
from tests.ops.test_serve import wait_until_listening

pytestmark = pytest.mark.e2e

MANAGERS = 50
AUTOSAVES = 3
TIME_LIMIT_SECONDS = 45.0
CADRE = str(Path(sys.executable).parent / "cadre")


def one_connection_per_request(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, limits=httpx.Limits(max_keepalive_connections=0), timeout=30)


def course_of_fifty() -> Course:
    """A designer, and fifty managers each the mentor of one learner (sent in ``role_scope_mentor``)."""
    people = [LmsUser("designer-maya", "designer", "Maya Schmidt", email="maya@example.com")]
    for number in range(MANAGERS):
        people.append(LmsUser(f"learner-{number:02d}", "learner", f"Learner {number:02d}",
                              email=f"learner{number:02d}@example.com"))
        people.append(LmsUser(f"manager-{number:02d}", "manager", f"Manager {number:02d}",
                              email=f"manager{number:02d}@example.com", mentees=(f"learner-{number:02d}",)))
    return Course("course-busy-101", "BUSY-101", "A busy course", people=people,
                  activities=[LmsActivity("rl-welcome", "Welcome")])


@dataclass
class Served:
    """Cadre under ``cadre serve --workers 2``, with an in-process app on the same database for reading."""

    url: str
    app: Flask
    log: Path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own (dropped after it)."""
    database = _postgres_database()
    url = next(database)
    engine = build_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    next(database, None)


@pytest.fixture
def served(postgres_url: str, tmp_path: Path) -> Iterator[Served]:
    """``cadre serve --workers 2`` on that database."""
    database_url = postgres_url
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(settings_for_tests(database_url, url))
    env = {**os.environ, "CADRE_DATABASE_URL": database_url, "CADRE_SECRET_KEY": "concurrency-test-secret",
           "CADRE_PUBLIC_URL": url, "CADRE_LOG_LEVEL": "WARNING"}
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [CADRE, "serve", "--workers", "2", "--bind", f"127.0.0.1:{port}"],
            cwd=tmp_path, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until_listening(f"{url}/healthz", process, seconds=60).status_code == 200, log.read_text()
        yield Served(url, app, log)
    finally:
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: nothing is left in flight
        process.wait(timeout=30)
        get_engine(app).dispose()


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    """What the manager typed into next steps, in order: two submitted, then the open draft."""
    failures: list[str] = field(default_factory=list)


def give_feedback(manager: Visitor, number: int, path: str, start: threading.Barrier) -> Outcome:
    """One manager's session: 3 autosaves, submit, edit, submit again, one more autosave."""
    outcome = Outcome()

    def check(what: str, status: int, expected: int = 200) -> bool:
        if status != expected:
            outcome.failures.append(f"manager {number}: {what} answered {status}")
        return status == expected

    def autosave(revision: int, text: str) -> int:
        body = draft_body(revision, next_steps=text)
        answer = manager.client.post(
            f"{path}/draft", content=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Cadre-Launch": manager.launch_token,
                     "X-CSRF-Token": manager.csrf_token}, timeout=30)
        check(f"autosave from revision {revision}", answer.status_code)
        return int(answer.json().get("draft_revision", -1)) if answer.status_code == 200 else -1

    def submit(revision: int, text: str) -> None:
        done = manager.post(path, {**filled(next_steps=text), "draft_revision": str(revision),
                                   "action": "submit"}, follow=False)
        if check(f"submission from revision {revision}", done.status, 303) and \
                "notice=submitted" not in done.response.headers.get("location", ""):
            outcome.failures.append(f"manager {number}: the submission did not lead to its notice")
        outcome.sent.append(text)

    start.wait(timeout=60)
    try:
        _give_feedback(manager, number, path, outcome, check, autosave, submit)
    except Exception as error:  # noqa: BLE001 - reported with the others, with the step it stopped at
        outcome.failures.append(f"manager {number}: {type(error).__name__}: {error} after "
                                f"{len(outcome.sent)} submission(s)")
    return outcome


def _give_feedback(manager: Visitor, number: int, path: str, outcome: Outcome, check: Any, autosave: Any,
                   submit: Any) -> None:
    form = manager.get(path)
    if not check("the form", form.status):
        return
    revision = int(form.form("feedback-form").fields["draft_revision"])
    for round_number, saves in ((1, AUTOSAVES), (2, 1)):
        for save in range(saves):
            revision = autosave(revision, f"Manager {number:02d}, draft {round_number}.{save}")
        submit(revision, f"Manager {number:02d} on learner {number:02d}, revision {round_number}")
        revision += 1  # a submission is a save of the draft: the next edit starts from it
    text = f"Manager {number:02d}: changes not submitted yet"
    autosave(revision, text)
    outcome.sent.append(text)


def test_fifty_managers_autosave_and_submit_at_once_through_two_workers(
    served: Served, platform_server: PlatformServer
) -> None:
    slot = "/busy-course"
    lti = LtiPlatform(platform_server.url + slot, client_id="cadre-busy", deployment_id="busy-1",
                      tool=ToolEndpoints(served.url), key=platform_server.key_for("busy-course"),
                      course=course_of_fifty())
    platform_server.mounts.apps[slot] = create_platform_app(lti)
    try:
        platform = RunningPlatform(lti=lti, cadre=InProcessCadre(served.app, served.url),
                                   app=platform_server.mounts.apps[slot], server=platform_server)
        platform.register_in_cadre()
        run_fifty_managers(platform, served)
    finally:
        platform_server.mounts.apps.pop(slot, None)


def run_fifty_managers(platform: RunningPlatform, served: Served) -> None:
    app = served.app
    link = place(platform, points="10")
    course = platform.lti.course
    endpoint = {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": platform.lti.url(f"/api/contexts/{course.context_id}/lineitems"),
                "lineitem": platform.lti.url(f"/api/contexts/{course.context_id}/lineitems/1")}

    def open_activity(role: str, user: str) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=link, user=user,
                                               claims={AGS_ENDPOINT: endpoint}), role)

    designer = open_activity("designer", "designer-maya")
    rubric_id, _ = create_from_template(designer, TEMPLATE)
    (activity,) = activities(app)
    saved = save_settings(designer, activity.id, rubric_id=str(rubric_id), assessors="line_manager",
                          feedback_release="on_submission", work_product_required="", due_date="",
                          due_time="")
    assert saved.status == 200, saved.text[:1500]
    with ThreadPoolExecutor(max_workers=8) as pool:
        launched = list(pool.map(lambda n: open_activity("manager", f"manager-{n:02d}"), range(MANAGERS)))
    managers = [Visitor(visitor.role, one_connection_per_request(served.url), visitor.launch_token,
                        visitor.csrf_token, visitor.home) for visitor in launched]
    with session_scope(app) as session:
        ids = {sub: user_id for sub, user_id in session.execute(select(User.sub, User.id))}
    paths = [f"/activities/{activity.id}/people/{ids[f'learner-{n:02d}']}/feedback" for n in range(MANAGERS)]

    start = threading.Barrier(MANAGERS + 1)
    with ThreadPoolExecutor(max_workers=MANAGERS) as pool:
        running = [pool.submit(give_feedback, manager, number, path, start)
                   for number, (manager, path) in enumerate(zip(managers, paths, strict=True))]
        start.wait(timeout=60)
        began = time.monotonic()
        outcomes = [future.result(timeout=TIME_LIMIT_SECONDS + 30) for future in running]
        elapsed = time.monotonic() - began

    failures = [failure for outcome in outcomes for failure in outcome.failures]
    assert failures == [], "\n".join(failures) + "\n" + served.log.read_text()[-3000:]
    assert elapsed < TIME_LIMIT_SECONDS, f"{MANAGERS} managers took {elapsed:.1f} s"
    with session_scope(app) as session:
        by_assessor = {(a.assessor_id, a.learner_id): a for a in session.scalars(
            select(Assessment).where(Assessment.activity_id == activity.id))}
        assert len(by_assessor) == MANAGERS
        revision_keys = set()
        for number, outcome in enumerate(outcomes):
            assessment = by_assessor[(ids[f"manager-{number:02d}"], ids[f"learner-{number:02d}"])]
            revisions = session.scalars(select(AssessmentRevision).where(
                AssessmentRevision.assessment_id == assessment.id).order_by(AssessmentRevision.number)).all()
            first, second, open_draft = outcome.sent
            assert [r.next_steps for r in revisions] == [first, second], number
            assert all(r.submitted_by_user_id == assessment.assessor_id for r in revisions)
            assert assessment.status is AssessmentStatus.SUBMITTED and assessment.revision_count == 2
            assert _draft_next_steps(assessment) == open_draft
            revision_keys |= {f"{assessment.id}:{r.number}" for r in revisions}
        scores = session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.topic == TOPIC)).all()
    assert len(revision_keys) == 2 * MANAGERS
    assert sorted(scores) == sorted(revision_keys)  # one score message per revision, none twice


def _draft_next_steps(assessment: Assessment) -> Any:
    return (assessment.draft_content or {}).get("next_steps")
