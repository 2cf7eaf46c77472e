"""The feedback pages over real HTTP from the demo platform: the manager's people and form (drafts,
autosave with its revision check, submission, revisions, withdrawal), the learner's page (feedback,
acknowledgement and reply, self-assessment side by side), scores in the platform's gradebook, and every
refusal and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.feedback.grades import SCOPE_SCORE
from lti_tool.lti.services import ACCESS_TOKENS, access_token_key
from lti_tool.models import Assessment, AssessmentRevision, User
from lti_tool.outbox import Worker
from lti_tool.states import AssessmentStatus
from tests.audit.helpers import create_from_template
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import LEVELS, TEMPLATE
from tests.fixtures.database import CountQueries
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, visitor_from

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


@dataclass
class Placed:
    platform: RunningPlatform
    app: Flask
    link: str
    activity_id: int
    line_item: str
    designer: Visitor
    open: Callable[..., Visitor]

    def user_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(User.id).where(User.sub == sub))
        assert found is not None, sub
        return found

    def form_path(self, sub: str) -> str:
        return f"/activities/{self.activity_id}/people/{self.user_id(sub)}/feedback"


def filled(**changes: str) -> dict[str, str]:
    """The feedback form's fields with every criterion answered (8 of 12 points)."""
    fields = {f"level-{criterion}": level for criterion, level in LEVELS.items()}
    fields["comment-next-step"] = "Plan the next call together."
    fields.update(strengths="Listens well.", next_steps="Summarise at the end.")
    fields.update(changes)
    return fields


def autosave(visitor: Visitor, path: str, body: Any) -> httpx.Response:
    """What static/feedback-form.js sends."""
    visitor.client.cookies.clear()
    return visitor.client.post(
        f"{path}/draft", content=json.dumps(body) if not isinstance(body, bytes) else body,
        headers={"Content-Type": "application/json", "X-Cadre-Launch": visitor.launch_token,
                 "X-CSRF-Token": visitor.csrf_token},
    )


def draft_body(revision: int, **answers: Any) -> dict[str, Any]:
    criteria = {criterion: {"level": level, "points": "", "comment": ""}
                for criterion, level in LEVELS.items()}
    criteria["next-step"]["comment"] = "Plan the next call together."
    return {"draft_revision": revision, "content": {"criteria": criteria, "strengths": "Listens well.",
                                                    "next_steps": answers.get("next_steps", "")}}


@pytest.fixture
def placed(platform: RunningPlatform, app: Flask) -> Placed:
    """A manager-feedback activity set up by the designer with the template rubric, out of 10 points,
    assessed by line managers, feedback released on submission; its line item on the demo platform."""
    link = place(platform, points="10")
    course = platform.lti.course
    line_item = platform.lti.url(f"/api/contexts/{course.context_id}/lineitems/1")
    endpoint = {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                          "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": platform.lti.url(f"/api/contexts/{course.context_id}/lineitems"),
                "lineitem": line_item}

    def open_activity(role: str, *, user: str | None = None, **options: Any) -> Visitor:
        claims = {AGS_ENDPOINT: endpoint, **options.pop("claims", {})}
        launched = platform.launch_as(role, activity=link, user=user, claims=claims, **options)
        return visitor_from(launched, role)

    designer = open_activity("designer")
    rubric_id, _ = create_from_template(designer, TEMPLATE)
    (activity,) = activities(app)
    saved = save_settings(designer, activity.id, rubric_id=str(rubric_id), assessors="line_manager",
                          feedback_release="on_submission", work_product_required="", due_date="",
                          due_time="")
    assert saved.status == 200, saved.text[:1500]
    return Placed(platform, app, link, activity.id, line_item, designer, open_activity)


