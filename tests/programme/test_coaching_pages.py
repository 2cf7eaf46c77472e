"""The coaching log's pages over real HTTP from the demo platform: a manager logs, changes and deletes
sessions and sees the 80/20 share; bad input comes back with the messages beside the fields and what was
typed kept; another person's session by guessed id, a designer's view (totals, never a topic or an
unshared well-being check), another course, and the landing page's links."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope, utcnow
from lti_tool.permissions import COACHING_SESSION_NOT_FOUND
from lti_tool.programme.coaching_models import CoachingSession
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, visitor_from
from tests.programme.test_pages import place_kind


@dataclass
class PlacedLog:
    app: Flask
    activity_id: int
    designer: Visitor
    platform: RunningPlatform
    link: str

    def open(self, role: str, **options: object) -> Visitor:
        return visitor_from(self.platform.launch_as(role, activity=self.link, **options), role)

    @property
    def path(self) -> str:
        return f"/activities/{self.activity_id}/coaching-log"


@pytest.fixture
def placed_log(platform: RunningPlatform, app: Flask) -> PlacedLog:
    link, activity_id, designer = place_kind(platform, app, "coaching_log", "Coach more, tell less")
    return PlacedLog(app, activity_id, designer, platform, link)


def session_fields(**changes: str) -> dict[str, str]:
    return {"held_on": utcnow().date().isoformat(), "kind": "coaching", "minutes": "40",
            "topic": "Delegating the rota", "challenge": "I keep doing it myself",
            "next_step": "Hand the rota to Ana", "stress": "", "in_control": "", "not_in_control": "",
            **changes}


def log(visitor: Visitor, placed_log: PlacedLog, **changes: str) -> Page:
    return visitor.post(placed_log.path, session_fields(**changes))


def test_a_manager_logs_two_sessions_and_sees_the_80_20_share(placed_log: PlacedLog) -> None:
    omar = placed_log.open("manager")
    assert omar.home.texts("coaching-log-link") == ["Open your coaching log"]
    empty = omar.get(placed_log.path)
    assert empty.status == 200 and empty.texts("share-empty")

    first = log(omar, placed_log, minutes="60")
    assert first.status == 200 and first.texts("notice") == ["Session logged."]
    second = log(omar, placed_log, kind="mentoring", minutes="15", topic="How I ran budgets")
    assert "80% coaching" in second.texts("share-figure")[0]
    assert "60 of 75 minutes" in second.texts("share-figure")[0]
    assert second.texts("share-verdict") == ["met"]
    assert second.attributes("share-bar")[0]["data-coaching"] == "80"
    assert len(second.texts("coaching-session")) == 2


def test_bad_input_comes_back_beside_the_fields_with_what_was_typed(placed_log: PlacedLog) -> None:
    omar = placed_log.open("manager")
    refused = log(omar, placed_log, held_on="next tuesday", kind="lecturing", minutes="45.5",
                  topic="x" * 201, stress="9")
    assert refused.status == 400
    fields = [attributes["data-field"] for attributes in refused.attributes("problems")]
    assert fields == ["held_on", "kind", "minutes", "topic", "stress"]
    form = refused.form("coaching-form").fields
    assert (form["held_on"], form["minutes"], form["topic"]) == ("next tuesday", "45.5", "x" * 201)
    assert form["challenge"] == "I keep doing it myself"
    with session_scope(placed_log.app) as session:
        assert session.scalars(select(CoachingSession)).all() == []


def test_the_owner_changes_and_deletes_a_session_and_nobody_else_can(placed_log: PlacedLog) -> None:
    omar = placed_log.open("manager")
    log(omar, placed_log, stress="4", in_control="My diary", not_in_control="The merger")
    with session_scope(placed_log.app) as session:
        session_id = session.scalar(select(CoachingSession.id))
    path = f"{placed_log.path}/{session_id}"

    edit = omar.get(path)
    assert edit.status == 200 and edit.form("coaching-form").fields["in_control"] == "My diary"
    refused = omar.post(path, {**session_fields(minutes="700"), "action": "save"})
    assert refused.status == 400 and refused.form("coaching-form").fields["minutes"] == "700"
    changed = omar.post(path, {**session_fields(minutes="30", kind="mentoring"), "action": "save"})
    assert changed.texts("notice") == ["Session changed."]

    rita = placed_log.open("manager", user="manager-rita")
    learner = placed_log.open("learner")
    for someone in (rita, learner):
        for page in (someone.get(path), someone.post(path, {"action": "delete"}),
                     someone.post(path, {**session_fields(topic="taken over"), "action": "save"})):
            assert page.status == 404 and COACHING_SESSION_NOT_FOUND in page.text
    other_course = placed_log.open("manager", claims={"context": OTHER_COURSE})
    assert other_course.get(path).status == 404
    assert other_course.get(placed_log.path).status == 404

    deleted = omar.post(path, {"action": "delete"})
    assert deleted.texts("notice") == ["Session deleted."] and deleted.texts("sessions-empty")


def test_the_designer_sees_totals_only_and_a_wellbeing_check_once_shared(placed_log: PlacedLog) -> None:
    omar = placed_log.open("manager")
    log(omar, placed_log, minutes="80", stress="5", in_control="Secret-in-control",
        not_in_control="Secret-not-in-control")
    learner = placed_log.open("learner")
    log(learner, placed_log, kind="mentoring", minutes="20", topic="Secret topic", stress="2",
        in_control="Shared-in-control", wellbeing_shared="1")

    designer = placed_log.open("designer")
    assert designer.home.texts("coaching-overview-link") == ["See the course's coaching share"]
    overview = designer.get(f"{placed_log.path}/overview")
    assert overview.status == 200
    assert overview.texts("course-totals") == ["2 people logged 2 sessions, 100 minutes in all."]
    assert "80% coaching" in overview.texts("share-figure")[0]
    assert "Secret topic" not in overview.text and "Delegating" not in overview.text
    assert "Secret-in-control" not in overview.text and "Secret-not-in-control" not in overview.text
    shared = overview.texts("shared-check")
    assert len(shared) == 1 and "Shared-in-control" in shared[0]
    assert designer.get(placed_log.path).status == 403  # designers keep no log of their own

    for keeper in (omar, learner):
        assert keeper.get(f"{placed_log.path}/overview").status == 403
    other_designer = placed_log.open("designer", claims={"context": OTHER_COURSE})
    assert other_designer.get(f"{placed_log.path}/overview").status == 404
