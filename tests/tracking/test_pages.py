"""The dashboards over real HTTP from the demo platform: the course's and an activity's pages show the
service's tables, with a chart and a CSV download of each; bad filters are a 400 that says why; learners,
managers, another course's designer and guessed ids are refused (pages and CSV alike)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from lti_tool.db import session_scope, utcnow
from lti_tool.models import Activity, Context, Launch
from lti_tool.permissions import COURSE_NOT_FOUND, DASHBOARD_STAFF_ONLY, STAFF_ONLY, Actor
from lti_tool.states import CadreRole
from lti_tool.tracking import dashboard, seed, tables, views
from tests.fixtures.visitors import Page, Visitor


@dataclass
class SeededCourse:
    context_id: int
    written: seed.Seeded
    path: str

    def activity_path(self, number: int = 0) -> str:
        return f"/activities/{self.written.activity_ids[number]}/dashboard"


def course_of(app: Flask, visitor: Visitor) -> int:
    with session_scope(app) as session:
        launch = session.get(Launch, visitor.launch_token)
        assert launch is not None and launch.context_id is not None
        return launch.context_id


def fill(app: Flask, visitor: Visitor, *, learners: int = 24, activities: int = 4) -> SeededCourse:
    """The visitor's course filled by the seeder (an activity titled like a spreadsheet formula)."""
    context_id = course_of(app, visitor)
    with session_scope(app) as session:
        written = seed.write(
            session,
            seed.generate(learners=learners, activities=activities, criteria=4, seed=2),
            context_id=context_id,
        )
        session.execute(
            update(Activity).where(Activity.id == written.activity_ids[0]).values(title="=1+2 call")
        )
    return SeededCourse(context_id, written, f"/courses/{context_id}/dashboard")


@pytest.fixture
def seeded(app: Flask, designer: Visitor) -> SeededCourse:
    return fill(app, designer)


def service_tables(app: Flask, course: SeededCourse, filters: dashboard.Filters) -> dict[str, tables.Table]:
    with session_scope(app) as session:
        context = session.get(Context, course.context_id)
        assert context is not None
        actor = Actor(
            course.written.designer_id, "Designer", context.platform_id, context.id, CadreRole.DESIGNER
        )
        board = dashboard.build(session, actor, context, filters)
        return {name: build(board) for name, build in tables.TABLES.items()}


def as_shown(table: tables.Table) -> list[str]:
    """The table's rows as the page's row text reads (cells run together, whitespace collapsed)."""
    return [" ".join("".join(row).split()) for row in table.rows]


def read_csv(page: Page) -> list[list[str]]:
    return list(csv.reader(io.StringIO(page.response.text)))


def test_the_course_dashboard_shows_the_services_tables_with_a_chart_and_a_csv_each(
    app: Flask, designer: Visitor, seeded: SeededCourse
) -> None:
    page = designer.get(designer.get("/home").link("course-dashboard-home-link"))
    assert page.status == 200, page.text[:1500]
    assert page.response.url.path == seeded.path
    expected = service_tables(app, seeded, dashboard.Filters())
    for name, table in expected.items():
        # The seeded course fills every table but the programme's (it has no survey nor follow-up).
        assert table.rows or name in ("survey-gaps", "follow-up-changes"), name
        assert page.texts(f"row-{name}") == as_shown(table), name
        downloaded = designer.get(page.link(f"csv-{name}"))
        assert downloaded.status == 200 and downloaded.response.headers["content-type"].startswith("text/csv")
        assert (
            f'filename="course-{seeded.context_id}-{name}.csv"'
            in downloaded.response.headers["content-disposition"]
        )
        written = read_csv(downloaded)
        assert written == list(csv.reader(io.StringIO(table.csv()))), name
        assert written[0] == list(table.headers) and len(written) == len(table.rows) + 1, name
    assert page.texts("expected-learners") == ["24"]
    head, _, body = page.response.text.partition("<body>")
    assert "<title>Dashboard of Demo" in head or "<title>Dashboard of " in head
    assert "programme" not in head and body.count('id="programme-title"') == 1
    # Every chart names itself for assistive technology and sits beside its table.
    charts = page.attributes("chart")
    assert len(charts) == 5 and all(chart["role"] == "img" and chart["aria-labelledby"] for chart in charts)
    assert page.response.text.count("<title id=") == 5 and page.response.text.count("<desc id=") == 5
    # A cell a spreadsheet would run as a formula is written as text.
    completion = read_csv(designer.get(page.link("csv-completion")))
    assert any(row[0] == "'=1+2 call" for row in completion[1:]), completion
    # The activity's own dashboard, and the staff page of its assessments linked rather than repeated.
    activity = designer.get(page.link("activity-dashboard-link"))
    assert activity.status == 200, activity.text[:1500]
    assert activity.link("staff-page-link").endswith(
        f"/activities/{seeded.written.activity_ids[0]}/assessments"
    )
    assert len(activity.texts("row-completion")) == 1


