"""Reminders of the career conversation: the next conversation's date, and each agreed action coming due,
e-mailed to the learner and to their line manager once per occasion (the outbox's dedupe key names the
conversation or action, the date and the person, so a job run every hour sends each e-mail once, and a
date moved later is a new occasion).

The e-mail says only which activity and what date: nothing of what the two wrote.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lti_tool import mail
from lti_tool.db import utcnow
from lti_tool.models import User
from lti_tool.outbox import Period, periodic
from lti_tool.permissions import line_manager_id
from lti_tool.programme.career_models import CareerAction, CareerConversation

MAIL_KIND = "career-reminder"
AHEAD = timedelta(days=3)
"""How long before the date the reminder goes out (and after which a missed run still sends it)."""


def _parties(session: Session, conversation: CareerConversation) -> list[int]:
    manager_id = line_manager_id(session, conversation.activity.context_id, conversation.learner_id)
    return [conversation.learner_id, *([manager_id] if manager_id and manager_id !=
                                        conversation.learner_id else [])]


def due_occasions(session: Session, today: date) -> list[tuple[str, dict[str, Any]]]:
    """(dedupe key, payload) of each e-mail due today: dates from today to :data:`AHEAD` away."""
    until = today + AHEAD
    found: list[tuple[str, dict[str, Any]]] = []
    conversations = session.scalars(
        select(CareerConversation).outerjoin(CareerAction)
        .where(CareerConversation.held_on.is_not(None),
               or_(CareerConversation.next_conversation_on.between(today, until),
                   CareerAction.due_on.between(today, until)))
        .order_by(CareerConversation.id)).unique().all()
    for conversation in conversations:
        parties = _parties(session, conversation)
        next_on = conversation.next_conversation_on
        if next_on is not None and today <= next_on <= until:
            for person_id in parties:
                found.append((f"career:{conversation.id}:next:{next_on.isoformat()}:{person_id}",
                              {"conversation_id": conversation.id, "person_id": person_id, "about": "next"}))
        for action in conversation.actions:
            if today <= action.due_on <= until:
                for person_id in parties:
                    found.append((f"career-action:{action.id}:{action.due_on.isoformat()}:{person_id}",
                                  {"conversation_id": conversation.id, "person_id": person_id,
                                   "about": "action", "action_id": action.id}))
    return found


@periodic("career-reminders", every=timedelta(hours=1))
def remind_career_conversations(session: Session, period: Period) -> str:
    queued = sum(mail.enqueue_mail(session, MAIL_KIND, key, payload)
                 for key, payload in due_occasions(session, utcnow().date()))
    return f"{queued} career reminder(s) queued"


@mail.composer(MAIL_KIND)
def career_mail(session: Session, payload: dict[str, Any]) -> mail.Mail | None:
    from lti_tool.invitations import reminders

    conversation = session.get(CareerConversation, payload.get("conversation_id"))
    person = session.get(User, payload.get("person_id"))
    if conversation is None or person is None or not person.email \
            or person.id not in _parties(session, conversation):
        return None  # gone, or no longer this learner's manager, since it was queued
    activity = conversation.activity
    if reminders.opted_out(session, person.id, activity.context_id):
        return None
    if payload.get("about") == "action":
        action = session.get(CareerAction, payload.get("action_id"))
        if action is None or action.conversation_id != conversation.id:
            return None
        subject = f"An agreed action is due: {activity.title}"
        what = f"An action you agreed in your career conversation is due on {action.due_on:%Y-%m-%d}."
    else:
        if conversation.next_conversation_on is None:
            return None
        subject = f"Your next career conversation: {activity.title}"
        what = f"Your next career conversation is on {conversation.next_conversation_on:%Y-%m-%d}."
    unsubscribe = reminders.opt_out_url(person.id, activity.context_id)
    text = (
        f"Hello{' ' + person.display_name if person.is_named else ''},\n\n{what} Open the activity "
        f"\"{activity.title}\" in the course {activity.context.display_title} on your learning platform to "
        f"see it.\n\nNo more reminders from this course: {unsubscribe}\n"
    )
    return mail.Mail(to=person.email, to_name=person.name or "", subject=subject, text=text,
                     headers=(("List-Unsubscribe", f"<{unsubscribe}>"),
                              ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")))
