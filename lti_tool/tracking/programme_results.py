"""What the course's programme activities found, beside the learning data on the course's dashboard: the
costliest gaps of each manager insight survey and the changes each six-month follow-up measured.

Read through the programme's own services (``lti_tool.programme.survey.ranked_gaps`` and
``follow_ups.change_report``), with their rules: an anonymous survey shows nothing before k answers, and
no figure names a manager. A few statements per survey or follow-up activity (a course has one or two),
none per learner; the dashboard's filters do not apply to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.models import Activity, Context
from lti_tool.permissions import Actor
from lti_tool.programme import follow_ups, survey
from lti_tool.states import ActivityKind

TOP_GAPS = 5


@dataclass(frozen=True)
class SurveyGaps:
    activity: Activity
    visible: bool
    gaps: list[survey.GapRow]


@dataclass(frozen=True)
class FollowUpChanges:
    activity: Activity
    report: follow_ups.ChangeReport


def programme_results(
    session: Session, actor: Actor, context: Context
) -> tuple[list[SurveyGaps], list[FollowUpChanges]]:
    """The course's surveys (costliest gaps first) and follow-ups, for an actor who reads its dashboard."""
    permissions.ensure(permissions.can_read_course_dashboard(actor, context))
    activities = list(
        session.scalars(
            select(Activity)
            .where(
                Activity.context_id == context.id,
                Activity.platform_id == context.platform_id,
                Activity.configured_at.is_not(None),
                Activity.kind.in_([ActivityKind.MANAGER_INSIGHT_SURVEY, ActivityKind.SIX_MONTH_FOLLOW_UP]),
            )
            .order_by(Activity.id)
        )
    )
    surveys, changes = [], []
    for activity in activities:
        if activity.kind is ActivityKind.MANAGER_INSIGHT_SURVEY:
            visible = survey.results_visible(session, activity)
            gaps = survey.ranked_gaps(session, activity, by="cost")[:TOP_GAPS] if visible else []
            surveys.append(SurveyGaps(activity, visible, gaps))
        else:
            changes.append(FollowUpChanges(activity, follow_ups.change_report(session, actor, activity)))
    return surveys, changes
