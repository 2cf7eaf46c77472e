"""The programme outcome: the designer names it (bad input says why and stores nothing), enters values and
imports a CSV of them (all or nothing, each row reported), the course's dashboard shows it beside the
learning data before and after the programme (chart, tables, CSV that imports again), `cadre outcome
import` follows the same rules, and nobody but the course's staff reads or changes it."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.db import session_scope, utcnow
from lti_tool.models import AuditEntry, Launch
from lti_tool.permissions import COURSE_NOT_FOUND, OUTCOME_DESIGNERS_ONLY, OUTCOME_VALUE_NOT_FOUND
from lti_tool.relationships.groups import PersonGroup
from lti_tool.states import GroupSource, OutcomeDirection
from lti_tool.tracking import outcome, seed
from lti_tool.tracking.outcome_models import OutcomeValue, ProgrammeOutcome
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import Page, Visitor
from tests.tracking.test_pages import course_of

START = date(2026, 9, 1)
OUTCOME_FORM = {
    "name": "First-call resolution",
    "unit": "%",
    "description": "From the contact centre's monthly report.",
    "baseline": "68",
    "target": "80",
    "direction": "higher",
    "programme_start": START.isoformat(),
}
VALUES_CSV = (
    "date,value,team,note\n"
    "2026-07-31,67.5,,July report\n"
    "2026-08-31,68.5,,\n"
    "2026-09-30,71,,\n"
    "2026-10-31,74.25,,\n"
    "2026-08-31,60,North,\n"
    "2026-10-31,66,North,=cmd|' /C calc'!A0\n"
)


def upload(text: str, name: str = "values.csv") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, text.encode("utf-8-sig"), "text/csv")}


def stored(app: Flask, context_id: int) -> list[tuple[str, str, str]]:
    with session_scope(app) as session:
        return [
            (row.measured_on.isoformat(), row.team, outcome._plain(row.value))
            for row in outcome.values_of(session, context_id)
        ]


def name_the_outcome(designer: Visitor, context_id: int) -> Page:
    page = designer.get(f"/courses/{context_id}/outcome")
    assert page.status == 200, page.text[:1500]
    saved = designer.submit(page, "outcome-form", OUTCOME_FORM)
    assert saved.status == 200 and saved.texts("notice") == ["The outcome is saved."], saved.text[:1500]
    return saved


# -- reading input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("87.5", "87.5"), (" -3 ", "-3"), ("1,250.75", "1250.75"), ("92%", "92"), (".5", "0.5"), ("+4", "4")],
)
def test_values_are_read_as_people_type_them(text: str, value: str) -> None:
    assert outcome.parse_value(text) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The value is missing"),
        ("87,5", "is not a number (use a point for decimals, not a comma)"),
        ("eighty", "“eighty” is not a number"),
        ("1e5", "“1e5” is not a number"),
        ("NaN", "“NaN” is not a number"),
        ("123456789012345", "is too large"),
        ("1.23456", "has more than four decimals"),
    ],
)
def test_a_value_that_is_no_number_says_why(text: str, message: str) -> None:
    with pytest.raises(outcome.OutcomeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        outcome.parse_value(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The date is missing"),
        ("31/12/2026", "must be written as YYYY-MM-DD"),
        ("2026-02-30", "is not a day of the calendar"),
        ("1999-12-31", "must be between 2000-01-01 and 2100-12-31"),
    ],
)
def test_a_bad_date_says_why(text: str, message: str) -> None:
    with pytest.raises(outcome.OutcomeError, match=message):
        outcome.parse_day(text)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "The outcome's name is needed."),
        ({"unit": ""}, "unit", "The unit is needed."),
        ({"name": "x" * 201}, "name", "longer than 200 characters"),
        ({"baseline": "lots"}, "baseline", "The baseline “lots” is not a number"),
        ({"target": ""}, "target", "The target is missing"),
        ({"target": "68"}, "target", "The target is the baseline"),
        ({"target": "60"}, "target", "Higher is better, so the target must be above the baseline (68)."),
        ({"direction": "lower"}, "target", "Lower is better, so the target must be below the baseline (68)."),
        ({"direction": "sideways"}, "direction", "Choose whether higher or lower values are better."),
        ({"programme_start": "soon"}, "programme_start", "The programme's start must be written as"),
    ],
)
def test_the_outcome_form_names_the_field_at_fault(changes: dict[str, str], field: str, message: str) -> None:
    with pytest.raises(outcome.OutcomeError) as raised:
        outcome.OutcomeFields.from_form({**OUTCOME_FORM, **changes})
    assert raised.value.field == field and message in raised.value.message


# -- the figures, against values computed independently --------------------------------------------------

days = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))
amounts = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    values=st.dictionaries(days, amounts, min_size=0, max_size=30),
    direction=st.sampled_from(list(OutcomeDirection)),
)
def test_before_and_after_means_change_and_progress_match_a_plain_computation(
    values: dict[date, Decimal], direction: OutcomeDirection
) -> None:
    baseline, target = Decimal(10), Decimal(20) if direction is OutcomeDirection.HIGHER else Decimal(0)
    saved = ProgrammeOutcome(
        context_id=1,
        name="x",
        unit="points",
        description="",
        baseline=baseline,
        target=target,
        direction=direction,
        programme_start=START,
    )
    ordered = sorted(values.items())
    points = [outcome.Point(day, value, "", number) for number, (day, value) in enumerate(ordered)]
    series = outcome.SeriesFigures(
        "", [p for p in points if p.measured_on < START], [p for p in points if p.measured_on >= START], saved
    )
    before = [value for day, value in ordered if day < START]
    after = [value for day, value in ordered if day >= START]

    def close(found: Decimal | None, expected: float | None) -> bool:
        return (found is None) == (expected is None) and (
            found is None or abs(float(found) - expected) < 0.0001  # type: ignore[operator]
        )

    assert close(series.mean_before, statistics.fmean(before) if before else None)
    assert close(series.mean_after, statistics.fmean(after) if after else None)
    if after:
        reference = statistics.fmean(before) if before else float(baseline)
        assert close(series.change, statistics.fmean(after) - reference)
        assert close(series.progress, round((float(after[-1]) - 10) * 100 / float(target - baseline), 2))
        better = (statistics.fmean(after) - reference > 0) == (direction is OutcomeDirection.HIGHER)
        assert series.improved is (None if abs(statistics.fmean(after) - reference) < 1e-9 else better)
    else:
        assert series.change is None and series.progress is None and series.improved is None


# -- the pages -------------------------------------------------------------------------------------------


def test_the_designer_names_the_outcome_enters_imports_and_the_dashboard_shows_it(
    app: Flask, designer: Visitor
) -> None:
    context_id = course_of(app, designer)
    dashboard = designer.get(f"/courses/{context_id}/dashboard")
    assert dashboard.status == 200 and dashboard.texts("no-outcome"), dashboard.text[:1500]
    page = designer.get(dashboard.link("outcome-link"))
    assert page.status == 200 and page.parsed.forms, page.text[:1500]

    # A value or an import before the outcome has a name is refused, and says so.
    refused = designer.post(
        f"/courses/{context_id}/outcome/values", {"measured_on": "2026-08-31", "value": "1"}
    )
    assert refused.status == 400 and "Name the course's outcome first" in refused.text

    bad = designer.submit(page, "outcome-form", {**OUTCOME_FORM, "target": "50"})
    assert bad.status == 400 and "Higher is better, so the target must be above the baseline" in bad.text
    assert 'aria-invalid="true"' in bad.response.text
    with session_scope(app) as session:
        assert session.get(ProgrammeOutcome, context_id) is None
    page = name_the_outcome(designer, context_id)

    # One value by hand, then a bad one (nothing stored), then the file.
    added = designer.submit(page, "value-form", {"measured_on": "2026-06-30", "value": "66", "note": "June"})
    assert added.status == 200 and added.texts("notice") == ["The value is saved."]
    for changes, message in [
        ({"measured_on": "2026-06-31", "value": "1"}, "is not a day of the calendar"),
        ({"measured_on": "2026-07-01", "value": "66,5"}, "use a point for decimals"),
        ({"measured_on": "2026-07-01", "value": "1", "team": "t" * 101}, "longer than 100 characters"),
        ({"measured_on": "2026-07-01", "value": "1", "note": "n" * 301}, "longer than 300 characters"),
    ]:
        refused = designer.submit(added, "value-form", changes)
        assert refused.status == 400 and message in refused.text, (changes, refused.text[:800])
    assert stored(app, context_id) == [("2026-06-30", "", "66")]

    broken = VALUES_CSV + "2026-11-31,75,,\n2026-08-31,61,North,\nlater,1,,\n"
    report = designer.submit(added, "import-form", files=upload(broken))
    assert report.status == 400
    assert report.texts("import-summary")[0].startswith(
        "Nothing was imported: 6 new, 0 replacing a stored value, 3 invalid"
    )
    rows = {row["data-line"]: row["data-state"] for row in report.attributes("import-row")}
    assert rows["8"] == rows["9"] == rows["10"] == "invalid" and rows["2"] == "new"
    assert "Repeats line 6 (the same team and date)." in report.text
    assert stored(app, context_id) == [("2026-06-30", "", "66")]

    imported = designer.submit(added, "import-form", files=upload(VALUES_CSV.replace("67.5", "67.5")))
    assert imported.status == 200, imported.text[:1500]
    assert imported.texts("import-summary") == [
        "Imported 6 value(s): 6 new, 0 replacing a stored value, 0 invalid."
    ]
    again = designer.submit(imported, "import-form", files=upload("Date,Value\n2026-06-30,65\n"))
    assert again.texts("import-summary")[0].startswith("Imported 1 value(s): 0 new, 1 replacing")
    assert ("2026-06-30", "", "65") in stored(app, context_id) and len(stored(app, context_id)) == 7

    # The dashboard: the outcome beside the learning data, before and after, with a chart and its tables.
    board = designer.get(f"/courses/{context_id}/dashboard")
    assert board.status == 200, board.text[:1500]
    assert board.texts("outcome-name") == ["First-call resolution"]
    assert board.texts("outcome-before") == ["67%"]  # (65 + 67.5 + 68.5) / 3
    assert board.texts("outcome-after") == ["72.625%"]  # (71 + 74.25) / 2
    assert board.texts("outcome-verdict") == ["better"]
    assert board.texts("outcome-progress") == ["52.08%"]  # (74.25 - 68) / (80 - 68)
    chart = [
        attributes
        for attributes in board.attributes("chart")
        if "chart-outcome" in attributes["aria-labelledby"]
    ]
    assert chart and chart[0]["role"] == "img"
    summary = board.texts("row-summary")
    assert summary[0].startswith("Course-wide") and summary[1].startswith("North")
    values_csv = designer.get(board.link("csv-values"))
    assert values_csv.status == 200 and values_csv.response.headers["content-type"].startswith("text/csv")
    assert (
        f'filename="course-{context_id}-outcome-values.csv"'
        in values_csv.response.headers["content-disposition"]
    )
    written = list(csv.reader(io.StringIO(values_csv.response.text)))
    assert written[0] == ["date", "team", "value", "note", "period"] and len(written) == 8
    assert ["2026-10-31", "North", "66", "'=cmd\\|' /C calc'!A0", "after"] in written  # formula-safe
    # The download imports again as it is, changing nothing.
    round_trip = designer.submit(
        designer.get(f"/courses/{context_id}/outcome"), "import-form", files=upload(values_csv.response.text)
    )
    assert round_trip.texts("import-summary")[0].startswith("Imported 7 value(s): 0 new, 7 replacing")
    assert ("2026-10-31", "North", "66") in stored(app, context_id)
    with session_scope(app) as session:
        note = session.scalar(
            select(OutcomeValue.note).where(
                OutcomeValue.team == "North", OutcomeValue.measured_on == date(2026, 10, 31)
            )
        )
        assert note == "=cmd|' /C calc'!A0"
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "outcome.imported")
            )
            == 3
        )
    # Teams already measured and the course's groups are offered as the designer types a team.
    with session_scope(app) as session:
        launch = session.get(Launch, designer.launch_token)
        assert launch is not None
        session.add(
            PersonGroup(
                context_id=context_id,
                user_id=launch.user_id,
                name="South desk",
                source=GroupSource.ROSTER_CSV,
            )
        )
    suggested = designer.get(f"/courses/{context_id}/outcome").response.text
    assert 'list="team-names"' in suggested
    assert '<option value="North"></option><option value="South desk"></option>' in suggested
    summary_csv = designer.get(board.link("csv-summary"))
    assert summary_csv.status == 200 and summary_csv.response.text.startswith("Series,Values before")

    # Removing a value, and a value of no course or of another.
    page = designer.get(f"/courses/{context_id}/outcome")
    form = next(form for form in page.parsed.forms if form.action and form.action.endswith("/remove"))
    removed = designer.post(form.action, {})
    assert removed.status == 200 and removed.texts("notice") == ["The value is removed."]
    assert len(stored(app, context_id)) == 6
    missing = designer.post(f"/courses/{context_id}/outcome/values/2000000000/remove", {})
    assert missing.status == 404 and OUTCOME_VALUE_NOT_FOUND in missing.text
    assert designer.get(f"/courses/{context_id}/outcome/salaries.csv").status == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("team,note\nNorth,x\n", "Line 1 must be a header row naming the columns date and value"),
        ("date,value\n", "The file has a header row but no values under it."),
        ('date,value\n2026-01-01,"1\n', "the file is not valid CSV (a quoted cell is never closed)"),
    ],
)
def test_a_file_that_cannot_be_read_stores_nothing(
    app: Flask, designer: Visitor, text: str, message: str
) -> None:
    context_id = course_of(app, designer)
    name_the_outcome(designer, context_id)
    report = designer.submit(
        designer.get(f"/courses/{context_id}/outcome"), "import-form", files=upload(text)
    )
    assert report.status == 400 and message in report.texts("import-summary")[0], report.text[:800]
    not_utf8 = designer.submit(
        designer.get(f"/courses/{context_id}/outcome"),
        "import-form",
        files={"file": ("v.csv", "date,value\n2026-01-01,1 café".encode("latin-1"), "text/csv")},
    )
    assert not_utf8.status == 400 and "The file is not UTF-8 text" in not_utf8.text
    assert stored(app, context_id) == []


def test_only_the_courses_staff_read_or_change_the_outcome(
    app: Flask, designer: Visitor, learner: Visitor, manager: Visitor, other_designer: Visitor, admin: Visitor
) -> None:
    context_id = course_of(app, designer)
    name_the_outcome(designer, context_id)
    designer.post(f"/courses/{context_id}/outcome/values", {"measured_on": "2026-10-31", "value": "70"})
    with session_scope(app) as session:
        value_id = session.scalar(select(OutcomeValue.id))
    attempts = [
        ("get", f"/courses/{context_id}/outcome", None),
        ("get", f"/courses/{context_id}/outcome/values.csv", None),
        ("post", f"/courses/{context_id}/outcome", OUTCOME_FORM),
        ("post", f"/courses/{context_id}/outcome/values", {"measured_on": "2026-11-30", "value": "1"}),
        ("post", f"/courses/{context_id}/outcome/values/{value_id}/remove", {}),
        ("post", f"/courses/{context_id}/outcome/import", {}),
    ]
    for visitor in (learner, manager):
        for method, path, data in attempts:
            answer = visitor.get(path) if method == "get" else visitor.post(path, data)
            assert answer.status == 403, (visitor.role, path, answer.status)
            assert OUTCOME_DESIGNERS_ONLY in answer.text or "Not for your role" in answer.text
    for method, path, data in attempts:
        answer = other_designer.get(path) if method == "get" else other_designer.post(path, data)
        assert answer.status == 404 and COURSE_NOT_FOUND in answer.text, (path, answer.status)
    assert designer.get("/courses/2000000000/outcome").status == 404
    # Without the CSRF token nothing changes.
    assert designer.post(f"/courses/{context_id}/outcome/values/{value_id}/remove", {}, csrf="").status in (
        400,
        403,
    )
    assert stored(app, context_id) == [("2026-10-31", "", "70")]
    assert admin.get(f"/courses/{context_id}/outcome").status == 200
    # The other course's dashboard does not show this course's outcome.
    own = other_designer.get(f"/courses/{course_of(app, other_designer)}/dashboard")
    assert own.status == 200 and own.texts("no-outcome") and "First-call resolution" not in own.text


def test_the_command_imports_all_or_nothing(
    app: Flask, designer: Visitor, platform: RunningPlatform, tmp_path: Path
) -> None:
    context_id = course_of(app, designer)
    path = tmp_path / "values.csv"
    path.write_text(VALUES_CSV)
    course = platform.lti.course.context_id
    runner = app.test_cli_runner()
    unnamed = runner.invoke(main, ["outcome", "import", "--course", course, str(path)])
    assert unnamed.exit_code == 1 and "Name the course's outcome first" in unnamed.output
    name_the_outcome(designer, context_id)
    path.write_text(VALUES_CSV + "2026-12-31,lots,,\n")
    bad = runner.invoke(main, ["outcome", "import", "--course", course, str(path)])
    assert bad.exit_code == 1 and "line 8: invalid: The value “lots” is not a number" in bad.output
    assert stored(app, context_id) == []
    path.write_text(VALUES_CSV)
    dry = runner.invoke(main, ["outcome", "import", "--course", course, "--dry-run", str(path)])
    assert dry.exit_code == 0 and "dry run" in dry.output and stored(app, context_id) == []
    done = runner.invoke(main, ["outcome", "import", "--course", course, str(path)])
    assert done.exit_code == 0 and "Imported 6 value(s)" in done.output, done.output
    assert len(stored(app, context_id)) == 6
    unknown = runner.invoke(main, ["outcome", "import", "--course", "NOPE-1", str(path)])
    assert unknown.exit_code == 1 and "No course 'NOPE-1' is known to Cadre" in unknown.output
    missing = runner.invoke(main, ["outcome", "import", "--course", course, str(tmp_path / "none.csv")])
    assert missing.exit_code == 2


def test_the_chart_scales_to_the_values_and_marks_the_start(app: Flask, db: object) -> None:
    saved = ProgrammeOutcome(
        context_id=1,
        name="Revenue per rep",
        unit="EUR",
        description="",
        baseline=Decimal(12000),
        target=Decimal(15000),
        direction=OutcomeDirection.HIGHER,
        programme_start=START,
    )
    points = [
        outcome.Point(START + timedelta(days=30 * n), Decimal(11800 + 400 * n), "", n) for n in range(-3, 4)
    ]
    series = outcome.SeriesFigures(
        "", [p for p in points if p.measured_on < START], [p for p in points if p.measured_on >= START], saved
    )
    chart = outcome.outcome_chart(outcome.OutcomeFigures(saved, [series]))
    labels = [tick.label for tick in chart.y_ticks]
    assert float(labels[0]) <= 10600 and float(labels[-1]) >= 15000
    drawn = [point.y for point in chart.series[0].points]
    assert drawn == sorted(drawn, reverse=True)  # rising values, higher on the page
    start = next(series for series in chart.series if series.name == "Programme start")
    assert start.points[0].x == start.points[1].x and chart.plot_left < start.points[0].x < chart.plot_right
    assert "EUR" in chart.description and "2026-09-01" in chart.description


team_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=0, max_size=20
).map(lambda text: " ".join(text.split()))
notes = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(
    str.strip
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.dictionaries(
        st.tuples(team_names, st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))),
        st.tuples(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False), notes),
        min_size=1,
        max_size=15,
    )
)
def test_the_values_csv_imports_again_into_the_same_values(
    db: Session, rows: dict[tuple[str, date], tuple[Decimal, str]]
) -> None:
    """Whatever the teams and notes (formula-like, quoted, accented), the download reads back as typed."""
    source = seed._course(db, None, utcnow())
    target = seed._course(db, None, utcnow())
    for context in (source, target):
        db.add(
            ProgrammeOutcome(
                context_id=context.id,
                name="x",
                unit="%",
                description="",
                baseline=Decimal(1),
                target=Decimal(2),
                direction=OutcomeDirection.HIGHER,
                programme_start=START,
            )
        )
    for (team, day), (value, note) in rows.items():
        outcome.record_value(db, None, source, measured_on=day, team=team, value=value, note=note)
    found = outcome.figures(db, source.id)
    assert found is not None
    text = outcome.values_table(found).csv()
    report = outcome.import_values(db, None, target, text.encode("utf-8"))
    assert report.stored, (
        report.summary(),
        [row.message for row in report.rows if row.state.value == "invalid"],
    )

    def stored_rows(context_id: int) -> set[tuple[str, date, Decimal, str]]:
        return {(row.team, row.measured_on, row.value, row.note) for row in outcome.values_of(db, context_id)}

    assert (
        stored_rows(target.id)
        == stored_rows(source.id)
        == {(team, day, value, note) for (team, day), (value, note) in rows.items()}
    )


def test_a_nul_character_is_refused_in_every_form_and_in_the_file_and_stores_nothing(
    app: Flask, designer: Visitor
) -> None:
    """A NUL (``\\x00``) cannot be stored in PostgreSQL's text: every form refuses it before its view runs
    (lti_tool.lti.session.refuse_nul_characters), and the import file's rows say what is wrong with them."""
    from lti_tool.lti.errors import NUL_IN_FORM

    context_id = course_of(app, designer)
    page = designer.get(f"/courses/{context_id}/outcome")
    refused = designer.submit(page, "outcome-form", {**OUTCOME_FORM, "name": "CSAT\x00"})
    assert refused.status == 400 and NUL_IN_FORM in refused.text, refused.text[:1500]
    with session_scope(app) as session:
        assert session.get(ProgrammeOutcome, context_id) is None
    page = name_the_outcome(designer, context_id)
    for changes in ({"team": "North\x00"}, {"note": "June\x00"}, {"value\x00": "1"}):
        answer = designer.submit(page, "value-form", {"measured_on": "2026-06-30", "value": "66", **changes})
        assert answer.status == 400 and NUL_IN_FORM in answer.text, (changes, answer.text[:800])
    assert stored(app, context_id) == []
    report = designer.submit(
        designer.get(f"/courses/{context_id}/outcome"), "import-form",
        files=upload("date,value,team,note\n2026-07-31,67,North\x00,\n2026-08-31,68,,June\x01\n"),
    )
    assert report.status == 400, report.text[:1500]
    assert "The team's name has control characters" in report.text
    assert "The note has control characters" in report.text
    assert stored(app, context_id) == []
