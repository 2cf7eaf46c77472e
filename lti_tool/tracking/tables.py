"""The dashboard's tables and charts, each built once from :class:`~lti_tool.tracking.dashboard.Dashboard`:
the page shows a table beside its chart, and the CSV download writes the same table's cells (so the two
can never disagree)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import rubrics.spreadsheet_cells as spreadsheet_cells
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.states import AssessorRole
from lti_tool.tracking import charts
from lti_tool.tracking.dashboard import ROLE_LABELS, ROLES, Dashboard


def number(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}"


def moment(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Table:
    name: str
    """Its CSV file's name, without ``.csv``."""
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    """Which columns hold numbers (aligned right on the page)."""
    empty: str = "Nothing to show with these filters."

    def csv(self) -> str:
        """The table as CSV; a cell a spreadsheet would run as a formula is written as text (with a tab or
        a carriage return first too: :mod:`rubrics.spreadsheet_cells`, whose ``restore`` reads it back)."""
        buffer = io.StringIO()
        out = spreadsheet_cells.writer(buffer)
        out.writerow(self.headers)
        for row in self.rows:
            out.writerow(row)
        return buffer.getvalue()


def completion_table(dashboard: Dashboard) -> Table:
    return Table(
        "completion",
        "Completion per activity: learners with a submitted assessment, of the learners expected",
        ("Activity", "Kind", "Due", "Learners expected", "Submitted", "Completion %"),
        tuple(
            (
                row.activity.title,
                kind_info(row.activity.kind).label,
                moment(row.activity.due_at),
                number(row.expected),
                number(row.completed),
                number(row.percent),
            )
            for row in dashboard.completion
        ),
        (False, False, False, True, True, True),
        "No activity with a rubric matches these filters.",
    )


def managers_table(dashboard: Dashboard) -> Table:
    return Table(
        "managers",
        "Managers' participation: their people in the activities they assess, overdue first",
        (
            "Manager",
            "People",
            "Assessments expected",
            "Submitted",
            "Overdue",
            "Most overdue (days)",
            "Reminders sent",
            "Last reminder",
        ),
        tuple(
            (
                row.name,
                number(row.people),
                number(row.expected),
                number(row.submitted),
                number(row.overdue),
                number(row.overdue_days),
                number(row.reminders_sent),
                moment(row.last_reminder_at),
            )
            for row in dashboard.participation
        ),
        (False, True, True, True, True, True, True, False),
        "No manager assesses in these activities.",
    )


def _level_columns(dashboard: Dashboard) -> int:
    return max([0, *(summary.level_count for summary in dashboard.criteria)])


def criteria_table(dashboard: Dashboard) -> Table:
    levels = _level_columns(dashboard)
    rows = []
    for summary in dashboard.criteria:
        for role in ROLES:
            tally = summary.tallies.get(role)
            if tally is None or not tally.count:
                continue
            counts = summary.levels[role]
            rows.append(
                (
                    summary.title,
                    ROLE_LABELS[role],
                    number(tally.count),
                    number(tally.mean),
                    *(number(counts.get(level, 0)) for level in range(1, levels + 1)),
                )
            )
    return Table(
        "criteria",
        "Scores per criterion: how many reached each level, and the mean percentage",
        (
            "Criterion",
            "Assessed by",
            "Assessments",
            "Mean %",
            *(f"Level {level}" for level in range(1, levels + 1)),
        ),
        tuple(rows),
        (False, False, True, True, *([True] * levels)),
    )


def competencies_table(dashboard: Dashboard) -> Table:
    rows = []
    for competency in dashboard.competencies:
        managers, own = competency.tallies[AssessorRole.MANAGER], competency.tallies[AssessorRole.SELF]
        rows.append(
            (
                competency.tag,
                ", ".join(sorted(competency.criteria)),
                number(managers.count),
                number(managers.mean),
                number(own.count),
                number(own.mean),
            )
        )
    return Table(
        "competencies",
        "Scores per competency: the criteria tagged with it, by managers and by the learners",
        (
            "Competency",
            "Criteria",
            "Managers' scores",
            "Managers' mean %",
            "Self-assessment scores",
            "Self-assessment mean %",
        ),
        tuple(rows),
        (False, False, True, True, True, True),
        "No criterion of these rubrics names a competency.",
    )