def count_rows(app: Flask, model: type) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_manager_gives_feedback_the_learner_reads_and_replies_and_the_gradebook_gets_one_score_per_revision(
    placed: Placed, app: Flask
) -> None:
    omar = placed.open("manager")
    people = omar.get(omar.home.link("people-link"))
    assert people.status == 200
    assert [row["data-state"] for row in people.attributes("person")] == ["not_started", "not_started"]
    assert people.texts("briefing") == ["Look for empathy first."]  # the briefing, rendered

    path = placed.form_path("learner-ana")
    form = omar.get(path)
    assert form.status == 200 and form.form("feedback-form").fields["draft_revision"] == "0"
    assert "For assessors:" in form.text or form.texts("criterion")  # guidance shown where the rubric has it

    saved = autosave(omar, path, draft_body(0, next_steps="Half written"))
    assert saved.status_code == 200 and saved.json()["draft_revision"] == 1
    reloaded = omar.get(path)  # the draft is there after a reload
    fields = reloaded.form("feedback-form").fields
    assert fields["draft_revision"] == "1" and fields["next_steps"] == "Half written"
    assert fields["level-consistency"] == "role-model"
    listed = omar.get(people.response.url.path)
    assert [row["data-state"] for row in listed.attributes("person")] == ["draft", "not_started"]

    submitted = omar.submit(reloaded, "feedback-form", {"next_steps": "Summarise at the end."},
                            button=("action", "submit"))
    assert submitted.status == 200 and submitted.texts("notice") == ["Feedback submitted."]
    assert submitted.attributes("person")[0]["data-state"] == "submitted"

    ana = placed.open("learner", user="learner-ana")
    mine = ana.get(ana.home.link("my-feedback-link"))
    assert mine.status == 200
    assert mine.texts("explanation")[0].endswith("Total: 8 of 12 points = 66.67%")
    assert [row["data-criterion"] for row in mine.attributes("criterion-row")] == list(LEVELS)
    assert "Plan the next call together." in mine.text and "Summarise at the end." in mine.text
    replied = ana.submit(mine, "acknowledge-form", {"reply": "Thank you, I will plan it."})
    assert replied.status == 200 and replied.texts("acknowledged")
    assert "Thank you, I will plan it." in omar.get(path).texts("learner-reply")[0]

    # A token Cadre cached that the platform no longer accepts: dropped, a fresh one asked for, once.
    ACCESS_TOKENS.put(access_token_key(placed.platform.issuer, placed.platform.client_id, [SCOPE_SCORE]),
                      "revoked-token", 3600)
    Worker(app).drain()
    Worker(app).drain()  # nothing left: the revision is posted once
    (score,) = placed.platform.lti.scores
    assert score["lineitem"] == 1 and score["userId"] == "learner-ana"
    assert score["scoreGiven"] == 6.67 and score["scoreMaximum"] == 10.0
    assert score["activityProgress"] == "Completed" and score["gradingProgress"] == "FullyGraded"
    assert score["comment"].endswith("Total: 8 of 12 points = 66.67%")

    # Editing after submission: a new revision, posted again with a newer timestamp.
    again = omar.get(path)
    assert again.form("feedback-form").fields["level-consistency"] == "role-model"
    resubmitted = omar.submit(again, "feedback-form", {"level-consistency": "starting"},
                              button=("action", "submit"))
    assert resubmitted.status == 200
    Worker(app).drain()
    first, second = placed.platform.lti.scores
    assert second["scoreGiven"] == 5.0 and second["timestamp"] > first["timestamp"]
    assert count_rows(app, AssessmentRevision) == 2
    assert ana.get(f"/activities/{placed.activity_id}/feedback").texts("explanation")[0].endswith(
        "Total: 6 of 12 points = 50%")


def test_the_learners_self_assessment_is_shown_beside_the_managers_feedback(placed: Placed) -> None:
    ana = placed.open("learner", user="learner-ana")
    form = ana.get(f"/activities/{placed.activity_id}/self-assessment")
    assert form.status == 200
    done = ana.submit(form, "feedback-form", filled(**{"level-consistency": "starting"}),
                      button=("action", "submit"))
    assert done.status == 200 and done.texts("notice") == ["Self-assessment submitted."]
    assert done.texts("no-feedback")  # the manager has not given theirs yet

    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    omar.submit(omar.get(path), "feedback-form", filled(), button=("action", "submit"))
    page = ana.get(f"/activities/{placed.activity_id}/feedback")
    rows = dict(zip([r["data-criterion"] for r in page.attributes("criterion-row")],
                    zip(page.texts("manager-level"), page.texts("self-level"), strict=True), strict=True))
    assert rows["consistency"][0].startswith("Role model") and rows["consistency"][1].startswith("Starting")
    assert placed.platform.lti.scores == []  # nothing is posted from a request


