"""What the delivery tests share: an app committing for real with fast retries, a real Ralph LRS on loopback,
a stand-in LRS for answers Ralph never gives (429, 503, 400 on one statement), and valid statements made by
hand (the builders of ``xapi`` are tested on their own)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Request, Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool import create_app
from lti_tool.db import get_engine, session_scope
from lti_tool.demo.ralph import RalphLrs
from lti_tool.models import Context, Platform, User
from lti_tool.records import lrs as registry
from lti_tool.records.delivery import StatementDeliverer
from lti_tool.records.models import LearningRecordStore, StatementDelivery
from lti_tool.records.store import record
from lti_tool.settings import Settings
from tests.fixtures.database import empty_all_tables
from tests.fixtures.live_server import TEST_SECRET_KEY, free_port

LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
RALPH_PASSWORD = "ralph-test-password"  # noqa: S105 - a throwaway LRS on loopback


def build_records_app(database_url: str, **overrides: Any) -> Flask:
    settings = Settings(database_url=database_url, secret_key=TEST_SECRET_KEY, public_url="http://127.0.0.1:9",
                        lrs_retry_base_seconds=0.2, lrs_retry_cap_seconds=1.0, http_max_attempts=1,
                        _env_file=None, **overrides)  # type: ignore[call-arg]
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture(scope="module")
def records_app_of_module(migrated_engine: Engine, database_url: str) -> Iterator[Flask]:
    app = build_records_app(database_url)
    yield app
    get_engine(app).dispose()


@pytest.fixture
def records_app(records_app_of_module: Flask, migrated_engine: Engine) -> Iterator[Flask]:
    """The app on the test database, committing for real (workers race on committed rows); every table is
    emptied afterwards."""
    yield records_app_of_module
    empty_all_tables(migrated_engine)


@pytest.fixture(scope="session")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLrs]:
    """One real Ralph LRS for the session (file-system backend, see ``lti_tool.demo.ralph``); tests tell
    their statements apart by id."""
    lrs = RalphLrs(tmp_path_factory.mktemp("ralph"), password=RALPH_PASSWORD).start()
    yield lrs
    lrs.stop()


@pytest.fixture
def fresh_ralph(tmp_path: Path) -> Iterator[RalphLrs]:
    """A Ralph of the test's own: its file-system backend reads its whole file for every POST, so the heavy
    tests start from an empty one."""
    lrs = RalphLrs(tmp_path / "ralph", password=RALPH_PASSWORD).start()
    yield lrs
    lrs.stop()


# -- a course and its people ---------------------------------------------------------------------------------


@dataclass
class Course:
    platform_id: int
    context_id: int
    lms_id: str
    person_id: int
    issuer: str


def make_course(session: Session, lms_id: str = "course-1") -> Course:
    issuer = "https://lms.example.org"
    platform = session.scalar(select(Platform).where(Platform.issuer == issuer))
    if platform is None:
        platform = Platform(name="LMS", issuer=issuer, client_id="cadre", auth_login_url=f"{issuer}/auth",
                            auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
        session.add(platform)
        session.flush()
    context = Context(platform_id=platform.id, context_id=lms_id, title=f"Course {lms_id}")
    person = User(platform_id=platform.id, sub=f"learner-{uuid.uuid4().hex[:8]}", name="Ada")
    session.add_all([context, person])
    session.flush()
    return Course(platform.id, context.id, lms_id, person.id, issuer)


def statement(course: Course | None = None, *, verb: str = LAUNCHED, number: int = 0,
              statement_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A valid xAPI statement, made by hand, with a fresh id unless one is given."""
    body: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": course.issuer if course else
                                                     "https://lms.example.org", "name": f"learner-{number}"}},
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": f"https://cadre.example.org/xapi/activities/{number}",
                   "definition": {"type": "http://adlnet.gov/expapi/activities/assessment"}},
        "timestamp": "2026-12-01T09:00:00.000Z",
    }
    if course is not None:
        body["context"] = {"contextActivities": {
            "parent": [{"objectType": "Activity", "id": f"https://cadre.example.org/xapi/courses/{course.lms_id}"}]
        }}
    body.update(extra)
    return body


