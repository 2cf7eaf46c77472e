"""Relationship rules on the database, without HTTP: who is the line manager, and the object rules for
links and nominations."""

from __future__ import annotations

import pytest

from lti_tool.feedback import content
from lti_tool.feedback import services as feedback
from lti_tool.models import ManagerLink, Membership
from lti_tool.permissions import Actor, PermissionDenied, can_assess, can_read_feedback, line_manager_id
from lti_tool.relationships import roster, services
from lti_tool.states import CadreRole, ManagerLinkRelation, ManagerLinkStatus
from tests.feedback.conftest import Course, complete_answers


def test_a_line_manager_linked_after_a_mentor_is_still_the_line_manager(course: Course) -> None:
    db, chloe = course.db, course.chloe
    course.link_chloe_to_a_mentor_then_a_line_manager()
    assert line_manager_id(db, course.context.id, chloe.id) == course.omar.user_id
    # Without a line-manager link, the oldest active link stands in (links from before relations existed).
    assert line_manager_id(db, course.context.id, course.ana.id) == course.omar.user_id


def test_links_and_nominations_of_another_course_or_guessed_are_not_found(course: Course) -> None:
    db = course.db
    for user, role in [(course.omar.user_id, CadreRole.MANAGER), (course.ana.id, CadreRole.LEARNER),
                       (course.rita.user_id, CadreRole.MANAGER), (course.chloe.id, CadreRole.LEARNER)]:
        db.add(Membership(user_id=user, context_id=course.context.id, role=role, lti_roles=[]))
    db.flush()
    other_link = db.query(ManagerLink).filter_by(context_id=course.other_context.id).one()
    with pytest.raises(PermissionDenied) as refused:
        services.end_link(db, course.designer, other_link.id)
    assert refused.value.decision.status == 404
    with pytest.raises(PermissionDenied):
        services.end_link(db, course.designer, 2_000_000_000)
    assert other_link.status is ManagerLinkStatus.ACTIVE

    with pytest.raises(services.RelationshipError, match="Rita Nowak is already one of your managers"):
        services.nominate(db, course.ana_actor, course.rita.user_id, ManagerLinkRelation.COACH)
    chloe = Actor(course.chloe.id, "Chloé Martin", course.platform.id, course.context.id, CadreRole.LEARNER)
    nomination = services.nominate(db, chloe, course.rita.user_id, ManagerLinkRelation.COACH)
    assert nomination.status is ManagerLinkStatus.PENDING
    for someone in (course.omar, course.stranger):  # another manager; the nominee's name in another course
        with pytest.raises(PermissionDenied) as refused:
            services.answer_nomination(db, someone, nomination.id, accept=True)
        assert refused.value.decision.status == 404
    assert nomination.status is ManagerLinkStatus.PENDING
    services.answer_nomination(db, course.rita, nomination.id, accept=False)
    assert nomination.status is ManagerLinkStatus.DECLINED and nomination.ended_at is not None
    with pytest.raises(PermissionDenied):  # answered already
        services.answer_nomination(db, course.rita, nomination.id, accept=True)
    assert course.chloe.id not in {user.id for user in services.learners_of(db, course.context.id,
                                                                             course.rita.user_id)}


class ScriptedRoster:
    """A connector answering roster pages from a dict of URL -> (members, next URL)."""

    def __init__(self, pages: dict[str, tuple[list[dict[str, object]], str | None]]) -> None:
        self.pages = pages
        self.asked: list[str] = []

    def make_service_request(self, scopes: list[str], url: str, **_options: object) -> dict[str, object]:
        self.asked.append(url)
        members, next_url = self.pages[url]
        return {"headers": {}, "body": {"members": members}, "next_page_url": next_url}


def member(sub: str) -> dict[str, object]:
    return {"user_id": sub, "roles": ["Learner"], "name": sub.title()}


def test_roster_pages_that_loop_or_never_end_are_refused_and_relative_next_links_followed() -> None:
    start = "https://lms.example/nrps/1"
    relative = ScriptedRoster({start: ([member("a")], "/nrps/1?page=2"),
                               "https://lms.example/nrps/1?page=2": ([member("b"), member("a")], None)})
    entries = roster.fetch_roster(relative, start)  # type: ignore[arg-type]
    assert sorted(entry.user_id for entry in entries) == ["a", "b"]  # "a" on two pages counts once

    looping = ScriptedRoster({start: ([member("a")], start + "?p=2"), start + "?p=2": ([member("b")], start)})
    with pytest.raises(roster.RosterError, match="point back to a page already read"):
        roster.fetch_roster(looping, start)  # type: ignore[arg-type]

    endless = ScriptedRoster({f"{start}?p={n}": ([member(str(n))], f"{start}?p={n + 1}") for n in range(10)})
    with pytest.raises(roster.RosterError, match="more than 3 pages"):
        roster.fetch_roster(endless, f"{start}?p=0", max_pages=3)  # type: ignore[arg-type]
    assert len(endless.asked) == 3

    crowded = ScriptedRoster({start: ([member(str(n)) for n in range(11)], None)})
    with pytest.raises(roster.RosterError, match="more than 10 members"):
        roster.fetch_roster(crowded, start, max_members=10)  # type: ignore[arg-type]

    broken = ScriptedRoster({start: ([], None)})
    broken.pages[start] = ("not a list", None)  # type: ignore[assignment]
    with pytest.raises(roster.RosterError, match="no list of members"):
        roster.fetch_roster(broken, start)  # type: ignore[arg-type]


def test_ending_a_link_keeps_the_feedback_given_under_it_and_stops_new_feedback(course: Course) -> None:
    db = course.db
    activity = course.activity()
    answers = content.read_content(complete_answers(), feedback.rubric_of(activity))
    revision = feedback.submit(db, course.omar, activity, course.ana, answers, based_on=0)
    omar_ana = db.query(ManagerLink).filter_by(context_id=course.context.id, manager_id=course.omar.user_id,
                                               learner_id=course.ana.id).one()

    services.end_link(db, course.designer, omar_ana.id)

    assert omar_ana.status is ManagerLinkStatus.ENDED and omar_ana.ended_at is not None
    assessment = revision.assessment
    assert feedback.newest_revision(assessment) is revision  # kept as it was
    assert can_read_feedback(course.ana_actor, assessment)  # the learner still reads it
    assert can_read_feedback(course.omar, assessment)  # and its assessor
    assert not can_assess(course.omar, course.ana, activity)  # but gives no new feedback on Ana
    with pytest.raises(services.RelationshipError, match="nothing to end"):
        services.end_link(db, course.designer, omar_ana.id)