def test_refusals_on_every_feedback_route(placed: Placed, app: Flask) -> None:
    omar = placed.open("manager")
    rita = placed.open("manager", user="manager-rita")
    ana = placed.open("learner", user="learner-ana")
    ben = placed.open("learner", user="learner-ben")
    omar_path = placed.form_path("learner-ana")
    omar.submit(omar.get(omar_path), "feedback-form", filled(), button=("action", "submit"))
    activity = placed.activity_id
    with session_scope(app) as session:
        assessment_id = session.scalar(select(Assessment.id))

    # Another manager: Ana is not one of Rita's people (Rita's are Chloé and Dev).
    assert rita.get(omar_path).status == 404
    assert rita.post(omar_path, filled(draft_revision="1", action="submit")).status == 404
    assert autosave(rita, omar_path, draft_body(1)).status_code == 404
    assert rita.post(f"{omar_path}/withdraw", {"reason": "not mine"}).status == 404
    assert "Ana" not in " ".join(rita.get(f"/activities/{activity}/people").texts("person"))
    # Guessed ids: a learner that does not exist, an activity that does not exist.
    assert omar.get(f"/activities/{activity}/people/999999/feedback").status == 404
    assert omar.get("/activities/999999/people").status == 404
    assert omar.get("/activities/2147483648/people").status == 404
    # Learners: not the manager's pages, nobody else's feedback.
    assert ana.get(f"/activities/{activity}/people").status == 403
    assert ana.get(omar_path).status == 403
    refused = ben.post(f"/activities/{activity}/feedback/{assessment_id}/acknowledge", {"reply": "mine?"})
    assert refused.status == 404
    assert ben.get(f"/activities/{activity}/feedback").texts("no-feedback")
    assert ana.post(f"/activities/{activity + 1}/feedback/{assessment_id}/acknowledge", {}).status == 404
    # Another course's manager and designer do not see the activity.
    other = placed.open("manager", claims={"context": OTHER_COURSE})
    assert other.get(f"/activities/{activity}/people").status == 404
    other_designer = placed.open("designer", claims={"context": OTHER_COURSE})
    assert other_designer.get(f"/activities/{activity}/feedback").status == 403
    # Nothing changed by any of them.
    with session_scope(app) as session:
        (assessment,) = session.scalars(select(Assessment)).all()
        assert assessment.status is AssessmentStatus.SUBMITTED and assessment.learner_reply == ""
        assert assessment.revision_count == 1 and assessment.draft_revision == 1


def test_unreleased_feedback_stays_hidden_from_the_learner(placed: Placed) -> None:
    saved = save_settings(placed.designer, placed.activity_id, rubric_id=str(_rubric_id(placed)),
                          assessors="line_manager", feedback_release="when_released",
                          work_product_required="", due_date="", due_time="")
    assert saved.status == 200, saved.text[:1500]
    omar = placed.open("manager")
    form = omar.get(placed.form_path("learner-ana"))
    omar.submit(form, "feedback-form", filled(), button=("action", "submit"))
    ana = placed.open("learner", user="learner-ana")
    page = ana.get(f"/activities/{placed.activity_id}/feedback")
    assert page.texts("no-feedback") and "release" in page.texts("no-feedback")[0]
    assert "Plan the next call together." not in page.text
    assert placed.platform.lti.scores == []


def _rubric_id(placed: Placed) -> int:
    (activity,) = activities(placed.app)
    assert activity.rubric_version is not None
    return activity.rubric_version.rubric_id


