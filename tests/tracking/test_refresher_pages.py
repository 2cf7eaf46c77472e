"""The refreshers' pages over real HTTP from the demo platform, and in a real browser (Debian's chromium,
axe-core's WCAG 2.2 AA checks): the designer attaches a refresher and sets the schedule, the line manager's
weak score schedules it, the learner finds it on their next launch and marks it done, the manager sees where
their person stands; bad input is kept as typed beside its message; every other person is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page as BrowserPage
from playwright.sync_api import expect
from sqlalchemy import select, update

from lti_tool.db import session_scope
from lti_tool.models import Context, Membership, User
from lti_tool.outbox import run_due_jobs
from lti_tool.permissions import NOT_YOUR_PERSON, REFRESHER_NOT_FOUND, REFRESHER_PEOPLE_ROLES
from lti_tool.records.models import Statement
from lti_tool.states import CadreRole, RefresherStatus
from lti_tool.tracking.refresher_models import Refresher, RefresherSettings, ScheduledRefresher
from lti_tool.tracking.refresher_views import NOTICES
from tests.feedback.test_pages import Placed, filled, placed  # noqa: F401 - the fixture
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor
from tests.rubric_library.test_browser_first_use import open_as

REFRESHER = {"target": "criterion:effect-on-results", "title": "Show the result",
             "body": "Name **one number** your customer cares about.", "link_url": "https://intranet.example/results",
             "threshold": ""}


def designer_path(placed: Placed) -> str:  # noqa: F811 - the fixture's value
    return f"/activities/{placed.activity_id}/refreshers"


def add_refresher(placed: Placed, **changes: str) -> Page:  # noqa: F811
    page = placed.designer.get(designer_path(placed))
    return placed.designer.submit(page, "refresher-form", {**REFRESHER, **changes})


def omar_scores_ana_low(placed: Placed) -> Visitor:  # noqa: F811
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    submitted = omar.submit(omar.get(path), "feedback-form", filled(), button=("action", "submit"))
    assert submitted.status == 200, submitted.text[:1500]
    return omar


def schedule_and_bring_step_one(app: Flask) -> None:
    results = run_due_jobs(app, names=["refreshers"])
    assert [result.error for result in results] == [None]
    with session_scope(app) as session:
        session.execute(update(ScheduledRefresher).where(ScheduledRefresher.step == 1)
                        .values(due_at=datetime.now(UTC) - timedelta(hours=2)))


def test_the_designer_attaches_the_learner_marks_done_and_the_manager_sees_it(
        placed: Placed, app: Flask) -> None:  # noqa: F811
    home = placed.designer.get("/home")
    assert home.link("refreshers-designer-link") == designer_path(placed)
    added = add_refresher(placed)
    assert added.texts("notice") == [NOTICES["added"]]
    assert added.texts("refresher")[0].startswith("Show the result")
    settings = placed.designer.submit(added, "refresher-settings", {"threshold": "50", "spacing": "1, 4, 9"})
    assert settings.texts("notice") == ["The settings are saved."]

    omar = omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    ana = placed.open("learner", user="learner-ana")
    assert ana.home.attributes("refresher-item")[0]["data-state"] == "due"
    assert "Name one number your customer cares about." in ana.home.texts("refresher-text")[0]
    assert "scored 33.33% on" in ana.home.texts("refresher-reason")[0]
    assert "below the 50% threshold" in ana.home.texts("refresher-reason")[0]
    mine = ana.get("/refreshers")
    (scheduled_id,) = [int(row["data-scheduled-id"]) for row in mine.attributes("refresher-item")]
    marked = ana.post(f"/refreshers/{scheduled_id}/done")
    assert marked.texts("notice") == ["Marked done. Well done!"]
    assert marked.texts("none-due") == ["Nothing is due now."] and len(marked.texts("upcoming-item")) == 2
    assert len(marked.texts("done-item")) == 1
    again = ana.post(f"/refreshers/{scheduled_id}/done")
    assert again.texts("notice") == ["Marked done. Well done!"]
    with session_scope(app) as session:
        completed = session.scalars(select(Statement).where(Statement.verb.endswith("/completed"))).all()
        assert len(completed) == 1 and completed[0].activity_kind == "manager_feedback"

    people = omar.get("/refreshers/people")
    ana_id = str(placed.user_id("learner-ana"))
    rows = {row["data-learner-id"]: position for position, row in enumerate(people.attributes("person-row"))}
    assert len(rows) == 2  # Ana and Ben, Omar's people; Ben has none
    assert people.texts("done")[rows[ana_id]] == "1" and people.texts("upcoming")[rows[ana_id]] == "2"
    assert sum(int(count) for count in people.texts("done") + people.texts("upcoming")) == 3
    person = omar.get(f"/refreshers/people/{ana_id}")
    assert [item["data-state"] for item in person.attributes("state-row")] == ["done", "upcoming", "upcoming"]
    assert person.texts("summary") == ["0 due now, 2 coming, 1 done, 0 stopped."]
    assert "33.33" not in person.text  # the score is the assessor's and the learner's, not every manager's
    designer_view = placed.designer.get(designer_path(placed))
    assert designer_view.texts("count-done") == ["1"] and designer_view.texts("count-learners") == ["1"]


def test_a_revised_assessment_above_the_threshold_stops_the_rest_and_says_so(
        placed: Placed, app: Flask) -> None:  # noqa: F811
    add_refresher(placed)
    omar = omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    path = placed.form_path("learner-ana")
    form = omar.get(path)
    revised = omar.submit(form, "feedback-form", filled(**{"level-effect-on-results": "consistent"}),
                          button=("action", "submit"))
    assert revised.status == 200, revised.text[:1500]  # its commit stopped the steps: no job ran since
    ana = placed.open("learner", user="learner-ana")
    (stopped,) = ana.home.texts("refresher-stopped")
    assert "your revised assessment scored 66.67%" in stopped and "no longer needed" in stopped
    assert ana.home.attributes("refresher-item") == []
    with session_scope(app) as session:
        statuses = session.scalars(select(ScheduledRefresher.status).order_by(ScheduledRefresher.step)).all()
    assert statuses == [RefresherStatus.STOPPED] * 4
    refused = ana.post(f"/refreshers/{_first_step(app)}/done")
    assert refused.status == 409 and "was stopped" in refused.text


def _first_step(app: Flask) -> int:
    with session_scope(app) as session:
        return session.scalars(select(ScheduledRefresher.id).where(ScheduledRefresher.step == 1)).one()


def test_bad_input_is_refused_beside_the_fields_and_kept(placed: Placed, app: Flask) -> None:  # noqa: F811
    refused = add_refresher(placed, link_url="javascript:alert(1)", title="Kept title", threshold="120")
    assert refused.status == 400
    assert {row["data-field"] for row in refused.attributes("problems")} == {"link_url", "threshold"}
    assert 'value="Kept title"' in refused.text and "javascript:alert(1)" in refused.text
    page = placed.designer.get(designer_path(placed))
    bad = placed.designer.submit(page, "refresher-settings", {"threshold": "60", "spacing": "7, 3"})
    assert bad.status == 400 and [row["data-field"] for row in bad.attributes("problems")] == ["spacing"]
    assert 'value="7, 3"' in bad.text
    with session_scope(app) as session:
        assert session.scalars(select(Refresher)).all() == []
        assert session.scalars(select(RefresherSettings)).all() == []
    added = add_refresher(placed)
    edit = placed.designer.get(added.link("edit-refresher"))
    blank = placed.designer.submit(edit, "refresher-form", {"title": "", "body": "", "link_url": ""},
                                   button=("action", "save"))
    assert blank.status == 400
    assert {row["data-field"] for row in blank.attributes("problems")} == {"title", "body"}
    with session_scope(app) as session:
        (kept,) = session.scalars(select(Refresher)).all()
        assert kept.title == "Show the result"
    changed = placed.designer.submit(edit, "refresher-form", {"title": "Show the outcome"},
                                     button=("action", "save"))
    assert changed.texts("notice") == ["The refresher is saved."]
    removed = placed.designer.submit(placed.designer.get(changed.link("edit-refresher")), "remove-form",
                                     button=("action", "remove"))
    assert removed.texts("notice") == ["The refresher is removed: its steps not done yet are cancelled."]
    assert removed.texts("no-refreshers")
    ana = placed.open("learner", user="learner-ana")
    assert ana.post("/refreshers/email", {"email": "maybe"}).status == 400
    for choice, wanted in (("off", "no"), ("on", "yes")):
        chosen = ana.post("/refreshers/email", {"email": choice})
        assert chosen.attributes("email-choice")[0]["data-wanted"] == wanted


def test_everyone_else_is_refused(placed: Placed, app: Flask) -> None:  # noqa: F811
    add_refresher(placed)
    omar = omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    ana_id = placed.user_id("learner-ana")
    step = _first_step(app)
    with session_scope(app) as session:
        refresher_id = session.scalars(select(Refresher.id)).one()
    ana = placed.open("learner", user="learner-ana")
    ben = placed.open("learner", user="learner-ben")
    rita = placed.open("manager", user="manager-rita")
    base = designer_path(placed)
    # Managers and learners do not set refreshers up.
    for visitor in (omar, ana):
        assert visitor.get(base).status == 403
        assert visitor.post(base, REFRESHER).status == 403
        assert visitor.post(f"{base}/settings", {"threshold": "1", "spacing": "1"}).status == 403
        assert visitor.post(f"{base}/{refresher_id}", {"action": "remove"}).status == 403
    # Another course's designer, guessed ids.
    other_designer = placed.open("designer", claims={"context": OTHER_COURSE})
    assert other_designer.get(base).status == 404
    assert other_designer.post(f"{base}/{refresher_id}", {"action": "remove"}).status == 404
    assert placed.designer.get("/activities/999999/refreshers").status == 404
    assert placed.designer.get(f"{base}/999999").status == 404
    assert placed.designer.get("/activities/2147483648/refreshers").status == 404
    # Only Ana marks Ana's refresher done; a manager has no "own refreshers" page.
    refused = ben.post(f"/refreshers/{step}/done")
    assert refused.status == 404 and REFRESHER_NOT_FOUND in refused.text
    assert ana.post("/refreshers/999999/done").status == 404
    assert omar.get("/refreshers").status == 403 and omar.post(f"/refreshers/{step}/done").status == 403
    assert placed.designer.post(f"/refreshers/{step}/done").status == 403
    # A person's refreshers: not to another learner, another manager, or another course.
    assert ben.get(f"/refreshers/people/{ana_id}").status == 404
    assert rita.get(f"/refreshers/people/{ana_id}").status == 404
    assert "learner-ana" not in rita.get("/refreshers/people").text
    elsewhere = placed.open("manager", claims={"context": OTHER_COURSE}).get(f"/refreshers/people/{ana_id}")
    assert elsewhere.attributes("state-row") == [] and "Show the result" not in elsewhere.text
    assert placed.designer.get("/refreshers/people/999999").status == 404
    not_a_manager = ben.get("/refreshers/people")
    assert not_a_manager.status == 403 and REFRESHER_PEOPLE_ROLES in not_a_manager.text
    # Allowed: Omar and the course's designer.
    assert omar.get(f"/refreshers/people/{ana_id}").status == 200
    assert placed.designer.get(f"/refreshers/people/{ana_id}").status == 200
    assert len(placed.designer.get("/refreshers/people").attributes("person-row")) == 1
    with session_scope(app) as session:
        assert session.scalars(select(ScheduledRefresher.status).where(ScheduledRefresher.id == step)).one() \
            is RefresherStatus.SCHEDULED
        # The other course's designer opened the placement there: a copy of the activity, with a copy of
        # the refresher; the original is untouched.
        original = session.get(Refresher, refresher_id)
        assert original is not None and original.archived_at is None


@pytest.mark.browser
@pytest.mark.e2e
def test_in_a_browser_the_pages_are_accessible(placed: Placed, app: Flask, page: BrowserPage,  # noqa: F811
                                               live_server: LiveServer) -> None:
    open_as(page, live_server, placed.designer, "/home")
    page.get_by_test_id("refreshers-designer-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Refreshers for")
    assert_accessible(page)
    page.get_by_test_id("refresher-target").select_option("criterion:effect-on-results")
    page.get_by_test_id("refresher-title").fill("Show the result")
    page.get_by_test_id("refresher-body").fill("Name **one number** your customer cares about.")
    page.get_by_test_id("refresher-link").fill("ftp://files.example/guide")
    page.get_by_test_id("add-refresher").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert_accessible(page)
    page.get_by_test_id("refresher-link").fill("https://intranet.example/results")
    page.get_by_test_id("add-refresher").click()
    expect(page.get_by_test_id("notice")).to_contain_text("The refresher is added")
    assert_accessible(page)

    omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    open_as(page, live_server, placed.open("learner", user="learner-ana"), "/home")
    item = page.get_by_test_id("refresher-item")
    expect(item).to_contain_text("Show the result")
    expect(item.locator("strong")).to_have_text("one number")  # the Markdown, rendered
    assert_accessible(page)
    page.get_by_test_id("my-refreshers-link").click()
    assert_accessible(page)
    page.get_by_test_id("mark-done").click()
    expect(page.get_by_test_id("notice")).to_have_text("Marked done. Well done!")
    assert_accessible(page)

    open_as(page, live_server, placed.open("manager"), "/home")
    page.get_by_test_id("people-refreshers-home-link").click()
    assert_accessible(page)
    page.get_by_role("link", name="Details for Ana Lima").click()
    expect(page.get_by_test_id("state-row").first).to_have_attribute("data-state", "done")
    assert_accessible(page)


def _more_people_with_refreshers(app: Flask, count: int) -> None:
    """``count`` more learners linked to Omar, each with a copy of Ana's schedule."""
    from lti_tool.models import ManagerLink, User
    from lti_tool.states import ManagerLinkSource

    with session_scope(app) as session:
        template = session.scalars(select(ScheduledRefresher).order_by(ScheduledRefresher.id)).all()
        omar = session.scalars(select(User).where(User.sub == "manager-omar")).one()
        ana = session.get(User, template[0].learner_id)
        assert ana is not None
        for number in range(count):
            learner = User(platform_id=ana.platform_id, sub=f"learner-extra-{number}", name=f"Extra {number}")
            session.add(learner)
            session.flush()
            session.add(ManagerLink(context_id=template[0].context_id, manager_id=omar.id,
                                    learner_id=learner.id, source=ManagerLinkSource.ROSTER))
            for step in template:
                session.add(ScheduledRefresher(
                    refresher_id=step.refresher_id, learner_id=learner.id, context_id=step.context_id,
                    assessment_id=step.assessment_id, trigger_revision_id=step.trigger_revision_id,
                    trigger_percent=step.trigger_percent, threshold_percent=step.threshold_percent,
                    step=step.step, step_count=step.step_count, due_at=step.due_at, status=step.status))


