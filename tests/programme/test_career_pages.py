"""The career conversation's pages over real HTTP from the demo platform, and in a real browser (Debian's
chromium, axe-core's WCAG 2.2 AA checks): the learner prepares and shares, their line manager adds theirs,
they record what they agreed; bad input is kept as typed beside its message; the designer sees only the
day it was held; another learner and another manager are refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page as BrowserPage
from playwright.sync_api import expect
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import ManagerLink, User
from lti_tool.programme import career
from lti_tool.records.models import Statement
from lti_tool.states import ManagerLinkSource, ManagerLinkStatus
from tests.fixtures.browser import assert_accessible
from tests.fixtures.live_server import LiveServer
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Page, Visitor, visitor_from
from tests.programme.test_pages import place_kind
from tests.rubric_library.test_browser_first_use import open_as

ANSWERS = {"five_years": "Lead the service team", "to_learn": "Managing people",
           "to_show": "Two quarters on target", "when_ready": "In two years, after the pilot"}


class Career:
    def __init__(self, platform: RunningPlatform, app: Flask) -> None:
        self.link, self.activity_id, self.designer = place_kind(platform, app, "career_conversation",
                                                                "Where next")
        self.platform, self.app = platform, app
        self.ana = self.open("learner", user="learner-ana")
        self.omar = self.open("manager", user="manager-omar")
        with session_scope(app) as session:
            ana = session.scalars(select(User).where(User.sub == "learner-ana")).one()
            omar = session.scalars(select(User).where(User.sub == "manager-omar")).one()
            context_id = self.activity().context_id
            if session.scalar(select(ManagerLink.id).where(
                    ManagerLink.context_id == context_id, ManagerLink.learner_id == ana.id,
                    ManagerLink.manager_id == omar.id,
                    ManagerLink.status == ManagerLinkStatus.ACTIVE)) is None:
                session.add(ManagerLink(context_id=context_id, manager_id=omar.id, learner_id=ana.id,
                                        source=ManagerLinkSource.ROSTER))

    def activity(self) -> Any:
        from lti_tool.models import Activity

        with session_scope(self.app) as session:
            found = session.get(Activity, self.activity_id)
            session.expunge(found)
            return found

    def open(self, role: str, *, user: str | None = None) -> Visitor:
        return visitor_from(self.platform.launch_as(role, activity=self.link, user=user), role)

    @property
    def base(self) -> str:
        return f"/activities/{self.activity_id}/career"


@pytest.fixture
def placed(platform: RunningPlatform, app: Flask) -> Career:
    return Career(platform, app)


def _fields(page: Page, testid: str, **values: str) -> dict[str, str]:
    form = page.form(testid)
    return {**{name: value for name, value in form.fields.items() if name in ("lt", "csrf_token")}, **values}


def test_the_learner_shares_the_manager_adds_and_they_agree(placed: Career) -> None:
    mine = placed.ana.get(placed.ana.home.link("career-link"))
    assert mine.status == 200
    draft = placed.ana.get(mine.link("career-own-link"))
    assert draft.texts("career-status") == ["Draft: only you see it"]
    refused = placed.ana.post(placed.base + "/mine", _fields(draft, "career-learner-form",
                                                               five_years="Lead", action="share"))
    assert refused.status == 400
    assert [row["data-field"] for row in refused.attributes("problems")] == ["to_learn", "to_show",
                                                                             "when_ready"]
    assert "Lead" in refused.text and "Answer this question before you share" in refused.text
    shared = placed.ana.post(placed.base + "/mine", _fields(draft, "career-learner-form", **ANSWERS,
                                                              action="share"))
    assert shared.texts("notice") == ["Your answers are shared with your manager."], shared.text[:1500]
    conversation_path = str(shared.response.url.path)

    people = placed.omar.get(placed.base)
    assert len(people.attributes("career-person-link")) == 1  # only Ana shared hers
    page = placed.omar.get(people.link("career-person-link"))
    assert page.status == 200 and "Managing people" in page.text
    too_long = placed.omar.post(conversation_path + "/manager", _fields(
        page, "career-manager-form", **{**ANSWERS, "to_learn": "x" * (career.MAX_ANSWER + 1)}))
    assert too_long.status == 400 and [row["data-field"] for row in too_long.attributes("problems")] == [
        "to_learn"]
    saved = placed.omar.post(conversation_path + "/manager", _fields(page, "career-manager-form", **ANSWERS))
    assert saved.texts("notice") == ["Your answers are saved."]

    soon = (date.today() + timedelta(20)).isoformat()
    bad = placed.omar.post(conversation_path + "/agreement", _fields(
        saved, "career-agreement-form", **{"what-0": "Lead the stand-up", "owner-0": "designer",
                                           "due-0": soon, "next_conversation": date.today().isoformat()}))
    assert bad.status == 400
    assert {row["data-field"] for row in bad.attributes("problems")} == {"owner-0", "next_conversation"}
    assert "Lead the stand-up" in bad.text
    agreed = placed.omar.post(conversation_path + "/agreement", _fields(
        saved, "career-agreement-form", **{"what-0": "Lead the stand-up", "owner-0": "learner", "due-0": soon,
                                           "next_conversation": (date.today() + timedelta(90)).isoformat()}))
    assert agreed.texts("notice") == ["What you agreed is recorded."]
    with session_scope(placed.app) as session:
        held = session.scalars(select(Statement).where(Statement.verb.endswith("/attended"))).all()
        assert [statement.activity_kind for statement in held] == ["career_conversation"]
        assert "Managing people" not in str(held[0].body) and "Lead the stand-up" not in str(held[0].body)
    placed.omar.post(conversation_path + "/agreement", _fields(  # agreed again: still one statement
        saved, "career-agreement-form", **{"next_conversation": (date.today() + timedelta(95)).isoformat()}))
    with session_scope(placed.app) as session:
        assert len(session.scalars(select(Statement.seq).where(
            Statement.verb.endswith("/attended"))).all()) == 1

    overview = placed.designer.get(placed.base)
    assert len(overview.attributes("career-held-row")) == 1
    assert date.today().isoformat() in overview.texts("career-held-row")[0]
    assert "Read" not in overview.texts("career-held-row")[0]
    assert placed.designer.get(conversation_path).status == 404
    assert "Managing people" not in overview.text

    ben = placed.open("learner", user="learner-ben")
    assert ben.get(conversation_path).status == 404
    assert ben.post(conversation_path + "/learner", {**ANSWERS, "action": "save"}).status == 404
    rita = placed.open("manager", user="manager-rita")
    assert rita.get(conversation_path).status == 404
    assert rita.post(conversation_path + "/manager", ANSWERS).status == 404
    assert placed.omar.get(f"{placed.base}/2147483647").status == 404


@pytest.mark.browser
@pytest.mark.e2e
def test_in_the_browser_learner_prepares_manager_adds_and_actions_are_agreed(
    page: BrowserPage, placed: Career, live_server: LiveServer,
) -> None:
    open_as(page, live_server, placed.ana, placed.base)
    assert_accessible(page)
    page.get_by_test_id("career-own-link").click()
    expect(page.get_by_test_id("career-status")).to_have_text("Draft: only you see it")
    assert_accessible(page)
    page.get_by_label("Where could my career go here in five years?").fill("Lead the service team")
    page.get_by_test_id("career-share").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert page.get_by_label("Where could my career go here in five years?").input_value() == \
        "Lead the service team"
    assert_accessible(page)
    for label, text in zip((label for _key, label in career.QUESTIONS), ANSWERS.values(), strict=True):
        page.get_by_label(label).fill(text)
    page.get_by_test_id("career-share").click()
    expect(page.get_by_test_id("notice")).to_contain_text("shared with your manager")
    assert_accessible(page)
    conversation_path = page.url.split("?")[0].split(live_server.url)[-1]

    open_as(page, live_server, placed.omar, conversation_path)
    for label, text in zip((label for _key, label in career.QUESTIONS), ANSWERS.values(), strict=True):
        page.locator("[data-testid=career-manager-form]").get_by_label(label).fill(text + " (manager)")
    page.get_by_test_id("career-manager-save").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Your answers are saved")
    page.get_by_label("What is to be done").first.fill("Shadow a team lead")
    page.get_by_label("Who does it").first.select_option("learner")
    page.get_by_label("Due by (YYYY-MM-DD)").first.fill((date.today() + timedelta(30)).isoformat())
    page.get_by_label("Date of your next conversation").fill(date.today().isoformat())
    page.get_by_test_id("career-agree").click()
    expect(page.get_by_test_id("form-message")).to_be_visible()
    assert page.get_by_label("What is to be done").first.input_value() == "Shadow a team lead"
    assert_accessible(page)
    page.get_by_label("Date of your next conversation").fill((date.today() + timedelta(90)).isoformat())
    page.get_by_test_id("career-agree").click()
    expect(page.get_by_test_id("notice")).to_contain_text("What you agreed is recorded")
    expect(page.get_by_test_id("career-status")).to_contain_text("Held on")
    assert_accessible(page)

    open_as(page, live_server, placed.omar, placed.base)  # the manager's list of their people
    expect(page.get_by_test_id("career-person-link")).to_have_count(1)
    assert_accessible(page)
    open_as(page, live_server, placed.designer, placed.base)  # staff: only the day it was held
    expect(page.get_by_test_id("career-held-row")).to_contain_text(date.today().isoformat())
    assert_accessible(page)


def test_staff_read_with_the_setting_and_the_learners_consent_until_taken_back(placed: Career) -> None:
    overview = placed.designer.get(placed.base)
    settings = placed.designer.get(overview.link("career-settings-link"))  # the activity's settings page
    assert not settings.attributes("rubric-choice") and not settings.attributes("grades-to-lms")
    saved = placed.designer.post(placed.base + "/settings", _fields(settings, "career-settings-form",
                                                                     staff_may_read="1"))
    assert saved.texts("kind-notice") == ["Career conversation settings saved."]
    assert saved.form("career-settings-form").fields.get("staff_may_read") == "1"
    draft = placed.ana.get(placed.base + "/mine")
    shared = placed.ana.post(placed.base + "/mine", _fields(draft, "career-learner-form", **ANSWERS,
                                                              action="share"))
    path = str(shared.response.url.path)
    assert placed.designer.get(path).status == 404, "the setting alone is not enough"
    consented = placed.ana.post(path + "/consent", _fields(shared, "career-consent-form", staff_consent="1"))
    assert consented.texts("notice") == ["Your choice is saved."]
    read = placed.designer.get(path)
    assert read.status == 200 and "Managing people" in read.text
    assert not read.attributes("career-learner-form") and not read.attributes("career-agreement-form")
    assert placed.designer.post(path + "/learner", {**ANSWERS, "action": "save"}).status == 403
    placed.ana.post(path + "/consent", _fields(consented, "career-consent-form"))  # the box left unticked
    assert placed.designer.get(path).status == 404
