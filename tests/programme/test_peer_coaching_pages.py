"""Peer coaching's pages over real HTTP from the demo platform: the designer sets the ideas, forms groups
at random and by hand; a member logs a session with the reflection template (bad input kept as typed), the
other member reads it, a learner of another group does not; the author changes and deletes it; the staff
read every group's log; the landing page's links; every refusal."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope, utcnow
from lti_tool.models import User
from lti_tool.programme import peer_coaching
from lti_tool.programme.peer_coaching_models import PeerCoachingGroup, PeerCoachingMember, PeerCoachingSession
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, visitor_from
from tests.programme.test_pages import place_kind

LEARNERS = ("learner-ana", "learner-ben", "learner-chloe", "learner-dev")
IDEAS = "Coach before you tell\nThe 80/20 model"


@dataclass
class PlacedCoaching:
    app: Flask
    activity_id: int
    designer: Visitor
    platform: RunningPlatform
    link: str

    def open(self, role: str, **options: object) -> Visitor:
        return visitor_from(self.platform.launch_as(role, activity=self.link, **options), role)

    @property
    def path(self) -> str:
        return f"/activities/{self.activity_id}/peer-coaching"

    def user_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(User.id).where(User.sub == sub))
        assert found is not None
        return found

    def staff_post(self, action: str, data: dict[str, object]) -> Page:
        page = self.designer.get(f"{self.path}/groups")
        token = {
            name: value
            for name, value in page.form("peer-coaching-settings-form").fields.items()
            if name in ("lt", "csrf_token")
        }
        return self.designer.post(f"{self.path}/{action}", {**token, **data})


@pytest.fixture
def placed_coaching(platform: RunningPlatform, app: Flask) -> PlacedCoaching:
    """A peer-coaching activity set up, its ideas saved, and four learners who launched it."""
    link, activity_id, designer = place_kind(platform, app, "peer_coaching", "Coach each other")
    placed = PlacedCoaching(app, activity_id, designer, platform, link)
    for sub in LEARNERS:
        placed.open("learner", user=sub)
    saved = placed.staff_post("settings", {"group_size": "2", "ideas": IDEAS})
    assert saved.status == 200 and saved.texts("notice") == ["Settings saved."], saved.text[:1500]
    return placed


def session_fields(presenter: int, **changes: str) -> dict[str, str]:
    return {
        "held_on": utcnow().date().isoformat(),
        "presenter_id": str(presenter),
        "experience": "My team missed the release date.",
        "idea": "Coach before you tell",
        "own_idea": "",
        "reflection": "I jumped in with answers.",
        "next_step": "Ask two questions first.",
        **changes,
    }


def pair(placed: PlacedCoaching, first: str, second: str) -> Page:
    return placed.staff_post("groups", {"member": [str(placed.user_id(first)), str(placed.user_id(second))]})


def test_members_log_and_read_their_groups_sessions_and_other_groups_do_not(
    placed_coaching: PlacedCoaching,
) -> None:
    formed = pair(placed_coaching, "learner-ana", "learner-ben")
    assert formed.texts("notice") == ["Group formed."]
    pair(placed_coaching, "learner-chloe", "learner-dev")
    ana = placed_coaching.open("learner", user="learner-ana")
    assert ana.home.texts("peer-coaching-link") == ["Open your group"]
    page = ana.get(placed_coaching.path)
    assert page.texts("group-member") == ["Ana Lima (you)", "Ben Okafor"]
    assert page.texts("peer-sessions-empty")

    ben_id = placed_coaching.user_id("learner-ben")
    refused = ana.post(
        f"{placed_coaching.path}/sessions",
        session_fields(ben_id, held_on="soon", experience="", idea="Something else"),
    )
    assert refused.status == 400
    assert [row["data-field"] for row in refused.attributes("problems")] == ["held_on", "experience", "idea"]
    assert refused.form("peer-session-form").fields["reflection"] == "I jumped in with answers."

    logged = ana.post(f"{placed_coaching.path}/sessions", session_fields(ben_id))
    assert logged.texts("notice") == ["Session logged: your group sees it."]
    assert logged.texts("session-idea") == ["Coach before you tell"]

    ben = placed_coaching.open("learner", user="learner-ben")
    seen = ben.get(placed_coaching.path)
    assert "My team missed the release date." in seen.text and not seen.texts("edit-session")
    chloe = placed_coaching.open("learner", user="learner-chloe")
    other_group = chloe.get(placed_coaching.path)
    assert "My team missed the release date." not in other_group.text

    with session_scope(placed_coaching.app) as session:
        session_id = session.scalar(select(PeerCoachingSession.id))
        group_id = session.scalar(select(PeerCoachingSession.group_id))
    edit_path = f"{placed_coaching.path}/sessions/{session_id}"
    assert ben.get(edit_path).status == 404  # only its author
    assert chloe.get(edit_path).status == 404
    assert chloe.post(edit_path, {"action": "delete"}).status == 404
    changed = ana.post(edit_path, session_fields(ben_id, idea=peer_coaching.OWN_IDEA, own_idea="Listening"))
    assert changed.texts("notice") == ["Session changed."] and changed.texts("session-idea") == ["Listening"]

    staff = placed_coaching.designer.get(f"{placed_coaching.path}/groups/{group_id}")
    assert staff.status == 200 and "My team missed the release date." in staff.text
    overview = placed_coaching.designer.get(f"{placed_coaching.path}/groups")
    assert overview.texts("group-sessions")[0].startswith("1")
    gone = ana.post(edit_path, {"action": "delete"})
    assert gone.texts("notice") == ["Session deleted."] and gone.texts("peer-sessions-empty")


def test_groups_formed_at_random_are_pairs_of_everyone(placed_coaching: PlacedCoaching) -> None:
    formed = placed_coaching.staff_post("groups/random", {})
    assert formed.texts("notice")[0].startswith("2 new group(s) formed")
    assert len(formed.attributes("group")) == 2
    assert sorted(len(group) for group in _members_by_group(placed_coaching)) == [2, 2]
    assert "disabled" in formed.attributes("form-groups")[0]  # nobody waits for a group any more


def _members_by_group(placed: PlacedCoaching) -> list[list[int]]:
    with session_scope(placed.app) as session:
        groups: dict[int, list[int]] = {}
        for group_id, user_id in session.execute(
            select(PeerCoachingMember.group_id, PeerCoachingMember.user_id)
        ):
            groups.setdefault(group_id, []).append(user_id)
    return list(groups.values())


def test_bad_settings_and_groups_are_refused_with_their_messages(placed_coaching: PlacedCoaching) -> None:
    refused = placed_coaching.staff_post("settings", {"group_size": "5", "ideas": "x" * 201})
    assert refused.status == 400
    assert [row["data-field"] for row in refused.attributes("problems")] == ["group_size", "ideas"]
    alone = placed_coaching.staff_post("groups", {"member": [str(placed_coaching.user_id("learner-ana"))]})
    assert alone.status == 400 and alone.texts("problems") == [peer_coaching.NOT_LEARNERS]
    pair(placed_coaching, "learner-ana", "learner-ben")
    again = pair(placed_coaching, "learner-ana", "learner-chloe")
    assert again.status == 400
    with session_scope(placed_coaching.app) as session:
        group_id = session.scalar(select(PeerCoachingGroup.id))
    assert placed_coaching.staff_post(f"groups/{group_id + 50}/dissolve", {}).status == 404
    assert (
        placed_coaching.staff_post(
            f"groups/{group_id}/members/{placed_coaching.user_id('learner-chloe')}/remove", {}
        ).status
        == 404
    )
    dissolved = placed_coaching.staff_post(f"groups/{group_id}/dissolve", {})
    assert dissolved.texts("notice") == ["Group dissolved."] and dissolved.texts("groups-empty")


def test_every_refusal_of_the_peer_coaching_pages(placed_coaching: PlacedCoaching) -> None:
    pair(placed_coaching, "learner-ana", "learner-ben")
    with session_scope(placed_coaching.app) as session:
        group_id = session.scalar(select(PeerCoachingGroup.id))
    omar = placed_coaching.open("manager")
    ana = placed_coaching.open("learner", user="learner-ana")
    chloe = placed_coaching.open("learner", user="learner-chloe")
    path = placed_coaching.path
    assert omar.get(path).status == 403
    assert placed_coaching.designer.get(path).status == 403
    assert chloe.get(path).texts("no-group")
    assert (
        chloe.post(f"{path}/sessions", session_fields(placed_coaching.user_id("learner-chloe"))).status == 409
    )
    for action in ("settings", "groups", "groups/random", f"groups/{group_id}/dissolve"):
        assert ana.post(f"{path}/{action}", {}).status == 403
        assert omar.post(f"{path}/{action}", {}).status == 403
    assert ana.get(f"{path}/groups/{group_id}").status == 403  # the staff's page, even for a member
    other = placed_coaching.open("designer", claims={"context": OTHER_COURSE})
    assert other.get(f"{path}/groups").status == 404
    assert other.get(f"{path}/groups/{group_id}").status == 404
    assert placed_coaching.designer.get(f"{path}/groups/{group_id + 99}").status == 404
    assert placed_coaching.designer.get("/activities/999999/peer-coaching/groups").status == 404
    assert ana.get(f"{path}/sessions/999999").status == 404
