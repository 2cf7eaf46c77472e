"""The survey's and follow-ups' pages over real HTTP from the demo platform: the designer's settings panel,
a manager's answer (draft, bad input kept as typed, submission, revision), ranked gaps with merging and the
CSV export, anonymous mode by guessed ids, follow-ups answered again, and who is refused what."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from lti_tool.db import session_scope
from lti_tool.models import Activity, User
from lti_tool.permissions import FOLLOW_UP_NOT_FOUND, SURVEY_MANAGERS_ONLY
from lti_tool.programme import survey
from lti_tool.programme.models import FollowUp, SurveyAnswer, SurveyResponse
from tests.deliverables.test_activities import place, save_settings
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, read_page, visitor_from


@dataclass
class Placed:
    platform: RunningPlatform
    app: Flask
    link: str
    activity_id: int
    designer: Visitor
    open: Callable[..., Visitor]

    def activity(self) -> Activity:
        with session_scope(self.app) as session:
            found = session.get(Activity, self.activity_id)
            assert found is not None
            session.expunge(found)
            return found


def _activity_id(app: Flask, kind: str) -> int:
    with session_scope(app) as session:
        found = session.scalars(select(Activity.id).where(Activity.kind == kind).order_by(Activity.id.desc()))
        return next(iter(found))


def place_kind(platform: RunningPlatform, app: Flask, kind: str, title: str) -> tuple[str, int, Visitor]:
    link = place(platform, kind=kind, title=title)
    designer = visitor_from(platform.launch_as("designer", activity=link), "designer")
    activity_id = _activity_id(app, kind)
    saved = save_settings(designer, activity_id, title=title, points_possible="", grades_to_lms="",
                          due_date="", due_time="", work_product_required="", assessors="any_manager",
                          feedback_release="on_submission")
    assert saved.status == 200, saved.text[:1500]
    return link, activity_id, designer


def survey_settings(designer: Visitor, activity_id: int, **changes: str) -> Page:
    page = designer.get(f"/activities/{activity_id}/settings")
    fields = {"known": "Not listening to the customer\nPromising too much", "anonymous": "",
              "min_answers": "5", "currency": "EUR", **changes}
    if not fields["anonymous"]:
        fields.pop("anonymous")
    form = page.form("survey-settings-form")
    data = {**{name: value for name, value in form.fields.items() if name in ("lt", "csrf_token")}, **fields}
    return designer.post(f"/activities/{activity_id}/survey/settings", data)


@pytest.fixture
def placed(platform: RunningPlatform, app: Flask) -> Placed:
    link, activity_id, designer = place_kind(platform, app, "manager_insight_survey", "Where it goes wrong")
    saved = survey_settings(designer, activity_id)
    assert saved.status == 200 and saved.texts("kind-notice") == ["Survey settings saved."], saved.text[:1500]

    def open_activity(role: str, *, user: str | None = None, **options: Any) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=link, user=user, **options), role)

    return Placed(platform, app, link, activity_id, designer, open_activity)


def answer_fields(page: Page, *rows: dict[str, str], action: str = "submit") -> dict[str, str]:
    form = page.form("survey-form")
    data = {name: value for name, value in form.fields.items() if not name.startswith("mistake-")}
    for number, row in enumerate(rows):
        data.update({f"mistake-{number}-{name}": value for name, value in row.items()})
    data["action"] = action
    return data


def post_answer(visitor: Visitor, page: Page, *rows: dict[str, str], action: str = "submit") -> Page:
    return visitor.post(str(page.response.url.path), answer_fields(page, *rows, action=action))


def merge_keys(designer: Visitor, activity_id: int, keys: list[str], name: str) -> Page:
    """What the merge forms post: one ``key`` field per answer key (a dict of fields cannot hold them)."""
    designer.client.cookies.clear()
    response = designer.client.post(
        f"/activities/{activity_id}/survey/gaps", headers={"X-Cadre-Launch": designer.launch_token},
        data={"lt": designer.launch_token, "csrf_token": designer.csrf_token, "key": keys, "name": name},
        follow_redirects=True)
    return read_page(response)


def row(text: str, **values: str) -> dict[str, str]:
    return {"text": text, "frequency": "weekly", "impact": "3", **values}


def test_a_manager_answers_and_the_designer_ranks_merges_and_exports(placed: Placed) -> None:
    omar = placed.open("manager")
    form = omar.get(omar.home.link("survey-link"))
    assert form.status == 200 and len(form.attributes("mistake")) == 2
    drafted = post_answer(omar, form, row("Skipping the summary"), action="save")
    assert drafted.texts("notice") == ["Draft saved."]
    refused = post_answer(omar, drafted, row("Skipping the summary", impact="9"), row("", frequency="daily"))
    assert refused.status == 400
    assert {item["data-field"] for item in refused.attributes("problems")} == {"mistake-0-impact",
                                                                           "mistake-1-text"}
    assert 'value="Skipping the summary"' in refused.response.text  # what was typed stays
    submitted = post_answer(omar, drafted, row("Skipping the summary", frequency="per_week", per_week="4",
                                               impact="4", cost="50", currency="EUR"),
                            row("Not listening to customers", impact="5"))
    assert submitted.status == 200 and "your answer is submitted" in submitted.text
    rita = placed.open("manager", user="manager-rita")
    rita_form = rita.get(f"/activities/{placed.activity_id}/survey")
    post_answer(rita, rita_form, row("not listening to the customer", frequency="daily", impact="4"))

    results = placed.designer.get(f"/activities/{placed.activity_id}/survey/results")
    assert results.status == 200
    assert results.texts("gap-name")[:2] == ["not listening to the customer", "Skipping the summary"]
    assert "Omar Haddad" in results.text and "Rita Nowak" in results.text
    (suggestion,) = [form for form in results.parsed.forms if form.testid == "suggestion"]
    keys = re.findall(r'<input type="hidden" name="key" value="([^"]+)">', results.response.text)
    assert sorted(keys) == ["not listening to customers", "not listening to the customer"]
    merged = merge_keys(placed.designer, placed.activity_id, keys, suggestion.fields["name"])
    assert merged.status == 200 and merged.texts("notice") == ["Saved."]
    assert merged.texts("gap-name")[0].lower().startswith("not listening")
    assert merged.texts("gap-answers")[0] == "2"
    by_cost = placed.designer.get(f"/activities/{placed.activity_id}/survey/results?by=cost")
    assert by_cost.texts("gap-name")[0] == "Skipping the summary"

    exported = placed.designer.client.get(f"/activities/{placed.activity_id}/survey/results.csv",
                                          headers={"X-Cadre-Launch": placed.designer.launch_token})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == list(survey.CSV_HEADER) and rows[1][2] == "2"


def test_formula_cells_are_escaped_in_the_export(placed: Placed) -> None:
    omar = placed.open("manager")
    form = omar.get(f"/activities/{placed.activity_id}/survey")
    post_answer(omar, form, row("=HYPERLINK(\"http://evil.example\")"))
    exported = placed.designer.client.get(f"/activities/{placed.activity_id}/survey/results.csv",
                                          headers={"X-Cadre-Launch": placed.designer.launch_token})
    cells = list(csv.reader(io.StringIO(exported.text)))[1]
    assert cells[1].startswith("'=HYPERLINK")


def test_who_is_refused_the_survey_pages(placed: Placed, app: Flask) -> None:
    learner = placed.open("learner")
    survey_path = f"/activities/{placed.activity_id}/survey"
    refused = learner.get(survey_path)
    assert refused.status == 403 and SURVEY_MANAGERS_ONLY in refused.text
    assert placed.designer.get(survey_path).status == 403
    omar = placed.open("manager")
    for path in (f"{survey_path}/results", f"{survey_path}/results.csv"):
        assert omar.get(path).status == 403
        assert learner.get(path).status == 403
    other = placed.open("designer", claims={"context": OTHER_COURSE})
    assert other.get(f"{survey_path}/results").status == 404
    assert other.get(f"/activities/{placed.activity_id}/settings").status == 404
    assert placed.designer.get("/activities/2147483647/survey/results").status == 404
    assert omar.get("/activities/2147483647/survey").status == 404
    posted = omar.post(f"{survey_path}/settings", {"min_answers": "3"})
    assert posted.status == 403


def test_bad_survey_settings_are_shown_with_what_was_typed(placed: Placed) -> None:
    refused = survey_settings(placed.designer, placed.activity_id, min_answers="1", currency="EURO")
    assert refused.status == 400
    assert {item["data-field"] for item in refused.attributes("problems")} == {"min_answers", "currency"}
    assert 'value="1"' in refused.response.text


def test_anonymous_mode_hides_who_answered_even_by_guessed_ids_and_in_the_export(
    placed: Placed, app: Flask,
) -> None:
    survey_settings(placed.designer, placed.activity_id, anonymous="1", min_answers="3")
    omar = placed.open("manager")
    post_answer(omar, omar.get(f"/activities/{placed.activity_id}/survey"), row("Late to calls"))
    hidden = placed.designer.get(f"/activities/{placed.activity_id}/survey/results")
    assert hidden.status == 200 and hidden.texts("results-hidden") and not hidden.attributes("gap")
    assert hidden.texts("respondents-hidden") and "Omar" not in hidden.text
    csv_refused = placed.designer.get(f"/activities/{placed.activity_id}/survey/results.csv")
    assert csv_refused.status == 403
    turned_off = survey_settings(placed.designer, placed.activity_id, anonymous="", min_answers="3")
    assert turned_off.status == 400 and "stays anonymous" in turned_off.text

    with session_scope(app) as session:
        response_id = session.scalar(select(SurveyResponse.id))
        omar_id = session.scalar(select(User.id).where(User.name == "Omar Haddad"))
    for path in (f"/activities/{placed.activity_id}/survey/responses/{response_id}",
                 f"/activities/{placed.activity_id}/people/{omar_id}/feedback",
                 f"/activities/{placed.activity_id}/follow-ups/{response_id}"):
        page = placed.designer.get(path)
        assert page.status in (403, 404) and "Omar" not in page.text and "Late to calls" not in page.text
    rita = placed.open("manager", user="manager-rita")
    post_answer(rita, rita.get(f"/activities/{placed.activity_id}/survey"), row("late to calls"))
    with session_scope(app) as session:  # a third manager of the course answers
        respondent = User(platform_id=session.scalar(select(User.platform_id)), sub="manager-third",
                          name="Third Manager")
        session.add(respondent)
        session.flush()
        session.add(SurveyResponse(activity_id=placed.activity_id, respondent_id=respondent.id,
                                   status="submitted", revision_count=1, draft_revision=1,
                                   submitted_at=datetime.now(UTC), first_submitted_at=datetime.now(UTC)))
        session.flush()
        response = session.scalar(select(SurveyResponse).where(SurveyResponse.respondent_id == respondent.id))
        session.add(SurveyAnswer(activity_id=placed.activity_id, response_id=response.id, revision=1,
                                 text="Late to calls", answer_key="late to calls", frequency="weekly",
                                 per_week=1, impact=3))
    shown = placed.designer.get(f"/activities/{placed.activity_id}/survey/results")
    assert shown.texts("gap-name") == ["Late to calls"] and shown.texts("gap-answers") == ["3"]
    for name in ("Omar", "Rita", "Third Manager"):
        assert name not in shown.text
    exported = placed.designer.client.get(f"/activities/{placed.activity_id}/survey/results.csv",
                                          headers={"X-Cadre-Launch": placed.designer.launch_token})
    assert exported.status_code == 200
    for name in ("Omar", "Rita", "Third"):
        assert name not in exported.text


def test_a_survey_follow_up_is_answered_again_and_the_report_shows_the_change(
    placed: Placed, app: Flask,
) -> None:
    omar = placed.open("manager")
    post_answer(omar, omar.get(f"/activities/{placed.activity_id}/survey"), row("Late to calls", impact="4"))
    follow_link, follow_id, designer = place_kind(placed.platform, app, "six_month_follow_up",
                                                  "Six months on")
    settings_page = designer.get(f"/activities/{follow_id}/settings")
    form = settings_page.form("follow-up-settings-form")
    saved = designer.submit(settings_page, "follow-up-settings-form",
                            {"source_activity_id": str(placed.activity_id), "offset_days": "182",
                             "anchor": "submission"})
    assert saved.status == 200 and saved.texts("kind-notice") == ["Follow-up settings saved."], form.fields
    refused = designer.submit(settings_page, "follow-up-settings-form", {"offset_days": "0",
                                                                         "source_activity_id": "77"})
    assert refused.status == 400
    assert {item["data-field"] for item in refused.attributes("problems")} == {"offset_days",
                                                                           "source_activity_id"}

    omar_follow = visitor_from(placed.platform.launch_as("manager", activity=follow_link), "manager")
    listed = omar_follow.get(omar_follow.home.link("follow-ups-link"))
    (entry,) = listed.attributes("follow-up")
    assert entry["data-due"] == "no" and not listed.attributes("follow-up-link")
    with session_scope(app) as session:
        follow_up_id = session.scalar(select(FollowUp.id))
        session.execute(update(FollowUp).values(due_at=datetime.now(UTC) - timedelta(days=1)))
    rita_launch = placed.platform.launch_as("manager", activity=follow_link, user="manager-rita")
    rita_follow = visitor_from(rita_launch, "manager")
    not_hers = rita_follow.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}")
    assert not_hers.status == 404 and FOLLOW_UP_NOT_FOUND in not_hers.text
    page = omar_follow.get(f"/activities/{follow_id}/follow-ups/{follow_up_id}")
    assert page.status == 200 and page.texts("follow-up-note")
    assert 'value="Late to calls"' in page.response.text  # the first answer, to change
    missing = post_answer(omar_follow, page, row("Late to calls", impact="1"))
    assert missing.status == 400
    assert "what_changed" in {problem["data-field"] for problem in missing.attributes("problems")}
    data = answer_fields(page, row("Late to calls", impact="1"))
    data["what_changed"] = "The new rota fixed it."
    done = omar_follow.post(f"/activities/{follow_id}/follow-ups/{follow_up_id}", data)
    assert done.status == 200 and done.texts("notice") == ["Thank you: your follow-up is submitted."]

    report = designer.get(f"/activities/{follow_id}/follow-ups/report")
    assert report.status == 200
    assert report.texts("gap-delta") == ["-3.00"]  # weekly × impact 4, now weekly × impact 1
    assert report.texts("what-changed") == ["The new rota fixed it."]
    assert omar_follow.get(f"/activities/{follow_id}/follow-ups/report").status == 403


def test_bad_gap_changes_and_a_stale_or_missing_draft_revision_are_refused(
    placed: Placed, app: Flask,
) -> None:
    omar = placed.open("manager")
    form = omar.get(f"/activities/{placed.activity_id}/survey")
    data = answer_fields(form, row("Late to calls"), action="save")
    data.pop("draft_revision")
    missing = omar.post(f"/activities/{placed.activity_id}/survey", data)
    assert missing.status == 400 and "did not say which saved version" in missing.text
    post_answer(omar, form, row("Late to calls"), action="save")
    stale = post_answer(omar, form, row("Something else"), action="save")  # the form still says revision 0
    assert stale.status == 409 and 'value="Something else"' in stale.response.text
    post_answer(omar, omar.get(f"/activities/{placed.activity_id}/survey"), row("Late to calls"))

    gaps = f"/activities/{placed.activity_id}/survey/gaps"
    no_keys = placed.designer.post(gaps, {"name": "Nothing"})
    assert no_keys.status == 400
    forged = placed.designer.post(gaps, {"name": "Forged", "key": "not an answer"})
    assert forged.status == 400
    unnamed = placed.designer.post(gaps, {"name": "  ", "key": "late to calls"})
    assert unnamed.status == 400
    made = merge_keys(placed.designer, placed.activity_id, ["late to calls"], "Punctuality")
    assert made.status == 200
    (editor,) = made.attributes("gap-editor")
    gap_path = f"{gaps}/{editor['data-gap-id']}"
    for data, status in (({"action": "link", "choice": "criterion:1:made-up"}, 400),
                         ({"action": "rename", "name": "x" * 201}, 400),
                         ({"action": "unlink", "link_id": "abc"}, 400),
                         ({"action": "explode"}, 400)):
        assert placed.designer.post(gap_path, data).status == status, data
    assert placed.designer.post(f"{gaps}/2147483647", {"action": "rename", "name": "Taken"}).status == 404
    assert omar.post(gap_path, {"action": "rename", "name": "Managers cannot"}).status == 403
    other = placed.open("designer", claims={"context": OTHER_COURSE})
    assert other.post(gap_path, {"action": "rename", "name": "Other course"}).status == 404
    with session_scope(app) as session:
        assert session.scalar(select(survey.SurveyGap.name)) == "Punctuality"
