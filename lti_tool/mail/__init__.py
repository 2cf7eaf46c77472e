"""E-mail from Cadre: messages built with :class:`email.message.EmailMessage`, sent over SMTP with TLS,
from the outbox topic ``email`` after the change that causes them is committed.

For feature authors
-------------------
A feature **composes** its kind of e-mail in a function registered under a name; the outbox message
carries only that name and ids, and the composer loads what it needs when the message is sent::

    from lti_tool import mail

    @mail.composer("invitation")
    def invitation_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
        ...  # None: nothing to send any more (the invitation was revoked meanwhile)
        return mail.Mail(to=address, subject="...", text="...")

    mail.enqueue_mail(session, "invitation", f"invitation:{invitation.id}:{n}", {"invitation_id": ...})

A composer runs in its own transaction, committed *before* the message is handed to the SMTP server: it
may write what the e-mail refers to (a sign-in link's hash), so that a secret made for the e-mail exists
only in the e-mail and as a hash in the database, never in the outbox or a log. Delivery is at least once
(a worker that dies after sending sends again), so a composer must make a repeat harmless.

Sending: :func:`send` (also ``cadre mail test ADDRESS``). TLS is required unless the settings turn it off:
STARTTLS (``CADRE_SMTP_STARTTLS``, the default) and a server that does not offer it is refused, or TLS from
the first byte (``CADRE_SMTP_SSL``). The certificate is verified (``CADRE_SMTP_CA_FILE`` for a private CA).
A password is never sent over a connection without TLS. Every failure is a :class:`MailError` with a
sentence an administrator can act on, naming the setting to change and never its secret value.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.outbox import Dead, Delivered, OutboxItem, Outcome, RetryLater, RetryPolicy, enqueue, handler
from lti_tool.settings import Settings

log = logging.getLogger("cadre.mail")

TOPIC = "email"
MAX_SUBJECT_LENGTH = 200


class MailError(Exception):
    """Sending failed; the message is for an administrator. ``permanent``: retrying cannot help until
    someone changes the settings or the address (the outbox marks the message dead with this reason)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Mail:
    """One e-mail to one person: plain text, and an optional HTML alternative."""

    to: str
    subject: str
    text: str
    html: str | None = None
    to_name: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra headers (``List-Unsubscribe``); values without line breaks."""


Composer = Callable[[Session, dict[str, Any]], Mail | None]
SentRecorder = Callable[[Session, dict[str, Any]], None]
_composers: dict[str, Composer] = {}
_sent_recorders: dict[str, SentRecorder] = {}


def composer(kind: str, *, on_sent: SentRecorder | None = None) -> Callable[[Composer], Composer]:
    """Register the function that writes e-mails of ``kind`` when they are sent. ``on_sent(session,
    payload)`` records one that the SMTP server accepted, in the transaction that marks its outbox message
    delivered (not one its composer found nothing to say in)."""

    def decorator(function: Composer) -> Composer:
        existing = _composers.get(kind)
        if existing is not None and existing is not function:
            raise ValueError(f"an e-mail composer for {kind!r} is already registered")
        _composers[kind] = function
        if on_sent is not None:
            _sent_recorders[kind] = on_sent
        return function

    return decorator


def enqueue_mail(session: Session, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
    """Send an e-mail of ``kind`` once this transaction commits (never twice for one ``dedupe_key``)."""
    if kind not in _composers:
        raise ValueError(f"no e-mail composer is registered for {kind!r}")
    return enqueue(session, TOPIC, dedupe_key, {"kind": kind, **payload})


# -- building ---------------------------------------------------------------------------------------------


def _header_safe(text: str) -> str:
    """No line breaks in a header (a name or subject with one could add headers of its own)."""
    return " ".join(text.split())


def valid_address(address: str) -> bool:
    """A plausible single e-mail address (``name@domain.tld``), no display name, no spaces, that SMTP can
    carry without SMTPUTF8 (:func:`ascii_address`: an ASCII mailbox name; the domain may be international)."""
    _name, parsed = parseaddr(address)
    local, at, domain = parsed.partition("@")
    return bool(at and local and "." in domain.strip(".") and parsed == address.strip()
                and not any(character.isspace() for character in parsed) and len(parsed) <= 320
                and ascii_address(parsed) is not None)


def ascii_address(address: str) -> str | None:
    """``address`` as Cadre sends to it: the domain in its IDNA form (``exämple.org`` is
    ``xn--exmple-cua.org``); None when the mailbox name is not ASCII (it would need SMTPUTF8, which Cadre
    does not rely on) or the domain has no IDNA form."""
    local, _at, domain = address.strip().rpartition("@")
    if not local.isascii():
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return None


def build_message(settings: Settings, mail: Mail) -> EmailMessage:
    if not settings.smtp_from:
        raise MailError("CADRE_SMTP_FROM is not set: Cadre needs a From address to send e-mail "
                        "(e.g. 'Cadre <cadre@example.org>').", permanent=True)
    if not valid_address(mail.to):
        raise MailError(f"'{mail.to[:320]}' is not an e-mail address Cadre can send to.", permanent=True)
    message = EmailMessage()
    message["From"] = settings.smtp_from
    to = ascii_address(mail.to) or mail.to  # valid_address above: never None here
    message["To"] = formataddr((_header_safe(mail.to_name), to)) if mail.to_name else to
    message["Subject"] = _header_safe(mail.subject)[:MAX_SUBJECT_LENGTH]
    _name, from_address = parseaddr(settings.smtp_from)
    message["Message-ID"] = make_msgid(domain=from_address.partition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to Cadre
    for name, value in mail.headers:
        message[name] = _header_safe(value)
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


# -- sending ----------------------------------------------------------------------------------------------


def smtp_port(settings: Settings) -> int:
    if settings.smtp_port:
        return settings.smtp_port
    return 465 if settings.smtp_ssl else 587 if settings.smtp_starttls else 25


def _tls_context(settings: Settings) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=settings.smtp_ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise MailError(f"CADRE_SMTP_CA_FILE could not be read as a CA bundle ({error.__class__.__name__}).",
                        permanent=True) from None


def _connect(settings: Settings) -> smtplib.SMTP:
    if not settings.smtp_host:
        raise MailError("E-mail is not configured: set CADRE_SMTP_HOST (and CADRE_SMTP_PORT, "
                        "CADRE_SMTP_FROM, and CADRE_SMTP_USERNAME/PASSWORD if the server needs them).",
                        permanent=True)
    if settings.smtp_ssl and settings.smtp_starttls and settings.smtp_port == 587:
        raise MailError("CADRE_SMTP_SSL is on with port 587, the STARTTLS port: use port 465 for SSL, "
                        "or turn CADRE_SMTP_SSL off.", permanent=True)
    host, port, timeout = settings.smtp_host, smtp_port(settings), settings.smtp_timeout_seconds
    where = f"{host}:{port}"
    try:
        if settings.smtp_ssl:
            return smtplib.SMTP_SSL(host, port, timeout=timeout, context=_tls_context(settings))
        client = smtplib.SMTP(host, port, timeout=timeout)
    except ssl.SSLError as error:
        why = error.reason or error.__class__.__name__
        raise MailError(f"TLS with the SMTP server at {where} failed ({why}): check CADRE_SMTP_SSL and "
                        "CADRE_SMTP_PORT, and the server's certificate.",
                        permanent=True) from None
    except TimeoutError:
        raise MailError(f"The SMTP server at {where} did not answer within {timeout:g} seconds.",
                        permanent=False) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"Cadre could not reach the SMTP server at {where} ({_why(error)}): check "
                        "CADRE_SMTP_HOST and CADRE_SMTP_PORT.", permanent=False) from None
    try:
        client.ehlo()
        if settings.smtp_starttls:
            if not client.has_extn("starttls"):
                raise MailError(
                    f"The SMTP server at {where} does not offer STARTTLS, so Cadre refused to send over an "
                    "unencrypted connection. Use a server with TLS, set CADRE_SMTP_SSL=true for one that "
                    "speaks TLS from the start, or set CADRE_SMTP_STARTTLS=false for a relay on this host.",
                    permanent=True)
            client.starttls(context=_tls_context(settings))
            client.ehlo()
    except MailError:
        client.close()
        raise
    except ssl.SSLError as error:
        client.close()
        raise MailError(f"STARTTLS with the SMTP server at {where} failed "
                        f"({error.reason or error.__class__.__name__}): the certificate may not be trusted "
                        "(CADRE_SMTP_CA_FILE) or not be for this host name.", permanent=True) from None
    except (OSError, smtplib.SMTPException) as error:
        client.close()
        raise MailError(f"The SMTP server at {where} broke off the conversation ({_why(error)}).",
                        permanent=False) from None
    return client


def _why(error: BaseException) -> str:
    """An SMTP or socket failure in a few words: its code and the server's text, never our credentials."""
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return f"{error.smtp_code} {' '.join(text.split())[:200]}"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return error.__class__.__name__