def trends_table(dashboard: Dashboard) -> Table:
    return Table(
        "trends",
        "Trends per week (weeks start on Monday, UTC): submissions and their mean percentage",
        (
            "Week of",
            "Managers' submissions",
            "Managers' mean %",
            "Self-assessments",
            "Self-assessment mean %",
        ),
        tuple(
            (
                week.week_start.isoformat(),
                number(week.submissions.get(AssessorRole.MANAGER, 0)),
                number(week.tallies[AssessorRole.MANAGER].mean),
                number(week.submissions.get(AssessorRole.SELF, 0)),
                number(week.tallies[AssessorRole.SELF].mean),
            )
            for week in dashboard.weeks
        ),
        (False, True, True, True, True),
    )


def gaps_table(dashboard: Dashboard) -> Table:
    return Table(
        "gaps",
        "Self-assessment against managers per criterion: the learners' mean minus the managers' mean "
        "(percentage points; above zero, learners rate themselves higher)",
        (
            "Criterion",
            "Self-assessment mean %",
            "Managers' mean %",
            "Gap (points)",
            "Self-assessments",
            "Managers' scores",
        ),
        tuple(
            (
                summary.title,
                number(summary.tallies[AssessorRole.SELF].mean),
                number(summary.tallies[AssessorRole.MANAGER].mean),
                number(summary.gap),
                number(summary.tallies[AssessorRole.SELF].scored),
                number(summary.tallies[AssessorRole.MANAGER].scored),
            )
            for summary in dashboard.gaps
        ),
        (False, True, True, True, True, True),
        "No criterion has both self-assessments and managers' scores.",
    )


def survey_gaps_table(dashboard: Dashboard) -> Table:
    rows = []
    for found in dashboard.surveys:
        for gap in found.gaps:
            rows.append(
                (
                    found.activity.title,
                    number(gap.rank),
                    gap.name,
                    number(gap.answers),
                    number(gap.managers),
                    number(gap.cost_per_week),
                    number(gap.score),
                )
            )
    return Table(
        "survey-gaps",
        "The insight surveys' costliest gaps: estimated cost per week in the survey's currency, "
        "and frequency x impact (not filtered)",
        ("Survey", "Rank", "Gap", "Answers", "Managers", "Cost per week", "Frequency x impact"),
        tuple(rows),
        (False, True, False, True, True, True, True),
        "No manager insight survey in this course shows results yet.",
    )


def follow_up_changes_table(dashboard: Dashboard) -> Table:
    rows = []
    for found in dashboard.follow_ups:
        report = found.report
        for change in report.criteria:
            rows.append(
                (
                    found.activity.title,
                    f"Criterion: {change.title}",
                    number(change.before),
                    number(change.after),
                    number(change.change),
                )
            )
        for change in report.gaps:
            rows.append(
                (
                    found.activity.title,
                    f"Gap: {change.name}",
                    number(change.before.score if change.before else None),
                    number(change.after.score if change.after else None),
                    number(change.change),
                )
            )
    return Table(
        "follow-up-changes",
        "Six-month follow-ups: each criterion's mean points and each gap's frequency x "
        "impact, before and after (not filtered)",
        ("Follow-up", "What", "Before", "After", "Change"),
        tuple(rows),
        (False, False, True, True, True),
        "No six-month follow-up in this course has answers to compare yet.",
    )


TABLES: dict[str, Callable[[Dashboard], Table]] = {
    "completion": completion_table,
    "managers": managers_table,
    "criteria": criteria_table,
    "competencies": competencies_table,
    "trends": trends_table,
    "gaps": gaps_table,
    "survey-gaps": survey_gaps_table,
    "follow-up-changes": follow_up_changes_table,
}


