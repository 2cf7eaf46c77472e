"""A rubric follow-up keeps the manager's draft, as the feedback form does: Save draft keeps a half-typed
answer, the autosave sends it as JSON, a save from an older revision is refused with the saved copy (nothing
overwritten), bad input is refused with nothing stored, submitting clears the draft, and nobody but the
follow-up's manager saves one. Services, then pages over real HTTP, then Chromium typing and reloading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from playwright.sync_api import Page as BrowserPage
from playwright.sync_api import expect
from sqlalchemy import select, update
from werkzeug.datastructures import MultiDict

from lti_tool.db import session_scope
from lti_tool.permissions import PermissionDenied
from lti_tool.programme import follow_ups, survey
from lti_tool.programme.models import FollowUp
from lti_tool.states import FollowUpStatus
from tests.feedback import test_pages as feedback_pages
from tests.feedback.conftest import LEVELS
from tests.feedback.test_pages import Placed, autosave, filled
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.visitors import OTHER_COURSE, Visitor, visitor_from
from tests.programme.conftest import Course
from tests.programme.test_follow_up_services import feedback_activity, follow_up_of, give_feedback, make_due
from tests.programme.test_pages import place_kind
from tests.rubric_library.test_browser_first_use import open_as

placed = feedback_pages.placed


# -- services ----------------------------------------------------------------------------------------------


@pytest.fixture
def due_row(course: Course) -> FollowUp:
    source = feedback_activity(course)
    activity = follow_up_of(course, source)
    give_feedback(course, source)
    follow_ups.schedule_missing(course.db)
    make_due(course, activity)
    (row,) = follow_ups.my_follow_ups(course.db, course.omar, activity)
    return row


def _draft(row: FollowUp, course: Course, **answers: str) -> dict[str, object]:
    _version, rubric, _revision = follow_ups.rubric_of(course.db, row)
    first = rubric.criteria[0].identifier
    return {"criteria": {first: {"level": answers.get("level", ""), "points": "",
                                 "comment": answers.get("comment", "")}},
            "what_changed": answers.get("what_changed", "")}


def test_a_half_typed_draft_is_kept_and_submitting_clears_it(course: Course, due_row: FollowUp) -> None:
    saved = follow_ups.save_rubric_draft(course.db, course.omar, due_row,
                                         _draft(due_row, course, comment="Half way", what_changed="Calmer"),
                                         based_on=0)
    assert saved.draft_revision == 1 and saved.draft_saved_at is not None
    assert saved.draft_content is not None and saved.draft_content["what_changed"] == "Calmer"
    assert saved.status is FollowUpStatus.SCHEDULED  # a draft is not an answer
    more = _draft(due_row, course, what_changed="More")
    follow_ups.save_rubric_draft(course.db, course.omar, due_row, more, based_on=1)
    _version, rubric, _revision = follow_ups.rubric_of(course.db, due_row)
    form = MultiDict({f"level-{c.identifier}": c.levels[-1].identifier for c in rubric.criteria})
    form.update({"what_changed": "She runs the calls herself.",
                 f"comment-{rubric.criteria[-1].identifier}": "Keep going."})
    with pytest.raises(follow_ups.RubricDraftConflict):
        follow_ups.answer_rubric_again(course.db, course.omar, due_row, form, based_on=1)  # opened before
    assert due_row.status is FollowUpStatus.SCHEDULED
    follow_ups.answer_rubric_again(course.db, course.omar, due_row, form, based_on=2)
    assert due_row.status is FollowUpStatus.ANSWERED and due_row.draft_content is None
    assert due_row.draft_revision == 3


def test_a_save_from_an_older_revision_is_refused_and_the_saved_copy_kept(course: Course,
                                                                          due_row: FollowUp) -> None:
    first_tab = _draft(due_row, course, what_changed="Tab one")
    follow_ups.save_rubric_draft(course.db, course.omar, due_row, first_tab, based_on=0)
    with pytest.raises(follow_ups.RubricDraftConflict) as conflict:
        follow_ups.save_rubric_draft(course.db, course.omar, due_row,
                                     _draft(due_row, course, what_changed="Tab two"), based_on=0)
    assert conflict.value.status == 409 and "another tab" in conflict.value.message
    assert due_row.draft_content is not None and due_row.draft_content["what_changed"] == "Tab one"
    assert due_row.draft_revision == 1


@pytest.mark.parametrize(("draft", "field"), [
    ({"criteria": [], "what_changed": ""}, "form"),
    ("not an object", "form"),
    ({"criteria": {}, "what_changed": 7}, "what_changed"),
    ({"criteria": {}, "what_changed": "x" * (follow_ups.MAX_WHAT_CHANGED + 1)}, "what_changed"),
])
def test_a_bad_draft_is_refused_and_nothing_stored(course: Course, due_row: FollowUp, draft: object,
                                                   field: str) -> None:
    with pytest.raises(survey.SurveyProblems) as refused:
        follow_ups.save_rubric_draft(course.db, course.omar, due_row, draft, based_on=0)
    assert field in refused.value.problems
    assert due_row.draft_content is None and due_row.draft_revision == 0


def test_nobody_but_its_manager_saves_a_draft_and_not_before_it_is_due(course: Course,
                                                                       due_row: FollowUp) -> None:
    for someone in (course.managers[1], course.lena, course.ana_actor, course.designer, course.stranger):
        with pytest.raises(PermissionDenied):
            follow_ups.save_rubric_draft(course.db, someone, due_row, _draft(due_row, course), based_on=0)
    course.db.execute(update(FollowUp).where(FollowUp.id == due_row.id)
                      .values(due_at=datetime.now(UTC) + timedelta(days=3)))
    course.db.expire_all()
    with pytest.raises(follow_ups.FollowUpError) as early:
        follow_ups.save_rubric_draft(course.db, course.omar, due_row, _draft(due_row, course), based_on=0)
    assert early.value.status == 409
    assert due_row.draft_content is None


# -- pages -------------------------------------------------------------------------------------------------


@dataclass
class DueFollowUp:
    omar: Visitor
    path: str
    follow_up_id: int
    link: str
    designer: Visitor


def _due_follow_up(placed: Placed, app: Flask) -> DueFollowUp:
    omar = placed.open("manager")
    form = omar.get(placed.form_path("learner-ana"))
    assert omar.submit(form, "feedback-form", filled(), button=("action", "submit")).status == 200
    link, follow_id, designer = place_kind(placed.platform, app, "six_month_follow_up", "Six months on")
    settings = designer.get(f"/activities/{follow_id}/settings")
    designer.submit(settings, "follow-up-settings-form", {"source_activity_id": str(placed.activity_id)})
    with session_scope(app) as session:
        session.execute(update(FollowUp).values(due_at=datetime.now(UTC) - timedelta(hours=1)))
        follow_up_id = session.scalar(select(FollowUp.id))
    assert follow_up_id is not None
    manager = visitor_from(placed.platform.launch_as("manager", activity=link), "manager")
    return DueFollowUp(manager, f"/activities/{follow_id}/follow-ups/{follow_up_id}", follow_up_id, link,
                       designer)


@pytest.fixture
def due(placed: Placed, app: Flask) -> DueFollowUp:
    return _due_follow_up(placed, app)


def test_save_draft_keeps_the_form_and_a_stale_form_is_answered_409(due: DueFollowUp, app: Flask) -> None:
    page = due.omar.get(due.path)
    assert page.status == 200 and page.form("follow-up-rubric-form").fields["draft_revision"] == "0"
    first = next(iter(LEVELS))
    saved = due.omar.submit(page, "follow-up-rubric-form", {f"level-{first}": "role-model",
                                                            "what_changed": "Half written"},
                            button=("action", "save"))
    assert saved.status == 200 and saved.texts("notice")[0].startswith("Draft saved")
    fields = saved.form("follow-up-rubric-form").fields
    assert fields["what_changed"] == "Half written" and fields[f"level-{first}"] == "role-model"
    assert fields["draft_revision"] == "1"
    stale = due.omar.submit(page, "follow-up-rubric-form", {"what_changed": "From the old tab"},
                            button=("action", "save"))
    assert stale.status == 409 and stale.texts("conflict")
    assert stale.form("follow-up-rubric-form").fields["what_changed"] == "From the old tab"  # kept as typed
    assert stale.form("follow-up-rubric-form").fields["draft_revision"] == "1"  # saving again replaces
    with session_scope(app) as session:
        row = session.get(FollowUp, due.follow_up_id)
        assert row is not None and row.draft_content is not None
        assert row.draft_content["what_changed"] == "Half written"
    missing = due.omar.post(due.path, {"what_changed": "No revision", "action": "save"})
    assert missing.status == 400


def test_the_autosave_answers_json(due: DueFollowUp, app: Flask) -> None:
    first = next(iter(LEVELS))
    body = {"draft_revision": 0, "content": {"criteria": {first: {"level": "role-model", "points": "",
                                                                  "comment": "Better"}},
                                             "what_changed": "Typing"}}
    saved = autosave(due.omar, due.path, body)
    assert saved.status_code == 200 and saved.json()["draft_revision"] == 1 and saved.json()["saved_at"]
    conflict = autosave(due.omar, due.path, {**body, "content": {"criteria": {}, "what_changed": "Other"}})
    assert conflict.status_code == 409
    assert conflict.json()["draft_revision"] == 1 and conflict.json()["content"]["what_changed"] == "Typing"
    for bad in ({"draft_revision": "one", "content": {}}, [], {"draft_revision": True, "content": {}}):
        assert autosave(due.omar, due.path, bad).status_code == 400
    too_long = autosave(due.omar, due.path, {"draft_revision": 1, "content": {
        "criteria": {}, "what_changed": "x" * (follow_ups.MAX_WHAT_CHANGED + 1)}})
    assert too_long.status_code == 400 and "what_changed" in too_long.json()["problems"]
    huge = {"draft_revision": 1, "content": {"what_changed": "x" * 300_000}}
    assert autosave(due.omar, due.path, huge).status_code == 413
    with session_scope(app) as session:
        row = session.get(FollowUp, due.follow_up_id)
        assert row is not None and row.draft_revision == 1 and row.draft_content is not None
        assert row.draft_content["what_changed"] == "Typing"


def test_only_the_follow_ups_manager_saves_its_draft(placed: Placed, due: DueFollowUp, app: Flask) -> None:
    draft_url = due.path + "/draft"
    body = {"draft_revision": 0, "content": {"criteria": {}, "what_changed": "Not mine"}}
    rita = visitor_from(placed.platform.launch_as("manager", activity=due.link, user="manager-rita"),
                        "manager")
    learner = visitor_from(placed.platform.launch_as("learner", activity=due.link), "learner")
    for someone in (rita, learner):
        assert autosave(someone, due.path, body).status_code == 404
        assert someone.post(due.path, {"draft_revision": "0", "action": "save"}).status == 404
    assert autosave(due.designer, due.path, body).status_code == 403
    other = visitor_from(placed.platform.launch_as("manager", claims={"context": OTHER_COURSE}), "manager")
    assert autosave(other, due.path, body).status_code == 404
    due.omar.client.cookies.clear()
    no_token = due.omar.client.post(draft_url, json=body, headers={"X-Cadre-Launch": due.omar.launch_token})
    assert no_token.status_code in (400, 403)
    with session_scope(app) as session:
        row = session.get(FollowUp, due.follow_up_id)
        assert row is not None and row.draft_content is None


# -- the browser -------------------------------------------------------------------------------------------


def test_what_the_manager_types_is_saved_as_they_type_and_back_after_a_reload(
    placed: Placed, app: Flask, page: BrowserPage, live_server: LiveServer,
) -> None:
    due = _due_follow_up(placed, app)
    open_as(page, live_server, due.omar, due.path)
    assert_accessible(page)
    page.get_by_label("What changed since your first assessment?").fill("Runs the calls herself now.")
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved at", timeout=15_000)
    with session_scope(app) as session:
        row = session.get(FollowUp, due.follow_up_id)
        assert row is not None and row.draft_content is not None
        assert row.draft_content["what_changed"] == "Runs the calls herself now."
    page.reload()
    expect(page.get_by_label("What changed since your first assessment?")).to_have_value(
        "Runs the calls herself now.")
    assert_accessible(page)
    page.get_by_test_id("submit-follow-up").click()  # no level chosen yet: refused, the text kept
    expect(page.get_by_test_id("form-message")).to_be_visible()
    expect(page.get_by_label("What changed since your first assessment?")).to_have_value(
        "Runs the calls herself now.")
    assert_accessible(page)
    for criterion in LEVELS:
        page.locator(f'input[name="level-{criterion}"][value="role-model"]').check()
    page.locator("#field-comment-next-step").fill("Runs the calls herself.")
    page.get_by_test_id("submit-follow-up").click()
    expect(page.get_by_test_id("notice")).to_contain_text("follow-up is submitted")
    open_as(page, live_server, due.designer, due.path.rsplit("/", 1)[0] + "/report")
    expect(page.get_by_test_id("criterion-change")).to_have_count(len(LEVELS))
    assert_accessible(page)
