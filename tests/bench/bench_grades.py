"""Scores back to the LMS: 1,000 AGS scores delivered by the outbox worker to the stand-in platform over
real HTTP, against the same 1,000 score POSTs sent bare, measured in the same run.

The platform is :mod:`.platform_app` (Cadre's demo platform) under gunicorn on 127.0.0.1, registered in a
Cadre database (a SQLite file, and PostgreSQL when 127.0.0.1:5432 answers). A manager submits feedback on
1,000 learners through ``lti_tool.feedback.services.submit`` (each submission enqueues its ``ags.score``
message), then ``Worker(app).drain()`` (``cadre worker --once``) delivers them: for each, the handler
reads the revision, builds the score, posts it through the LTI services connector (access token cached
per issuer, client_id and scopes) and the worker records the outcome. The bare figure is one httpx client
posting the same score documents to the same URL with one token. Every score must arrive, once.

Prints figures; never asserts on time. ``python -m tests.bench.bench_grades --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx
from flask import Flask
from sqlalchemy import select

from lti_tool.db import get_engine, session_scope, utcnow
from lti_tool.demo.platform import PlatformKey
from lti_tool.feedback import content, grades
from lti_tool.feedback import services as feedback
from lti_tool.models import Activity, Context, ManagerLink, Platform, User
from lti_tool.outbox import Worker
from lti_tool.permissions import Actor
from lti_tool.rubric_library import services as rubric_library
from lti_tool.states import ActivityKind, Assessors, CadreRole, FeedbackRelease, ManagerLinkSource
from tests.bench.bench_feedback import seeding_app
from tests.bench.bench_launch import PortPicker, postgres_database, prepare_cadre_database
from tests.bench.feedback_course import TEMPLATE, draft_content
from tests.bench.platform_app import ToolRegistrationConfig, platform_config
from tests.bench.servers import running
from tests.fixtures.live_server import serve_in_thread

DEFAULT_SCORES = 1000
COURSE = "course-lcc-101"
CLIENT_ID = "cadre-grades"
LINE_ITEM = "/api/contexts/course-lcc-101/lineitems/1"


def seed(app: Flask, platform_url: str, scores: int) -> int:
    """A graded activity and ``scores`` learners with submitted feedback; the activity's id."""
    with session_scope(app) as session:
        platform = session.scalar(select(Platform).where(Platform.issuer == platform_url))
        assert platform is not None
        context = Context(platform_id=platform.id, context_id=COURSE, title="Leading Customer Conversations")
        manager = User(platform_id=platform.id, sub="manager-omar", name="Omar Haddad")
        designer = User(platform_id=platform.id, sub="designer-maya", name="Maya Schmidt")
        session.add_all([context, manager, designer])
        session.flush()
        rubric = rubric_library.create_from_template(
            session, Actor(designer.id, designer.display_name, platform.id, context.id, CadreRole.DESIGNER),
            TEMPLATE)
        now = utcnow()
        activity = Activity(
            public_id=secrets.token_hex(16), platform_id=platform.id, context_id=context.id,
            kind=ActivityKind.MANAGER_FEEDBACK, title="Feedback from your manager",
            rubric_version_id=rubric.current_version_id, points_possible=Decimal(10), grades_to_lms=True,
            line_item_url=platform_url + LINE_ITEM, assessors=Assessors.ANY_MANAGER,
            feedback_release=FeedbackRelease.ON_SUBMISSION, configured_at=now, created_at=now, updated_at=now)
        learners = [User(platform_id=platform.id, sub=f"learner-{number:04d}", name=f"Learner {number:04d}")
                    for number in range(scores)]
        session.add(activity)
        session.add_all(learners)
        session.flush()
        session.add_all([ManagerLink(context_id=context.id, manager_id=manager.id, learner_id=learner.id,
                                     source=ManagerLinkSource.ROSTER, created_at=now)
                         for learner in learners])
        session.flush()
        actor = Actor(manager.id, manager.display_name, platform.id, context.id, CadreRole.MANAGER)
        rubric_content = feedback.rubric_of(activity)
        for learner in learners:
            draft = content.read_content(draft_content(f"Next steps for {learner.name}"), rubric_content)
            feedback.submit(session, actor, activity, learner, draft, based_on=0)
        return activity.id


