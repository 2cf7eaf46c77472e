"""Managers outside the LMS, end to end with a real SMTP server on loopback: a designer or a learner invites
a manager by e-mail, the e-mail arrives, its link signs the manager in (once), they see their people on the
same manager pages; reuse, expiry and revocation are refused with a way to ask for a fresh link; the
reminder job e-mails once per occasion, and the opt-out link stops it."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from lti_tool import mail
from lti_tool.db import session_scope, utcnow
from lti_tool.invitations import reminders
from lti_tool.invitations.models import (
    InvitationSignInLink,
    ManagerInvitation,
    ReminderOptOut,
    ReminderSchedule,
    ReminderTally,
)
from lti_tool.lti.session import csrf_token_for
from lti_tool.mail import TOPIC
from lti_tool.models import Activity, AuditEntry, Launch, ManagerLink, OutboxMessage, User
from lti_tool.observability import redact
from lti_tool.outbox import Worker, run_due_jobs
from lti_tool.permissions import Actor
from lti_tool.states import Assessors, CadreRole, MessageType
from tests.feedback.conftest import Course
from tests.mail.conftest import SmtpServer

SIGN_IN_LINK = re.compile(r"http://localhost/invitations/sign-in/([A-Za-z0-9_-]{43})")
OPT_OUT_LINK = re.compile(r"http://localhost(/reminders/opt-out/\S+)")
LAUNCH_IN_FRAGMENT = re.compile(r"#lt=([A-Za-z0-9_-]+)$")


def deliver_mail(app: Flask) -> None:
    Worker(app, topics=[TOPIC]).run_once()


def link_in(message: EmailMessage) -> str:
    found = SIGN_IN_LINK.search(message.get_content())
    assert found, message.get_content()
    return found.group(1)


class Staff:
    """A person with a Cadre session made by hand (as a launch would), asking with the launch header."""

    def __init__(self, app: Flask, client: FlaskClient, actor: Actor) -> None:
        with session_scope(app) as session:
            launch = Launch(id=secrets.token_urlsafe(32), platform_id=actor.platform_id,
                            user_id=actor.user_id, context_id=actor.context_id,
                            message_type=MessageType.RESOURCE_LINK, role=actor.role, claims={},
                            expires_at=utcnow() + timedelta(hours=1))
            session.add(launch)
        self.client, self.token = client, launch.id
        self.csrf = csrf_token_for(launch.id, app.config["SECRET_KEY"])

    def get(self, path: str):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers={"X-Cadre-Launch": self.token})

    def post(self, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"lt": self.token, "csrf_token": self.csrf, **data})


class InvitedManager:
    """Someone who signed in with the last sign-in link e-mailed to ``address``, posting forms as the
    pages' own forms do (the launch token the sign-in put in the address's fragment, and its CSRF token)."""

    def __init__(self, app: Flask, smtp: SmtpServer, address: str) -> None:
        self.client = app.test_client()
        signed_in = sign_in(self.client, link_in(smtp.mailbox.to(address)[-1]))
        assert signed_in.status_code == 303, signed_in.text
        found = LAUNCH_IN_FRAGMENT.search(signed_in.headers["Location"])
        assert found
        self.token = found.group(1)
        self.csrf = csrf_token_for(self.token, app.config["SECRET_KEY"])

    def post(self, path: str):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"lt": self.token, "csrf_token": self.csrf})


def invite_paula(app: Flask, client: FlaskClient, course: Course, learners: list[User]):  # type: ignore[no-untyped-def]
    designer = Staff(app, client, course.designer)
    assert 'href="/invitations/" data-testid="invitations-link"' in designer.get("/home").text
    page = designer.get("/invitations/")
    assert page.status_code == 200 and "Chloé Martin" in page.text
    return designer.post("/invitations/", {"email": " Paula.Price@Example.org ", "name": "Paula Price",
                                           "learners": [str(learner.id) for learner in learners]})


def sign_in(client: FlaskClient, token: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/invitations/sign-in/{token}")
    assert page.status_code == 200, page.text
    assert page.headers["Referrer-Policy"] == "same-origin" and page.headers["Cache-Control"] == "no-store"
    assert f'name="token" value="{token}"' in page.text and "invitation-sign-in.js" in page.text
    return client.post("/invitations/sign-in", data={"token": token})


def test_an_invited_manager_signs_in_from_the_email_sees_their_people_and_the_link_works_once(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    course = learners_enrolled
    activity = course.activity(assessors=Assessors.ANY_MANAGER)
    invited = invite_paula(app, client, course, [course.chloe])
    assert invited.status_code == 303
    assert smtp.mailbox.messages == []  # nothing leaves before the worker, after the commit
    with session_scope(app) as session:
        payloads = [row.payload for row in session.scalars(select(OutboxMessage)
                                                           .where(OutboxMessage.topic == TOPIC))]
    assert payloads and all(set(payload) == {"kind", "invitation_id", "reason"} for payload in payloads)
    deliver_mail(app)

    (message,) = smtp.mailbox.to("paula.price@example.org")
    subject = f"Maya Schmidt invites you to give feedback in {course.context.title}"
    assert message["Subject"].strip() == subject
    assert "Chloé Martin" in message.get_content() and "works once" in message.get_content()
    token = link_in(message)
    with session_scope(app) as session:  # only the token's hash is stored
        assert session.scalar(select(func.count()).select_from(InvitationSignInLink)
                              .where(InvitationSignInLink.token_hash.contains(token))) == 0

    caplog.set_level("INFO", logger="cadre")
    signed_in = sign_in(client, token)
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"].startswith("/invitations/home#lt=")
    assert token not in caplog.text  # the request log names the path without it

    home = client.get("/invitations/home")
    assert home.status_code == 200, home.text
    assert "Paula Price" in home.text and activity.title in home.text
    people = client.get(f"/activities/{activity.id}/people")
    assert people.status_code == 200, people.text
    assert "Chloé Martin" in people.text and "Ana Lima" not in people.text  # only their people
    form = client.get(f"/activities/{activity.id}/people/{course.chloe.id}/feedback")
    assert form.status_code == 200
    refused_other = client.get(f"/activities/{activity.id}/people/{course.ana.id}/feedback")
    assert refused_other.status_code == 404  # another manager's learner
    assert client.get("/invitations/").status_code == 403  # an invited manager invites nobody
    assert 'data-testid="team-progress-link"' in home.text
    team = client.get("/team")  # their people's progress: theirs only
    assert team.status_code == 200 and "Chloé Martin" in team.text and "Ana Lima" not in team.text
    assert client.get(f"/team/{course.ana.id}").status_code == 404

    reused_client = app.test_client()
    again = reused_client.get(f"/invitations/sign-in/{token}")
    assert again.status_code == 410 and "was used already" in again.text
    assert 'data-testid="fresh-link-form"' in again.text
    assert reused_client.post("/invitations/sign-in", data={"token": token}).status_code == 410
    fresh = reused_client.post("/invitations/fresh-link", data={"token": token})
    assert fresh.status_code == 200 and "Check your e-mail" in fresh.text
    reused_client.post("/invitations/fresh-link", data={"token": token})  # asking twice: one e-mail
    deliver_mail(app)
    first, second = smtp.mailbox.to("paula.price@example.org")
    assert second["Subject"].strip() == f"Your new sign-in link for {course.context.title}"
    assert link_in(second) != token
    assert sign_in(app.test_client(), link_in(second)).status_code == 303


def test_a_learner_invites_their_own_manager_by_email(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    activity = course.activity(assessors=Assessors.ANY_MANAGER)
    chloe = Staff(app, client, Actor(course.chloe.id, "Chloé", course.platform.id, course.context.id,
                                     CadreRole.LEARNER))
    assert 'href="/invitations/" data-testid="invite-manager-link"' in chloe.get("/home").text
    page = chloe.get("/invitations/")
    assert page.status_code == 200 and 'name="learners"' not in page.text  # a learner invites for themself
    sent = chloe.post("/invitations/", {"email": "boss@example.org", "learners": [str(course.ana.id)]})
    assert sent.status_code == 303
    assert "once they accept your nomination" in chloe.get("/invitations/?notice=invited").text
    deliver_mail(app)
    assert len(smtp.mailbox.to("boss@example.org")) == 1
    manager = InvitedManager(app, smtp, "boss@example.org")
    home = manager.client.get("/invitations/home")
    assert 'data-testid="nominations-waiting"' in home.text and "1 learner asks you" in home.text
    assert "Chloé Martin" not in manager.client.get(f"/activities/{activity.id}/people").text  # not yet
    with session_scope(app) as session:  # a nomination, as from Chloé's own page
        link = session.scalars(select(ManagerLink).where(ManagerLink.learner_id == course.chloe.id,
                                                         ManagerLink.status == "pending")).one()
        assert link.source.value == "nomination"
    assert manager.post(f"/nominations/{link.id}/accept").status_code == 303
    people = manager.client.get(f"/activities/{activity.id}/people")
    assert "Chloé Martin" in people.text and "Ana Lima" not in people.text


def test_a_learner_sends_at_most_five_invitations_a_day(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    chloe = Staff(app, client, Actor(course.chloe.id, "Chloé", course.platform.id, course.context.id,
                                     CadreRole.LEARNER))
    for number in range(5):
        assert chloe.post("/invitations/", {"email": f"boss{number}@example.org"}).status_code == 303
    sixth = chloe.post("/invitations/", {"email": "boss5@example.org"})
    assert sixth.status_code == 429 and "5 invitations in the last 24 hours" in sixth.text
    assert 'value="boss5@example.org"' in sixth.text
    deliver_mail(app)
    assert smtp.mailbox.to("boss5@example.org") == [] and len(smtp.mailbox.messages) == 5


def test_an_invited_manager_can_open_cadres_home_page_too(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    invite_paula(app, client, learners_enrolled, [learners_enrolled.chloe])
    deliver_mail(app)
    manager = app.test_client()
    sign_in(manager, link_in(smtp.mailbox.to("paula.price@example.org")[0]))
    home = manager.get("/home")
    assert home.status_code == 200 and "Chloé Martin" in home.text
    assert manager.get("/").status_code == 302


@pytest.mark.parametrize(("fields", "field", "expected"), [
    ({"email": "not an address", "learners": ["ANA"]}, "email", "Give the manager&#39;s e-mail address"),
    ({"email": "paula@example.org", "learners": []}, "learners", "Choose at least one learner"),
    ({"email": "paula@example.org", "learners": ["999999"]}, "learners", "Choose learners of this course"),
])
def test_bad_invitations_are_refused_beside_the_field_and_keep_what_was_typed(
    app: Flask, client: FlaskClient, learners_enrolled: Course, fields: dict[str, object], field: str,
    expected: str,
) -> None:
    course = learners_enrolled
    fields = {**fields, "learners": [str(course.ana.id) if value == "ANA" else value
                                     for value in fields["learners"]]}  # type: ignore[union-attr]
    answer = Staff(app, client, course.designer).post("/invitations/", {**fields, "name": "Paula"})
    assert answer.status_code == 400
    assert f'data-field="{field}"' in answer.text and expected in answer.text
    assert 'value="Paula"' in answer.text
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(ManagerInvitation)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_expired_link_is_refused_and_offers_a_fresh_one(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    invite_paula(app, client, learners_enrolled, [learners_enrolled.ben])
    deliver_mail(app)
    token = link_in(smtp.mailbox.to("paula.price@example.org")[0])
    with session_scope(app) as session:
        session.execute(update(InvitationSignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    page = app.test_client().get(f"/invitations/sign-in/{token}")
    assert page.status_code == 410 and "has expired" in page.text and "E-mail me a fresh link" in page.text
    assert app.test_client().post("/invitations/sign-in", data={"token": token}).status_code == 410
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(Launch)
                              .where(Launch.claims.is_not(None), Launch.role == CadreRole.MANAGER)) == 0


def test_a_revoked_invitation_ends_its_session_and_its_links(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    activity = course.activity(assessors=Assessors.ANY_MANAGER)
    invite_paula(app, client, course, [course.ben])
    designer = Staff(app, client, course.designer)
    assert designer.post("/invitations/999999/resend", {}).status_code == 404  # a guessed id
    with session_scope(app) as session:
        invitation = session.scalars(select(ManagerInvitation)).one()
        invitation_id = invitation.id
    designer.post(f"/invitations/{invitation_id}/resend", {})
    deliver_mail(app)
    first, unused = (link_in(message) for message in smtp.mailbox.to("paula.price@example.org"))
    manager = app.test_client()
    assert sign_in(manager, first).status_code == 303
    assert manager.get(f"/activities/{activity.id}/people").status_code == 200

    outsider = Staff(app, app.test_client(), course.stranger)  # a manager of another course
    assert outsider.post(f"/invitations/{invitation_id}/revoke", {}).status_code in (403, 404)
    revoked = designer.post(f"/invitations/{invitation_id}/revoke", {})
    assert revoked.status_code == 303
    listed = designer.get("/invitations/")
    assert 'data-state="revoked"' in listed.text

    ended = manager.get(f"/activities/{activity.id}/people")
    assert ended.status_code == 401 and "Invited by e-mail? Open the link in that e-mail again" in ended.text
    page = app.test_client().get(f"/invitations/sign-in/{unused}")
    assert page.status_code == 410 and "invitation was withdrawn" in page.text
    assert "E-mail me a fresh link" not in page.text
    app.test_client().post("/invitations/fresh-link", data={"token": unused})
    deliver_mail(app)
    assert len(smtp.mailbox.to("paula.price@example.org")) == 2  # no fresh link for a revoked one
    with session_scope(app) as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"invitation.created", "invitation.signed_in", "invitation.revoked"} <= actions


def test_an_unknown_or_malformed_token_is_not_found(app: Flask, client: FlaskClient) -> None:
    for token in ("x" * 43, "short", "a" * 500):
        page = client.get(f"/invitations/sign-in/{token}")
        assert page.status_code == 404 and "not one Cadre sent" in page.text
        assert "fresh link" not in page.text


def test_a_sign_in_form_posted_from_another_site_is_refused(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    invite_paula(app, client, learners_enrolled, [learners_enrolled.ben])
    deliver_mail(app)
    token = link_in(smtp.mailbox.to("paula.price@example.org")[0])
    forged = app.test_client().post("/invitations/sign-in", data={"token": token},
                                    headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert sign_in(app.test_client(), token).status_code == 303  # the link was not spent


# -- reminders ----------------------------------------------------------------------------------------------


def remind_twice(app: Flask, course: Course, due_in: timedelta) -> tuple[User, Activity, datetime]:
    """Omar, with an address, and an activity due in ``due_in``: the reminder job run in two periods in a
    row (the date unchanged), and the mail delivered."""
    omar = course.db.get(User, course.omar.user_id)
    assert omar is not None
    omar.email = "omar@example.org"
    course.db.flush()
    activity = course.activity(due_at=datetime.now(UTC) + due_in)
    now = datetime.now(UTC)
    run_due_jobs(app, names=["manager-reminders"], now=now)
    run_due_jobs(app, names=["manager-reminders"], now=now + timedelta(hours=1))  # the next period
    deliver_mail(app)
    return omar, activity, now


def test_the_reminder_job_run_twice_sends_one_email_per_occasion_and_the_opt_out_stops_it(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    omar, activity, now = remind_twice(app, learners_enrolled, timedelta(days=2, hours=12))  # due in 2.5 days
    (reminder,) = smtp.mailbox.to("omar@example.org")
    body = reminder.get_content()
    assert reminder["Subject"].strip().startswith("Feedback due ") and activity.title in reminder["Subject"]
    assert "Ana Lima: Not started" in body and "Ben Okafor: Not started" in body
    assert reminder["List-Unsubscribe"].strip().startswith("<http://localhost/reminders/opt-out/")

    found = OPT_OUT_LINK.search(body)
    assert found
    page = client.get(found.group(1))
    assert page.status_code == 200 and "Stop these reminders" in page.text
    assert client.get(found.group(1)[:-3] + "abc").status_code == 404  # a forged signature
    assert client.post(found.group(1)).status_code == 200
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(ReminderOptOut)) == 1
        session.execute(update(type(activity)).where(type(activity).id == activity.id)
                        .values(due_at=datetime.now(UTC) - timedelta(hours=1)))  # now due today
    run_due_jobs(app, names=["manager-reminders"], now=now + timedelta(hours=2))
    deliver_mail(app)
    assert len(smtp.mailbox.to("omar@example.org")) == 1  # opted out: no "due today" e-mail
    with session_scope(app) as session:  # queued before the opt-out: its composer drops it
        mail.enqueue_mail(session, reminders.MAIL_KIND, f"reminder:{activity.id}:{omar.id}:late",
                          {"activity_id": activity.id, "manager_id": omar.id, "occasion": "late"})
    deliver_mail(app)
    assert len(smtp.mailbox.to("omar@example.org")) == 1
    with session_scope(app) as session:  # what the dashboard counts: the one e-mail the server accepted
        (tally,) = session.scalars(select(ReminderTally)).all()
        assert (tally.activity_id, tally.manager_id, tally.sent) == (activity.id, omar.id, 1)
        assert abs((tally.last_sent_at - datetime.now(UTC)).total_seconds()) < 60


def test_a_due_date_moved_later_is_reminded_again_and_an_unchanged_one_is_not(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    _omar, activity, now = remind_twice(app, course, timedelta(days=1))  # "3 days before" has come
    activity.due_at = activity.due_at + timedelta(hours=36)  # later, and "3 days before" again
    course.db.flush()
    for hour in (2, 3):  # the next periods: the new date is reminded once
        run_due_jobs(app, names=["manager-reminders"], now=now + timedelta(hours=hour))
    deliver_mail(app)
    first, moved = smtp.mailbox.to("omar@example.org")
    assert first["Subject"].strip().startswith(f"Feedback due {now + timedelta(days=1):%Y-%m-%d}")
    assert moved["Subject"].strip().startswith(f"Feedback due {activity.due_at:%Y-%m-%d}")


def test_an_invited_managers_reminder_carries_a_fresh_sign_in_link(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    due = datetime.now(UTC) - timedelta(days=8) + timedelta(hours=1)  # overdue by 8 days (rounded up)
    course.activity(assessors=Assessors.ANY_MANAGER, due_at=due)
    invite_paula(app, client, course, [course.chloe])
    deliver_mail(app)
    run_due_jobs(app, names=["manager-reminders"])
    deliver_mail(app)
    invitation_mail, reminder = smtp.mailbox.to("paula.price@example.org")
    assert reminder["Subject"].strip().startswith("Overdue: feedback for")
    assert "Chloé Martin: Not started, overdue by 8 days" in reminder.get_content()
    assert sign_in(app.test_client(), link_in(reminder)).status_code == 303


def test_reminder_occasions_follow_the_schedule() -> None:
    due = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    activity = Activity(due_at=due, due_timezone="Europe/Berlin")
    at = {occasion.key: occasion.at for occasion in reminders.occasions(activity)}
    assert at["before-3d"] == due - timedelta(days=3)
    assert at["due-day"] == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # midnight in Berlin
    assert at["overdue-w1"] == due + timedelta(weeks=1) and "overdue-w9" not in at

    def current(moment: datetime) -> str | None:
        found = reminders.current_occasion(activity, moment)
        return found.key if found else None

    assert current(due - timedelta(days=4)) is None
    assert current(due - timedelta(days=2)) == "before-3d"
    assert current(due - timedelta(hours=1)) == "due-day"
    assert current(due + timedelta(days=6)) == "due-day"
    assert current(due + timedelta(days=15)) == "overdue-w2"
    assert current(due + timedelta(weeks=9)) is None


def test_manager_links_made_by_an_invitation_say_where_they_came_from(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    invite_paula(app, client, learners_enrolled, [learners_enrolled.chloe])
    with session_scope(app) as session:
        link = session.scalars(select(ManagerLink).where(ManagerLink.learner_id == learners_enrolled.chloe.id)
                               ).one()
        assert link.source.value == "designer" and link.manager.email == "paula.price@example.org"
        assert link.manager.sub.startswith("cadre-invited:")


def test_a_designer_sets_the_reminder_schedule_and_the_job_follows_it(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    omar = course.db.get(User, course.omar.user_id)
    assert omar is not None
    omar.email = "omar@example.org"
    course.db.flush()
    activity = course.activity(due_at=datetime.now(UTC) + timedelta(days=5, hours=12))  # due in 5.5 days
    designer = Staff(app, client, course.designer)
    listed = designer.get("/invitations/")
    assert f'href="/invitations/activities/{activity.id}/reminders"' in listed.text
    page = designer.get(f"/invitations/activities/{activity.id}/reminders")
    assert page.status_code == 200 and 'value="3"' in page.text
    assert page.text.count('data-testid="occasion"') == 10  # the default: 3 days before, the day, 8 weeks

    bad = designer.post(f"/invitations/activities/{activity.id}/reminders",
                        {"days_before": "31", "weeks_after": "two", "on_due_day": "1"})
    assert bad.status_code == 400
    assert 'data-field="days_before"' in bad.text and 'data-field="weeks_after"' in bad.text
    assert 'value="31"' in bad.text and 'value="two"' in bad.text  # what was typed is kept
    with session_scope(app) as session:
        assert session.get(ReminderSchedule, activity.id) is None  # bad input stores nothing

    saved = designer.post(f"/invitations/activities/{activity.id}/reminders",
                          {"days_before": "7", "weeks_after": "0"})
    assert saved.status_code == 303
    shown = designer.get(f"/invitations/activities/{activity.id}/reminders?notice=saved")
    assert "Reminder schedule saved." in shown.text and shown.text.count('data-testid="occasion"') == 1

    run_due_jobs(app, names=["manager-reminders"])  # 7 days before has come; the default 3 had not
    deliver_mail(app)
    assert len(smtp.mailbox.to("omar@example.org")) == 1

    manager = Staff(app, app.test_client(), course.omar)
    assert manager.get(f"/invitations/activities/{activity.id}/reminders").status_code == 403
    other = course.activity(context=course.other_context)
    assert designer.get(f"/invitations/activities/{other.id}/reminders").status_code == 404
    assert designer.get("/invitations/activities/999999/reminders").status_code == 404


def test_server_request_lines_never_hold_a_sign_in_or_opt_out_credential() -> None:
    token = "Hy58p3tQjMBRykb37IuBv4sS70hHgGQ_TvPQR8d0N9s"
    line = (f'127.0.0.1 "GET /invitations/sign-in/{token} HTTP/1.1" 200 - '
            f'"POST /reminders/opt-out/8/1/a84ccdaa6a82008e9c7b6c5befb60a6d HTTP/1.1"')
    redacted = redact(line)
    assert token not in redacted and "a84ccdaa" not in redacted
    assert '"GET /invitations/sign-in/[redacted] HTTP/1.1" 200' in redacted
    assert "/reminders/opt-out/[redacted] HTTP/1.1" in redacted
