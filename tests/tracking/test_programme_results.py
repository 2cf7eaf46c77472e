"""The course dashboard's programme section: each insight survey's costliest gaps as the survey's own
ranking gives them (nothing from an anonymous survey before k answers), and the follow-ups' reports."""

from __future__ import annotations

import pytest

from lti_tool.permissions import Actor
from lti_tool.programme import survey
from lti_tool.states import ActivityKind, CadreRole
from lti_tool.tracking import dashboard, tables
from lti_tool.tracking.programme_results import TOP_GAPS, programme_results
from tests.programme.conftest import Course, course, mistake  # noqa: F401  (course: the fixture)
from tests.programme.test_survey_services import configure


def test_the_costliest_gaps_of_each_survey_and_nothing_from_an_anonymous_one_before_k(course: Course) -> None:  # noqa: F811
    named = course.activity(title="Where calls go wrong")
    configure(course, named)
    anonymous = course.activity(title="Said in confidence")
    configure(course, anonymous, anonymous=True, min_answers="3")
    omar, rita = course.managers[:2]
    course.answer(
        omar,
        named,
        mistake(
            "Skipping the call summary",
            frequency="per_week",
            per_week="3",
            impact="4",
            cost="120",
            currency="EUR",
        ),
        mistake("Talking over the customer", frequency="daily", impact="3", cost="10", currency="EUR"),
    )
    course.answer(
        rita,
        named,
        mistake("Skipping the call summary", frequency="monthly", impact="5", cost="100", currency="EUR"),
    )
    course.answer(omar, anonymous, mistake("Blaming the warehouse", frequency="daily", impact="5"))
    course.activity(ActivityKind.SIX_MONTH_FOLLOW_UP, title="Six months on")

    surveys, follow_ups = programme_results(course.db, course.designer, course.context)
    assert [(found.activity.title, found.visible) for found in surveys] == [
        ("Where calls go wrong", True),
        ("Said in confidence", False),
    ]
    assert surveys[1].gaps == []  # one answer of three needed: no figure at all
    ranked = survey.ranked_gaps(course.db, named, by="cost")[:TOP_GAPS]
    assert (
        [gap.name for gap in surveys[0].gaps]
        == [gap.name for gap in ranked]
        == ["Skipping the call summary", "Talking over the customer"]
    )
    assert [follow_up.activity.title for follow_up in follow_ups] == ["Six months on"]

    board = dashboard.build(course.db, course.designer, course.context, dashboard.Filters())
    board.surveys, board.follow_ups = surveys, follow_ups
    table = tables.survey_gaps_table(board)
    assert [row[:3] for row in table.rows] == [
        ("Where calls go wrong", "1", "Skipping the call summary"),
        ("Where calls go wrong", "2", "Talking over the customer"),
    ]
    assert table.rows[0][5] == f"{ranked[0].cost_per_week:.2f}"
    assert "Blaming" not in table.csv() and "Omar" not in table.csv()
    assert tables.follow_up_changes_table(board).rows == ()


def test_the_platforms_administrator_reads_the_section_from_any_course_and_others_do_not(
    course: Course,  # noqa: F811
) -> None:
    """An administrator reads every course's dashboard of the platform: its programme section too (the
    survey's results and the follow-up's report), from another course's launch or none; another course's
    designer is told the activity is not found, the course's manager that it is not for them."""
    from lti_tool.permissions import PermissionDenied, can_read_follow_up_report, can_read_survey_results

    named = course.activity(title="Where calls go wrong")
    configure(course, named)
    course.answer(course.omar, named, mistake("Skipping the call summary", frequency="daily", impact="3"))
    follow_up = course.activity(ActivityKind.SIX_MONTH_FOLLOW_UP, title="Six months on")
    other = course.other_designer
    for context_id in (course.other_context.id, None):
        admin = Actor(other.user_id, "Ada Admin", course.platform.id, context_id, CadreRole.ADMIN)
        surveys, follow_ups = programme_results(course.db, admin, course.context)
        assert [found.activity.title for found in surveys] == ["Where calls go wrong"]
        assert [found.activity.title for found in follow_ups] == ["Six months on"]
        assert can_read_survey_results(admin, named) and can_read_follow_up_report(admin, follow_up)
    stranger_admin = Actor(other.user_id, "Ada Admin", course.platform.id + 1000, None, CadreRole.ADMIN)
    for actor, status in ((other, 404), (stranger_admin, 404), (course.omar, 403)):
        for decision in (can_read_survey_results(actor, named), can_read_follow_up_report(actor, follow_up)):
            assert not decision and decision.status == status, (actor.role, decision)
    with pytest.raises(PermissionDenied):
        programme_results(course.db, other, course.context)
