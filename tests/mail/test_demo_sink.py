"""The demo's mail sink: Cadre's SMTP client delivers to it over loopback (no TLS, as for a local relay),
and the demo LMS's /mail page shows what arrived, newest first, escaped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from lti_tool import mail
from lti_tool.demo.mail_sink import MailSink, add_mail_page
from lti_tool.settings import Settings


@pytest.fixture
def sink() -> Iterator[MailSink]:
    running = MailSink().start()
    yield running
    running.stop()


def test_the_sink_keeps_what_cadre_sends_and_the_demo_lms_shows_it(sink: MailSink) -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False,
                        smtp_from="Cadre demo <cadre@demo.invalid>")
    mail.send(settings, mail.Mail(to="paula@example.org", subject="First <b>one</b>",
                                  text="Chloé needs feedback.\n.a line starting with a dot\n"))
    mail.send(settings, mail.Mail(to="omar@example.org", subject="Second", text="Reminder"))
    newest, oldest = sink.messages()
    assert newest.recipients == ("omar@example.org",) and newest.message["Subject"] == "Second"
    assert oldest.text == "Chloé needs feedback.\n.a line starting with a dot\n"

    lms = Flask(__name__)
    lms.add_url_rule("/", "demo_course", lambda: "course")
    add_mail_page(lms, sink)
    page = lms.test_client().get("/mail").get_data(as_text=True)
    assert page.count('data-testid="mail"') == 2 and page.index("Second") < page.index("First")
    assert "First &lt;b&gt;one&lt;/b&gt;" in page and "Chloé needs feedback." in page


def test_the_mail_page_says_when_nothing_was_sent(sink: MailSink) -> None:
    lms = Flask(__name__)
    lms.add_url_rule("/", "demo_course", lambda: "course")
    add_mail_page(lms, sink)
    assert 'data-testid="no-mail"' in lms.test_client().get("/mail").get_data(as_text=True)
