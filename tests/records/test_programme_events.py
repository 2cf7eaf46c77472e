"""The manager insight survey and its follow-ups as learning records: answered, scheduled, answered again;
an anonymous survey records none of them (a statement names its actor)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.programme import follow_ups, survey
from lti_tool.records.models import Statement
from tests.programme.conftest import Course, course, mistake  # noqa: F401 - the fixture
from tests.programme.test_follow_up_services import follow_up_of, make_due
from xapi.vocabulary import Verb


@pytest.fixture
def in_app(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def recorded(course: Course) -> list[tuple[str, int | None, str]]:  # noqa: F811
    """(verb, person, object id) of every statement, in stored order."""
    return [(row.verb, row.person_id, row.object_id)
            for row in course.db.scalars(select(Statement).order_by(Statement.seq))]


def test_an_answer_its_follow_up_and_the_answer_to_it_are_each_one_statement(course: Course,  # noqa: F811
                                                                              in_app: Flask) -> None:
    source = course.activity()
    activity = follow_up_of(course, source)
    course.answer(course.omar, source, mistake("Late"))
    course.answer(course.omar, source, mistake("Later"))  # a revision: the same answer
    (row,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    omar = course.omar.user_id
    answered, scheduled = recorded(course)
    assert answered[:2] == (Verb.ANSWERED.iri, omar) and answered[2].endswith(f"/activity/{source.id}")
    assert scheduled[:2] == (Verb.SCHEDULED.iri, omar) and scheduled[2].endswith(f"/follow-up/{row.id}")
    make_due(course, activity)
    row = follow_ups.follow_up_of(course.db, course.omar, activity, row.id)
    follow_ups.answer_survey_again(course.db, course.omar, row, [mistake("Late", impact="1")],
                                   "Calls start on time since the new rota.", based_on=0, submitting=True)
    verbs = [verb for verb, _person, _object in recorded(course)]
    assert verbs.count(Verb.ANSWERED.iri) >= 2 and verbs[:2] == [Verb.ANSWERED.iri, Verb.SCHEDULED.iri]
    answer_to_follow_up = course.db.scalars(select(Statement).where(
        Statement.object_id.endswith(f"/follow-up/{row.id}"), Statement.verb == Verb.ANSWERED.iri)).one()
    assert "Calls start on time" in str(answer_to_follow_up.body["result"])


def test_an_anonymous_survey_records_nothing_of_its_managers(course: Course, in_app: Flask) -> None:  # noqa: F811
    source = course.activity()
    survey.save_settings(course.db, course.designer, source,
                         survey.SettingsInput(anonymous=True, min_answers="3"))
    activity = follow_up_of(course, source)
    for manager in course.managers[:3]:
        course.answer(manager, source, mistake("Late"))
    make_due(course, activity)
    row = follow_ups.my_follow_ups(course.db, course.omar, activity)[0]
    follow_ups.answer_survey_again(course.db, course.omar, row, [mistake("Late")], "Less often",
                                   based_on=0, submitting=True)
    assert recorded(course) == []