def test_bad_input_is_refused_beside_the_fields_and_what_was_typed_is_kept(placed: Placed,
                                                                          app: Flask) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    form = omar.get(path)
    typed = filled(**{"level-consistency": "", "comment-next-step": "   ", "strengths": "Keeps calm."})
    refused = omar.submit(form, "feedback-form", typed, button=("action", "submit"))
    assert refused.status == 400
    problems = {p["data-field"]: text for p, text in zip(refused.attributes("problems"),
                                                           refused.texts("problems"), strict=True)}
    assert problems["level-consistency"].endswith("no level chosen.")
    assert problems["comment-next-step"].endswith("a comment is required.")
    kept = refused.form("feedback-form").fields
    assert kept["strengths"] == "Keeps calm." and kept["level-uses-the-training"] == "consistent"
    assert count_rows(app, Assessment) == 0  # a refused form stores nothing

    too_long = omar.submit(form, "feedback-form", filled(strengths="x" * 10_001), button=("action", "save"))
    assert too_long.status == 400 and "the limit is 10,000" in too_long.text
    no_revision = omar.post(path, {k: v for k, v in filled(action="save").items()})
    assert no_revision.status == 400 and "did not say which saved version" in no_revision.text
    assert count_rows(app, Assessment) == 0

    assert autosave(omar, path, b"{not json").status_code == 400
    assert autosave(omar, path, {"draft_revision": "1", "content": {}}).status_code == 400
    assert autosave(omar, path, {"draft_revision": 0, "content": {"strengths": 5}}).json()["problems"] == {
        "strengths": "Strengths must be text."}
    assert autosave(omar, path, {"draft_revision": 0, "content": {"criteria": []}}).status_code == 400
    assert count_rows(app, Assessment) == 0


def test_a_stale_autosave_or_form_gets_409_with_the_servers_copy(placed: Placed, app: Flask) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    laptop = omar.get(path)
    phone = omar.get(path)
    assert autosave(omar, path, draft_body(0, next_steps="From the laptop")).status_code == 200
    stale = autosave(omar, path, draft_body(0, next_steps="From the phone"))
    assert stale.status_code == 409
    answer = stale.json()
    assert answer["draft_revision"] == 1 and answer["content"]["next_steps"] == "From the laptop"
    assert "another tab or device" in answer["error"]

    conflict = omar.submit(phone, "feedback-form", filled(next_steps="Typed on the phone"),
                           button=("action", "save"))
    assert conflict.status == 409 and conflict.texts("conflict")
    assert "From the laptop" in " ".join(conflict.texts("server-copy"))
    assert conflict.form("feedback-form").fields["next_steps"] == "Typed on the phone"  # kept
    assert conflict.form("feedback-form").fields["draft_revision"] == "1"  # saving again is a choice
    with session_scope(app) as session:
        (assessment,) = session.scalars(select(Assessment)).all()
        assert assessment.draft_content["next_steps"] == "From the laptop"
    kept_mine = omar.submit(conflict, "feedback-form", button=("action", "save"))
    assert kept_mine.status == 200 and kept_mine.texts("notice") == ["Draft saved."]
    assert kept_mine.form("feedback-form").fields["next_steps"] == "Typed on the phone"
    assert laptop.status == 200


