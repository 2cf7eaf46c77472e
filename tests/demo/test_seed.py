"""``make demo`` seeds a course where every kind of manager feedback has drafts, submissions, revisions and a
grade the demo LMS received, through Cadre's services; a second run changes nothing, and a restarted
demo LMS gets its course's activities, gradebook columns and received scores back."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.app import create_platform_app
from lti_tool.demo.cli import build_demo_platform, keep_received_scores, prepare_demo
from lti_tool.demo.platform import LtiPlatform
from lti_tool.demo.seed import PEER_FEEDBACK, RELATIONSHIP_MAP, SEEDED
from lti_tool.lti.services import ACCESS_TOKENS
from lti_tool.models import Activity, Assessment, AssessmentRevision, AuditEntry, WorkProductVersion
from lti_tool.outbox import Worker
from lti_tool.settings import Settings
from lti_tool.states import ActivityKind, AssessmentStatus, AssessorRole
from tests.fixtures.live_server import free_port


@dataclass
class Demo:
    app: Flask
    platform: LtiPlatform
    instance: Path


def demo_settings(tmp_path: Path, cadre_port: int, lms_port: int) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'demo.db'}", secret_key="demo-seed-test",
                    public_url=f"http://127.0.0.1:{cadre_port}",
                    demo_platform_url=f"http://127.0.0.1:{lms_port}",
                    upload_dir=str(tmp_path / "uploads"), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """Cadre and the demo LMS served on loopback as ``cadre demo`` serves them, after ``prepare_demo``."""
    cadre_port, lms_port = free_port(), free_port()
    app = create_app(demo_settings(tmp_path, cadre_port, lms_port))
    app.instance_path = str(tmp_path / "instance")
    Path(app.instance_path).mkdir()
    platform = prepare_demo(app)
    platform_app = create_platform_app(platform)
    keep_received_scores(platform_app, platform, Path(app.instance_path))
    servers = [make_server("127.0.0.1", cadre_port, app, threaded=True),
               make_server("127.0.0.1", lms_port, platform_app, threaded=True)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ACCESS_TOKENS.clear()  # a token of another test's platform on the same address would be refused
    yield Demo(app, platform, Path(app.instance_path))
    for server in servers:
        server.shutdown()
    get_engine(app).dispose()


def counts(app: Flask) -> dict[str, int]:
    with session_scope(app) as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Activity, Assessment, AssessmentRevision, WorkProductVersion, AuditEntry)}


def test_every_kind_has_drafts_submissions_revisions_and_a_received_grade(demo: Demo) -> None:
    with session_scope(demo.app) as session:
        feedback_kinds = {item.kind for item in SEEDED}
        seeded = {activity.kind: activity for activity in session.scalars(select(Activity))
                  if activity.kind in feedback_kinds}  # the programme's: tests/demo/test_seed_programme.py
        assert set(seeded) == feedback_kinds
        assert all(activity.configured_at and activity.rubric_version_id and activity.line_item_url
                   for activity in seeded.values())
        for kind, activity in seeded.items():
            assessments = session.scalars(select(Assessment)
                                          .where(Assessment.activity_id == activity.id)).all()
            assert any(a.status is AssessmentStatus.DRAFT and a.draft_content for a in assessments), kind
            assert any(a.revision_count == 2 for a in assessments), kind
            assert any(a.acknowledged_at for a in assessments) or kind in (ActivityKind.SKILL_ASSESSMENT,
                                                                            ActivityKind.SELF_ASSESSMENT)
        # Peers' reviews and a self-assessment beside a manager's feedback stay in Cadre: no grade.
        revisions = session.scalar(select(func.count()).select_from(AssessmentRevision).join(Assessment).join(
            Activity).where(~((Activity.kind == ActivityKind.PEER_ASSESSMENT)
                              & (Assessment.assessor_role != AssessorRole.MANAGER))))
        versions = session.scalars(select(WorkProductVersion)).all()
        assert len(versions) == 4  # Ana twice, Ben, Chloé
    # The demo LMS shows the activities in its course, each with its gradebook column.
    assert {activity.title for activity in demo.platform.course.activities} >= {item.title for item in SEEDED}
    assert [item["label"] for item in demo.platform.line_items] == [
        item.title for item in (*SEEDED, PEER_FEEDBACK, RELATIONSHIP_MAP)]

    report = Worker(demo.app).drain()  # the demo's in-process worker does this once the servers run
    assert report.delivered == revisions and report.dead == 0
    per_column = Counter(score["lineitem"] for score in demo.platform.scores)
    assert sorted(per_column) == [1, 2, 3, 4, 5] and sum(per_column.values()) == revisions  # 5: peer feedback
    page = httpx.get(f"{demo.platform.base_url}/gradebook", timeout=10)
    assert page.status_code == 200 and "Ana Lima" in page.text and "Dev Patel" in page.text
    # The course page tells a newcomer whom to launch as, to see what.
    course_page = httpx.get(f"{demo.platform.base_url}/", timeout=10).text
    assert "What to try" in course_page
    assert all(name in course_page for name in ("Omar Haddad", "Rita Nowak", "Ana Lima", "Maya Schmidt"))


def test_a_second_make_demo_changes_nothing_and_the_lms_gets_its_course_back(demo: Demo) -> None:
    Worker(demo.app).drain()
    received = list(demo.platform.scores)
    before = counts(demo.app)
    # A restart: a new demo LMS in memory, the same instance/ directory and database.
    again = prepare_demo(demo.app)
    assert again is not demo.platform
    assert counts(demo.app) == before
    assert Worker(demo.app).drain().claimed == 0  # nothing enqueued again, nothing posted twice
    assert [item["label"] for item in again.line_items] == \
        [item["label"] for item in demo.platform.line_items]
    assert [(a.resource_link_id, a.custom) for a in again.course.activities] == \
        [(a.resource_link_id, a.custom) for a in demo.platform.course.activities]
    assert again.scores == received  # the gradebook outlives the restart


def test_the_seeded_activities_open_from_the_lms(demo: Demo) -> None:
    """A seeded activity's first launch binds it to the LMS's resource link and shows the manager's people."""
    from tests.fixtures.platform import browser_client, submit_form

    seeded = next(a for a in demo.platform.course.activities if a.title == SEEDED[0].title)
    request = demo.platform.prepare_launch(demo.platform.course.person("manager-omar"),
                                           activity=seeded.resource_link_id)
    client = browser_client(demo.platform.registration.tool.launch_url.rsplit("/lti/", 1)[0])
    login_url, fields = demo.platform.login_initiation(request)
    answer = client.post(login_url, data=fields)
    answer = client.get(answer.headers["location"])
    landed = submit_form(client, answer)
    assert landed.status_code == 200, landed.text[:1500]
    assert "Feedback on your people" in landed.text and "Omar Haddad" in landed.text
    with session_scope(demo.app) as session:
        activity = session.scalar(select(Activity).where(Activity.title == SEEDED[0].title))
        assert activity is not None and activity.resource_link is not None
        assert activity.resource_link.resource_link_id == seeded.resource_link_id


def test_the_demo_lms_scores_file_is_read_back_and_a_damaged_one_ignored(tmp_path: Path) -> None:
    from lti_tool.demo.cli import GRADEBOOK_FILE_NAME, received_scores

    assert received_scores(tmp_path) == []
    (tmp_path / GRADEBOOK_FILE_NAME).write_text("{not json")
    assert received_scores(tmp_path) == []
    (tmp_path / GRADEBOOK_FILE_NAME).write_text('[{"lineitem": 1, "userId": "learner-ana"}, 7]')
    assert received_scores(tmp_path) == [{"lineitem": 1, "userId": "learner-ana"}]
    assert build_demo_platform  # the demo's platform factory stays importable for the command
