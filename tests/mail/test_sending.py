"""Sending e-mail over SMTP to real servers on loopback: STARTTLS with a verified certificate and a login,
and every misconfiguration refused with a sentence naming the setting to change (never the password)."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from lti_tool import mail
from lti_tool.cli import main
from lti_tool.db import session_scope
from lti_tool.mail import Mail, MailError
from lti_tool.models import OutboxMessage
from lti_tool.outbox import Worker
from lti_tool.settings import Settings
from lti_tool.states import OutboxStatus
from tests.fixtures.live_server import free_port
from tests.mail.conftest import PASSWORD, SmtpServer

NOTE = Mail(to="omar@example.org", to_name="Omar Haddad", subject="Your people\nBcc: evil@example.org",
            text="Ana and Ben are waiting for your feedback.")


def refused(settings: Settings, note: Mail = NOTE) -> MailError:
    with pytest.raises(MailError) as caught:
        mail.send(settings, note)
    assert PASSWORD not in str(caught.value)
    return caught.value


def test_a_message_goes_over_starttls_with_a_login_and_says_who_it_is_from(
    tls_smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    tls_smtp.mailbox.clear()
    caplog.set_level(logging.DEBUG, logger="cadre")
    message_id = mail.send(tls_smtp.settings(Settings()), NOTE)
    (received,) = tls_smtp.mailbox.to("omar@example.org")
    assert received["From"] == "Cadre <cadre@cadre.test>"
    assert received["To"] == "Omar Haddad <omar@example.org>"
    assert received["Subject"] == "Your people Bcc: evil@example.org"  # a line break cannot add a header
    assert received["Bcc"] is None
    assert received["Message-ID"] == message_id and received["Auto-Submitted"] == "auto-generated"
    assert received.get_content().strip() == "Ana and Ben are waiting for your feedback."
    assert PASSWORD not in caplog.text


def test_a_server_without_starttls_is_refused_and_the_message_says_which_setting_to_change(
    plain_smtp: SmtpServer
) -> None:
    plain_smtp.mailbox.clear()
    error = refused(plain_smtp.settings(Settings(), smtp_starttls=True))
    assert "does not offer STARTTLS" in str(error) and "CADRE_SMTP_STARTTLS=false" in str(error)
    assert error.permanent and plain_smtp.mailbox.messages == []


def test_a_password_is_never_sent_without_tls(plain_smtp: SmtpServer) -> None:
    error = refused(plain_smtp.settings(Settings(), smtp_starttls=False, smtp_username="cadre",
                                        smtp_password=PASSWORD))
    assert "never sends a password over an unencrypted connection" in str(error)
    assert plain_smtp.mailbox.messages == []


def test_a_local_relay_without_tls_takes_mail_when_starttls_is_turned_off(plain_smtp: SmtpServer) -> None:
    plain_smtp.mailbox.clear()
    mail.send(plain_smtp.settings(Settings(), smtp_starttls=False), NOTE)
    assert len(plain_smtp.mailbox.to("omar@example.org")) == 1


def test_a_wrong_password_is_refused_without_showing_it(tls_smtp: SmtpServer) -> None:
    error = refused(tls_smtp.settings(Settings(), smtp_password="not-the-password"))
    assert "refused the user name or password" in str(error) and "CADRE_SMTP_PASSWORD" in str(error)
    assert "not-the-password" not in str(error)


def test_an_untrusted_certificate_is_refused(tls_smtp: SmtpServer) -> None:
    error = refused(tls_smtp.settings(Settings(), smtp_ca_file=""))
    assert "STARTTLS with the SMTP server" in str(error) and "CADRE_SMTP_CA_FILE" in str(error)


@pytest.mark.parametrize(("changes", "expected", "permanent"), [
    ({"smtp_host": ""}, "E-mail is not configured: set CADRE_SMTP_HOST", True),
    ({"smtp_from": ""}, "CADRE_SMTP_FROM is not set", True),
    ({"smtp_ssl": True, "smtp_starttls": False}, "TLS with the SMTP server", True),
])
def test_misconfiguration_says_what_to_set(tls_smtp: SmtpServer, changes: dict[str, object], expected: str,
                                           permanent: bool) -> None:
    error = refused(tls_smtp.settings(Settings(), **changes))
    assert expected in str(error) and error.permanent is permanent


def test_a_server_that_is_down_is_worth_retrying(tls_smtp: SmtpServer) -> None:
    error = refused(tls_smtp.settings(Settings(), smtp_port=free_port()))
    assert "could not reach the SMTP server" in str(error) and "CADRE_SMTP_PORT" in str(error)
    assert not error.permanent


def test_an_address_that_is_not_one_is_refused_before_connecting(tls_smtp: SmtpServer) -> None:
    for address in ("omar", "omar@localhost", "a@b.c\nBcc: x@y.z", "Omar <omar@example.org>"):
        assert "is not an e-mail address" in str(refused(tls_smtp.settings(Settings()),
                                                          Mail(to=address, subject="s", text="t")))


def test_an_international_domain_is_sent_to_in_its_idna_form_and_a_non_ascii_mailbox_is_refused(
    tls_smtp: SmtpServer,
) -> None:
    tls_smtp.mailbox.clear()
    assert mail.valid_address("paula@exämple.org") and not mail.valid_address("päula@example.org")
    mail.send(tls_smtp.settings(Settings()), Mail(to="paula@exämple.org", to_name="Paula Ärger", subject="s",
                                                  text="t"))
    (received,) = tls_smtp.mailbox.to("paula@xn--exmple-cua.org")
    assert "paula@xn--exmple-cua.org" in received["To"] and "Paula" in received["To"]
    assert "is not an e-mail address" in str(refused(tls_smtp.settings(Settings()),
                                                      Mail(to="päula@example.org", subject="s", text="t")))


def test_cadre_mail_test_sends_or_explains(runner: FlaskCliRunner, app: Flask, smtp: SmtpServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sent = runner.invoke(main, ["mail", "test", "admin@example.org"])
    assert sent.exit_code == 0, sent.output
    assert "Sent to admin@example.org" in sent.output and "(STARTTLS)" in sent.output
    assert smtp.mailbox.to("admin@example.org")[0]["Subject"] == "Cadre: test e-mail"

    monkeypatch.setitem(app.config, "CADRE", app.config["CADRE"].model_copy(update={"smtp_host": ""}))
    failed = runner.invoke(main, ["mail", "test", "admin@example.org"])
    assert failed.exit_code == 1
    assert "Error: E-mail is not configured: set CADRE_SMTP_HOST" in failed.output


@mail.composer("test-note")
def _test_note(_session: object, payload: dict[str, object]) -> Mail | None:
    return Mail(to=str(payload["to"]), subject="A note", text="Hello") if payload.get("to") else None


def test_the_email_topic_delivers_after_commit_once_and_a_refusal_is_dead_with_its_reason(
    app: Flask, smtp: SmtpServer
) -> None:
    with session_scope(app) as session:
        assert mail.enqueue_mail(session, "test-note", "note:1", {"to": "ana@example.org"})
        assert not mail.enqueue_mail(session, "test-note", "note:1", {"to": "ana@example.org"})
        mail.enqueue_mail(session, "test-note", "note:2", {"to": "not-an-address"})
        mail.enqueue_mail(session, "test-note", "note:3", {})  # nothing to send any more
    Worker(app, topics=[mail.TOPIC]).run_once()
    assert len(smtp.mailbox.to("ana@example.org")) == 1
    with session_scope(app) as session:
        rows = {row.dedupe_key: row for row in session.scalars(select(OutboxMessage)
                                                                .where(OutboxMessage.topic == mail.TOPIC))}
        assert rows["note:1"].status is OutboxStatus.DELIVERED
        assert rows["note:3"].status is OutboxStatus.DELIVERED
        assert rows["note:2"].status is OutboxStatus.DEAD
        assert "'not-an-address' is not an e-mail address" in (rows["note:2"].last_error or "")