def bare_posts(platform_url: str, documents: list[dict[str, object]]) -> float:
    """Seconds to POST ``documents`` to the line item's scores with one client and one token."""
    with httpx.Client(timeout=30) as client:
        asked = client.post(f"{platform_url}/bench/token", data={"client_id": CLIENT_ID})
        token = asked.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": grades.SCORE_MEDIA_TYPE}
        url = grades.scores_url(platform_url + LINE_ITEM)
        started = time.perf_counter()
        for document in documents:
            response = client.post(url, content=json.dumps(document), headers=headers)
            response.raise_for_status()
        return time.perf_counter() - started


def received(platform_url: str) -> list[dict[str, object]]:
    return httpx.get(f"{platform_url}/bench/scores", timeout=30).json()


def measure(name: str, database_url: str, cadre_url: str, platform_url: str, platform_json: str,
            scores: int) -> str:
    prepare_cadre_database(database_url, cadre_url, platform_json, CLIENT_ID)
    app = seeding_app(database_url, cadre_url)
    # Served only for its key set: the platform checks the token request's assertion with it.
    server = serve_in_thread(app, int(cadre_url.rsplit(":", 1)[1]))
    try:
        seed(app, platform_url, scores)
        before = len(received(platform_url))
        with app.app_context():
            started = time.perf_counter()
            report = Worker(app).drain()
            worker_seconds = time.perf_counter() - started
        arrived = received(platform_url)[before:]
        users = sorted(str(score["userId"]) for score in arrived)
        if report.delivered != scores or users != [f"learner-{n:04d}" for n in range(scores)]:
            raise RuntimeError(f"{name}: {report} and {len(arrived)} scores arrived, not {scores} once each")
        bare_seconds = bare_posts(platform_url, [{k: v for k, v in s.items() if k != "lineitem"}
                                                 for s in arrived])
    finally:
        server.shutdown()
        get_engine(app).dispose()
    ratio = worker_seconds / bare_seconds
    return (f"  {name}: {scores / worker_seconds:7.1f} scores/s through the outbox worker "
            f"({worker_seconds:.2f} s), bare POSTs {scores / bare_seconds:7.1f}/s ({bare_seconds:.2f} s): "
            f"{ratio:.2f}x")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_grades",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scores", type=int, default=DEFAULT_SCORES)
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="Cadre's databases, comma-separated (postgresql only if 127.0.0.1:5432 answers)")
    parser.add_argument("--port-base", type=int, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv or [])
    backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    lines = []
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cadre-bench-")))
        postgres_url = stack.enter_context(postgres_database()) if "postgresql" in backends else None
        if "postgresql" in backends and postgres_url is None:
            print("(PostgreSQL at 127.0.0.1:5432 does not answer: Cadre is measured on SQLite only)")
        servers = stack.enter_context(running(workdir))
        port = PortPicker(arguments.port_base)
        platform_url, cadre_url = f"http://127.0.0.1:{port()}", f"http://127.0.0.1:{port()}"
        platform_json = platform_config(platform_url, PlatformKey.generate(kid="bench-platform-key"), [
            ToolRegistrationConfig(client_id=CLIENT_ID, deployment_id="grades-deployment",
                                   tool_url=cadre_url)])
        servers.start("platform", "tests.bench.platform_app:create_app()",
                      int(platform_url.rsplit(":", 1)[1]), workers=1, env={"BENCH_PLATFORM": platform_json})
        servers.wait_ready()
        for backend in backends:
            database_url = f"sqlite:///{workdir / 'cadre.db'}" if backend == "sqlite" else postgres_url
            if database_url is not None:
                lines.append(measure(f"cadre-{backend}", database_url, cadre_url, platform_url, platform_json,
                                     arguments.scores))
    print(f"{arguments.scores:,} AGS scores to the stand-in platform (gunicorn, 1 worker, loopback); "
          "ratio = worker time / bare POST time")
    print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
