"""An invitation never puts a manager link in force behind the manager's back: a learner's invitation is a
nomination the invited person answers (after signing in with the e-mailed link), whatever the link was
before (none, ended by the designer, declined); a designer's invitation links at once, and one that puts
an ended link back in force does it openly (a new start, ``ended_at`` cleared, an audit entry)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import AuditEntry, ManagerLink, Membership, User
from lti_tool.permissions import Actor
from lti_tool.relationships import services as relationships
from lti_tool.states import Assessors, CadreRole, ManagerLinkStatus
from tests.feedback.conftest import Course
from tests.mail.conftest import SmtpServer
from tests.mail.test_invitations import InvitedManager, Staff, deliver_mail, link_in


def link_between(app: Flask, course: Course, manager_id: int, learner_id: int) -> ManagerLink:
    with session_scope(app) as session:
        row = session.scalars(select(ManagerLink).where(
            ManagerLink.context_id == course.context.id, ManagerLink.manager_id == manager_id,
            ManagerLink.learner_id == learner_id)).one()
        session.expunge(row)
    return row


def give_omar_an_address(course: Course) -> None:
    omar = course.db.get(User, course.omar.user_id)
    assert omar is not None
    omar.email = "omar@example.org"
    course.db.flush()


def test_a_learner_inviting_the_manager_of_an_ended_link_nominates_them_and_only_they_answer(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    give_omar_an_address(course)
    activity = course.activity(assessors=Assessors.ANY_MANAGER)
    ended = link_between(app, course, course.omar.user_id, course.ana.id)
    designer = Staff(app, client, course.designer)
    assert designer.post(f"/people/links/{ended.id}/end", {}).status_code == 303

    ana = Staff(app, app.test_client(), course.ana_actor)
    invited = ana.post("/invitations/", {"email": "omar@example.org"})
    assert invited.status_code == 303
    nominated = link_between(app, course, course.omar.user_id, course.ana.id)
    assert nominated.status is ManagerLinkStatus.PENDING and nominated.ended_at is None
    with session_scope(app) as session:
        assert course.ana.id not in {user.id for user in relationships.learners_of(
            session, course.context.id, course.omar.user_id)}

    deliver_mail(app)
    omar = InvitedManager(app, smtp, "omar@example.org")
    home = omar.client.get("/invitations/home")
    assert home.status_code == 200 and 'data-testid="nominations-waiting"' in home.text
    people = omar.client.get(f"/activities/{activity.id}/people")
    assert "Ana Lima" not in people.text  # not theirs until they accept
    waiting = omar.client.get("/nominations")
    assert waiting.status_code == 200 and f'data-link-id="{nominated.id}"' in waiting.text
    assert omar.post(f"/nominations/{nominated.id}/decline").status_code == 303
    assert link_between(app, course, course.omar.user_id, course.ana.id).status is ManagerLinkStatus.DECLINED


def test_a_learner_cannot_turn_a_declined_nomination_into_a_link_by_inviting_the_manager(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    rita_user = course.db.get(User, course.rita.user_id)
    assert rita_user is not None
    rita_user.email = "rita@example.org"
    course.db.flush()
    course.db.add(Membership(user_id=rita_user.id, context_id=course.context.id, role=CadreRole.MANAGER))
    course.db.flush()
    chloe = Staff(app, client, Actor(course.chloe.id, "Chloé", course.platform.id, course.context.id,
                                     CadreRole.LEARNER))
    nominated = chloe.post("/my-managers/nominate", {"manager_id": str(rita_user.id), "relation": "mentor"})
    assert nominated.status_code == 303, nominated.text
    nomination_id = link_between(app, course, course.rita.user_id, course.chloe.id).id
    rita = Staff(app, app.test_client(), course.rita)
    assert rita.post(f"/nominations/{nomination_id}/decline", {}).status_code == 303

    assert chloe.post("/invitations/", {"email": "rita@example.org"}).status_code == 303
    row = link_between(app, course, course.rita.user_id, course.chloe.id)
    assert row.status is ManagerLinkStatus.PENDING  # asked again, not in force
    deliver_mail(app)
    invited = InvitedManager(app, smtp, "rita@example.org")
    assert invited.post(f"/nominations/{row.id}/accept").status_code == 303
    accepted = link_between(app, course, course.rita.user_id, course.chloe.id)
    assert accepted.status is ManagerLinkStatus.ACTIVE and accepted.ended_at is None


def test_a_learner_never_makes_a_platform_user_their_manager_without_that_users_answer(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    activity = course.activity(assessors=Assessors.ANY_MANAGER)
    rita_user = course.db.get(User, course.rita.user_id)
    assert rita_user is not None
    rita_user.email = "Rita@Example.org"  # the platform's user with that address, linked to Ben by nobody
    course.db.flush()
    ben = Staff(app, client, course.ben_actor)
    assert ben.post("/invitations/", {"email": "rita@example.org"}).status_code == 303
    row = link_between(app, course, course.rita.user_id, course.ben.id)
    assert row.status is ManagerLinkStatus.PENDING
    rita = Staff(app, app.test_client(), course.rita)  # in the LMS: her pages do not list Ben yet
    assert "Ben Okafor" not in rita.get(f"/activities/{activity.id}/people").text

    deliver_mail(app)
    (message,) = smtp.mailbox.to("rita@example.org")
    body = " ".join(message.get_content().split())
    assert "Ben Okafor asked you to be their manager" in body and "accept or decline" in body
    invited = InvitedManager(app, smtp, "rita@example.org")
    assert invited.post(f"/nominations/{row.id}/accept").status_code == 303
    assert link_between(app, course, course.rita.user_id, course.ben.id).status is ManagerLinkStatus.ACTIVE
    people = invited.client.get(f"/activities/{activity.id}/people")
    assert people.status_code == 200 and "Ben Okafor" in people.text
    assert link_in(message)  # the e-mail carried the sign-in link the answer was given through


def test_a_designers_invitation_puts_an_ended_link_back_in_force_openly(
    app: Flask, client: FlaskClient, learners_enrolled: Course, smtp: SmtpServer,
) -> None:
    course = learners_enrolled
    give_omar_an_address(course)
    before = link_between(app, course, course.omar.user_id, course.ben.id)
    designer = Staff(app, client, course.designer)
    assert designer.post(f"/people/links/{before.id}/end", {}).status_code == 303
    ended = link_between(app, course, course.omar.user_id, course.ben.id)
    assert ended.ended_at is not None

    invited = designer.post("/invitations/", {"email": "omar@example.org", "learners": [str(course.ben.id)]})
    assert invited.status_code == 303
    again = link_between(app, course, course.omar.user_id, course.ben.id)
    assert again.status is ManagerLinkStatus.ACTIVE and again.ended_at is None
    assert again.created_at > ended.ended_at  # a new start
    with session_scope(app) as session:
        entries = [entry.details for entry in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "manager_link.set",
                                     AuditEntry.actor_user_id == course.designer.user_id))]
    assert {"link_id": again.id, "status": "active", "source": "designer"}.items() <= entries[-1].items()