def _login(client: smtplib.SMTP, settings: Settings, where: str) -> None:
    if not settings.smtp_username:
        return
    if not (settings.smtp_ssl or settings.smtp_starttls):
        raise MailError("CADRE_SMTP_USERNAME is set but TLS is off: Cadre never sends a password over an "
                        "unencrypted connection. Turn on CADRE_SMTP_STARTTLS or CADRE_SMTP_SSL.",
                        permanent=True)
    try:
        client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    except smtplib.SMTPAuthenticationError as error:
        raise MailError(f"The SMTP server at {where} refused the user name or password ({error.smtp_code}):"
                        " check CADRE_SMTP_USERNAME and CADRE_SMTP_PASSWORD.", permanent=True) from None
    except smtplib.SMTPNotSupportedError:
        raise MailError(f"The SMTP server at {where} does not accept a login: leave CADRE_SMTP_USERNAME "
                        "empty for this server.", permanent=True) from None


def send(settings: Settings, mail: Mail) -> str:
    """Build and send one e-mail now; answers its Message-ID. Raises :class:`MailError`."""
    message = build_message(settings, mail)
    where = f"{settings.smtp_host}:{smtp_port(settings)}"
    client = _connect(settings)
    try:
        _login(client, settings, where)
        client.send_message(message)
    except MailError:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        reasons = "; ".join(_why(smtplib.SMTPResponseException(code, text))
                            for code, text in error.recipients.values())
        raise MailError(f"The SMTP server at {where} refused the recipient ({reasons}).",
                        permanent=all(code >= 500 for code, _ in error.recipients.values())) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(f"The SMTP server at {where} refused the message ({_why(error)}).",
                        permanent=error.smtp_code >= 500) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"Sending through the SMTP server at {where} failed ({_why(error)}).",
                        permanent=False) from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    log.info("e-mail sent", extra={"fields": {"message_id": message["Message-ID"], "server": where}})
    return str(message["Message-ID"])


# -- the outbox topic --------------------------------------------------------------------------------------


@handler(TOPIC, retry=RetryPolicy(max_attempts=8))
def deliver_mail(item: OutboxItem) -> Outcome | None:
    kind = item.payload.get("kind")
    compose = _composers.get(kind) if isinstance(kind, str) else None
    if compose is None:
        return Dead(f"no e-mail composer is registered for {kind!r}")
    with session_scope(current_app) as session:
        mail = compose(session, item.payload)
    if mail is None:
        return None  # nothing to send any more: counted as delivered
    try:
        send(current_app.config["CADRE"], mail)
    except MailError as error:
        return Dead(str(error)) if error.permanent else RetryLater(str(error))
    on_sent = _sent_recorders.get(kind)
    if on_sent is not None:
        return Delivered(record=functools.partial(on_sent, payload=item.payload))
    return None


def init_app(_app: Any) -> None:
    """The ``email`` handler is registered when this module is imported (by ``create_app``)."""


__all__ = ["TOPIC", "Mail", "MailError", "build_message", "composer", "enqueue_mail", "send", "valid_address"]