# -- charts ------------------------------------------------------------------------------------------------


def _extremes(items: list[tuple[str, Decimal | None]], what: str) -> str:
    present = [(label, value) for label, value in items if value is not None]
    if not present:
        return f"No {what} yet."
    low = min(present, key=lambda item: item[1])
    high = max(present, key=lambda item: item[1])
    return f"Highest: {high[0]}, {high[1]:.2f}%. Lowest: {low[0]}, {low[1]:.2f}%."


def completion_chart(dashboard: Dashboard) -> charts.Chart:
    items = [(row.activity.title, row.percent) for row in dashboard.completion]
    return charts.bar_chart(
        "chart-completion",
        "Completion per activity",
        f"Bars of the share of expected learners with a submitted assessment, for {len(items)} activities. "
        + _extremes(items, "completion"),
        items,
    )


def criteria_chart(dashboard: Dashboard) -> charts.Chart:
    levels = _level_columns(dashboard)
    titles = []
    for level in range(1, levels + 1):
        named = next(
            (
                summary.level_label(level)
                for summary in dashboard.criteria
                if level <= len(summary.level_titles)
            ),
            f"Level {level}",
        )
        titles.append(named)
    rows = []
    for summary in dashboard.criteria:
        for role in ROLES:
            counts = summary.levels.get(role)
            if counts:
                rows.append(
                    (
                        f"{summary.title} ({'self' if role is AssessorRole.SELF else 'managers'})",
                        [counts.get(level, 0) for level in range(1, levels + 1)],
                    )
                )
    return charts.stacked_chart(
        "chart-criteria",
        "Levels reached per criterion",
        f"For each of {len(dashboard.criteria)} criteria, by managers and in self-assessments, one bar split "
        "into "
        "the share of assessments at each level, lowest level first. The table beside it has the counts.",
        titles,
        rows,
    )


def competencies_chart(dashboard: Dashboard) -> charts.Chart:
    items = [
        (competency.tag, competency.tallies[AssessorRole.MANAGER].mean)
        for competency in dashboard.competencies
    ]
    return charts.bar_chart(
        "chart-competencies",
        "Managers' mean score per competency",
        f"Bars of the managers' mean percentage on the criteria tagged with each of {len(items)} "
        "competencies. " + _extremes(items, "managers' scores"),
        items,
    )


def trends_chart(dashboard: Dashboard) -> charts.Chart:
    labels = [week.week_start.isoformat() for week in dashboard.weeks]
    managers = [week.tallies[AssessorRole.MANAGER].mean for week in dashboard.weeks]
    own = [week.tallies[AssessorRole.SELF].mean for week in dashboard.weeks]
    span = f"from the week of {labels[0]} to the week of {labels[-1]}" if labels else "no weeks yet"
    return charts.line_chart(
        "chart-trends",
        "Mean score per week",
        f"Two lines, {span}: the mean percentage of managers' assessments (solid) and of self-assessments "
        "(dashed) submitted each week.",
        labels,
        [("Managers", managers), ("Self-assessments", own)],
    )


def gaps_chart(dashboard: Dashboard) -> charts.Chart:
    items = [(summary.title, summary.gap) for summary in dashboard.gaps if summary.gap is not None]
    widest = f" Widest: {items[0][0]}, {items[0][1]:+.2f} points." if items else ""
    return charts.diverging_chart(
        "chart-gaps",
        "Self-assessment minus managers' score per criterion",
        f"Bars right of zero where learners rate themselves higher than their managers do, left where lower, "
        f"for {len(items)} criteria.{widest}",
        items,
    )


CHARTS: dict[str, Callable[[Dashboard], charts.Chart]] = {
    "completion": completion_chart,
    "criteria": criteria_chart,
    "competencies": competencies_chart,
    "trends": trends_chart,
    "gaps": gaps_chart,
}
