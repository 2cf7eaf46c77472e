"""Career conversation reminders: the next conversation's date and each action coming due are e-mailed to
the learner and their line manager once per occasion, saying nothing of what was written."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.invitations import reminders
from lti_tool.models import OutboxMessage
from lti_tool.outbox import run_due_jobs
from lti_tool.programme import career, career_reminders
from lti_tool.programme.career_models import CareerConversation
from lti_tool.states import ActivityKind
from tests.programme.conftest import Course
from tests.programme.test_career_services import ANSWERS


def _held(course: Course, *, next_in: int, due_in: int, far_in: int = 40) -> CareerConversation:
    activity = course.activity(ActivityKind.CAREER_CONVERSATION, title="Where next")
    conversation = career.own_conversation(course.db, course.ana_actor, activity)
    career.save_learner_answers(course.db, course.ana_actor, conversation, ANSWERS, share=True)
    today = date.today()
    career.record_agreement(course.db, course.omar, conversation, [
        {"what": "Secret plan", "owner": "learner", "due": (today + timedelta(due_in)).isoformat()},
        {"what": "Later plan", "owner": "manager", "due": (today + timedelta(far_in)).isoformat()},
    ], (today + timedelta(next_in)).isoformat(), today=today)
    course.db.flush()
    return conversation


def test_the_job_reminds_both_of_them_once_per_occasion(app: Flask, course: Course) -> None:
    conversation = _held(course, next_in=2, due_in=1)
    now = datetime.now(UTC)
    run_due_jobs(app, names=["career-reminders"], now=now)
    run_due_jobs(app, names=["career-reminders"], now=now + timedelta(hours=1))  # the next period
    with session_scope(app) as session:
        keys = sorted(session.scalars(select(OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.topic == "email")).all())
        action = conversation.actions[0]
        next_on = conversation.next_conversation_on.isoformat()
        due_on = action.due_on.isoformat()
        people = (course.ana.id, course.omar.user_id)
        assert keys == sorted([*(f"career-action:{action.id}:{due_on}:{who}" for who in people),
                               *(f"career:{conversation.id}:next:{next_on}:{who}" for who in people)])
        with app.test_request_context():
            written = career_reminders.career_mail(session, {
                "conversation_id": conversation.id, "person_id": course.omar.user_id, "about": "action",
                "action_id": action.id})
            assert written is not None and written.to == "omar@example.com"
            assert "Secret plan" not in written.text and due_on in written.text
            assert career_reminders.career_mail(session, {  # not a party: nothing is sent
                "conversation_id": conversation.id, "person_id": course.managers[1].user_id,
                "about": "next"}) is None
            reminders.opt_out(session, course.ana.id, course.context.id)
            session.flush()
            assert career_reminders.career_mail(session, {
                "conversation_id": conversation.id, "person_id": course.ana.id, "about": "next"}) is None


def test_nothing_is_due_far_ahead(course: Course) -> None:
    _held(course, next_in=30, due_in=20)
    assert career_reminders.due_occasions(course.db, date.today()) == []


def _rows_of(conversation: CareerConversation) -> list[dict[str, str]]:
    return [{"what": action.what, "owner": action.owner, "due": action.due_on.isoformat()}
            for action in conversation.actions]


def _email_keys(app: Flask) -> list[str]:
    with session_scope(app) as session:
        return sorted(session.scalars(select(OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.topic == "email")).all())


def test_saving_the_same_agreement_again_sends_no_second_reminder(app: Flask, course: Course) -> None:
    conversation = _held(course, next_in=30, due_in=2)
    now = datetime.now(UTC)
    run_due_jobs(app, names=["career-reminders"], now=now)
    first = _email_keys(app)
    assert len(first) == 2  # the action due in two days, to the learner and to Omar
    ids = [action.id for action in conversation.actions]
    career.record_agreement(course.db, course.omar, conversation, _rows_of(conversation),
                            conversation.next_conversation_on.isoformat())
    course.db.flush()
    run_due_jobs(app, names=["career-reminders"], now=now + timedelta(hours=1))
    assert _email_keys(app) == first
    assert [action.id for action in conversation.actions] == ids  # unchanged actions keep their rows
    with session_scope(app) as session, app.test_request_context():  # queued before the save: still sent
        assert career_reminders.career_mail(session, {
            "conversation_id": conversation.id, "person_id": course.ana.id, "about": "action",
            "action_id": ids[0]}) is not None


def test_an_agreement_saved_with_changes_keeps_what_did_not_change(app: Flask, course: Course) -> None:
    conversation = _held(course, next_in=30, due_in=2)
    soon, later = conversation.actions
    now = datetime.now(UTC)
    run_due_jobs(app, names=["career-reminders"], now=now)
    today = date.today()
    tomorrow = (today + timedelta(1)).isoformat()
    career.record_agreement(course.db, course.omar, conversation, [
        {"what": "", "owner": "", "due": ""},  # the first row emptied: that action is removed
        {"what": "Later plan, reworded", "owner": "learner", "due": tomorrow},
        {"what": "A new plan", "owner": "manager", "due": (today + timedelta(50)).isoformat()},
    ], conversation.next_conversation_on.isoformat(), today=today)
    course.db.flush()
    changed, added = conversation.actions
    assert (changed.id, changed.what, changed.owner, changed.due_on.isoformat()) == (
        later.id, "Later plan, reworded", "learner", tomorrow)  # the row shown second, changed in place
    assert added.id not in (soon.id, later.id) and added.what == "A new plan"
    run_due_jobs(app, names=["career-reminders"], now=now + timedelta(hours=1))
    people = (course.ana.id, course.omar.user_id)
    assert _email_keys(app) == sorted([  # its due date moved: a new occasion
        *(f"career-action:{soon.id}:{(today + timedelta(2)).isoformat()}:{who}" for who in people),
        *(f"career-action:{later.id}:{tomorrow}:{who}" for who in people)])
    with session_scope(app) as session, app.test_request_context():  # the removed action's: not sent
        assert career_reminders.career_mail(session, {
            "conversation_id": conversation.id, "person_id": course.ana.id, "about": "action",
            "action_id": soon.id}) is None


def test_two_hosts_at_once_after_the_agreement_is_saved_again_queue_each_reminder_once(
    live_app: Flask, course: Course,
) -> None:
    conversation = _held(course, next_in=30, due_in=2)
    course.db.commit()
    now = datetime.now(UTC)
    run_due_jobs(live_app, names=["career-reminders"], now=now)
    first = _email_keys(live_app)
    career.record_agreement(course.db, course.omar, conversation, _rows_of(conversation),
                            conversation.next_conversation_on.isoformat())
    course.db.commit()
    start = threading.Barrier(2)

    def host(moment: datetime) -> None:
        start.wait()
        run_due_jobs(live_app, names=["career-reminders"], now=moment)

    hosts = [threading.Thread(target=host, args=(moment,))
             for moment in (now + timedelta(hours=1), now + timedelta(hours=2))]
    for thread in hosts:
        thread.start()
    for thread in hosts:
        thread.join(60)
    run_due_jobs(live_app, names=["career-reminders"], now=now + timedelta(hours=3))
    assert len(first) == 2 and _email_keys(live_app) == first
