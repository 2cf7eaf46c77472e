"""Real SMTP servers on loopback (aiosmtpd) that keep what they receive: one that speaks plain SMTP only,
and one that offers STARTTLS with a certificate of a test CA and asks for a login over TLS."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from pydantic import SecretStr

from lti_tool.models import Membership
from lti_tool.settings import Settings
from lti_tool.states import CadreRole
from tests.feedback.conftest import Course, course  # noqa: F401 - the feedback tests' course fixture
from tests.fixtures.live_server import free_port

USERNAME = "cadre-mailer"
PASSWORD = "s3cret-smtp-password"  # noqa: S105 - the test server's own


@dataclass
class Mailbox:
    """What an SMTP server received, as parsed messages."""

    messages: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for message in self.messages if address in str(message["To"])]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@dataclass
class SmtpServer:
    port: int
    mailbox: Mailbox
    ca_file: str = ""

    def settings(self, base: Settings, **changes: Any) -> Settings:
        values: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": self.port,
                                  "smtp_from": "Cadre <cadre@cadre.test>", "smtp_timeout_seconds": 5.0,
                                  "smtp_starttls": bool(self.ca_file), "smtp_ca_file": self.ca_file}
        if self.ca_file:
            values.update(smtp_username=USERNAME, smtp_password=SecretStr(PASSWORD))
        values.update({key: SecretStr(value) if key == "smtp_password" else value
                       for key, value in changes.items()})
        return base.model_copy(update=values)


def _test_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA, given to Cadre as the CA file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cadre test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _authenticate(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USERNAME.encode() \
        and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="session")
def plain_smtp() -> Iterator[SmtpServer]:
    """SMTP without TLS (no STARTTLS offered), no login."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer(port, mailbox)
    controller.stop()


@pytest.fixture(scope="session")
def tls_smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """SMTP with STARTTLS (required before anything is accepted) and a login required over TLS."""
    cert, key = _test_certificate(tmp_path_factory.mktemp("smtp-tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                            require_starttls=True, auth_required=True, auth_require_tls=True,
                            authenticator=_authenticate)
    controller.start()
    yield SmtpServer(port, mailbox, ca_file=str(cert))
    controller.stop()


@pytest.fixture
def smtp(tls_smtp: SmtpServer, app: Flask, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    """The TLS server, emptied, and the app configured to send through it."""
    tls_smtp.mailbox.clear()
    monkeypatch.setitem(app.config, "CADRE", tls_smtp.settings(app.config["CADRE"]))
    return tls_smtp


@pytest.fixture
def learners_enrolled(course: Course) -> Course:  # noqa: F811 - the fixture imported above
    """The feedback tests' course, with its learners in the course's membership (who a designer may
    choose for an invited manager)."""
    for learner in (course.ana, course.ben, course.chloe):
        course.db.add(Membership(user_id=learner.id, context_id=course.context.id, role=CadreRole.LEARNER))
    course.db.flush()
    return course
