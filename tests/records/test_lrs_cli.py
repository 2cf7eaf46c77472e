"""``cadre lrs``: adding, listing, checking, pausing and resuming LRSs, their backlog and dead letters; bad
input refused with a reason and a non-zero exit; passwords never shown."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from lti_tool.db import session_scope, utcnow
from lti_tool.demo.ralph import RalphLrs
from lti_tool.records.models import LearningRecordStore, StatementDelivery
from lti_tool.states import DeliveryStatus, LrsStatus
from tests.fixtures.operations import Cadre, audit_actions
from tests.records.delivery_support import RALPH_PASSWORD, free_port, record_statements, statement

PASSWORD = "s3cret-password"  # noqa: S105 - a test's


def _add(cadre: Cadre, name: str, endpoint: str, *extra: str, password: str = PASSWORD) -> None:
    result = cadre("lrs", "add", name, "--endpoint", endpoint, "--username", "cadre", "--password-stdin",
                   *extra, input=password + "\n")
    assert result.exit_code == 0, result.output


def _store(app: Flask, name: str) -> LearningRecordStore:
    with session_scope(app) as session:
        store = session.scalars(select(LearningRecordStore).where(LearningRecordStore.name == name)).one()
        session.expunge(store)
        return store


def test_add_keeps_the_password_encrypted_and_list_never_shows_it(cadre: Cadre, app: Flask) -> None:
    result = cadre("lrs", "add", "company", "--endpoint", "https://lrs.example.org/xAPI/", "--username",
                   "key", "--course", "course-7", "--verb", "http://adlnet.gov/expapi/verbs/completed",
                   input="s3cret-password\ns3cret-password\n")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    store = _store(app, "company")
    assert store.endpoint == "https://lrs.example.org/xAPI" and store.filter_courses == ["course-7"]
    assert store.password_encrypted and "s3cret" not in store.password_encrypted
    listed = cadre("lrs", "list")
    assert listed.exit_code == 0
    assert "company" in listed.output and "course-7" in listed.output and "s3cret" not in listed.output
    assert ("lrs.add", "cli") in audit_actions(app)


def test_bad_input_is_refused_with_a_reason(cadre: Cadre) -> None:
    cases = [
        (["lrs", "add", "x", "--endpoint", "ftp://lrs.example.org", "--username", "u", "--password-stdin"],
         "must be an http(s) URL"),
        (["lrs", "add", "x", "--endpoint", "https://u:p@lrs.example.org", "--username", "u",
          "--password-stdin"], "not in its URL"),
        (["lrs", "add", "environment", "--endpoint", "https://lrs.example.org", "--username", "u",
          "--password-stdin"], "is the LRS of CADRE_LRS_ENDPOINT"),
        (["lrs", "add", "x", "--endpoint", "https://lrs.example.org", "--username", "u", "--password-stdin",
          "--verb", "completed"], "A verb filter is a verb IRI"),
        (["lrs", "add", "x", "--endpoint", "https://lrs.example.org", "--username", "u", "--password-stdin",
          "--batch-size", "0"], "between 1 and 1000"),
        (["lrs", "test", "nowhere"], "No LRS named 'nowhere'"),
        (["lrs", "pause", "nowhere"], "No LRS named 'nowhere'"),
        (["lrs", "retry-dead", "nowhere"], "No LRS named 'nowhere'"),
    ]
    for arguments, message in cases:
        result = cadre(*arguments, input="pw\n")
        assert result.exit_code == 1, (arguments, result.output)
        assert message in result.output, (arguments, result.output)
    assert cadre("lrs", "add", "x", "--endpoint", "https://lrs.example.org", "--username", "u",
                 "--password-stdin", input="\n").exit_code == 1  # an empty password
    _add(cadre, "twice", "https://lrs.example.org")
    again = cadre("lrs", "add", "twice", "--endpoint", "https://lrs.example.org", "--username", "u",
                  "--password-stdin", input="pw\n")
    assert again.exit_code == 1 and "exists already (use --replace" in again.output


def test_test_checks_ralph_without_sending_a_statement_and_resumes_a_paused_lrs(
        cadre: Cadre, app: Flask, ralph: RalphLrs) -> None:
    before = len(ralph.stored_statements())
    _add(cadre, "ralph", ralph.endpoint, password=RALPH_PASSWORD)
    cadre("lrs", "pause", "ralph", "--reason", "maintenance")
    assert _store(app, "ralph").status is LrsStatus.PAUSED
    result = cadre("lrs", "test", "ralph")
    assert result.exit_code == 0, result.output
    assert "no /about resource (HTTP 404)" in result.output  # Ralph has none
    assert "an authenticated query passed" in result.output and "resumed" in result.output
    assert _store(app, "ralph").status is LrsStatus.ACTIVE
    assert len(ralph.stored_statements()) == before


def test_test_fails_for_wrong_credentials_and_an_unreachable_lrs(cadre: Cadre, ralph: RalphLrs) -> None:
    _add(cadre, "wrong", ralph.endpoint, password="not-it")
    refused = cadre("lrs", "test", "wrong")
    assert refused.exit_code == 1
    assert "FAILED: The LRS refused Cadre's credentials (HTTP 401: Invalid authentication credentials)" in (
        refused.output)
    _add(cadre, "gone", f"http://127.0.0.1:{free_port()}/xAPI")
    unreachable = cadre("lrs", "test", "gone")
    assert unreachable.exit_code == 1 and "FAILED: The LRS cannot be reached" in unreachable.output


def test_status_shows_backlog_oldest_pending_dead_letters_and_why_paused(cadre: Cadre, app: Flask) -> None:
    _add(cadre, "company", "https://lrs.example.org/xAPI")
    ids = record_statements(app, [statement(number=n) for n in range(4)])
    with session_scope(app) as session:
        session.execute(update(StatementDelivery).values(created_at=utcnow() - timedelta(hours=2, minutes=5)))
        session.execute(update(StatementDelivery).where(StatementDelivery.id.in_(
            select(StatementDelivery.id).order_by(StatementDelivery.id).limit(1).scalar_subquery()))
            .values(status=DeliveryStatus.DEAD, last_error="The LRS refused the statement (HTTP 400): bad"))
    cadre("lrs", "pause", "company", "--reason", "maintenance window")
    result = cadre("lrs", "status")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("company"))
    assert line.split()[:6] == ["company", "paused", "3", "2h", "05m", "1"]
    assert "company is paused: maintenance window" in result.output
    assert ids[0] in result.output and "(HTTP 400): bad" in result.output

    retried = cadre("lrs", "retry-dead", "company")
    assert retried.exit_code == 0
    assert "1 refused statement(s) for company will be sent again." in retried.output
    assert cadre("lrs", "retry-dead").output.strip() == "No refused statement to retry."
    resumed = cadre("lrs", "resume", "company")
    assert resumed.exit_code == 0 and "4 waiting statement(s)" in resumed.output


def test_remove_forgets_the_queue_but_not_the_statements(cadre: Cadre, app: Flask) -> None:
    _add(cadre, "old", "https://lrs.example.org/xAPI")
    record_statements(app, [statement()])
    refused = cadre("lrs", "remove", "old", input="n\n")
    assert refused.exit_code == 1 and "1 statement(s) waiting for it will not be sent" in refused.output
    assert cadre("lrs", "remove", "old", "--yes").exit_code == 0
    with session_scope(app) as session:
        assert session.scalars(select(StatementDelivery)).all() == []
        assert session.scalars(select(LearningRecordStore)).all() == []
    assert ("lrs.remove", "cli") in audit_actions(app)
