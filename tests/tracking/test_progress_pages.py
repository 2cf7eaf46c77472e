"""The team and progress pages over real HTTP from the demo platform, after a manager's feedback went
through the feedback form: the home page links each role to its page; the manager sees their people, what
is due and the scores of the feedback they gave (a table and a CSV of each); the learner sees their own;
each refusal answers with the rule's message (a manager asking for someone not theirs, a learner asking
for the team page, a designer, a guessed id, a table that does not exist)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.models import ManagerLink, User
from lti_tool.permissions import NOT_YOUR_PERSON, PROGRESS_LEARNERS_ONLY, TEAM_MANAGERS_ONLY
from lti_tool.states import ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus
from tests.feedback.test_pages import Placed, filled, placed  # noqa: F401  (the fixture)
from tests.fixtures.database import CountQueries

CRITERIA = 4
"""The template rubric's criteria (tests.feedback.conftest.LEVELS)."""


def _give_feedback(placed: Placed) -> None:  # noqa: F811
    omar = placed.open("manager")
    submitted = omar.submit(omar.get(placed.form_path("learner-ana")), "feedback-form", filled(),
                            button=("action", "submit"))
    assert submitted.status == 200 and submitted.texts("notice") == ["Feedback submitted."]


def test_a_manager_follows_their_people_and_a_learner_their_own_progress(placed: Placed) -> None:  # noqa: F811
    _give_feedback(placed)
    placed.open("manager", user="manager-rita")  # Rita's links (Chloé and Dev) come with her launch
    omar = placed.open("manager")
    team = omar.get(omar.home.link("team-progress-link"))
    assert team.status == 200, team.text[:1500]
    # Named as Cadre knows them: Ana and Ben have not opened Cadre yet.
    assert team.texts("team-person") == ["User learner-ana", "User learner-ben"]
    assert team.texts("team-size") == ["2"]
    people_rows = team.texts("row-people")
    assert len(people_rows) == 2
    # Ana's feedback is given (1 submitted, nothing to do); Ben's is still to do (no due date: not overdue).
    assert people_rows[0].startswith("User learner-ana001")  # to do, overdue, submitted
    assert people_rows[1].startswith("User learner-ben100")
    assert team.texts("row-competencies"), "the feedback's competencies are listed"
    assert len(team.attributes("chart")) == 1  # the team's scores per competency and week

    ana_page = omar.get(team.link("person-link"))
    assert ana_page.status == 200
    assert ana_page.texts("progress-title") == [f"{team.texts('person-link')[0]}'s progress"]
    due_rows = ana_page.texts("row-due")
    assert len(due_rows) == 1 and "Your feedback" in due_rows[0] and "Submitted" in due_rows[0]
    assert ana_page.texts("nothing-due")
    weeks = omar.get(ana_page.link("csv-weeks"))
    rows = list(csv.reader(io.StringIO(weeks.response.text)))
    assert weeks.status == 200 and rows[0][0] == "Week of" and len(rows) == 2  # one week of scores
    assert weeks.response.headers["content-disposition"].endswith('-weeks.csv"')
    ben_page = omar.get(f"/team/{placed.user_id('learner-ben')}")
    assert [row for row in ben_page.texts("row-due") if "To do" in row]
    assert len(ben_page.texts("open-item")) == 1

    # Refusals: Rita's person, a guessed id, a table that does not exist.
    chloe = placed.user_id("learner-chloe")
    for path in (f"/team/{chloe}", f"/team/{chloe}/due.csv", "/team/2000000000"):
        refused = omar.get(path)
        assert refused.status == 404 and NOT_YOUR_PERSON in refused.text, path
    assert omar.get("/team/secrets.csv").status == 404
    assert omar.get("/progress").status == 403 and PROGRESS_LEARNERS_ONLY in omar.get("/progress").text

    # The learner: her own page, from the home page; never the team's or anyone's.
    ana = placed.open("learner", user="learner-ana")
    own = ana.get(ana.home.link("my-progress-link"))
    assert own.status == 200 and own.texts("progress-title") == ["Your progress"]
    own_weeks = list(csv.reader(io.StringIO(ana.get("/progress/weeks.csv").response.text)))
    assert own_weeks == rows  # the same scores: released on submission
    assert "follow-ups" not in own.response.text.split('data-testid="table-')[-1]
    assert ana.get("/progress/follow-ups.csv").status == 404
    for path in ("/team", f"/team/{placed.user_id('learner-ben')}", "/team/people.csv"):
        refused = ana.get(path)
        assert refused.status == 403 and TEAM_MANAGERS_ONLY in refused.text, path
    ben = placed.open("learner", user="learner-ben")
    assert ben.get("/progress/weeks.csv").response.text.splitlines() == ["Week of"]  # nothing of Ana's

    # The designer reads the dashboard, not these pages.
    assert placed.designer.get("/team").status == 403
    assert placed.designer.get("/progress").status == 403


def test_a_moodle_manager_launching_as_a_learner_follows_their_people(placed: Placed) -> None:  # noqa: F811
    """Moodle sends no mentor role: Omar launches as a learner; his links make the team page his."""
    _give_feedback(placed)
    placed.open("manager", user="manager-rita")  # Rita's links (Chloé and Dev) come with her launch
    omar = placed.open("learner", user="manager-omar")
    assert omar.home.attributes("user-role")[0]["data-role"] == "learner"
    team = omar.get(omar.home.link("team-progress-link"))
    assert team.status == 200 and len(team.texts("team-person")) == 2
    assert omar.get(f"/team/{placed.user_id('learner-ana')}").status == 200
    assert omar.get(f"/team/{placed.user_id('learner-chloe')}").status == 404
    # As a learner, his own progress too (he manages people and learns in the course).
    assert omar.get(omar.home.link("my-progress-link")).texts("progress-title") == ["Your progress"]


def test_the_team_page_costs_as_many_statements_for_twenty_more_people(
    placed: Placed, count_queries: CountQueries  # noqa: F811
) -> None:
    _give_feedback(placed)
    omar = placed.open("manager")
    omar_id = placed.user_id("manager-omar")

    def counted() -> tuple[int, int]:
        with count_queries() as queries:
            page = omar.get("/team")
        assert page.status == 200
        return queries.count, len(page.texts("team-person"))

    before, people = counted()
    with session_scope(placed.app) as session:
        context_id = session.scalar(select(ManagerLink.context_id).where(ManagerLink.manager_id == omar_id))
        platform_id = session.scalar(select(User.platform_id).where(User.id == omar_id))
        for number in range(20):
            user = User(platform_id=platform_id, sub=f"extra-{number}", name=f"Extra {number:02d}")
            session.add(user)
            session.flush()
            session.add(ManagerLink(context_id=context_id, manager_id=omar_id, learner_id=user.id,
                                    relation=ManagerLinkRelation.LINE_MANAGER,
                                    source=ManagerLinkSource.DESIGNER, status=ManagerLinkStatus.ACTIVE))
    after, more = counted()
    assert (people, more) == (2, 22)
    assert after == before, (before, after)
