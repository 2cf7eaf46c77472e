"""Fixtures of the operations tests: the `cadre` CLI against the test app, and a platform to register with."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer

from lti_tool.cli import main
from lti_tool.db import session_scope
from lti_tool.models import AuditEntry
from tests.fixtures.live_server import free_port, serve_in_thread
from tests.ops.lms_for_registration import CONFIGURATION_PATH, LmsBehaviour, create_lms

Cadre = Callable[..., Result]


@pytest.fixture
def cadre(runner: FlaskCliRunner) -> Cadre:
    """Run a `cadre …` command line against the test app: ``cadre("platform", "list")``."""

    def invoke(*args: str, input: str | None = None) -> Result:  # noqa: A002 - click's own name
        return runner.invoke(main, list(args), input=input)

    return invoke


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    with session_scope(app) as session:
        return [
            (e.action, e.actor_label) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


@dataclass
class RunningLms:
    url: str
    behaviour: LmsBehaviour
    server: BaseWSGIServer

    @property
    def configuration_url(self) -> str:
        return self.url + CONFIGURATION_PATH


@pytest.fixture(scope="session")
def running_lms() -> Iterator[RunningLms]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    behaviour = LmsBehaviour()
    server = serve_in_thread(create_lms(url, behaviour), port)
    yield RunningLms(url=url, behaviour=behaviour, server=server)
    server.shutdown()


@pytest.fixture
def lms(running_lms: RunningLms) -> RunningLms:
    """The platform, behaving well until a test says otherwise."""
    fresh = LmsBehaviour()
    for name in fresh.__dataclass_fields__:
        setattr(running_lms.behaviour, name, getattr(fresh, name))
    return running_lms
