"""The manager's people list: filtered by name, state and due date and sorted as its query string says,
the links and the form keeping the other choices, and a query count that does not grow with the people."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from sqlalchemy import update

from lti_tool.db import session_scope, utcnow
from lti_tool.feedback.people_filters import PeopleFilters
from lti_tool.models import Activity
from tests.feedback import test_pages
from tests.feedback.test_pages import Placed, autosave, draft_body, filled
from tests.feedback.test_staff import add_people, refresh_roster
from tests.fixtures.database import CountQueries
from tests.fixtures.visitors import Page, Visitor

placed = test_pages.placed  # the fixture: an activity placed and set up by the designer


def people_path(placed: Placed, query: str = "") -> str:
    return f"/activities/{placed.activity_id}/people" + (f"?{query}" if query else "")


def listed(page: Page) -> list[tuple[str, str]]:
    return [(row["data-learner-id"], row["data-state"]) for row in page.attributes("person")]


def names(placed: Placed, page: Page) -> list[str]:
    ids = {str(placed.user_id(sub)): sub for sub in ("learner-ana", "learner-ben")}
    return [ids.get(row["data-learner-id"], row["data-learner-id"]) for row in page.attributes("person")]


def due_yesterday(app: Flask) -> None:
    with session_scope(app) as session:
        session.execute(update(Activity).values(due_at=utcnow() - timedelta(hours=30)))


def test_the_people_list_filters_and_sorts_by_its_query_string(placed: Placed, app: Flask) -> None:
    refresh_roster(placed.designer)  # the roster names Ana and Ben
    omar: Visitor = placed.open("manager")
    due_yesterday(app)
    everyone = omar.get(people_path(placed))
    assert names(placed, everyone) == ["learner-ana", "learner-ben"]
    assert everyone.texts("people-count")[0].startswith("2 of 2 shown")
    ana_path, ben_path = placed.form_path("learner-ana"), placed.form_path("learner-ben")
    assert autosave(omar, ben_path, draft_body(0, next_steps="Half")).status_code == 200
    submitted = omar.submit(omar.get(ana_path), "feedback-form", filled(), button=("action", "submit"))
    assert submitted.status == 200

    by_name = omar.get(people_path(placed, "name=okaf"))
    assert names(placed, by_name) == ["learner-ben"]
    assert by_name.form("people-filters").fields["name"] == "okaf"  # what was typed stays in the form
    assert names(placed, omar.get(people_path(placed, "state=submitted"))) == ["learner-ana"]
    assert names(placed, omar.get(people_path(placed, "state=draft"))) == ["learner-ben"]
    assert names(placed, omar.get(people_path(placed, "due=overdue"))) == ["learner-ben"]
    assert names(placed, omar.get(people_path(placed, "due=on_time"))) == ["learner-ana"]
    late_first = omar.get(people_path(placed, "sort=overdue"))
    assert names(placed, late_first) == ["learner-ben", "learner-ana"]
    assert late_first.texts("sorted-by") == ["most overdue"]
    assert names(placed, omar.get(people_path(placed, "sort=state"))) == ["learner-ben", "learner-ana"]
    none = omar.get(people_path(placed, "name=nobody"))
    assert none.attributes("person") == [] and none.texts("people-none-match")

    # Sorting keeps the filters and filtering keeps the sort.
    filtered = omar.get(people_path(placed, "due=overdue&name=ben"))
    sort_link = parse_qs(urlsplit(filtered.link("sort-state")).query)
    assert sort_link == {"due": ["overdue"], "name": ["ben"], "sort": ["state"]}
    assert parse_qs(urlsplit(filtered.link("clear-filters")).query) == {}
    sorted_page = omar.get(people_path(placed, "sort=overdue"))
    assert sorted_page.form("people-filters").fields["sort"] == "overdue"
    refiltered = omar.submit(sorted_page, "people-filters", {"state": "submitted"})
    assert names(placed, refiltered) == ["learner-ana"]
    assert refiltered.texts("sorted-by") == ["most overdue"]

    # Nonsense in the address shows everyone, by name.
    odd = omar.get(people_path(placed, "state=lost&due=yesterday&sort=%27--&name=" + "x" * 500))
    assert odd.status == 200 and odd.texts("people-none-match")
    assert PeopleFilters.from_args({"name": "x" * 500}).name == "x" * 100
    assert names(placed, omar.get(people_path(placed, "state=lost&due=yesterday&sort=%27--"))) == [
        "learner-ana", "learner-ben"]


def test_the_people_list_costs_the_same_queries_for_2_or_42_people(
    placed: Placed, app: Flask, count_queries: CountQueries
) -> None:
    refresh_roster(placed.designer)
    omar = placed.open("manager")
    due_yesterday(app)
    query = "sort=overdue&due=overdue&state=not_started&name=e"
    with count_queries() as few:
        assert len(omar.get(people_path(placed)).attributes("person")) == 2
    with count_queries() as few_filtered:
        omar.get(people_path(placed, query))
    add_people(app, 40)
    with count_queries() as many:
        assert len(omar.get(people_path(placed)).attributes("person")) == 42
    with count_queries() as many_filtered:
        page = omar.get(people_path(placed, query))
    assert len(page.attributes("person")) == 21  # Ben and the 20 without a draft
    assert many.count == few.count, many.statements
    assert many_filtered.count == few_filtered.count == few.count
