"""``make demo`` seeds the programme's activities too: a survey answered by both managers with a named gap,
six-month follow-ups due and answered with what changed, a career conversation held (actions, next date)
and one prepared, and coaching logs with a shared and a private well-being check; each through Cadre's
services, placed in the demo LMS without a gradebook column."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.demo.seed_programme import COACHING, PROGRAMME, SURVEY
from lti_tool.models import Activity, User
from lti_tool.programme import coaching_log, survey
from lti_tool.programme.career_models import CareerConversation
from lti_tool.programme.coaching_models import CoachingSession
from lti_tool.programme.models import FollowUp, SurveyResponse
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind, FollowUpStatus, SurveyResponseStatus
from tests.demo.test_seed import Demo, demo  # noqa: F401 - the fixture

__all__ = ["demo"]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_every_programme_kind_is_seeded_with_something_to_see_and_to_do(demo: Demo) -> None:  # noqa: F811
    now = datetime.now(UTC)
    with session_scope(demo.app) as session:
        placed = {activity.title: activity for activity in session.scalars(
            select(Activity).where(Activity.title.in_([item.title for item in PROGRAMME])))}
        assert set(placed) == {item.title for item in PROGRAMME}
        assert {activity.kind for activity in placed.values()} == {
            ActivityKind.MANAGER_INSIGHT_SURVEY, ActivityKind.SIX_MONTH_FOLLOW_UP,
            ActivityKind.CAREER_CONVERSATION, ActivityKind.COACHING_LOG}
        assert all(a.configured_at and a.line_item_url is None and a.rubric_version_id is None
                   for a in placed.values())
        subs = {user.id: user.sub for user in session.scalars(select(User))}

        # The survey: both managers answered, and two of their answers make one named gap, ranked first.
        the_survey = placed[SURVEY.title]
        responses = session.scalars(select(SurveyResponse).where(
            SurveyResponse.activity_id == the_survey.id)).all()
        assert sorted(subs[r.respondent_id] for r in responses) == ["manager-omar", "manager-rita"]
        assert all(r.status is SurveyResponseStatus.SUBMITTED for r in responses)
        assert survey.results_visible(session, the_survey)
        top = survey.ranked_gaps(session, the_survey)[0]
        assert top.name == "Price before needs" and top.managers == 2 and top.answers == 2

        # Follow-ups: each has one answered with what changed, and one due and not answered yet.
        follow_up_activities = [a for a in placed.values() if a.kind is ActivityKind.SIX_MONTH_FOLLOW_UP]
        assert len(follow_up_activities) == 2
        for activity in follow_up_activities:
            rows = session.scalars(select(FollowUp).where(FollowUp.activity_id == activity.id)).all()
            answered = [row for row in rows if row.status is FollowUpStatus.ANSWERED]
            due = [row for row in rows
                   if row.status is FollowUpStatus.SCHEDULED and _aware(row.due_at) <= now]
            assert len(answered) == 1 and answered[0].what_changed, activity.title
            assert len(due) == 1, activity.title
        rubric_answered = session.scalars(select(FollowUp).where(FollowUp.rubric_answers.is_not(None))).all()
        assert len(rubric_answered) == 1 and subs[rubric_answered[0].learner_id] == "learner-ana"

        # Career conversations: Ana's held (both sides' answers, three actions, a next date); Chloé's a draft.
        conversations = {subs[c.learner_id]: c for c in session.scalars(select(CareerConversation))}
        held, draft = conversations["learner-ana"], conversations["learner-chloe"]
        assert held.held_on and held.shared_at and len(held.manager_answers) == 4
        assert len(held.actions) == 3 and {action.owner for action in held.actions} == {"learner", "manager"}
        assert held.next_conversation_on is not None and held.next_conversation_on > now.date()
        assert draft.shared_at is None and draft.held_on is None and draft.learner_answers["five_years"]

        # Coaching logs: three people, a shared and a private well-being check, the default 80% aim.
        log = placed[COACHING.title]
        sessions = session.scalars(select(CoachingSession).where(CoachingSession.activity_id == log.id)).all()
        assert {subs[row.owner_id] for row in sessions} == {"manager-omar", "manager-rita", "learner-ana"}
        checks = [row for row in sessions if row.stress is not None]
        assert sorted(row.wellbeing_shared for row in checks) == [False, True]
        assert coaching_log.aim_of(session, log) == coaching_log.AIM_PERCENT
        assert {row.kind.value for row in sessions} == {"coaching", "mentoring"}

        # Each session is a learning record; no statement carries a well-being check.
        bodies = [json.dumps(row.body) for row in session.scalars(select(Statement))]
        coaching = [body for body in bodies if "/coaching-session/" in body]  # not a peer-coaching one
        assert len(coaching) == len(sessions)
        for row in checks:
            assert not any(row.in_control in body or row.not_in_control in body for body in bodies)
    # The demo LMS shows every programme activity in its course, without a gradebook column.
    titles = {activity.title for activity in demo.platform.course.activities}
    assert titles >= {item.title for item in PROGRAMME}
    assert not {item["label"] for item in demo.platform.line_items} & {item.title for item in PROGRAMME}
