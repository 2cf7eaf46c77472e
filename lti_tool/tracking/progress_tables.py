"""The team and progress pages' tables and charts, each built once from
:class:`~lti_tool.tracking.progress.Progress`: the page shows each table (a chart beside the weekly one),
and the CSV download writes the same cells."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from lti_tool.lti.activity_kinds import kind_info
from lti_tool.tracking import charts
from lti_tool.tracking.progress import CompetencyTrend, DueItem, DueState, PersonProgress, Progress
from lti_tool.tracking.tables import Table, moment, number

STATE_LABELS = {
    DueState.DONE: "Submitted",
    DueState.DRAFT: "Draft saved, not submitted",
    DueState.DUE: "To do",
    DueState.OVERDUE: "Overdue",
    DueState.WAITING: "Not submitted yet",
}
PART_LABELS = {
    "you": "Your feedback",
    "self": "Self-assessment",
    "line_manager": "Feedback from the line manager",
}


def signed(value: Decimal | None) -> str:
    return "" if value is None else f"{value:+.2f}"


def state_text(item: DueItem) -> str:
    text = STATE_LABELS[item.state]
    if item.overdue_days is not None:
        text += f" by {item.overdue_days} day{'s' if item.overdue_days != 1 else ''}"
    return text


def _weekly(trends: list[CompetencyTrend], weeks: list, name: str, caption: str) -> Table:
    tags = [trend.tag for trend in trends]
    means = {(trend.tag, point.week): point.mean for trend in trends for point in trend.points}
    return Table(
        name,
        caption,
        ("Week of", *tags),
        tuple(
            (week.isoformat(), *(number(means.get((tag, week))) for tag in tags))
            for week in weeks
            if any((tag, week) in means for tag in tags)
        ),
        (False, *(True for _ in tags)),
        "No scores yet.",
    )


def _competencies(trends: list[CompetencyTrend], name: str, caption: str) -> Table:
    return Table(
        name,
        caption,
        (
            "Competency",
            "Criteria",
            "First week",
            "First mean %",
            "Latest week",
            "Latest mean %",
            "Change",
            "Scores",
        ),
        tuple(
            (
                trend.tag,
                ", ".join(sorted(trend.criteria, key=str.casefold)),
                trend.first.week.isoformat() if trend.first else "",
                number(trend.first.mean if trend.first else None),
                trend.latest.week.isoformat() if trend.latest else "",
                number(trend.latest.mean if trend.latest else None),
                signed(trend.change),
                number(sum(point.scores for point in trend.points)),
            )
            for trend in trends
        ),
        (False, False, False, True, False, True, True, True),
        "No scores yet.",
    )


def _chart(chart_id: str, who: str, trends: list[CompetencyTrend], weeks: list) -> charts.Chart:
    shown = [week for week in weeks if any(point.week == week for trend in trends for point in trend.points)]
    labels = [week.isoformat() for week in shown]
    series = [
        (
            trend.tag,
            [next((point.mean for point in trend.points if point.week == week), None) for week in shown],
        )
        for trend in trends
    ]
    span = f"from the week of {labels[0]} to the week of {labels[-1]}" if labels else "no weeks yet"
    return charts.line_chart(
        chart_id,
        f"{who}: mean score per competency and week",
        f"{len(series)} line(s), one per competency, {span}: the mean percentage of the scores submitted "
        "each week on the criteria tagged with it. The table beside has every figure.",
        labels,
        series,
    )


# -- the team page ----------------------------------------------------------------------------------------


def people_table(progress: Progress) -> Table:
    return Table(
        "people",
        "Your people: your part in each activity, what improved and their refreshers",
        (
            "Person",
            "To do",
            "Overdue",
            "Submitted",
            "Improved competencies",
            "Refreshers due",
            "Coming",
            "Done",
        ),
        tuple(
            (
                person.name,
                number(len(person.open_items)),
                number(person.overdue),
                number(sum(item.state == DueState.DONE and item.part == "you" for item in person.due)),
                ", ".join(f"{trend.tag} ({signed(trend.change)})" for trend in person.improved),
                number(person.refresher_counts.due),
                number(person.refresher_counts.upcoming),
                number(person.refresher_counts.done),
            )
            for person in progress.people
        ),
        (False, True, True, True, False, True, True, True),
        "No learners are linked to you in this course yet.",
    )


def team_competencies_table(progress: Progress) -> Table:
    return _competencies(
        progress.team_competencies,
        "competencies",
        "Your people's scores per competency (the feedback you gave): first week, latest week, change",
    )


def team_weeks_table(progress: Progress) -> Table:
    return _weekly(
        progress.team_competencies,
        progress.weeks,
        "weeks",
        "Your people's mean score per competency and week",
    )


def team_chart(progress: Progress) -> charts.Chart:
    return _chart("chart-team", "Your people", progress.team_competencies, progress.weeks)


TEAM_TABLES: dict[str, Callable[[Progress], Table]] = {
    "people": people_table,
    "competencies": team_competencies_table,
    "weeks": team_weeks_table,
}


# -- one person (the manager's page of a person, the learner's own page) -------------------------------------


def _person(progress: Progress) -> PersonProgress:
    assert len(progress.people) == 1, "a person's tables are built from their progress alone"
    return progress.people[0]


def person_competencies_table(progress: Progress) -> Table:
    person = _person(progress)
    return _competencies(
        person.competencies, "competencies", "Scores per competency: first week, latest, change"
    )


def person_weeks_table(progress: Progress) -> Table:
    person = _person(progress)
    return _weekly(person.competencies, progress.weeks, "weeks", "Mean score per competency and week")


def due_table(progress: Progress) -> Table:
    person = _person(progress)
    return Table(
        "due",
        "What is due, activity by activity",
        ("Activity", "Kind", "Due", "Part", "State"),
        tuple(
            (
                item.activity.title,
                kind_info(item.activity.kind).label,
                moment(item.activity.due_at),
                PART_LABELS[item.part],
                state_text(item),
            )
            for item in person.due
        ),
        (False, False, False, False, False),
        "No activity with a rubric in this course yet.",
    )


def revisions_table(progress: Progress) -> Table:
    person = _person(progress)
    return Table(
        "revisions",
        "Assessments submitted again: the first submission against the one in force",
        ("Activity", "Submissions", "First %", "In force %", "Change", "Last submitted"),
        tuple(
            (
                revision.activity_title,
                number(revision.revisions),
                number(revision.first_percent),
                number(revision.latest_percent),
                signed(revision.change),
                moment(revision.submitted_at),
            )
            for revision in person.revisions
        ),
        (False, True, True, True, True, False),
        "No assessment was submitted again.",
    )


def follow_ups_table(progress: Progress) -> Table:
    person = _person(progress)
    return Table(
        "follow-ups",
        "Your six-month follow-ups: the score then and at the follow-up",
        ("Follow-up", "Before %", "At the follow-up %", "Change", "Answered"),
        tuple(
            (
                change.activity_title,
                number(change.before_percent),
                number(change.after_percent),
                signed(change.change),
                moment(change.answered_at),
            )
            for change in person.follow_ups
        ),
        (False, True, True, True, False),
        "No follow-up answered yet.",
    )


def refreshers_table(progress: Progress) -> Table:
    person = _person(progress)
    return Table(
        "refreshers",
        "Refreshers: each step of the spacing schedule and where it stands",
        ("Refresher", "Reinforces", "Step", "Due", "State", "Done"),
        tuple(
            (
                line.title,
                line.target_label,
                f"{line.step} of {line.step_count}",
                moment(line.due_at),
                line.label,
                moment(line.completed_at),
            )
            for line in person.refreshers
        ),
        (False, False, False, False, False, False),
        "No refresher scheduled.",
    )


def person_chart(progress: Progress) -> charts.Chart:
    person = _person(progress)
    return _chart("chart-person", person.name, person.competencies, progress.weeks)


PERSON_TABLES: dict[str, Callable[[Progress], Table]] = {
    "competencies": person_competencies_table,
    "weeks": person_weeks_table,
    "due": due_table,
    "revisions": revisions_table,
    "follow-ups": follow_ups_table,
    "refreshers": refreshers_table,
}
OWN_TABLES = {name: build for name, build in PERSON_TABLES.items() if name != "follow-ups"}
"""The learner's own page: no follow-ups (their answers are the manager's and the course staff's)."""
