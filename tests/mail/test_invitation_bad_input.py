"""Odd input to the invitation and reminder pages is refused as such, never a server error: digits that are
not ASCII (``int("²")`` raises), and ids beyond what the database's integer columns hold."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.invitations.models import ManagerInvitation, ReminderSchedule
from tests.feedback.conftest import Course
from tests.mail.test_invitations import Staff

HUGE = "99999999999"


@pytest.mark.parametrize("learner", ["²", "١٢", "12345678901234567890"])
def test_a_learner_choice_that_is_not_a_plain_number_is_refused_beside_the_field(
    app: Flask, client: FlaskClient, learners_enrolled: Course, learner: str,
) -> None:
    answer = Staff(app, client, learners_enrolled.designer).post(
        "/invitations/", {"email": "paula@example.org", "learners": [learner]})
    assert answer.status_code == 400
    assert 'data-field="learners"' in answer.text and "Choose at least one learner" in answer.text
    with session_scope(app) as session:
        assert session.scalar(select(func.count()).select_from(ManagerInvitation)) == 0


@pytest.mark.parametrize("field", ["days_before", "weeks_after"])
def test_a_reminder_schedule_with_a_superscript_digit_is_refused_beside_the_field(
    app: Flask, client: FlaskClient, learners_enrolled: Course, field: str,
) -> None:
    activity = learners_enrolled.activity()
    values = {"days_before": "3", "weeks_after": "8", "on_due_day": "1", field: "²"}
    answer = Staff(app, client, learners_enrolled.designer).post(
        f"/invitations/activities/{activity.id}/reminders", values)
    assert answer.status_code == 400
    assert f'data-field="{field}"' in answer.text and "Give a whole number from 0 to" in answer.text
    assert 'value="²"' in answer.text  # what was typed is kept
    with session_scope(app) as session:
        assert session.get(ReminderSchedule, activity.id) is None


@pytest.mark.parametrize(("method", "path"), [
    ("post", f"/invitations/{HUGE}/revoke"),
    ("post", f"/invitations/{HUGE}/resend"),
    ("get", f"/invitations/activities/{HUGE}/reminders"),
    ("post", f"/invitations/activities/{HUGE}/reminders"),
])
def test_an_id_beyond_the_databases_integers_is_not_found(
    app: Flask, client: FlaskClient, learners_enrolled: Course, method: str, path: str,
) -> None:
    designer = Staff(app, client, learners_enrolled.designer)
    answer = designer.get(path) if method == "get" else designer.post(path, {"days_before": "3"})
    assert answer.status_code == 404, answer.text
    assert "Traceback" not in answer.text and "Server error" not in answer.text
