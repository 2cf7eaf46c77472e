"""The career conversation: a learner prepares their answers to four questions as a draft and shares them
with their line manager; the manager adds theirs; together they record the actions they agreed (what, whose,
by when) and the next conversation's date, which marks the conversation as held.

Private to the two of them (:func:`lti_tool.permissions.can_edit_career_conversation`); course staff see only
the day it was held, unless the designer's setting allows them to read and the learner consented
(:func:`lti_tool.permissions.can_read_career_conversation`). A refused form raises :class:`CareerProblems`
with a message per field; nothing is stored then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import Activity, ManagerLink, User, audit
from lti_tool.permissions import Actor, ensure
from lti_tool.programme import career_events
from lti_tool.programme.career_models import ACTION_OWNERS, CareerAction, CareerConversation, CareerSettings
from lti_tool.programme.errors import FieldProblems, ProgrammeError
from lti_tool.states import CadreRole

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("five_years", "Where could my career go here in five years?"),
    ("to_learn", "What must I learn to get there (managing people, for example)?"),
    ("to_show", "Which results and skills must I show for the next step?"),
    ("when_ready", "When could I be ready, and why?"),
)
QUESTION_KEYS = tuple(key for key, _label in QUESTIONS)
MAX_ANSWER = 4000
MAX_ACTION = 300
MAX_ACTIONS = 12
OWNER_LABELS = {"learner": "The learner", "manager": "The manager"}
EMPTY_ANSWER = "Answer this question before you share your answers."
EMPTY_MANAGER_ANSWER = "Add your answer to this question."
TOO_LONG = "Keep this under {limit} characters (it has {length})."
NOT_A_DATE = "Enter a date as YYYY-MM-DD, for example 2027-03-15."
NEXT_IN_PAST = "The next conversation's date must be after today."
NEXT_NEEDED = "Enter the date of your next conversation."
BAD_OWNER = "Choose who does this: the learner or the manager."
ACTION_NEEDS_WHAT = "Say what is to be done."
ACTION_NEEDS_DUE = "Enter when this is due."
DUE_IN_PAST = "The due date cannot be before today."
NOT_SHARED = "The learner has not shared their answers yet: the conversation starts once they do."


class CareerError(ProgrammeError):
    """Refused by the career conversation's services."""


class CareerProblems(FieldProblems, CareerError):
    """What was typed cannot be stored; ``problems`` by field name."""

    summary = "Some fields need your attention: see the messages beside them."


# -- finding things ----------------------------------------------------------------------------------------


def career_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """The career conversation activity ``activity_id`` of the actor's course (otherwise "not found")."""
    activity = session.get(Activity, activity_id)
    if activity is None or activity.kind not in permissions.CAREER_KINDS:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_view_activity(actor, activity))
    return activity


def settings_of(session: Session, activity: Activity) -> CareerSettings:
    return session.get(CareerSettings, activity.id) or CareerSettings(activity_id=activity.id,
                                                                     staff_may_read=False)


def own_conversation(session: Session, actor: Actor, activity: Activity, *,
                     create: bool = True) -> CareerConversation:
    """The learner's conversation in the activity, made (empty, a draft) the first time they save; with
    ``create`` false, a blank one that is not stored (for the page before they first save)."""
    if actor.role is not CadreRole.LEARNER:
        ensure(permissions.refuse(403, "Not for your role", permissions.CAREER_PARTIES_ONLY))
    found = session.scalar(select(CareerConversation).where(
        CareerConversation.activity_id == activity.id, CareerConversation.learner_id == actor.user_id))
    if found is None and not create:
        return CareerConversation(activity_id=activity.id, learner_id=actor.user_id, learner_answers={},
                                  manager_answers={}, staff_consent=False, actions=[])
    if found is None:
        found = CareerConversation(activity_id=activity.id, learner_id=actor.user_id, learner_answers={},
                                   manager_answers={}, staff_consent=False)
        session.add(found)
        session.flush()
    return found


def conversation_of(session: Session, actor: Actor, activity: Activity,
                    conversation_id: int) -> CareerConversation:
    """A conversation of the activity the actor takes part in (anyone else, or a guess: "not found")."""
    found = session.get(CareerConversation, conversation_id)
    if found is not None and found.activity_id != activity.id:
        found = None
    ensure(permissions.can_edit_career_conversation(actor, found))
    assert found is not None
    return found


def readable_conversation(session: Session, actor: Actor, activity: Activity,
                          conversation_id: int) -> CareerConversation:
    """A conversation the actor may read: a party, or staff with the setting on and the learner's consent."""
    found = session.get(CareerConversation, conversation_id)
    if found is not None and found.activity_id != activity.id:
        found = None
    ensure(permissions.can_read_career_conversation(
        actor, found, staff_may_read=settings_of(session, activity).staff_may_read))
    assert found is not None
    return found


