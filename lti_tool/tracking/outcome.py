"""A course's programme outcome: the business result the course serves (customer satisfaction, first-call
resolution, revenue per rep), named by its designer with a unit, a baseline, a target, the direction in
which it improves and the day the programme began; and the values measured period by period, course-wide
or per team, entered one by one or imported from a CSV file (all or nothing, every row reported).

The course's dashboard shows the outcome beside the learning data (:func:`figures`): each series' values
before and after the programme began, the change, how far the latest value has come towards the target,
a chart and the tables it is drawn from (downloadable as CSV, the values' CSV importable again).

A *team* is a name, as the business reports its figures: a branch, a business unit, a manager's team. It
may match a group of the course's people, but nothing requires it to.

The services take a session and never commit; :func:`ensure` asks the rules first.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import permissions
from lti_tool.models import Context, audit
from lti_tool.permissions import Actor, ensure
from lti_tool.relationships import groups
from lti_tool.states import OutcomeDirection
from lti_tool.tracking import charts
from lti_tool.tracking.outcome_models import OutcomeValue, ProgrammeOutcome
from lti_tool.tracking.tables import Table
from rubrics.spreadsheet_cells import restore

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
LARGEST = Decimal("99999999999999")
"""Values and targets stay below 10^14 (the column keeps 18 digits, 4 of them decimals)."""
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
MAX_TEAM = 100
MAX_NOTE = 300
COLUMNS = ("date", "value", "team", "note")
SERIES_SHOWN = 4
"""Series drawn on the chart (course-wide first, then the teams with most values); the tables have all."""
COURSE_WIDE = "Course-wide"
DIRECTION_LABELS = {
    OutcomeDirection.HIGHER: "Higher is better",
    OutcomeDirection.LOWER: "Lower is better",
}
HUNDREDTH = Decimal("0.01")


class OutcomeError(Exception):
    """Input the outcome cannot take; ``field`` names the form field at fault (the page marks it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# -- reading input ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def parse_value(text: str, what: str = "The value") -> Decimal:
    """A number as people type it: ``87.5``, ``-3``, ``1,250.75`` (commas grouping thousands), ``92%``;
    :class:`OutcomeError` saying what is wrong otherwise."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1]
    if not cleaned:
        raise OutcomeError(f"{what} is missing: write a number such as 87.5.")
    if _GROUPED.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        hint = " (use a point for decimals, not a comma)" if re.fullmatch(r"[+-]?\d+,\d+", cleaned) else ""
        raise OutcomeError(f"{what} “{text.strip()[:40]}” is not a number{hint}: write it like 87.5.")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise OutcomeError(f"{what} “{text.strip()[:40]}” is not a number.") from None
    if abs(value) > LARGEST:
        raise OutcomeError(f"{what} {text.strip()[:40]} is too large: Cadre keeps values below 10^14.")
    if value != value.quantize(Decimal("0.0001"), ROUND_HALF_UP):
        raise OutcomeError(f"{what} {text.strip()[:40]} has more than four decimals.")
    return value


def parse_day(text: str, what: str = "The date") -> date:
    """A day as YYYY-MM-DD between 2000 and 2100."""
    cleaned = text.strip()
    if not cleaned:
        raise OutcomeError(f"{what} is missing: write it as YYYY-MM-DD (for example 2026-12-01).")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cleaned):
        raise OutcomeError(
            f"{what} must be written as YYYY-MM-DD (for example 2026-12-01), not “{cleaned[:40]}”."
        )
    try:
        day = date.fromisoformat(cleaned)
    except ValueError:
        raise OutcomeError(f"{what} {cleaned} is not a day of the calendar.") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise OutcomeError(f"{what} must be between {EARLIEST_DAY} and {LATEST_DAY}.")
    return day


def _text(value: str, limit: int, what: str, field_name: str, *, required: bool = False) -> str:
    cleaned = " ".join(value.split()) if field_name not in {"description", "note"} else value.strip()
    if required and not cleaned:
        raise OutcomeError(f"{what} is needed.", field_name)
    if len(cleaned) > limit:
        raise OutcomeError(f"{what} is longer than {limit} characters.", field_name)
    if any(ord(char) < 32 and char not in "\n\t" for char in cleaned):
        # A NUL, say, from a file or a paste: PostgreSQL cannot store it in text, no reader wants it.
        raise OutcomeError(f"{what} has control characters: type it again as plain text.", field_name)
    return cleaned


def _team(value: str) -> str:
    return _text(value, MAX_TEAM, "The team's name", "team")


@dataclass(frozen=True)
class OutcomeFields:
    """The outcome form's fields, checked."""

    name: str
    unit: str
    description: str
    baseline: Decimal
    target: Decimal
    direction: OutcomeDirection
    programme_start: date

    @classmethod
    def from_form(cls, form: Any) -> OutcomeFields:
        """Read the form; :class:`OutcomeError` for the first field at fault."""
        name = _text(form.get("name", ""), 200, "The outcome's name", "name", required=True)
        unit = _text(form.get("unit", ""), 40, "The unit", "unit", required=True)
        description = _text(form.get("description", ""), 1000, "The description", "description")
        try:
            baseline = parse_value(form.get("baseline", ""), "The baseline")
        except OutcomeError as error:
            raise OutcomeError(error.message, "baseline") from None
        try:
            target = parse_value(form.get("target", ""), "The target")
        except OutcomeError as error:
            raise OutcomeError(error.message, "target") from None
        try:
            direction = OutcomeDirection(form.get("direction", ""))
        except ValueError:
            raise OutcomeError("Choose whether higher or lower values are better.", "direction") from None
        try:
            start = parse_day(form.get("programme_start", ""), "The programme's start")
        except OutcomeError as error:
            raise OutcomeError(error.message, "programme_start") from None
        if target == baseline:
            raise OutcomeError("The target is the baseline: set the value the programme aims for.", "target")
        if direction is OutcomeDirection.HIGHER and target < baseline:
            raise OutcomeError(
                f"Higher is better, so the target must be above the baseline ({_plain(baseline)}).", "target"
            )
        if direction is OutcomeDirection.LOWER and target > baseline:
            raise OutcomeError(
                f"Lower is better, so the target must be below the baseline ({_plain(baseline)}).", "target"
            )
        return cls(name, unit, description, baseline, target, direction, start)


# -- storing ---------------------------------------------------------------------------------------------


def outcome_of(session: Session, context_id: int) -> ProgrammeOutcome | None:
    return session.get(ProgrammeOutcome, context_id)


def course_to_edit(session: Session, actor: Actor, context_id: int) -> Context:
    """The course whose outcome ``actor`` edits (its designers, its platform's administrators)."""
    context = session.get(Context, context_id)
    if context is None:
        ensure(permissions.refuse(404, "Course not found", permissions.COURSE_NOT_FOUND))
    assert context is not None
    ensure(permissions.can_edit_programme_outcome(actor, context))
    return context


def save_outcome(session: Session, actor: Actor, context: Context, fields: OutcomeFields) -> ProgrammeOutcome:
    ensure(permissions.can_edit_programme_outcome(actor, context))
    outcome = outcome_of(session, context.id)
    if outcome is None:
        outcome = ProgrammeOutcome(context_id=context.id)
        session.add(outcome)
    for name in ("name", "unit", "description", "baseline", "target", "direction", "programme_start"):
        setattr(outcome, name, getattr(fields, name))
    outcome.updated_by_id = actor.user_id
    audit(session, actor, "outcome.saved", context_id=context.id, name=fields.name)
    session.flush()
    return outcome


def _needs_outcome(session: Session, context: Context) -> ProgrammeOutcome:
    outcome = outcome_of(session, context.id)
    if outcome is None:
        raise OutcomeError("Name the course's outcome first: values need its name and unit.")
    return outcome


def record_value(
    session: Session,
    actor: Actor | None,
    context: Context,
    *,
    measured_on: date,
    team: str,
    value: Decimal,
    note: str = "",
) -> tuple[OutcomeValue, Decimal | None]:
    """Store one value; a value for the same team and day replaces the one stored (returned second)."""
    if actor is not None:
        ensure(permissions.can_edit_programme_outcome(actor, context))
    _needs_outcome(session, context)
    team = _team(team)
    found = session.scalar(
        select(OutcomeValue).where(
            OutcomeValue.context_id == context.id,
            OutcomeValue.team == team,
            OutcomeValue.measured_on == measured_on,
        )
    )
    replaced = None
    if found is None:
        found = OutcomeValue(context_id=context.id, team=team, measured_on=measured_on)
        session.add(found)
    else:
        replaced = found.value
    found.value = value
    found.note = note.strip()[:MAX_NOTE]
    found.updated_by_id = actor.user_id if actor else None
    session.flush()
    return found, replaced


def remove_value(session: Session, actor: Actor, context: Context, value_id: int) -> OutcomeValue:
    ensure(permissions.can_edit_programme_outcome(actor, context))
    found = session.get(OutcomeValue, value_id)
    if found is None or found.context_id != context.id:
        ensure(permissions.refuse(404, "Value not found", permissions.OUTCOME_VALUE_NOT_FOUND))
    assert found is not None
    audit(
        session,
        actor,
        "outcome.value_removed",
        context_id=context.id,
        team=found.team,
        measured_on=found.measured_on.isoformat(),
        value=str(found.value),
    )
    session.delete(found)
    session.flush()
    return found


def team_suggestions(session: Session, context_id: int) -> list[str]:
    """The names a team is likely to have: the teams already measured and the course's groups and
    sections (``relationships.groups``), offered as the designer types."""
    measured = session.scalars(
        select(OutcomeValue.team)
        .where(OutcomeValue.context_id == context_id, OutcomeValue.team != "")
        .distinct()
    )
    names = {*measured, *groups.group_names(session, context_id)}
    return sorted(names, key=lambda name: (name.casefold(), name))


def values_of(session: Session, context_id: int) -> list[OutcomeValue]:
    return list(
        session.scalars(
            select(OutcomeValue)
            .where(OutcomeValue.context_id == context_id)
            .order_by(OutcomeValue.measured_on, OutcomeValue.team, OutcomeValue.id)
        )
    )


# -- importing -------------------------------------------------------------------------------------------


class RowState(StrEnum):
    NEW = "new"
    REPLACES = "replaces"
    """The row replaces a value stored for the same team and day."""
    INVALID = "invalid"


@dataclass(frozen=True)
class RowReport:
    line: int
    state: RowState
    message: str


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    file_problem: str | None = None
    """Why the file as a whole could not be read (nothing else is reported then)."""
    stored: bool = False

    def count(self, state: RowState) -> int:
        return sum(row.state is state for row in self.rows)

    @property
    def ok(self) -> bool:
        return (
            self.file_problem is None
            and bool(self.rows)
            and all(row.state is not RowState.INVALID for row in self.rows)
        )

    def summary(self) -> str:
        if self.file_problem:
            return self.file_problem
        counts = (
            f"{self.count(RowState.NEW)} new, {self.count(RowState.REPLACES)} replacing a stored value, "
            f"{self.count(RowState.INVALID)} invalid"
        )
        if self.stored:
            return f"Imported {len(self.rows)} value(s): {counts}."
        if self.ok:
            return f"Checked, nothing stored (dry run): {counts}."
        return f"Nothing was imported: {counts}. Correct the rows below and upload the whole file again."


@dataclass(frozen=True)
class _Planned:
    measured_on: date
    team: str
    value: Decimal
    note: str


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise OutcomeError(f"The file is larger than {MAX_BYTES // 1024} KB; split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise OutcomeError(
            f"The file is not UTF-8 text (byte {error.start + 1}): save it from your "
            'spreadsheet as "CSV UTF-8".'
        ) from None
    if not text.strip():
        raise OutcomeError(
            "The file is empty: it needs a header row (date, value, and optionally team and "
            "note) and one row per value."
        )
    return text


def check_rows(session: Session, context_id: int, text: str) -> tuple[ImportReport, list[_Planned]]:
    """Every row of the file, checked and reported; what would be stored."""
    report, planned = ImportReport(), []
    stored = {(row.team, row.measured_on): row.value for row in values_of(session, context_id)}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        names = [restore(cell).strip().lower() for cell in header or []]
        if "measured_on" in names and "date" not in names:
            names[names.index("measured_on")] = "date"
        missing = [column for column in ("date", "value") if column not in names]
        if header is None or missing:
            report.file_problem = (
                "Line 1 must be a header row naming the columns date and value (and "
                f"optionally team and note); it lacks {' and '.join(missing)}."
            )
            return report, []
        position = {column: names.index(column) for column in COLUMNS if column in names}
        seen: dict[tuple[str, date], int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(report.rows) >= MAX_ROWS:
                report.file_problem = f"The file has more than {MAX_ROWS} rows; split it into smaller files."
                return report, []
            values = {
                column: restore(cells[at]).strip() if at < len(cells) else ""
                for column, at in position.items()
            }
            try:
                measured_on = parse_day(values["date"])
                value = parse_value(values["value"])
                team = _team(values.get("team", ""))
                note = _text(values.get("note", ""), MAX_NOTE, "The note", "note")
            except OutcomeError as error:
                report.rows.append(RowReport(line, RowState.INVALID, error.message))
                continue
            key = (team, measured_on)
            where = f"{team or COURSE_WIDE.lower()}, {measured_on}"
            if key in seen:
                report.rows.append(
                    RowReport(line, RowState.INVALID, f"Repeats line {seen[key]} (the same team and date).")
                )
                continue
            seen[key] = line
            if key in stored:
                report.rows.append(
                    RowReport(
                        line, RowState.REPLACES, f"{where}: {_plain(value)} replaces {_plain(stored[key])}."
                    )
                )
            else:
                report.rows.append(RowReport(line, RowState.NEW, f"{where}: {_plain(value)}."))
            planned.append(_Planned(measured_on, team, value, note))
    except csv.Error as error:
        why = "a quoted cell is never closed" if "unexpected end of data" in str(error) else str(error)
        report.file_problem = (
            f"Line {reader.line_num}: the file is not valid CSV ({why}); nothing was imported."
        )
        return report, []
    if not report.rows:
        report.file_problem = "The file has a header row but no values under it."
    return report, planned


def import_values(
    session: Session, actor: Actor | None, context: Context, data: bytes, *, dry_run: bool = False
) -> ImportReport:
    """Check every row; store the values only when every row is valid (the caller's transaction commits),
    and never in a ``dry_run``. ``actor`` None: the ``cadre outcome import`` command."""
    if actor is not None:
        ensure(permissions.can_edit_programme_outcome(actor, context))
    try:
        _needs_outcome(session, context)
        text = _decode(data)
    except OutcomeError as error:
        return ImportReport(file_problem=error.message)
    report, planned = check_rows(session, context.id, text)
    if not report.ok or dry_run:
        return report
    for row in planned:
        record_value(
            session, None, context, measured_on=row.measured_on, team=row.team, value=row.value, note=row.note
        )
    audit(session, actor, "outcome.imported", context_id=context.id, values=len(planned))
    report.stored = True
    return report


# -- the figures -----------------------------------------------------------------------------------------


def _plain(value: Decimal | None) -> str:
    """A value without trailing zeros: 87.5, 1250, -3.25."""
    if value is None:
        return ""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


FOUR_PLACES = Decimal("0.0001")


def _exact_mean(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None


def _mean(values: list[Decimal]) -> Decimal | None:
    """A mean as shown: four decimals, like the values (the change is computed before rounding)."""
    found = _exact_mean(values)
    return None if found is None else found.quantize(FOUR_PLACES, ROUND_HALF_UP)


@dataclass(frozen=True)
class Point:
    measured_on: date
    value: Decimal
    note: str
    id: int


@dataclass
class SeriesFigures:
    """One series (course-wide, or a team): its values before and after the programme began."""

    team: str
    before: list[Point]
    after: list[Point]
    outcome: ProgrammeOutcome

    @property
    def label(self) -> str:
        return self.team or COURSE_WIDE

    @property
    def points(self) -> list[Point]:
        return [*self.before, *self.after]

    @property
    def mean_before(self) -> Decimal | None:
        return _mean([point.value for point in self.before])

    @property
    def mean_after(self) -> Decimal | None:
        return _mean([point.value for point in self.after])

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> Decimal | None:
        """The mean after minus the mean before (or minus the baseline when nothing was measured before)."""
        change = self._exact_change()
        return None if change is None else change.quantize(FOUR_PLACES, ROUND_HALF_UP)

    def _exact_change(self) -> Decimal | None:
        after = _exact_mean([point.value for point in self.after])
        if after is None:
            return None
        before = _exact_mean([point.value for point in self.before])
        return after - (before if before is not None else self.outcome.baseline)

    @property
    def improved(self) -> bool | None:
        change = self._exact_change()
        if change is None or change == 0:
            return None
        return (change > 0) == (self.outcome.direction is OutcomeDirection.HIGHER)

    @property
    def progress(self) -> Decimal | None:
        """How far the latest value after the start has come from the baseline to the target, in %."""
        if not self.after or self.outcome.target == self.outcome.baseline:
            return None
        moved = self.after[-1].value - self.outcome.baseline
        return (moved * 100 / (self.outcome.target - self.outcome.baseline)).quantize(
            HUNDREDTH, ROUND_HALF_UP
        )


@dataclass
class OutcomeFigures:
    outcome: ProgrammeOutcome
    series: list[SeriesFigures]

    @property
    def course_wide(self) -> SeriesFigures | None:
        return next((series for series in self.series if not series.team), None)

    @property
    def has_values(self) -> bool:
        return any(series.points for series in self.series)

    def value_text(self, value: Decimal | None) -> str:
        if value is None:
            return "none"
        unit = self.outcome.unit
        return f"{_plain(value)}{unit}" if unit == "%" else f"{_plain(value)} {unit}"


def figures(session: Session, context_id: int) -> OutcomeFigures | None:
    """The outcome and its values per series (two statements), or None when the course names none. The
    caller has asked :func:`~lti_tool.permissions.can_read_course_dashboard`."""
    outcome = outcome_of(session, context_id)
    if outcome is None:
        return None
    grouped: dict[str, tuple[list[Point], list[Point]]] = defaultdict(lambda: ([], []))
    for row in values_of(session, context_id):
        before, after = grouped[row.team]
        (before if row.measured_on < outcome.programme_start else after).append(
            Point(row.measured_on, row.value, row.note, row.id)
        )
    series = [SeriesFigures(team, before, after, outcome) for team, (before, after) in grouped.items()]
    series.sort(key=lambda found: (found.team != "", found.team.casefold()))
    return OutcomeFigures(outcome, series)


# -- tables and chart ------------------------------------------------------------------------------------


def _period(found: OutcomeFigures, point: Point) -> str:
    return "before" if point.measured_on < found.outcome.programme_start else "after"


def values_table(found: OutcomeFigures) -> Table:
    """Every value; its CSV (date, team, value, note, period) imports again as it is."""
    rows = [
        (point.measured_on.isoformat(), series.team, _plain(point.value), point.note, _period(found, point))
        for series in found.series
        for point in series.points
    ]
    rows.sort(key=lambda row: (row[0], row[1].casefold()))
    return Table(  # its CSV imports again exactly: Table.csv escapes as the import's restore expects
        "values",
        f"{found.outcome.name}: every value measured ({found.outcome.unit}); period: before or after the "
        f"programme began on {found.outcome.programme_start.isoformat()}",
        ("date", "team", "value", "note", "period"),
        tuple(rows),
        (False, False, True, False, False),
        "No value measured yet.",
    )


def summary_table(found: OutcomeFigures) -> Table:
    unit = found.outcome.unit
    rows = []
    for series in found.series:
        improved = {True: "better", False: "worse", None: ""}[series.improved]
        rows.append(
            (
                series.label,
                str(len(series.before)),
                _plain(series.mean_before),
                str(len(series.after)),
                _plain(series.mean_after),
                _plain(series.change),
                improved,
                _plain(series.latest.value) if series.latest else "",
                _plain(series.progress),
            )
        )
    return Table(
        "summary",
        f"{found.outcome.name} before and after the programme ({unit}): baseline "
        f"{_plain(found.outcome.baseline)}, target {_plain(found.outcome.target)}, "
        f"{DIRECTION_LABELS[found.outcome.direction].lower()}; change: the mean after minus the mean before "
        "(or the baseline, where nothing was measured before)",
        (
            "Series",
            "Values before",
            "Mean before",
            "Values after",
            "Mean after",
            "Change",
            "Better or worse",
            "Latest",
            "Progress to target %",
        ),
        tuple(rows),
        (False, True, True, True, True, True, False, True, True),
        "No value measured yet.",
    )


TABLES = {"values": values_table, "summary": summary_table}


def _nice_step(span: float) -> float:
    raw = span / 4 or 1.0
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    for multiple in (1, 2, 2.5, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude  # pragma: no cover


def outcome_chart(found: OutcomeFigures) -> charts.Chart:
    """Lines of the values over time (course-wide solid, teams dashed), with the baseline and the target
    as flat lines and the programme's start as an upright one; the axes scale to the values."""
    outcome = found.outcome
    shown = sorted(found.series, key=lambda series: (series.team != "", -len(series.points)))[:SERIES_SHOWN]
    shown = [series for series in shown if series.points]
    days = [point.measured_on for series in shown for point in series.points] + [outcome.programme_start]
    first, last = min(days), max(days)
    span_days = max(1, (last - first).days)
    numbers = [float(point.value) for series in shown for point in series.points]
    numbers += [float(outcome.baseline), float(outcome.target)]
    low, high = min(numbers), max(numbers)
    step = _nice_step(high - low)
    bottom_value = step * (low // step)
    top_value = step * -(-high // step)
    if top_value == bottom_value:
        top_value += step
    left, right, top, bottom = 70.0, charts.WIDTH - 20.0, charts.TOP + 26.0 + 22.0, charts.TOP + 48.0 + 220.0

    def x_of(day: date) -> float:
        return left + (right - left) * (day - first).days / span_days

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * (value - bottom_value) / (top_value - bottom_value)

    unit = outcome.unit
    series_list, legend, position = [], [], 0.0
    for number, series in enumerate(shown):
        colour = charts.PALETTE[number % len(charts.PALETTE)]
        dash = "" if not series.team else charts.DASHES[1 + (number - 1) % (len(charts.DASHES) - 1)]
        points = tuple(
            charts.Point(
                x_of(point.measured_on),
                y_of(float(point.value)),
                f"{point.measured_on.isoformat()}: {found.value_text(point.value)}",
            )
            for point in series.points
        )
        series_list.append(charts.Series(series.label, colour, dash, points))
        legend.append(charts.LegendEntry(charts.short(series.label, 14), position, colour, dash))
        position += 40 + 7 * len(charts.short(series.label, 14)) + 16
    guides = (("Baseline", outcome.baseline, "#595959"), ("Target", outcome.target, "#2e6b30"))
    guide_labels = [*(name for name, _value, _colour in guides), "Start"]
    if position + sum(40 + 7 * len(label) + 16 for label in guide_labels) <= right - left:
        # The guides named in the legend too, where they fit (the description names them anyway).
        for name, _value, colour in guides:
            legend.append(charts.LegendEntry(name, position, colour, "2 3"))
            position += 40 + 7 * len(name) + 16
        legend.append(charts.LegendEntry("Start", position, "#000000", "8 4"))
    for name, value, colour in guides:
        y = y_of(float(value))
        series_list.append(
            charts.Series(
                name,
                colour,
                "2 3",
                (
                    charts.Point(left, y, f"{name}: {found.value_text(value)}"),
                    charts.Point(right, y, f"{name}: {found.value_text(value)}"),
                ),
            )
        )
    start_x = x_of(outcome.programme_start)
    series_list.append(
        charts.Series(
            "Programme start",
            "#000000",
            "8 4",
            (
                charts.Point(start_x, top, f"Programme start: {outcome.programme_start.isoformat()}"),
                charts.Point(start_x, bottom, f"Programme start: {outcome.programme_start.isoformat()}"),
            ),
        )
    )
    ticks_count = 4
    y_ticks = tuple(
        charts.Point(
            left,
            y_of(bottom_value + (top_value - bottom_value) * index / ticks_count),
            _plain(Decimal(str(round(bottom_value + (top_value - bottom_value) * index / ticks_count, 4)))),
        )
        for index in range(ticks_count + 1)
    )
    label_days = sorted({first, outcome.programme_start, last})
    # A date is some 70 units wide, centred on its day: kept inside the plot at both ends.
    x_labels = tuple(
        charts.Tick(min(right - 36, max(left + 36, x_of(day))), day.isoformat()) for day in label_days
    )
    if (
        len(x_labels) == 3
        and min(abs(x_labels[1].x - x_labels[0].x), abs(x_labels[2].x - x_labels[1].x)) < 80
    ):
        x_labels = (x_labels[0], x_labels[2])
    course = found.course_wide
    summary = ""
    if course is not None and course.mean_after is not None:
        summary = (
            f" Course-wide mean before: {found.value_text(course.mean_before)}; after: "
            f"{found.value_text(course.mean_after)}."
        )
    return charts.Chart(
        "chart-outcome",
        "lines",
        f"{outcome.name} over time",
        f"Lines of {outcome.name} ({unit}) measured from {first.isoformat()} to {last.isoformat()}, for "
        f"{len(shown)} series (course-wide solid, teams dashed), with the baseline "
        f"({found.value_text(outcome.baseline)}) and the target ({found.value_text(outcome.target)}) "
        "as dotted lines and the programme's start "
        f"({outcome.programme_start.isoformat()}) as an upright dashed line." + summary,
        bottom + charts.BOTTOM + 10,
        series=tuple(series_list),
        legend=tuple(legend),
        x_labels=x_labels,
        y_ticks=y_ticks,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


def panel(session: Session, context_id: int, *, rows_shown: int | None = 12) -> dict[str, Any] | None:
    """What ``templates/tracking/_outcome_panel.html`` draws for a course (None: it names no outcome)."""
    found = figures(session, context_id)
    if found is None:
        return None
    return {
        "found": found,
        "outcome_tables": {name: build(found) for name, build in TABLES.items()},
        "outcome_chart": outcome_chart(found) if found.has_values else None,
        "outcome_rows": rows_shown,
    }
