"""The staff pages of an activity's feedback over real HTTP from the demo platform: every learner and every
assessment with state, score, assessor and lateness, filtered and sorted by the query string; release one
and release all; the revision history with what changed; the score's delivery to the gradebook, a refusal
shown with the platform's reason and retried; and every refusal (managers, learners, another course's
designer, guessed ids)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from lti_tool.db import session_scope, utcnow
from lti_tool.feedback import oversight
from lti_tool.lti.errors import ROLE_NOT_ALLOWED
from lti_tool.models import Activity, Assessment, AuditEntry, ManagerLink, Membership, OutboxMessage, User
from lti_tool.outbox import Worker
from lti_tool.permissions import FEEDBACK_NOT_FOUND
from lti_tool.states import AssessmentStatus, AssessorRole, CadreRole, ManagerLinkSource
from tests.deliverables.test_activities import save_settings
from tests.feedback import test_pages
from tests.feedback.test_pages import Placed, _rubric_id, filled
from tests.fixtures.database import CountQueries
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor

placed = test_pages.placed  # the fixture: an activity placed and set up by the designer


def staff_path(placed: Placed, query: str = "") -> str:
    return f"/activities/{placed.activity_id}/assessments" + (f"?{query}" if query else "")


def rows(page: Page) -> list[tuple[str, str, str]]:
    """(learner, assessor, state) per row, as shown."""
    return [(name, assessor, row["data-state"]) for name, assessor, row in zip(
        page.texts("learner-name"), page.texts("assessor"), page.attributes("assessment-row"), strict=True)]


def waiting_for_release(placed: Placed) -> None:
    saved = save_settings(placed.designer, placed.activity_id, rubric_id=str(_rubric_id(placed)),
                          assessors="line_manager", feedback_release="when_released",
                          work_product_required="", due_date="", due_time="")
    assert saved.status == 200, saved.text[:1500]


def give_feedback(placed: Placed, manager: Visitor, learner_sub: str, **changes: str) -> Page:
    path = placed.form_path(learner_sub)
    done = manager.submit(manager.get(path), "feedback-form", filled(**changes), button=("action", "submit"))
    assert done.status == 200, done.text[:1500]
    return done


def refresh_roster(designer: Visitor) -> None:
    refreshed = designer.submit(designer.get("/people"), "refresh-form")
    assert refreshed.status == 200 and refreshed.texts("refreshed"), refreshed.text[:1500]


def assessment_of(app: Flask, learner_id: int) -> Assessment:
    with session_scope(app) as session:
        found = session.scalars(select(Assessment).where(Assessment.learner_id == learner_id)).one()
        session.expunge(found)
    return found


def test_staff_see_every_learner_and_release_submitted_feedback_one_or_all(placed: Placed,
                                                                           app: Flask) -> None:
    waiting_for_release(placed)
    refresh_roster(placed.designer)
    omar = placed.open("manager")
    placed.open("manager", user="manager-rita")  # links Chloé and Dev to Rita
    give_feedback(placed, omar, "learner-ana")
    with session_scope(app) as session:  # due yesterday: Ben, Chloé and Dev are late, Ana submitted
        session.execute(update(Activity).values(due_at=utcnow() - timedelta(hours=30)))

    home = placed.open("designer").home
    page = placed.designer.get(home.link("staff-feedback-link"))
    assert page.status == 200, page.text[:1500]
    assert rows(page) == [("Ana Lima", "Omar Haddad", "submitted"),
                          ("Ben Okafor", "Omar Haddad (expected)", "not_started"),
                          ("Chloé Martin", "Rita Nowak (expected)", "not_started"),
                          ("Dev Patel", "Rita Nowak (expected)", "not_started")]
    assert page.texts("score")[0] == "8 of 12 points (66.67%)" and page.texts("score")[1] == "—"
    assert page.texts("overdue") == ["—", "2 days", "2 days", "2 days"]
    assert page.attributes("delivery")[0]["data-delivery"] == "waiting_release"

    # Filters and sorting live in the query string, and the links and forms keep them.
    rita_id = placed.user_id("manager-rita")
    assert [r[0] for r in rows(placed.designer.get(staff_path(placed, f"manager={rita_id}")))] == [
        "Chloé Martin", "Dev Patel"]
    assert [r[0] for r in rows(placed.designer.get(staff_path(placed, "state=submitted")))] == ["Ana Lima"]
    overdue = placed.designer.get(staff_path(placed, "overdue=1&sort=state"))
    assert [r[0] for r in rows(overdue)] == ["Ben Okafor", "Chloé Martin", "Dev Patel"]
    assert overdue.link("sort-name").endswith("?overdue=1")
    by_state = placed.designer.get(staff_path(placed, "sort=state"))
    assert [r[2] for r in rows(by_state)] == ["not_started"] * 3 + ["submitted"]
    nonsense = placed.designer.get(staff_path(placed, "state=lost&manager=x&sort=%27;drop&overdue=yes"))
    assert nonsense.status == 200 and len(rows(nonsense)) == 4

    # Release one: the learner sees it, its score is enqueued and delivered, and it is audited.
    filtered = placed.designer.get(staff_path(placed, "state=submitted"))
    released = placed.designer.submit(filtered, "release-form")
    assert released.status == 200 and released.texts("notice")[0].startswith("Feedback released")
    assert released.response.url.params["state"] == "submitted"  # the filters are kept
    assert released.texts("no-rows") == ["No learner matches these filters."]
    ana = placed.open("learner", user="learner-ana")
    assert "Plan the next call together." in ana.get(f"/activities/{placed.activity_id}/feedback").text
    Worker(app).drain()
    (score,) = placed.platform.lti.scores
    assert score["userId"] == "learner-ana"
    after = placed.designer.get(staff_path(placed))
    assert after.attributes("assessment-row")[0]["data-state"] == "released"
    assert after.attributes("delivery")[0]["data-delivery"] == "delivered"
    assert after.texts("delivery")[0].startswith("Delivered 20")
    with session_scope(app) as session:
        actions = [entry.action for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions.count("assessment.release") == 1

    # Release all submitted: Ben's, not Ana's again.
    give_feedback(placed, omar, "learner-ben")
    page = placed.designer.get(staff_path(placed))
    assert page.texts("release-all") == ["Release all submitted (1)"]
    all_released = placed.designer.submit(page, "release-all-form")
    assert all_released.texts("notice") == ["1 submitted assessment(s) released."]
    Worker(app).drain()
    assert [s["userId"] for s in placed.platform.lti.scores] == ["learner-ana", "learner-ben"]
    assert not placed.designer.get(staff_path(placed)).texts("release-all")


def test_the_revision_history_shows_what_changed_and_a_refused_score_is_retried(placed: Placed,
                                                                                 app: Flask) -> None:
    omar = placed.open("manager")
    give_feedback(placed, omar, "learner-ana")
    Worker(app).drain()
    with session_scope(app) as session:  # the platform will refuse the next score: no such line item
        session.execute(update(Activity).values(line_item_url=placed.line_item + "/gone"))
    give_feedback(placed, omar, "learner-ana", **{"level-consistency": "starting",
                                                  "comment-consistency": "Only in the first calls."})
    Worker(app).drain()
    Worker(app).drain()
    ana_id = placed.user_id("learner-ana")
    assessment = assessment_of(app, ana_id)
    assert assessment.revision_count == 2

    page = placed.designer.get(staff_path(placed))
    (row,) = [r for r in page.attributes("assessment-row") if r.get("data-assessment-id")]
    delivery = page.attributes("delivery")[0]
    assert delivery["data-delivery"] == "dead"
    assert "404" in page.texts("delivery-reason")[0]
    history = placed.designer.get(page.link("history-link"))
    assert history.status == 200
    assert [r["data-number"] for r in history.attributes("revision")] == ["2", "1"]
    assert history.texts("level-change") == ["Level before: Role model → after: Starting"]
    assert history.texts("points-change") == ["Points before: 3 → after: 1"]
    assert history.texts("comment-change") == ["Comment before: (empty) → after: Only in the first calls."]
    assert history.texts("total-change") == [
        "Total before: 8 of 12 points (66.67%) → after: 6 of 12 points (50%)"]
    assert [d["data-delivery"] for d in history.attributes("delivery")] == ["dead", "delivered"]

    # Fixed at the platform's end, retried from the page: delivered once, audited.
    with session_scope(app) as session:
        session.execute(update(Activity).values(line_item_url=placed.line_item))
    retried = placed.designer.submit(history, "retry-form")
    assert retried.status == 200
    assert retried.texts("notice") == ["The score will be sent to the gradebook again."]
    assert retried.attributes("delivery")[0]["data-delivery"] == "pending"
    again = placed.designer.post(f"/activities/{placed.activity_id}/assessments/{assessment.id}/retry-grade")
    assert again.status == 400 and oversight.NOT_DEAD in again.text  # nothing dead to retry now
    Worker(app).drain()
    assert [s["scoreGiven"] for s in placed.platform.lti.scores] == [6.67, 5.0]
    assert placed.designer.get(page.link("history-link")).attributes("delivery")[0]["data-delivery"] == \
        "delivered"
    with session_scope(app) as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "outbox.retry_dead"))
        assert entry.details["assessment_id"] == assessment.id and entry.details["revision"] == 2


def test_release_is_refused_when_nothing_waits_for_it(placed: Placed, app: Flask) -> None:
    omar = placed.open("manager")
    give_feedback(placed, omar, "learner-ana")
    assessment = assessment_of(app, placed.user_id("learner-ana"))
    base = f"/activities/{placed.activity_id}/assessments"
    page = placed.designer.get(base)
    assert not page.texts("release") and not page.texts("release-all")  # shown on submission already
    assert placed.designer.post(f"{base}/{assessment.id}/release").status == 400
    assert placed.designer.post(f"{base}/release-all").status == 400
    waiting_for_release(placed)
    omar.submit(omar.get(placed.form_path("learner-ana")), "withdraw-form", {"reason": "Wrong person."})
    assert placed.designer.post(f"{base}/{assessment.id}/release").status == 400  # withdrawn
    with session_scope(app) as session:
        assert session.get(Assessment, assessment.id).released_at is None


def test_refusals_on_the_staff_pages(placed: Placed, app: Flask) -> None:
    waiting_for_release(placed)
    omar = placed.open("manager")
    give_feedback(placed, omar, "learner-ana")
    assessment = assessment_of(app, placed.user_id("learner-ana"))
    base = f"/activities/{placed.activity_id}/assessments"
    posts = [f"{base}/{assessment.id}/release", f"{base}/release-all", f"{base}/{assessment.id}/retry-grade"]
    ana = placed.open("learner", user="learner-ana")
    other_designer = placed.open("designer", claims={"context": OTHER_COURSE})

    for visitor in (omar, ana):  # the course's managers and learners: not their pages
        assert visitor.get(base).status == 403
        assert visitor.get(f"{base}/{assessment.id}").status == 403
        for path in posts:
            assert visitor.post(path).status == 403
    for path in [base, f"{base}/{assessment.id}"]:  # another course's designer: as if it did not exist
        refused = other_designer.get(path)
        assert refused.status == 404 and "Your people" not in refused.text
    for path in posts:
        assert other_designer.post(path).status == 404
    # Guessed ids: an assessment of no activity or of this one under another activity's id.
    assert placed.designer.get(f"{base}/999999").status == 404
    assert FEEDBACK_NOT_FOUND in placed.designer.get(f"{base}/999999").text
    assert placed.designer.post(f"{base}/999999/release").status == 404
    elsewhere = f"/activities/{placed.activity_id + 1}/assessments/{assessment.id}"
    assert placed.designer.get(elsewhere).status == 404
    assert placed.designer.get("/activities/999999/assessments").status == 404
    assert placed.designer.get("/activities/2147483648/assessments").status == 404
    # Without the CSRF token a release is refused.
    assert placed.designer.post(f"{base}/{assessment.id}/release", csrf="").status == 400
    with session_scope(app) as session:
        stored = session.get(Assessment, assessment.id)
        assert stored.released_at is None and stored.status is AssessmentStatus.SUBMITTED
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == "ags.score")) is None
        assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "assessment.release")).all()
    assert ROLE_NOT_ALLOWED.format(allowed="a designer or an administrator", role="a manager") in \
        omar.get(base).text


def test_the_platforms_admin_oversees_the_activity(placed: Placed) -> None:
    give_feedback(placed, placed.open("manager"), "learner-ana")
    admin = placed.open("admin")
    assert admin.get(staff_path(placed)).texts("not-met-yet")  # Ana and Ben, before the roster names them
    refresh_roster(placed.designer)
    page = admin.get(staff_path(placed))
    assert page.status == 200 and ("Ana Lima", "Omar Haddad", "released") in rows(page)
    assert admin.get(page.link("history-link")).status == 200


def add_people(app: Flask, count: int) -> None:
    """``count`` more learners linked to Omar, every other one with his draft."""
    with session_scope(app) as session:
        activity = session.scalars(select(Activity)).one()
        omar = session.scalars(select(User).where(User.sub == "manager-omar")).one()
        now = utcnow()
        for number in range(count):
            learner = User(platform_id=activity.platform_id, sub=f"extra-{number}",
                           name=f"Extra {number:02d}")
            session.add(learner)
            session.flush()
            session.add(Membership(user_id=learner.id, context_id=activity.context_id, role=CadreRole.LEARNER,
                                   lti_roles=[]))
            session.add(ManagerLink(context_id=activity.context_id, manager_id=omar.id, learner_id=learner.id,
                                    source=ManagerLinkSource.ROSTER, created_at=now))
            if number % 2:
                session.add(Assessment(activity_id=activity.id, learner_id=learner.id, assessor_id=omar.id,
                                       assessor_role=AssessorRole.MANAGER, status=AssessmentStatus.DRAFT,
                                       draft_content={"strengths": "x"}, draft_revision=1, revision_count=0,
                                       learner_reply="", created_at=now, updated_at=now))


def test_the_staff_page_costs_the_same_queries_for_few_or_many_learners(
    placed: Placed, app: Flask, count_queries: CountQueries
) -> None:
    omar = placed.open("manager")
    give_feedback(placed, omar, "learner-ana")
    with count_queries() as few:
        assert len(placed.designer.get(staff_path(placed)).attributes("assessment-row")) == 2
    add_people(app, 30)  # linked to Omar, every other one with his draft
    with count_queries() as many:
        assert len(placed.designer.get(staff_path(placed)).attributes("assessment-row")) == 32
    assert many.count == few.count, many.statements