@dataclass
class PersonRow:
    learner: User
    conversation: CareerConversation | None
    """Shared with this manager; None while the learner has not shared theirs."""


def my_people(session: Session, actor: Actor, activity: Activity) -> list[PersonRow]:
    """The learners the actor is the line manager of in the course, with their shared conversation."""
    if not permissions.is_manager_in_course(actor, session):
        return []
    learners = session.scalars(select(User).join(ManagerLink, ManagerLink.learner_id == User.id)
                               .where(permissions.own_active_links(actor, activity.context_id))
                               .order_by(User.name, User.id)).unique().all()
    rows = []
    for learner in learners:
        if permissions.line_manager_id(session, activity.context_id, learner.id) != actor.user_id:
            continue
        conversation = session.scalar(select(CareerConversation).where(
            CareerConversation.activity_id == activity.id, CareerConversation.learner_id == learner.id,
            CareerConversation.shared_at.is_not(None)))
        rows.append(PersonRow(learner, conversation))
    return rows


@dataclass
class HeldRow:
    learner: User
    held_on: date | None
    conversation_id: int | None
    """Set only where the staff member may read the conversation itself."""


def held_overview(session: Session, actor: Actor, activity: Activity) -> list[HeldRow]:
    """For the course's staff: whose conversation took place, and when; nothing of what was said."""
    ensure(permissions.can_see_career_held(actor, activity))
    staff_may_read = settings_of(session, activity).staff_may_read
    rows = session.execute(select(CareerConversation, User)
                           .join(User, User.id == CareerConversation.learner_id)
                           .where(CareerConversation.activity_id == activity.id)
                           .order_by(User.name, User.id)).all()
    return [HeldRow(learner, conversation.held_on,
                    conversation.id if permissions.can_read_career_conversation(
                        actor, conversation, staff_may_read=staff_may_read) else None)
            for conversation, learner in rows]


# -- checking what was typed -------------------------------------------------------------------------------


def _answers(form: dict[str, str], *, required: str | None) -> tuple[dict[str, str], dict[str, str]]:
    answers = {key: (form.get(key) or "").strip() for key in QUESTION_KEYS}
    problems = {}
    for key, text in answers.items():
        if len(text) > MAX_ANSWER:
            problems[key] = TOO_LONG.format(limit=MAX_ANSWER, length=len(text))
        elif not text and required:
            problems[key] = required
    return answers, problems


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def action_rows(form: Any) -> list[dict[str, str]]:
    """The agreement form's action rows as typed (``what-N``, ``owner-N``, ``due-N``)."""
    rows = []
    for index in range(MAX_ACTIONS):
        row = {name: (form.get(f"{name}-{index}") or "") for name in ("what", "owner", "due")}
        rows.append(row)
    while rows and not any(value.strip() for value in rows[-1].values()):
        rows.pop()
    return rows


# -- changing things ---------------------------------------------------------------------------------------


def save_learner_answers(session: Session, actor: Actor, conversation: CareerConversation,
                         form: dict[str, str], *, share: bool) -> CareerConversation:
    """The learner's draft (any answer may be empty) or their sharing (all four answered)."""
    ensure(permissions.can_edit_career_conversation(actor, conversation))
    if conversation.learner_id != actor.user_id:
        raise CareerError("Only the learner changes their own answers.", status=403, title="Not allowed")
    answers, problems = _answers(form, required=EMPTY_ANSWER if share else None)
    if problems:
        raise CareerProblems(problems)
    conversation.learner_answers = answers
    conversation.updated_at = utcnow()
    if share and conversation.shared_at is None:
        conversation.shared_at = utcnow()
        audit(session, actor, "career.shared", conversation_id=conversation.id)
    return conversation


def save_manager_answers(session: Session, actor: Actor, conversation: CareerConversation,
                         form: dict[str, str]) -> CareerConversation:
    """The line manager's answers to the same four questions (each answered)."""
    ensure(permissions.can_edit_career_conversation(actor, conversation))
    if not permissions.is_career_manager(actor, conversation):
        raise CareerError("Only the learner's line manager adds the manager's answers.", status=403,
                          title="Not allowed")
    answers, problems = _answers(form, required=EMPTY_MANAGER_ANSWER)
    if problems:
        raise CareerProblems(problems)
    conversation.manager_answers = answers
    conversation.manager_id = actor.user_id
    conversation.updated_at = utcnow()
    return conversation