def test_an_autosave_over_a_draft_writes_it_in_one_statement_and_leaves_the_old_draft_unread(
    placed: Placed, app: Flask, count_queries: CountQueries
) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    assert autosave(omar, path, draft_body(0, next_steps="First")).status_code == 200  # makes the assessment
    with count_queries() as second:
        saved = autosave(omar, path, draft_body(1, next_steps="Second"))
    assert saved.status_code == 200 and saved.json()["draft_revision"] == 2
    touching = [statement for statement in second.statements if "assessments" in statement]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("UPDATE"), touching
    assert "RETURNING" in touching[0].upper()
    reads_of_links = [statement for statement in second.statements if "manager_links" in statement]
    assert len(reads_of_links) == 1, reads_of_links  # the view's and the service's rule share one read
    # The learner comes with their managers, the rubric's content hash with the activity: the launch, the
    # learner and the UPDATE, nothing else (the activity is the launch's own, read with it).
    assert "FROM users" in reads_of_links[0], reads_of_links
    assert not [statement for statement in second.statements if "rubric_versions" in statement
                and not statement.lstrip().startswith("SELECT launches.")], second.statements
    assert len(second.statements) == 3, second.statements
    synchronous = [statement for statement in second.statements if "synchronous_commit" in statement]
    if app.extensions["cadre.engine"].dialect.name == "postgresql":  # set by the UPDATE: no round trip more
        assert synchronous == touching
    else:
        assert synchronous == []
    with session_scope(app) as session:
        (assessment,) = session.scalars(select(Assessment)).all()
        assert assessment.draft_revision == 2 and assessment.draft_content["next_steps"] == "Second"
    with count_queries() as by_form:  # the form's Save draft waits for the disk, as everything else does
        saved_by_form = omar.submit(omar.get(path), "feedback-form", filled(), button=("action", "save"))
    assert saved_by_form.status == 200
    assert not [statement for statement in by_form.statements if "synchronous_commit" in statement]


def test_withdrawing_needs_a_reason_and_hides_the_feedback(placed: Placed) -> None:
    omar = placed.open("manager")
    path = placed.form_path("learner-ana")
    submitted = omar.submit(omar.get(path), "feedback-form", filled(), button=("action", "submit"))
    assert submitted.status == 200
    form = omar.get(path)
    refused = omar.submit(form, "withdraw-form", {"reason": "  "})
    assert refused.status == 400 and "Say why" in refused.text
    withdrawn = omar.submit(form, "withdraw-form", {"reason": "Meant for Ben."})
    assert withdrawn.status == 200 and withdrawn.texts("withdrawn-note")
    assert "Meant for Ben." in " ".join(withdrawn.texts("withdrawals"))
    ana = placed.open("learner", user="learner-ana")
    assert ana.get(f"/activities/{placed.activity_id}/feedback").texts("no-feedback")


def test_the_manager_home_links_to_the_people_page(placed: Placed) -> None:
    omar = placed.open("manager")
    assert omar.home.link("people-link") == f"/activities/{placed.activity_id}/people"
    ana = placed.open("learner", user="learner-ana")
    assert ana.home.link("my-feedback-link") == f"/activities/{placed.activity_id}/feedback"
    page = omar.get(omar.home.link("people-link"))
    assert isinstance(page, Page) and len(page.attributes("person")) == 2


def test_a_moodle_manager_who_launches_as_a_learner_gives_feedback_on_their_people(placed: Placed) -> None:
    """Moodle sends no mentor role: a manager enrolled as a student launches as a learner. Cadre knows them
    as a manager by their links in the course, so their home page, people list and feedback form are open
    to them, for their own people only; a learner who manages nobody is still refused."""
    as_manager = placed.open("manager")  # Omar's links come with his launch (the platform's mentor scope)
    placed.open("manager", user="manager-rita")  # and Rita's (Chloé and Dev), with hers
    omar = placed.open("learner", user="manager-omar")
    assert omar.home.attributes("user-role")[0]["data-role"] == "learner"
    assert omar.home.texts("managed-learner") == as_manager.home.texts("managed-learner") != []
    people = omar.get(omar.home.link("people-link"))
    assert people.status == 200
    assert [row["data-state"] for row in people.attributes("person")] == ["not_started", "not_started"]
    submitted = omar.submit(omar.get(placed.form_path("learner-ana")), "feedback-form", filled(),
                            button=("action", "submit"))
    assert submitted.status == 200 and submitted.texts("notice") == ["Feedback submitted."]
    assert omar.get(placed.form_path("learner-chloe")).status == 404  # Rita's, not his

    ana = placed.open("learner", user="learner-ana")
    assert ana.home.texts("managed-learner") == []
    assert ana.get(f"/activities/{placed.activity_id}/people").status == 403
    assert ana.get(placed.form_path("learner-ben")).status == 403
    assert "Summarise at the end." in ana.get(f"/activities/{placed.activity_id}/feedback").text
