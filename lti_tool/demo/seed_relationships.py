"""The demo course's strategic-relationships activity (``make demo``), seeded through the map's services
with dates spread over the last quarter, so that its history and goals have something to draw:

==============================  ====================================================  =====================
who                             done already                                          left to do
==============================  ====================================================  =====================
Ana (Omar's)                    6 relationships mapped over 12 weeks (one operational  Omar: review her map
                                taken off, a mentor grown from 2 to 4), a goal of two   with the rubric
                                new strategic relationships this quarter (met) and
                                one of a mentee (not yet); shared for review
Ben (Omar's)                    two operational relationships, not shared              Ben: map strategic
                                                                                       ones, share
==============================  ====================================================  =====================

The activity is graded out of 10 with the ``strategic-relationships`` rubric (placed by ``demo.seed``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from lti_tool.db import utcnow
from lti_tool.models import Activity
from lti_tool.permissions import Actor
from lti_tool.programme import relationship_map as maps
from lti_tool.programme.relationship_models import MappedRelationship
from lti_tool.states import CadreRole

if TYPE_CHECKING:
    from lti_tool.demo.seed import DemoCourse

TITLE = "Your strategic relationships"
TEMPLATE = "strategic-relationships"
INSTRUCTIONS = ("Map the people and roles you work with, operational and strategic; set a goal for the "
                "strategic relationships you need next, and share the map with your manager.")
BRIEFING = ("Read your person's map before you meet: is there a mentor, a sponsor, a peer outside the team? "
            "Review it with the rubric and agree the next relationship to build.")


def _relationship(name: str, kind: str, strength: int, purpose: str, *, contact_days_ago: int | None = None,
                  is_role: bool = False) -> dict[str, str]:
    today = utcnow().date()
    contact = "" if contact_days_ago is None else (today - timedelta(days=contact_days_ago)).isoformat()
    return {"name": name, "is_role": "1" if is_role else "", "relation_type": kind, "strength": str(strength),
            "last_contact_on": contact, "purpose": purpose}


def seed_relationship_maps(demo: DemoCourse, activity: Activity) -> None:
    session = demo.session
    today = utcnow().date()
    ana, ben = demo.actor("learner-ana", CadreRole.LEARNER), demo.actor("learner-ben", CadreRole.LEARNER)

    def added(actor: Actor, days_ago: int, fields: dict[str, str]) -> MappedRelationship:
        """Mapped ``days_ago`` days ago; its last contact (often after that day) recorded today."""
        row = maps.add_relationship(session, actor, activity, {**fields, "last_contact_on": ""},
                                    today=today - timedelta(days=days_ago))
        if fields["last_contact_on"]:
            maps.change_relationship(session, actor, maps.own_map(session, actor, activity), row, fields,
                                     today=today)
        return row

    added(ana, 84, _relationship("Jonas Weber", "operational", 4, "Runs the rota with me",
                                 contact_days_ago=2))
    stand_in = added(ana, 84, _relationship("Night-shift lead", "operational", 3, "Covers the late calls",
                                            is_role=True))
    added(ana, 80, _relationship("Lea from billing", "operational", 3, "Fixes customers' invoices fast",
                                 contact_days_ago=6))
    mentor_purpose = "Perspective on leading a bigger team"
    mentor = added(ana, 60, _relationship("Dana Ortiz", "mentor", 2, mentor_purpose))
    added(ana, 30, _relationship("Sam at Nordwind", "peer_other_company", 3,
                                 "How another service desk handles peaks", contact_days_ago=20))
    added(ana, 10, _relationship("Head of procurement", "strategic_partner", 1,
                                 "The supplier change next year", is_role=True))
    own = maps.own_map(session, ana, activity)
    maps.end_relationship(session, ana, own, stand_in, today=today - timedelta(days=45))
    maps.change_relationship(session, ana, own, mentor,
                             _relationship("Dana Ortiz", "mentor", 4, mentor_purpose, contact_days_ago=21),
                             today=today - timedelta(days=20))
    quarter = {"starts_on": (today - timedelta(days=84)).isoformat(),
               "ends_on": (today + timedelta(days=6)).isoformat()}
    maps.add_goal(session, ana, activity, {"goal_type": maps.ANY_STRATEGIC, "target": "2",
                                           "note": "This quarter", **quarter})
    maps.add_goal(session, ana, activity, {"goal_type": "mentee", "target": "1",
                                           "note": "Someone from the new starters", **quarter})
    maps.share(session, ana, activity)

    added(ben, 14, _relationship("Priya in dispatch", "operational", 4, "Gets engineers out the same day",
                                 contact_days_ago=1))
    added(ben, 7, _relationship("Warehouse supervisor", "operational", 2, "Spare parts", is_role=True))
