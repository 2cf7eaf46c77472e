"""The demo course's spaced refreshers (``lti_tool.tracking.refreshers``), seeded on its manager-feedback
activity: one on the rubric's third criterion and one on its fourth criterion's competency, with the default
threshold (60%) and schedule (1, 3, 7, 21 days). Omar's and Rita's feedback seeded before scores Ana and
Chloé low on some of them, so their schedules start; the first step of Ana's is brought forward to yesterday,
so that she finds a refresher on her first launch and Omar sees where it stands among his people.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Activity, RubricVersion, RubricVersionCompetency, User
from lti_tool.permissions import Actor
from lti_tool.tracking import refreshers
from lti_tool.tracking.refresher_models import ScheduledRefresher

TEXTS = (
    ("Keep it going: one habit a week",
     "Pick **one** thing the training showed and do it on every call this week. On Friday, write down "
     "what changed for the customer.", "https://www.example.org/cadre-demo/habits"),
    ("The number that matters",
     "Before a call, name the result your customer cares about (a renewal, a resolved ticket, a date). "
     "After it, check whether you moved it.", ""),
)


def seed_refreshers(session: Session, designer: Actor, activity: Activity, ana: User) -> int:
    """Attach the demo refreshers, schedule them from the feedback already given; answers the steps made."""
    version = session.get(RubricVersion, activity.rubric_version_id)
    assert version is not None
    criteria = version.content["criteria"]
    tags = {row.criterion_identifier: row.competency_tag for row in session.scalars(
        select(RubricVersionCompetency).where(RubricVersionCompetency.version_id == version.id))}
    third, fourth = criteria[2]["identifier"], criteria[3]["identifier"]
    targets = [f"criterion:{third}",
               f"competency:{tags[fourth]}" if fourth in tags else f"criterion:{fourth}"]
    for target, (title, body, link) in zip(targets, TEXTS, strict=True):
        refreshers.save_refresher(session, designer, activity, refreshers.RefresherInput(
            target=target, title=title, body=body, link_url=link))
    made = session.scalar(select(func.count(ScheduledRefresher.id))) or 0
    session.execute(update(ScheduledRefresher)
                    .where(ScheduledRefresher.learner_id == ana.id, ScheduledRefresher.step == 1)
                    .values(due_at=utcnow() - timedelta(days=1)))
    return made
