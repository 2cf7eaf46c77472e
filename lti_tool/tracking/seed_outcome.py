"""A programme outcome and a leaderboard for seeded courses: the demo course (``make demo``) and the
dashboards' data set (``cadre demo seed``), so that the dashboard shows the outcome beside the learning
data and learners find a leaderboard with people on it.

The values are month ends, course-wide and per team, near the baseline before the programme began and
moving towards the target after it (with some noise, from a seeded generator: the same seed gives the
same values).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.states import LeaderboardDisplay, LeaderboardMetric, LeaderboardSubject, OutcomeDirection
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings
from lti_tool.tracking.outcome_models import OutcomeValue, ProgrammeOutcome

MONTHS_BEFORE = 6
MONTHS_AFTER = 3


def month_ends(last: date, count: int) -> list[date]:
    """The last days of the ``count`` whole months before ``last``'s month, oldest first."""
    ends, day = [], last.replace(day=1) - timedelta(days=1)
    for _ in range(count):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return sorted(ends)


def seed_outcome(session: Session, context_id: int, *, teams: Sequence[str] = (), seed: int = 1,
                 today: date | None = None) -> ProgrammeOutcome:
    """First-call resolution (%), baseline 68, target 80; the programme began three months ago. A course
    that names an outcome already keeps it."""
    existing = session.get(ProgrammeOutcome, context_id)
    if existing is not None:
        return existing
    randomness = random.Random(seed)
    today = today or utcnow().date()
    ends = month_ends(today, MONTHS_BEFORE + MONTHS_AFTER)
    start = ends[MONTHS_BEFORE - 1] + timedelta(days=1)
    outcome = ProgrammeOutcome(
        context_id=context_id, name="First-call resolution", unit="%", baseline=Decimal(68),
        target=Decimal(80), direction=OutcomeDirection.HIGHER, programme_start=start,
        description="Share of customer calls resolved without a call back, from the contact centre's monthly "
                    "report.",
    )
    session.add(outcome)
    for team_number, team in enumerate(["", *teams]):
        level = 68.0 + (team_number - len(teams) / 2) * 1.5
        for month, day in enumerate(ends):
            lift = max(0, month - MONTHS_BEFORE + 1) * 2.2
            value = Decimal(str(round(level + lift + randomness.gauss(0, 0.6), 1)))
            session.add(OutcomeValue(context_id=context_id, team=team, measured_on=day, value=value,
                                     note="Monthly report" if not team else ""))
    session.flush()
    return outcome


def seed_leaderboard(session: Session, context_id: int, chosen: Sequence[int]) -> LeaderboardSettings:
    """The leaderboard on (completion, by learner, pseudonyms, others' figures hidden), with ``chosen``
    (user ids) appearing on it. A course with settings already keeps them."""
    existing = session.get(LeaderboardSettings, context_id)
    if existing is not None:
        return existing
    settings = LeaderboardSettings(
        context_id=context_id, enabled=True, metric=LeaderboardMetric.COMPLETION,
        subject=LeaderboardSubject.LEARNER, display=LeaderboardDisplay.PSEUDONYMS, show_values=False,
    )
    session.add(settings)
    session.add_all(LeaderboardPresence(context_id=context_id, user_id=user_id, opted_in=True, number=number)
                    for number, user_id in enumerate(chosen, start=1))
    session.flush()
    return settings