def test_the_people_pages_queries_do_not_grow_with_the_people(
        placed: Placed, app: Flask, count_queries) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    add_refresher(placed)
    omar = omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    omar.get("/refreshers/people")  # warm: the session's first page loads what every page needs
    with count_queries() as few:
        small = omar.get("/refreshers/people")
    _more_people_with_refreshers(app, 6)
    with count_queries() as more:
        large = omar.get("/refreshers/people")
    assert len(small.attributes("person-row")) == 2 and len(large.attributes("person-row")) == 8
    assert sum(int(count) for count in large.texts("upcoming")) == 4 * 7 - 7
    assert more.count == few.count


def test_staff_and_managers_read_only_their_courses_people(placed: Placed, app: Flask) -> None:  # noqa: F811
    add_refresher(placed)
    omar = omar_scores_ana_low(placed)
    schedule_and_bring_step_one(app)
    ana_id = placed.user_id("learner-ana")
    with session_scope(app) as session:
        ana = session.get(User, ana_id)
        assert ana is not None
        elsewhere = Context(platform_id=ana.platform_id, context_id="course-elsewhere", title="Elsewhere")
        olga = User(platform_id=ana.platform_id, sub="learner-olga", name="Olga Elsewhere")
        session.add_all([elsewhere, olga])
        session.flush()
        session.add(Membership(user_id=olga.id, context_id=elsewhere.id, role=CadreRole.LEARNER))
        session.flush()
        olga_id, ana_name = olga.id, ana.display_name
    unknown = placed.designer.get("/refreshers/people/999999")
    assert unknown.status == 404 and NOT_YOUR_PERSON in unknown.text
    for visitor in (placed.designer, omar):
        refused = visitor.get(f"/refreshers/people/{olga_id}")
        assert refused.status == 404 and NOT_YOUR_PERSON in refused.text
        assert "Olga" not in refused.text
        allowed = visitor.get(f"/refreshers/people/{ana_id}")
        assert allowed.status == 200 and f"Refreshers of {ana_name}" in allowed.text
        assert [row["data-state"] for row in allowed.attributes("state-row")] == ["due"] + ["upcoming"] * 3
