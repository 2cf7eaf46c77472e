"""`cadre demo` starts a Ralph LRS on loopback and delivers Cadre's statements to it, so a newcomer sees the
learning-records pipeline work."""

from __future__ import annotations

from pathlib import Path

import pytest

from lti_tool import create_app
from lti_tool.db import session_scope
from lti_tool.demo.cli import prepare_demo
from lti_tool.demo.ralph import DEMO_LRS_NAME, start_demo_lrs
from lti_tool.records.backlog import backlog
from lti_tool.records.delivery import StatementDeliverer
from lti_tool.records.store import record
from lti_tool.settings import Settings
from tests.records.delivery_support import statement


def demo_app(tmp_path: Path, **values: str):  # type: ignore[no-untyped-def]
    settings = Settings(secret_key="demo-test", database_url=f"sqlite:///{tmp_path / 'demo.db'}",  # noqa: S106
                        _env_file=None, **values)  # type: ignore[call-arg]
    return create_app(settings)


def test_the_demo_delivers_statements_to_its_ralph_on_loopback(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # instance/ is under the working directory
    app = demo_app(tmp_path)
    prepare_demo(app)
    lrs = start_demo_lrs(app)
    assert lrs is not None
    try:
        assert lrs.endpoint.startswith("http://127.0.0.1:") and lrs.directory == tmp_path / "instance" / \
            "demo-ralph"
        body = statement()
        with app.app_context(), session_scope(app) as session:
            assert record(session, body, platform_id=None, context_id=None, activity_kind=None,
                          person_id=None)
        assert StatementDeliverer(app).drain().delivered == 1
        assert [stored["id"] for stored in lrs.stored_statements()] == [body["id"]]
        with session_scope(app) as session:
            [entry] = backlog(session)
        assert (entry.name, entry.delivered, entry.pending) == (DEMO_LRS_NAME, 1, 0)
    finally:
        lrs.stop()
    again = start_demo_lrs(app)  # the next run: a new password, the same LRS row, the statements kept
    assert again is not None
    try:
        with session_scope(app) as session:
            assert [entry.name for entry in backlog(session)] == [DEMO_LRS_NAME]
        assert len(again.stored_statements()) == 1
    finally:
        again.stop()


def test_the_demo_leaves_an_lrs_of_the_environment_alone(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = demo_app(tmp_path, lrs_endpoint="http://127.0.0.1:9/xAPI")
    assert start_demo_lrs(app) is None
    assert not (tmp_path / "instance" / "demo-ralph").exists()
