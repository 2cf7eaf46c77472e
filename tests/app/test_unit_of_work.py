"""The unit of work: one commit (or rollback) per request and per CLI command, and after-commit callbacks
that run only once the commit succeeded. Run in-process, inside the test's rolled-back transaction: the
request's commit releases a SAVEPOINT, which is what the callbacks must follow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from flask import Flask, abort
from sqlalchemy import Connection, Engine, delete, select, text
from sqlalchemy.orm import Session

from lti_tool import create_app
from lti_tool.db import after_commit, get_session, rollback_only, session_scope
from lti_tool.models import Platform
from tests.fixtures.database import rolled_back_sessions
from tests.fixtures.live_server import IN_PROCESS_URL, settings_for_tests


class Failure(Exception):
    """Raised by a view or command after it wrote, to check nothing is kept."""


ran: list[str] = []
"""Callbacks that ran, by the issuer of the platform their request stored."""


def store_platform(session: Session, issuer: str) -> None:
    session.add(Platform(name="P", issuer=issuer, client_id="c", auth_login_url="https://x/a",
                         auth_token_url="https://x/t", key_set_url="https://x/k"))
    session.flush()
    after_commit(session, lambda: ran.append(issuer))


def build_app(database_url: str) -> Flask:
    app = create_app(settings_for_tests(database_url, IN_PROCESS_URL))
    app.config["TESTING"] = True

    @app.get("/store/<int:status>")
    def store(status: int) -> tuple[str, int]:
        store_platform(get_session(), f"https://status-{status}.example")
        return "stored", status

    @app.get("/store-then-fail")
    def store_then_fail() -> str:
        store_platform(get_session(), "https://raised.example")
        raise Failure

    @app.get("/store-then-abort")
    def store_then_abort() -> str:
        store_platform(get_session(), "https://aborted.example")
        abort(409)

    @app.get("/preview")
    def preview() -> str:
        store_platform(get_session(), "https://preview.example")
        rollback_only()
        return "previewed"

    @app.cli.command("store-platform")
    @click.option("--fail", is_flag=True)
    def store_command(fail: bool) -> None:
        with session_scope(app) as session:
            store_platform(session, "https://cli.example")
            if fail:
                raise click.ClickException("the command failed after writing")

    return app


@pytest.fixture(scope="module")
def app_of_module(migrated_engine: Engine, database_url: str) -> Flask:
    return build_app(database_url)


@pytest.fixture
def uow_app(app_of_module: Flask, db_connection: Connection) -> Iterator[Flask]:
    app_of_module.extensions["cadre.sessionmaker"] = rolled_back_sessions(db_connection)
    ran.clear()
    yield app_of_module
    ran.clear()


def stored_issuers(db: Session) -> list[str]:
    return list(db.scalars(select(Platform.issuer).order_by(Platform.issuer)))


def test_a_successful_request_commits_then_runs_its_callbacks(uow_app: Flask, db: Session) -> None:
    response = uow_app.test_client().get("/store/200")
    assert response.status_code == 200
    assert stored_issuers(db) == ["https://status-200.example"]
    assert ran == ["https://status-200.example"]


def test_a_redirect_commits_too(uow_app: Flask, db: Session) -> None:
    assert uow_app.test_client().get("/store/303").status_code == 303
    assert stored_issuers(db) == ["https://status-303.example"]
    assert ran == ["https://status-303.example"]


@pytest.mark.parametrize("status", [400, 404, 500])
def test_an_error_answer_rolls_back_and_runs_no_callback(uow_app: Flask, db: Session, status: int) -> None:
    assert uow_app.test_client().get(f"/store/{status}").status_code == status
    assert stored_issuers(db) == []
    assert ran == []


def test_an_aborted_request_rolls_back(uow_app: Flask, db: Session) -> None:
    assert uow_app.test_client().get("/store-then-abort").status_code == 409
    assert stored_issuers(db) == [] and ran == []


def test_an_exception_in_the_view_rolls_back(uow_app: Flask, db: Session) -> None:
    with pytest.raises(Failure):  # TESTING propagates it; the teardown still closes the session
        uow_app.test_client().get("/store-then-fail")
    assert stored_issuers(db) == [] and ran == []


def test_rollback_only_stores_nothing_whatever_the_status(uow_app: Flask, db: Session) -> None:
    response = uow_app.test_client().get("/preview")
    assert response.status_code == 200 and response.text == "previewed"
    assert stored_issuers(db) == [] and ran == []


def test_each_request_is_its_own_unit_of_work(uow_app: Flask, db: Session) -> None:
    client = uow_app.test_client()
    client.get("/store/201")
    client.get("/store/400")
    assert stored_issuers(db) == ["https://status-201.example"]
    assert ran == ["https://status-201.example"]


def test_a_cli_command_commits_once_it_succeeds(uow_app: Flask, db: Session) -> None:
    result = uow_app.test_cli_runner().invoke(args=["store-platform"])
    assert result.exit_code == 0, result.output
    assert stored_issuers(db) == ["https://cli.example"]
    assert ran == ["https://cli.example"]


def test_a_failing_cli_command_stores_nothing(uow_app: Flask, db: Session) -> None:
    result = uow_app.test_cli_runner().invoke(args=["store-platform", "--fail"])
    assert result.exit_code == 1 and "the command failed after writing" in result.output
    assert stored_issuers(db) == [] and ran == []


def test_the_test_transaction_leaves_nothing_behind(migrated_engine: Engine) -> None:
    """Runs after the tests above (file order): their commits were SAVEPOINTs, all rolled back."""
    with Session(migrated_engine) as fresh:
        assert stored_issuers(fresh) == []


def test_a_savepoint_first_in_a_transaction_is_undone_with_it(tmp_path: Path) -> None:
    """On the application's own SQLite engine (not the test engine, which makes pysqlite emit BEGIN
    itself), work inside ``begin_nested()`` begun before any other write is rolled back with its
    transaction, as on PostgreSQL: the SAVEPOINT's RELEASE must not commit it."""
    from lti_tool import migrate
    from lti_tool.db import build_engine

    engine = build_engine(f"sqlite:///{tmp_path / 'cadre.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        with session.begin_nested():
            store_platform(session, "https://savepoint.example")
        assert session.scalars(select(Platform.issuer)).all() == ["https://savepoint.example"]
        session.rollback()
    with Session(engine) as session:
        assert session.scalars(select(Platform.issuer)).all() == []
        with session.begin_nested():
            store_platform(session, "https://kept.example")
        session.commit()
    with Session(engine) as session:
        assert session.scalars(select(Platform.issuer)).all() == ["https://kept.example"]
    engine.dispose()


def test_a_losable_write_sets_its_transaction_not_to_wait_for_the_disk_in_its_own_statement(
    migrated_engine: Engine,
) -> None:
    """``losable_on_crash_returning`` in a write's RETURNING: on PostgreSQL the transaction that wrote a
    row commits without waiting for the disk (and only that one); a write that changed nothing, and every
    write on SQLite, leave the setting alone."""
    from sqlalchemy import update

    from lti_tool.db import losable_on_crash_returning

    postgresql = migrated_engine.dialect.name == "postgresql"

    def synchronous_commit(session: Session) -> str | None:
        return session.scalar(text("SHOW synchronous_commit")) if postgresql else None

    with Session(migrated_engine) as session:
        store_platform(session, "https://losable.example")
        session.commit()
        default = synchronous_commit(session)
        for issuer, expected in (("https://nobody.example", default), ("https://losable.example", "off")):
            returned = session.execute(
                update(Platform).where(Platform.issuer == issuer).values(name="Q")
                .returning(Platform.id, *losable_on_crash_returning(session))
            ).all()
            assert len(returned) == (issuer == "https://losable.example")
            assert synchronous_commit(session) == (expected if postgresql else None)
            session.commit()
            assert synchronous_commit(session) == default  # the next transaction waits again
        assert len(losable_on_crash_returning(session)) == (1 if postgresql else 0)
        session.execute(delete(Platform).where(Platform.issuer == "https://losable.example"))
        session.commit()