def test_filters_are_kept_in_the_csv_links_and_change_the_figures(
    app: Flask, designer: Visitor, seeded: SeededCourse
) -> None:
    manager_id = seeded.written.manager_ids[1]
    since = (utcnow() - timedelta(days=20)).date()
    page = designer.get(f"{seeded.path}?manager={manager_id}&from={since}&kind=manager_feedback")
    assert page.status == 200, page.text[:1500]
    filters = dashboard.Filters(
        manager_id=manager_id, since=since, kind=dashboard.ActivityKind.MANAGER_FEEDBACK
    )
    expected = service_tables(app, seeded, filters)
    unfiltered = service_tables(app, seeded, dashboard.Filters())
    assert expected["criteria"].rows != unfiltered["criteria"].rows
    for name in ("completion", "criteria", "trends", "managers"):
        link = page.link(f"csv-{name}")
        assert f"manager={manager_id}" in link and f"from={since}" in link and "kind=manager_feedback" in link
        assert read_csv(designer.get(link)) == list(csv.reader(io.StringIO(expected[name].csv()))), name
    assert [row[0] for row in read_csv(designer.get(page.link("csv-managers")))[1:]] == ["Manager 0001"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=yesterday", "The from date must be a date as YYYY-MM-DD"),
        ("to=2026-13-01", "The to date 2026-13-01 is not a day of the calendar."),
        ("from=2026-12-02&to=2026-12-01", "The from date (2026-12-02) is after the to date (2026-12-01)."),
        ("manager=%27%3B--", "The manager must be chosen from the list"),
        ("manager=%C2%B2", "The manager must be chosen from the list"),  # "²": a digit to str.isdigit
        ("kind=peer_lunch", "There is no activity kind “peer_lunch”"),
    ],
)
def test_bad_filters_are_a_400_that_says_why(
    designer: Visitor, seeded: SeededCourse, query: str, message: str
) -> None:
    for path in (seeded.path, f"{seeded.path}/criteria.csv"):
        refused = designer.get(f"{path}?{query}")
        assert refused.status == 400 and message in refused.text, refused.text[:1500]


def test_a_learner_as_manager_filter_and_an_unknown_table_are_refused(
    designer: Visitor, seeded: SeededCourse
) -> None:
    learner_id = seeded.written.learner_ids[0]
    refused = designer.get(f"{seeded.path}?manager={learner_id}")
    assert refused.status == 400
    assert dashboard.NO_SUCH_MANAGER.format(id=learner_id) in refused.text
    missing = designer.get(f"{seeded.path}/salaries.csv")
    assert missing.status == 404 and "There is no table “salaries”" in missing.text


def test_learners_managers_other_courses_and_guessed_ids_are_refused(
    app: Flask,
    designer: Visitor,
    learner: Visitor,
    manager: Visitor,
    other_designer: Visitor,
    admin: Visitor,
    seeded: SeededCourse,
) -> None:
    for visitor in (learner, manager):
        for path in (seeded.path, f"{seeded.path}/criteria.csv"):
            refused = visitor.get(path)
            assert refused.status == 403, (visitor.role, path, refused.status)
            assert DASHBOARD_STAFF_ONLY in refused.text or "Not for your role" in refused.text
        activity = visitor.get(seeded.activity_path())
        assert activity.status == 403 and (
            STAFF_ONLY in activity.text or "Not for your role" in activity.text
        )
    elsewhere = other_designer.get(seeded.path)
    assert elsewhere.status == 404 and COURSE_NOT_FOUND in elsewhere.text
    assert other_designer.get(f"{seeded.path}/managers.csv").status == 404
    assert other_designer.get(seeded.activity_path()).status == 404
    assert designer.get("/courses/2000000000/dashboard").status == 404
    assert designer.get("/activities/2000000000/dashboard").status == 404
    # The other course's own dashboard is empty of this course's people.
    own = other_designer.get(f"/courses/{course_of(app, other_designer)}/dashboard")
    assert own.status == 200 and own.texts("expected-learners") == ["0"]
    assert admin.get(seeded.path).status == 200


def test_the_page_lists_the_most_overdue_managers_and_the_csv_all_of_them(
    designer: Visitor, seeded: SeededCourse, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "MANAGERS_SHOWN", 2)
    page = designer.get(seeded.path)
    assert len(page.texts("row-managers")) == 2
    assert page.texts("more-managers") == ["The first 2 of 3 rows; the CSV has them all."]
    assert len(read_csv(designer.get(page.link("csv-managers")))) == 1 + 3
