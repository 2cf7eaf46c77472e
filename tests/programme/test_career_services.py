"""The career conversation's rules: the learner's draft and sharing, the line manager's answers, the
agreement (actions and the next date) and who may read it; each refusal, and bad input on every field."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lti_tool.models import ManagerLink
from lti_tool.permissions import (
    Actor,
    PermissionDenied,
    can_edit_career_conversation,
    can_read_career_conversation,
    can_see_career_held,
)
from lti_tool.programme import career
from lti_tool.programme.career_models import CareerConversation
from lti_tool.states import ActivityKind, CadreRole, ManagerLinkRelation, ManagerLinkSource
from tests.programme.conftest import Course

TODAY = date.today()
ANSWERS = {"five_years": "Lead the service team", "to_learn": "Managing people",
           "to_show": "Two quarters on target", "when_ready": "In two years: after the pilot"}


def _ready(course: Course, **values: object) -> tuple[object, CareerConversation]:
    activity = course.activity(ActivityKind.CAREER_CONVERSATION, title="Career talk", **values)
    conversation = career.own_conversation(course.db, course.ana_actor, activity)
    return activity, conversation


def _shared(course: Course) -> tuple[object, CareerConversation]:
    activity, conversation = _ready(course)
    career.save_learner_answers(course.db, course.ana_actor, conversation, ANSWERS, share=True)
    return activity, conversation


def _agree(course: Course, actor: Actor, conversation: CareerConversation, *, next_on: str | None = None,
           rows: list[dict[str, str]] | None = None) -> CareerConversation:
    rows = rows if rows is not None else [
        {"what": "Shadow a team lead for a month", "owner": "learner",
         "due": (TODAY + timedelta(30)).isoformat()},
        {"what": "Find a people-management course", "owner": "manager",
         "due": (TODAY + timedelta(14)).isoformat()}]
    return career.record_agreement(course.db, actor, conversation, rows,
                                   next_on if next_on is not None else (TODAY + timedelta(90)).isoformat(),
                                   today=TODAY)


def test_learner_drafts_shares_manager_adds_and_they_agree(course: Course) -> None:
    activity, conversation = _ready(course)
    career.save_learner_answers(course.db, course.ana_actor, conversation, {"five_years": "Lead"},
                                share=False)
    assert conversation.shared_at is None and conversation.learner_answers["five_years"] == "Lead"
    assert not can_edit_career_conversation(course.omar, conversation), "a draft is the learner's alone"
    assert career.my_people(course.db, course.omar, activity)[0].conversation is None

    career.save_learner_answers(course.db, course.ana_actor, conversation, ANSWERS, share=True)
    assert conversation.shared_at is not None
    people = career.my_people(course.db, course.omar, activity)
    assert [row.learner.id for row in people] == [course.ana.id, course.ben.id]
    assert people[0].conversation is conversation

    career.save_manager_answers(course.db, course.omar, conversation, {**ANSWERS, "to_learn": "Budgeting"})
    assert conversation.manager_answers["to_learn"] == "Budgeting"
    assert conversation.manager_id == course.omar.user_id
    _agree(course, course.omar, conversation)
    assert conversation.held_on == TODAY
    assert [(action.owner, action.what) for action in conversation.actions] == [
        ("learner", "Shadow a team lead for a month"), ("manager", "Find a people-management course")]
    assert conversation.next_conversation_on == TODAY + timedelta(90)

    overview = career.held_overview(course.db, course.designer, activity)
    assert [(row.learner.id, row.held_on, row.conversation_id) for row in overview] == [
        (course.ana.id, TODAY, None)]


def test_a_learner_role_manager_of_moodle_holds_the_conversation(course: Course, db) -> None:
    activity = course.activity(ActivityKind.CAREER_CONVERSATION)
    chloe_id = db.scalar(select(ManagerLink.learner_id).where(
        ManagerLink.manager_id == course.lena.user_id))
    chloe = Actor(chloe_id, "Chloé", course.platform.id, course.context.id, CadreRole.LEARNER)
    conversation = career.own_conversation(db, chloe, activity)
    career.save_learner_answers(db, chloe, conversation, ANSWERS, share=True)
    assert can_edit_career_conversation(course.lena, conversation)
    career.save_manager_answers(db, course.lena, conversation, ANSWERS)
    assert conversation.manager_id == course.lena.user_id


def _refused(decision: object) -> None:
    assert not decision
    assert decision.status == 404  # type: ignore[attr-defined]


def test_refusals_of_reading_and_changing(course: Course, db) -> None:
    activity, conversation = _shared(course)
    ben = Actor(course.ben.id, "Ben", course.platform.id, course.context.id, CadreRole.LEARNER)
    rita = course.managers[1]
    db.add(ManagerLink(context_id=course.context.id, manager_id=rita.user_id, learner_id=course.ana.id,
                       relation=ManagerLinkRelation.MENTOR, source=ManagerLinkSource.ROSTER))
    db.flush()
    for who in (ben, course.managers[2], rita, course.lena, course.designer, course.stranger,
                course.other_designer):
        _refused(can_edit_career_conversation(who, conversation))
        _refused(can_read_career_conversation(who, conversation, staff_may_read=False))
    _refused(can_edit_career_conversation(course.ana_actor, None))  # a guessed id finds nothing
    with pytest.raises(PermissionDenied):
        career.conversation_of(db, course.omar, activity, conversation.id + 1000)
    other = course.activity(ActivityKind.CAREER_CONVERSATION, title="Another")
    with pytest.raises(PermissionDenied):  # a real id, asked for under another activity
        career.conversation_of(db, course.omar, other, conversation.id)
    with pytest.raises(PermissionDenied):
        career.save_manager_answers(db, rita, conversation, ANSWERS)
    with pytest.raises(career.CareerError):
        career.save_learner_answers(db, course.omar, conversation, ANSWERS, share=False)
    with pytest.raises(career.CareerError):
        career.set_consent(db, course.omar, conversation, True)
    assert not can_see_career_held(course.omar, activity)
    assert not can_see_career_held(course.other_designer, activity)


def test_staff_read_only_with_the_setting_and_the_learners_consent(course: Course, db) -> None:
    activity, conversation = _shared(course)
    _refused(can_read_career_conversation(course.designer, conversation, staff_may_read=True))
    career.set_consent(db, course.ana_actor, conversation, True)
    _refused(can_read_career_conversation(course.designer, conversation, staff_may_read=False))
    assert can_read_career_conversation(course.designer, conversation, staff_may_read=True)
    assert not can_edit_career_conversation(course.designer, conversation), "staff read, never change"
    _refused(can_read_career_conversation(course.other_designer, conversation, staff_may_read=True))
    _refused(can_read_career_conversation(course.omar.__class__(
        course.designer.user_id, "Maya", course.platform.id, course.other_context.id, CadreRole.DESIGNER),
        conversation, staff_may_read=True))
    with pytest.raises(PermissionDenied):
        career.readable_conversation(db, course.designer, activity, conversation.id)
    career.save_settings(db, course.designer, activity, staff_may_read=True)
    assert career.readable_conversation(db, course.designer, activity, conversation.id) is conversation
    assert career.held_overview(db, course.designer, activity)[0].conversation_id == conversation.id
    career.set_consent(db, course.ana_actor, conversation, False)  # revoked
    with pytest.raises(PermissionDenied):
        career.readable_conversation(db, course.designer, activity, conversation.id)


def test_bad_answers_are_refused_field_by_field(course: Course) -> None:
    _activity, conversation = _ready(course)
    with pytest.raises(career.CareerProblems) as refused:
        career.save_learner_answers(course.db, course.ana_actor, conversation,
                                    {"five_years": "x" * (career.MAX_ANSWER + 1), "to_learn": "  "},
                                    share=True)
    assert refused.value.problems == {
        "five_years": career.TOO_LONG.format(limit=career.MAX_ANSWER, length=career.MAX_ANSWER + 1),
        "to_learn": career.EMPTY_ANSWER, "to_show": career.EMPTY_ANSWER, "when_ready": career.EMPTY_ANSWER}
    assert conversation.shared_at is None and conversation.learner_answers == {}
    career.save_learner_answers(course.db, course.ana_actor, conversation, ANSWERS, share=True)
    with pytest.raises(career.CareerProblems) as refused:
        career.save_manager_answers(course.db, course.omar, conversation, {"five_years": "Team lead"})
    assert set(refused.value.problems) == {"to_learn", "to_show", "when_ready"}
    assert conversation.manager_answers == {}


@pytest.mark.parametrize(("next_on", "rows", "expected"), [
    ("", [], {"next_conversation": career.NEXT_NEEDED}),
    ("next spring", [], {"next_conversation": career.NOT_A_DATE}),
    (TODAY.isoformat(), [], {"next_conversation": career.NEXT_IN_PAST}),
    ((TODAY - timedelta(1)).isoformat(), [], {"next_conversation": career.NEXT_IN_PAST}),
    (None, [{"what": "", "owner": "learner", "due": (TODAY + timedelta(3)).isoformat()}],
     {"what-0": career.ACTION_NEEDS_WHAT}),
    (None, [{"what": "y" * 301, "owner": "learner", "due": (TODAY + timedelta(3)).isoformat()}],
     {"what-0": career.TOO_LONG.format(limit=300, length=301)}),
    (None, [{"what": "Read", "owner": "the designer", "due": (TODAY + timedelta(3)).isoformat()}],
     {"owner-0": career.BAD_OWNER}),
    (None, [{"what": "Read", "owner": "", "due": ""}], {"owner-0": career.BAD_OWNER,
                                                        "due-0": career.ACTION_NEEDS_DUE}),
    (None, [{"what": "Read", "owner": "manager", "due": "31/12/2030"}], {"due-0": career.NOT_A_DATE}),
    (None, [{"what": "Read", "owner": "manager", "due": (TODAY - timedelta(1)).isoformat()}],
     {"due-0": career.DUE_IN_PAST}),
])
def test_bad_agreements_are_refused(course: Course, next_on: str | None, rows: list[dict[str, str]],
                                    expected: dict[str, str]) -> None:
    _activity, conversation = _shared(course)
    with pytest.raises(career.CareerProblems) as refused:
        _agree(course, course.ana_actor, conversation, next_on=next_on, rows=rows)
    assert refused.value.problems == expected
    assert conversation.held_on is None and conversation.actions == []


def test_no_agreement_before_the_learner_shares(course: Course) -> None:
    _activity, conversation = _ready(course)
    with pytest.raises(career.CareerError) as refused:
        _agree(course, course.ana_actor, conversation)
    assert refused.value.status == 409


def test_only_career_conversation_activities(course: Course) -> None:
    survey = course.activity(ActivityKind.MANAGER_INSIGHT_SURVEY)
    with pytest.raises(PermissionDenied):
        career.career_activity(course.db, course.ana_actor, survey.id)
    with pytest.raises(PermissionDenied):
        career.career_activity(course.db, course.ana_actor, 2_000_000)
    with pytest.raises(PermissionDenied):
        career.own_conversation(course.db, course.omar, course.activity(ActivityKind.CAREER_CONVERSATION))
