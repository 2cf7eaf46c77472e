"""A new sign-in link is an e-mail like the invitation: resending counts against the sender's daily limit
and against the invitation's own, and a refusal says when sending works again."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.invitations.models import ManagerInvitation
from lti_tool.permissions import Actor
from lti_tool.states import CadreRole
from tests.feedback.conftest import Course
from tests.mail.conftest import SmtpServer
from tests.mail.test_invitations import Staff, deliver_mail

AGAIN_AFTER = re.compile(r"send again after (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


def invitation_to(app: Flask, address: str) -> int:
    with session_scope(app) as session:
        return session.scalars(select(ManagerInvitation.id).where(ManagerInvitation.email == address)).one()


def again_after(text: str) -> datetime:
    found = AGAIN_AFTER.search(text)
    assert found, text
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def test_resending_one_invitation_is_limited_and_says_when_it_works_again(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    ana = Staff(app, client, learners_enrolled.ana_actor)
    assert ana.post("/invitations/", {"email": "victim@example.org"}).status_code == 303
    invitation_id = invitation_to(app, "victim@example.org")
    answers = [ana.post(f"/invitations/{invitation_id}/resend", {}) for _ in range(20)]
    assert [answer.status_code for answer in answers[:2]] == [303, 303]
    refused = answers[2]
    assert {answer.status_code for answer in answers[2:]} == {429}
    assert "3 sign-in e-mails in the last 24 hours" in refused.text
    when = again_after(refused.text)
    assert timedelta(hours=23) < when - datetime.now(UTC) <= timedelta(hours=24, minutes=1)
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600
    deliver_mail(app)
    assert len(smtp.mailbox.to("victim@example.org")) == 3


def test_resends_count_against_the_senders_daily_limit(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    chloe = Staff(app, client, Actor(course.chloe.id, "Chloé", course.platform.id, course.context.id,
                                     CadreRole.LEARNER))
    assert chloe.post("/invitations/", {"email": "first@example.org"}).status_code == 303
    first = invitation_to(app, "first@example.org")
    for _ in range(2):
        assert chloe.post(f"/invitations/{first}/resend", {}).status_code == 303
    assert chloe.post("/invitations/", {"email": "second@example.org"}).status_code == 303
    second = invitation_to(app, "second@example.org")
    assert chloe.post(f"/invitations/{second}/resend", {}).status_code == 303  # the fifth e-mail today

    resent = chloe.post(f"/invitations/{second}/resend", {})
    assert resent.status_code == 429 and "5 invitations in the last 24 hours" in resent.text
    soon = again_after(resent.text) - datetime.now(UTC)
    assert timedelta(hours=23) < soon <= timedelta(hours=24, minutes=1)
    invited = chloe.post("/invitations/", {"email": "third@example.org"})
    assert invited.status_code == 429 and "5 invitations in the last 24 hours" in invited.text
    assert 'value="third@example.org"' in invited.text  # what was typed is kept
    deliver_mail(app)
    assert len(smtp.mailbox.to("first@example.org")) == 3 and len(smtp.mailbox.to("second@example.org")) == 2
    assert smtp.mailbox.to("third@example.org") == []
    with session_scope(app) as session:
        assert session.scalars(select(ManagerInvitation.email).order_by(ManagerInvitation.id)).all() == [
            "first@example.org", "second@example.org"]


def test_a_designers_resends_are_limited_per_invitation_too(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    designer = Staff(app, client, course.designer)
    assert designer.post("/invitations/", {"email": "paula@example.org",
                                           "learners": [str(course.ben.id)]}).status_code == 303
    invitation_id = invitation_to(app, "paula@example.org")
    statuses = [designer.post(f"/invitations/{invitation_id}/resend", {}).status_code for _ in range(4)]
    assert statuses == [303, 303, 429, 429]
    deliver_mail(app)
    assert len(smtp.mailbox.to("paula@example.org")) == 3
