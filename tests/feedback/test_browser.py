"""The feedback pages in a real browser (Debian's chromium): the total explained as levels are picked, equal
to the server's; autosave across a reload; two tabs on one draft; submission; an expired launch while
autosaving or submitting; the activity settings configured in the browser; and axe-core's WCAG 2.2 AA
checks on the feedback form, the learner's feedback and self-assessment pages, the activity settings and the
staff pages."""

from __future__ import annotations

import random

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from sqlalchemy import select, update

import rubrics
from lti_tool.db import session_scope
from lti_tool.models import Activity, Assessment, AssessmentRevision, Launch
from lti_tool.states import AssessmentStatus
from tests.audit.helpers import create_from_template
from tests.deliverables.test_activities import save_settings
from tests.feedback import test_pages
from tests.feedback.test_pages import Placed, filled
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import Visitor
from tests.rubric_library.test_browser_first_use import open_as

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

placed = test_pages.placed  # the fixture: an activity placed and set up by the designer
WEIGHTED = "skill-assessment-coaching-conversation"
"""Weighted percentage, weights 1, 2, 2, 1: each share is a third or a sixth of 100, not a finite decimal."""
WEIGHTED_WITH_RANGES = "skill-assessment-customer-conversation"
"""Points, one criterion weighted 2, levels with a range of points."""


def use_rubric(placed: Placed, slug: str) -> rubrics.Rubric:
    rubric_id, _ = create_from_template(placed.designer, slug)
    saved = save_settings(placed.designer, placed.activity_id, rubric_id=str(rubric_id),
                          assessors="line_manager", feedback_release="on_submission",
                          work_product_required="", due_date="", due_time="")
    assert saved.status == 200, saved.text[:1500]
    return rubrics.get_template(slug)


def live_lines(page: Page) -> list[str]:
    return page.get_by_test_id("live-lines").locator("li").all_inner_texts()


def choose(page: Page, criterion: str, level: str) -> None:
    page.locator(f"fieldset[data-criterion='{criterion}'] input[value='{level}']").check()


def stored_revision(app: Flask) -> AssessmentRevision:
    with session_scope(app) as session:
        revision = session.scalars(select(AssessmentRevision).order_by(AssessmentRevision.id.desc())).first()
        assert revision is not None
        session.expunge(revision)
    return revision


def test_the_live_total_is_the_servers_for_a_weighted_rubric(page: Page, placed: Placed, app: Flask,
                                                             live_server: LiveServer) -> None:
    rubric = use_rubric(placed, WEIGHTED)
    omar = placed.open("manager")
    open_as(page, live_server, omar, placed.form_path("learner-ana"))
    expect(page.get_by_test_id("live-total")).to_be_visible()
    assert live_lines(page)[0] == f"{rubric.criteria[0].title}: no level chosen yet"
    choice = {"opening": "developing", "questions-and-listening": "exemplary",
              "employee-owned-solutions": "proficient", "commitments-and-follow-up": "beginning"}
    for criterion, level in list(choice.items())[:2]:
        choose(page, criterion, level)
    expect(page.get_by_test_id("live-total-sum")).to_contain_text("So far")
    for criterion, level in choice.items():
        choose(page, criterion, level)
    shown = live_lines(page)
    expected = rubrics.Scorer(rubric).score(
        [{"criterion": criterion, "level": level} for criterion, level in choice.items()]).explanation
    assert shown == list(expected)
    assert "Total: 70.83 of 100 = 70.83%" in shown

    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Feedback submitted.")
    assert stored_revision(app).explanation == shown  # the browser's lines are the stored ones

    # Many more choices, each explained in the page as the engine explains it.
    open_as(page, live_server, omar, placed.form_path("learner-ben"))
    scorer, rng = rubrics.Scorer(rubric), random.Random(8)
    for _ in range(25):
        picked = {c.identifier: rng.choice(c.levels).identifier for c in rubric.criteria}
        for criterion, level in picked.items():
            choose(page, criterion, level)
        engine = scorer.score([{"criterion": c, "level": lv} for c, lv in picked.items()]).explanation
        assert live_lines(page) == list(engine), picked


