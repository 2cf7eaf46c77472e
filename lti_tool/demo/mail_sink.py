"""The demo's mail sink: a small SMTP server on loopback that keeps what Cadre sends (invitations,
reminders) in memory, and the demo LMS page that shows it (``/mail``), so the story of a manager outside
the LMS can be followed without a real mail server.

Plain SMTP without TLS, on loopback only: the demo points Cadre at it with ``CADRE_SMTP_STARTTLS=false``
(a relay on this host, the one case the settings allow). Never for production: it accepts mail for anyone.
"""

from __future__ import annotations

import socketserver
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from flask import Flask, render_template_string

MAX_MESSAGE_BYTES = 1024 * 1024
KEPT_MESSAGES = 200


@dataclass(frozen=True)
class ReceivedMail:
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""  # SMTP's CRLF


class MailSink:
    """Accepts SMTP on ``127.0.0.1:port`` and keeps the last :data:`KEPT_MESSAGES` messages."""

    def __init__(self, port: int = 0) -> None:
        self._messages: deque[ReceivedMail] = deque(maxlen=KEPT_MESSAGES)
        self._lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30

            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 cadre-demo mail sink")
                sender, recipients = "", []
                while line := self.rfile.readline(1002):
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250-cadre-demo" if verb == "EHLO" else "250 cadre-demo")
                        if verb == "EHLO":
                            self.reply("250 8BITMIME")
                    elif verb == "MAIL":
                        sender, recipients = command.partition(":")[2].strip(" <>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.partition(":")[2].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        body = self._read_data()
                        if body is None:
                            self.reply("552 Message too big for the demo sink")
                        else:
                            sink.keep(sender, recipients, body)
                            self.reply("250 OK: kept")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    else:
                        self.reply("502 Not implemented by the demo sink")

            def _read_data(self) -> bytes | None:
                lines, size = [], 0
                while (line := self.rfile.readline(MAX_MESSAGE_BYTES)) not in (b".\r\n", b".\n", b""):
                    size += len(line)
                    if size <= MAX_MESSAGE_BYTES:
                        lines.append(line[1:] if line.startswith(b".") else line)  # RFC 5321 dot-stuffing
                return b"".join(lines) if size <= MAX_MESSAGE_BYTES else None

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-mail-sink", daemon=True)

    def keep(self, sender: str, recipients: list[str], body: bytes) -> None:
        parsed = message_from_bytes(body, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self._messages.appendleft(ReceivedMail(datetime.now(UTC), sender, tuple(recipients), parsed))

    def messages(self) -> list[ReceivedMail]:
        """Newest first."""
        with self._lock:
            return list(self._messages)

    def start(self) -> MailSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


MAIL_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Mail sent by Cadre · Demo LMS</title>
<style>{{ style }} pre { white-space: pre-wrap; overflow-wrap: anywhere; }</style></head>
<body><main class="page">
<p><a href="{{ url_for('demo_course') }}">Back to the course</a></p>
<h1>Mail sent by Cadre</h1>
<p>The demo's mail sink keeps the last {{ kept }} e-mails Cadre sent (invitations of managers outside the
LMS, reminders). Open a sign-in link in a private window to be that manager.</p>
{%- for mail in messages %}
<article data-testid="mail">
  <h2>{{ mail.message["Subject"] }}</h2>
  <p>To {{ mail.message["To"] }} · <time datetime="{{ mail.received_at.isoformat() }}">
    {{- mail.received_at.strftime("%Y-%m-%d %H:%M:%S") }} UTC</time></p>
  <pre>{{ mail.text }}</pre>
</article>
{%- else %}
<p data-testid="no-mail">No e-mail yet. Invite a manager from Cadre (as the designer or a learner) to see
one here.</p>
{%- endfor %}
</main></body></html>
"""


def add_mail_page(platform_app: Flask, sink: MailSink, style: str = "") -> None:
    """The demo LMS's ``/mail`` page: what the sink received, newest first."""

    @platform_app.get("/mail", endpoint="demo_mail")
    def mail_page() -> str:
        return render_template_string(MAIL_PAGE, messages=sink.messages(), kept=KEPT_MESSAGES, style=style)