def record_agreement(session: Session, actor: Actor, conversation: CareerConversation,
                     rows: list[dict[str, str]], next_conversation: str, *,
                     today: date | None = None) -> CareerConversation:
    """The actions agreed (they take the place of those recorded before: see :func:`_keep_or_replace`) and
    the next conversation's date; the first agreement marks the conversation as held today."""
    ensure(permissions.can_edit_career_conversation(actor, conversation))
    if conversation.shared_at is None:
        raise CareerError(NOT_SHARED, status=409, title="Not shared yet")
    today = today or utcnow().date()
    problems: dict[str, str] = {}
    actions: dict[int, tuple[str, str, date]] = {}
    for index, row in enumerate(rows):
        what, owner, due_text = row.get("what", "").strip(), row.get("owner", ""), row.get("due", "").strip()
        if not (what or due_text):
            continue
        due = parse_date(due_text) if due_text else None
        if not what:
            problems[f"what-{index}"] = ACTION_NEEDS_WHAT
        elif len(what) > MAX_ACTION:
            problems[f"what-{index}"] = TOO_LONG.format(limit=MAX_ACTION, length=len(what))
        if owner not in ACTION_OWNERS:
            problems[f"owner-{index}"] = BAD_OWNER
        if not due_text:
            problems[f"due-{index}"] = ACTION_NEEDS_DUE
        elif due is None:
            problems[f"due-{index}"] = NOT_A_DATE
        elif due < today:
            problems[f"due-{index}"] = DUE_IN_PAST
        if due is not None and what and owner in ACTION_OWNERS:
            actions[index] = (what, owner, due)
    next_on = parse_date(next_conversation) if next_conversation.strip() else None
    if not next_conversation.strip():
        problems["next_conversation"] = NEXT_NEEDED
    elif next_on is None:
        problems["next_conversation"] = NOT_A_DATE
    elif next_on <= today:
        problems["next_conversation"] = NEXT_IN_PAST
    if problems:
        raise CareerProblems(problems)
    conversation.actions = _keep_or_replace(conversation.actions, actions)
    conversation.next_conversation_on = next_on
    conversation.updated_at = utcnow()
    if conversation.manager_id is None:
        conversation.manager_id = permissions.line_manager_id(session, conversation.activity.context_id,
                                                              conversation.learner_id)
    first = conversation.held_on is None
    if first:
        conversation.held_on = today
    session.flush()
    audit(session, actor, "career.agreed", conversation_id=conversation.id, actions=len(actions))
    if first:
        career_events.career_conversation_held(session, conversation, actor)
    return conversation


def _keep_or_replace(recorded: list[CareerAction],
                     agreed: dict[int, tuple[str, str, date]]) -> list[CareerAction]:
    """The conversation's actions once ``agreed`` (what, owner, due, by the form's row number) is saved.

    An action agreed again unchanged keeps its row, and a changed one is changed in place (row N of the
    form shows action N), because a reminder's outbox key names the action's id and its due date: a new
    row for every save would e-mail again about the same action and date. Rows no longer agreed go."""
    unused = list(recorded)
    kept: dict[int, CareerAction] = {}
    for index, values in agreed.items():
        same = next((action for action in unused if (action.what, action.owner, action.due_on) == values),
                    None)
        if same is not None:
            unused.remove(same)
            kept[index] = same
    for index, (what, owner, due) in agreed.items():
        if index in kept:
            continue
        shown = recorded[index] if index < len(recorded) else None
        if shown is not None and shown in unused:
            unused.remove(shown)
            shown.what, shown.owner, shown.due_on = what, owner, due
            kept[index] = shown
        else:
            kept[index] = CareerAction(what=what, owner=owner, due_on=due)
    return [kept[index] for index in sorted(kept)]


def set_consent(session: Session, actor: Actor, conversation: CareerConversation, consent: bool) -> None:
    """The learner lets course staff read their conversation (where the designer allows it), or takes it
    back."""
    ensure(permissions.can_edit_career_conversation(actor, conversation))
    if conversation.learner_id != actor.user_id:
        raise CareerError("Only the learner decides who else reads their conversation.", status=403,
                          title="Not allowed")
    conversation.staff_consent = consent
    audit(session, actor, "career.consent", conversation_id=conversation.id, consent=consent)


def save_settings(session: Session, actor: Actor, activity: Activity, *, staff_may_read: bool) -> None:
    ensure(permissions.can_configure_activity(actor, activity))
    settings = session.get(CareerSettings, activity.id)
    if settings is None:
        settings = CareerSettings(activity_id=activity.id)
        session.add(settings)
    settings.staff_may_read = staff_may_read
    settings.updated_at = utcnow()
    settings.updated_by_id = actor.user_id
    audit(session, actor, "career.settings", activity_id=activity.id, staff_may_read=staff_may_read)