def test_the_live_total_follows_typed_points_and_weights(page: Page, placed: Placed, app: Flask,
                                                          live_server: LiveServer) -> None:
    rubric = use_rubric(placed, WEIGHTED_WITH_RANGES)
    omar = placed.open("manager")
    open_as(page, live_server, omar, placed.form_path("learner-ana"))
    for criterion in rubric.criteria:
        choose(page, criterion.identifier, "meets-standard")
    points = page.locator("input[name='points-explaining-value']")
    points.fill("3.5")
    answers = [{"criterion": c.identifier, "level": "meets-standard",
                "points": "3.5" if c.identifier == "explaining-value" else None} for c in rubric.criteria]
    assert live_lines(page) == list(rubrics.Scorer(rubric).score(answers).explanation)
    assert "× weight 2 = 7 of 10" in live_lines(page)[1]
    points.fill("4.5")  # outside the level's range: said, and no total
    assert "outside the level's range 3 to 4" in live_lines(page)[1]
    expect(page.get_by_test_id("live-total-sum")).to_contain_text("So far")
    points.fill("3.25")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Feedback submitted.")
    answers[1]["points"] = "3.25"
    assert stored_revision(app).explanation == list(rubrics.Scorer(rubric).score(answers).explanation)


def test_the_live_total_of_a_levels_only_rubric_names_levels_and_no_total(page: Page, placed: Placed,
                                                                          live_server: LiveServer) -> None:
    rubric = use_rubric(placed, "career-conversation-readiness")
    open_as(page, live_server, placed.open("manager"), placed.form_path("learner-ana"))
    picked = {criterion.identifier: criterion.levels[-1].identifier for criterion in rubric.criteria}
    for criterion, level in picked.items():
        choose(page, criterion, level)
    engine = rubrics.Scorer(rubric).score([{"criterion": c, "level": lv} for c, lv in picked.items()])
    assert live_lines(page) == list(engine.explanation)
    expect(page.get_by_test_id("live-total-sum")).to_have_text("Every criterion has a level.")


def fill_answers(page: Page, **changes: str) -> None:
    for name, value in filled(**changes).items():
        if name.startswith("level-"):
            choose(page, name.removeprefix("level-"), value)
        else:
            page.locator(f"[name='{name}']").fill(value)


def draft_of(app: Flask) -> Assessment | None:
    with session_scope(app) as session:
        found = session.scalars(select(Assessment)).first()
        if found is not None:
            session.expunge(found)
        return found


def test_autosave_keeps_the_draft_across_a_reload_and_submission_follows(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer
) -> None:
    omar = placed.open("manager")
    open_as(page, live_server, omar, placed.form_path("learner-ana"))
    fill_answers(page, next_steps="Half written on the train")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    saved = draft_of(app)
    assert saved is not None and saved.draft_content["next_steps"] == "Half written on the train"

    page.reload()
    page.wait_for_selector("main h1")
    expect(page.locator("[name=next_steps]")).to_have_value("Half written on the train")
    expect(page.locator("fieldset[data-criterion='consistency'] input[value='role-model']")).to_be_checked()
    assert page.get_by_test_id("draft-revision").get_attribute("value") == str(saved.draft_revision)

    page.locator("[name=next_steps]").fill("Summarise at the end.")
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Feedback submitted.")
    submitted = draft_of(app)
    assert submitted is not None and submitted.status is AssessmentStatus.SUBMITTED
    assert stored_revision(app).next_steps == "Summarise at the end."
    open_as(page, live_server, omar, placed.form_path("learner-ana"))  # the browser's copy is let go
    expect(page.get_by_test_id("submitted-note")).to_be_visible()
    wait_until_no_kept_drafts(page)


def wait_until_no_kept_drafts(page: Page) -> None:
    """The page's script lets this browser's copies go (it runs once cadre-launch.js has put the page in,
    which can be after ``load``); fails with the copies still kept after the timeout."""
    try:
        page.wait_for_function("""() => !Object.keys(localStorage).some(k => k.startsWith('cadre-draft:'))""",
                               timeout=10_000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"this browser still keeps {kept_drafts(page)}") from None