def record_statements(app: Flask, bodies: list[dict[str, Any]], course: Course | None = None) -> list[str]:
    with app.app_context(), session_scope(app) as session:
        for body in bodies:
            record(session, body, platform_id=course.platform_id if course else None,
                   context_id=course.context_id if course else None, activity_kind="manager_feedback",
                   person_id=course.person_id if course else None)
    return [body["id"] for body in bodies]


def add_lrs(app: Flask, endpoint: str, *, name: str = "ralph", password: str = RALPH_PASSWORD,
            username: str = "cadre", batch_size: int = 100, courses: list[str] | None = None,
            verbs: list[str] | None = None) -> int:
    with app.app_context(), session_scope(app) as session:
        store = registry.add_store(session, name=name, endpoint=endpoint, username=username,
                                   password=password, courses=courses or [], verbs=verbs or [],
                                   batch_size=batch_size)
        return store.id


def deliveries_of(app: Flask, lrs_id: int | None = None) -> list[StatementDelivery]:
    with session_scope(app) as session:
        query = select(StatementDelivery).order_by(StatementDelivery.id)
        if lrs_id is not None:
            query = query.where(StatementDelivery.lrs_id == lrs_id)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def lrs_row(app: Flask, lrs_id: int) -> LearningRecordStore:
    with session_scope(app) as session:
        store = session.get(LearningRecordStore, lrs_id)
        assert store is not None
        session.expunge(store)
        return store


def deliverer(app: Flask, **options: Any) -> StatementDeliverer:
    return StatementDeliverer(app, **options)


def ralph_ids(ralph: RalphLrs, ours: set[str]) -> list[str]:
    """The ids Ralph wrote, in order, of the statements of this test (duplicates kept: they would show)."""
    return [stored["id"] for stored in ralph.stored_statements() if stored["id"] in ours]


def without_lrs_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key not in {"stored", "authority", "version"}}


# -- a stand-in LRS ------------------------------------------------------------------------------------------


@dataclass
class StandInLrs:
    """Answers POST /statements as told: ``refuse`` (ids answered 400 whenever in a batch), ``queue`` (answers
    given in turn before the default 200). Counts what it was sent. ``on_post``, when set, is called with
    each batch's ids before it is answered (a test holds a POST in flight with it)."""

    url: str = ""
    refuse: set[str] = field(default_factory=set)
    queue: list[tuple[int, dict[str, str], str]] = field(default_factory=list)
    batches: list[list[str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    stored: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = field(default=lambda: __import__("time").monotonic())
    on_post: Callable[[list[str]], None] | None = None

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if request.method == "POST" and self.on_post is not None:
            self.on_post([body["id"] for body in json.loads(request.get_data())])
        with self.lock:
            if request.method != "POST":
                return Response("{}", status=404)(environ, start_response)
            bodies = json.loads(request.get_data())
            ids = [body["id"] for body in bodies]
            self.batches.append(ids)
            self.times.append(self.clock())
            self.authorizations.append(request.headers.get("Authorization", ""))
            self.versions.append(request.headers.get("X-Experience-API-Version", ""))
            if self.queue:
                status, headers, text = self.queue.pop(0)
            elif refused := [one for one in ids if one in self.refuse]:
                status, headers, text = 400, {}, json.dumps({"detail": f"Statement {refused[0]} has a bad "
                                                                       "extension"})
            else:
                for body in bodies:
                    self.stored.setdefault(body["id"], body)
                status, headers, text = 200, {}, json.dumps(ids)
        return Response(text, status=status, headers=headers, content_type="application/json")(
            environ, start_response)

    def reset(self) -> None:
        self.refuse.clear()
        self.queue.clear()
        self.batches.clear()
        self.times.clear()
        self.authorizations.clear()
        self.versions.clear()
        self.stored.clear()
        self.on_post = None


@pytest.fixture(scope="session")
def stand_in_server() -> Iterator[tuple[StandInLrs, BaseWSGIServer]]:
    lrs = StandInLrs()
    port = free_port()
    server = make_server("127.0.0.1", port, lrs, threaded=True)
    threading.Thread(target=server.serve_forever, name="stand-in-lrs", daemon=True).start()
    lrs.url = f"http://127.0.0.1:{port}/xapi"
    yield lrs, server
    server.shutdown()


@pytest.fixture
def stand_in(stand_in_server: tuple[StandInLrs, BaseWSGIServer]) -> StandInLrs:
    lrs = stand_in_server[0]
    lrs.reset()
    return lrs