def kept_drafts(page: Page) -> list[dict[str, object]]:
    """The copies of drafts this browser keeps (static/feedback-form.js)."""
    return page.evaluate("""() => Object.keys(localStorage).filter(k => k.startsWith('cadre-draft:'))
                            .map(k => JSON.parse(localStorage.getItem(k)))""")


def test_a_tab_opened_while_another_keeps_a_copy_saves_it_and_neither_is_told_of_a_conflict(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer
) -> None:
    """The first tab's answers are kept in this browser before its autosave lands; a second tab opened then
    offers them back and saves them. The first tab's save is refused as from an older revision, with the
    very same answers on the server: nothing to choose between, so it goes on from there, no conflict."""
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    open_as(page, live_server, omar, path)
    expect(page.locator("form[data-autosave=on]")).to_have_count(1)
    page.locator("[name=strengths]").fill("Typed in the first tab")  # kept at once; saved within seconds
    second = page.context.new_page()
    open_as(second, live_server, omar, path)
    expect(second.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved", timeout=12_000)
    for tab in (page, second):
        expect(tab.get_by_test_id("autosave-conflict")).to_be_hidden()
        expect(tab.locator("[name=strengths]")).to_have_value("Typed in the first tab")
    with page.expect_response(lambda answer: answer.url.endswith("/draft"), timeout=12_000) as saved:
        page.locator("[name=next_steps]").fill("Then the first tab again")  # on from the new revision
    assert saved.value.status == 200
    expect(page.get_by_test_id("autosave-conflict")).to_be_hidden()
    stored = draft_of(app)
    assert stored is not None and stored.draft_content["next_steps"] == "Then the first tab again"
    assert stored.draft_content["strengths"] == "Typed in the first tab"


def test_two_tabs_on_one_draft_the_second_save_is_told_and_keeps_what_was_typed(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer
) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    open_as(page, live_server, omar, path)
    second = page.context.new_page()
    open_as(second, live_server, omar, path)
    for tab in (page, second):  # both scripts running before anything is typed (each runs after load)
        expect(tab.locator("form[data-autosave=on]")).to_have_count(1)

    page.locator("[name=strengths]").fill("Typed in the first tab")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    conflicts: list[int] = []
    second.on("response", lambda response: conflicts.append(response.status)
              if response.url.endswith("/draft") else None)
    second.locator("[name=strengths]").fill("Typed in the second tab")
    box = second.get_by_test_id("autosave-conflict")
    expect(box).to_be_visible(timeout=12_000)
    assert 409 in conflicts
    expect(box).to_contain_text("another tab or device")
    expect(box).to_contain_text("Typed in the first tab")  # the server's copy is shown
    expect(second.locator("[name=strengths]")).to_have_value("Typed in the second tab")  # nothing lost
    assert_accessible(second)
    stored = draft_of(app)
    assert stored is not None and stored.draft_content["strengths"] == "Typed in the first tab"

    second.get_by_test_id("keep-mine").click()
    expect(second.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    stored = draft_of(app)
    assert stored is not None and stored.draft_content["strengths"] == "Typed in the second tab"
    second.close()

    # The first tab is the stale one now: told in turn, it takes the saved copy instead.
    page.locator("[name=next_steps]").fill("Only in the first tab")
    first_box = page.get_by_test_id("autosave-conflict")
    expect(first_box).to_be_visible(timeout=12_000)
    page.get_by_test_id("take-saved").click()
    expect(page.locator("[name=strengths]")).to_have_value("Typed in the second tab")
    expect(page.locator("[name=next_steps]")).to_have_value("")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("You took the copy saved elsewhere")
    assert kept_drafts(page) == []


def test_an_expired_launch_during_autosave_says_how_to_relaunch_and_keeps_the_draft(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer
) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    open_as(page, live_server, omar, path)
    with session_scope(app) as session:  # the launch ends while the form is open
        session.execute(update(Launch).values(expires_at=Launch.created_at))
    page.locator("[name=strengths]").fill("Typed after the launch expired")
    status = page.get_by_test_id("autosave-status")
    expect(status).to_contain_text("open the activity again from your course", timeout=12_000)
    assert draft_of(app) is None  # the server has nothing
    assert [copy["content"]["strengths"] for copy in kept_drafts(page)] == ["Typed after the launch expired"]

    # Launched again from the LMS: the kept copy is offered back and saved.
    again = placed.open("manager")
    open_as(page, live_server, again, path)
    expect(page.locator("[name=strengths]")).to_have_value("Typed after the launch expired")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    stored = draft_of(app)
    assert stored is not None and stored.draft_content["strengths"] == "Typed after the launch expired"


def test_a_submission_refused_for_an_expired_launch_is_given_back_on_the_next_launch(
    page: Page, placed: Placed, app: Flask, live_server: LiveServer
) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    open_as(page, live_server, omar, path)
    fill_answers(page, strengths="Submitted too late")
    with session_scope(app) as session:
        session.execute(update(Launch).values(expires_at=Launch.created_at))
    page.get_by_test_id("submit").click()
    expect(page.locator("main")).to_contain_text("open the activity again from your course")
    assert draft_of(app) is None

    open_as(page, live_server, placed.open("manager"), path)
    expect(page.locator("[name=strengths]")).to_have_value("Submitted too late")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=12_000)
    expect(page.locator("fieldset[data-criterion='consistency'] input[value='role-model']")).to_be_checked()
    stored = draft_of(app)
    assert stored is not None and stored.status is AssessmentStatus.DRAFT
    assert stored.draft_content["strengths"] == "Submitted too late"


def test_the_designer_configures_an_activity_in_the_browser(page: Page, placed: Placed, app: Flask,
                                                            live_server: LiveServer) -> None:
    rubric_id, _ = create_from_template(placed.designer, WEIGHTED)
    open_as(page, live_server, placed.designer, f"/activities/{placed.activity_id}/settings")
    assert_accessible(page)
    page.get_by_label("Title").fill("Coaching conversation, observed")
    page.get_by_test_id("rubric-choice").select_option(str(rubric_id))
    page.get_by_label("Date").fill("2027-03-31")
    page.get_by_label("Time", exact=True).fill("17:30")
    page.get_by_test_id("due-timezone").select_option("Europe/Paris")
    page.locator("#field-points_possible").fill("20")
    page.get_by_label("Any manager linked to the learner").check()
    page.get_by_label("When course staff release it").check()
    page.get_by_test_id("save-settings").click()
    expect(page.get_by_test_id("notice")).to_have_text("Settings saved.")
    assert_accessible(page)
    with session_scope(app) as session:
        activity = session.get(Activity, placed.activity_id)
        assert activity is not None and activity.title == "Coaching conversation, observed"
        assert activity.points_possible == 20 and activity.due_timezone == "Europe/Paris"
        assert activity.due_at is not None and activity.due_at.isoformat() == "2027-03-31T15:30:00+00:00"
        assert activity.assessors.value == "any_manager"
        assert activity.feedback_release.value == "when_released"
        assert activity.rubric_version is not None and activity.rubric_version.rubric_id == rubric_id

    page.locator("#field-points_possible").fill("a lot")  # refused beside the field, the rest kept
    page.get_by_test_id("save-settings").click()
    expect(page.get_by_test_id("problem-summary")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("Coaching conversation, observed")
    assert_accessible(page)


def test_the_feedback_pages_have_no_wcag_violation(page: Page, placed: Placed, app: Flask,
                                                  live_server: LiveServer) -> None:
    omar = placed.open("manager")
    open_as(page, live_server, omar, placed.form_path("learner-ana"))
    assert_accessible(page)
    page.get_by_test_id("submit").click()  # nothing chosen: every problem beside its field
    expect(page.get_by_test_id("problem-summary")).to_be_visible()
    assert_accessible(page)
    fill_answers(page)
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("notice")).to_have_text("Feedback submitted.")
    assert_accessible(page)  # the people list

    ana: Visitor = placed.open("learner", user="learner-ana")
    open_as(page, live_server, ana, f"/activities/{placed.activity_id}/feedback")
    assert_accessible(page)
    open_as(page, live_server, ana, f"/activities/{placed.activity_id}/self-assessment")
    assert_accessible(page)

    open_as(page, live_server, placed.designer, f"/activities/{placed.activity_id}/assessments")
    assert_accessible(page)
    page.get_by_test_id("history-link").first.click()
    page.wait_for_selector("[data-testid=revision]")
    assert_accessible(page)
