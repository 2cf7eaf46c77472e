"""The programme outcome's page, ``/courses/<id>/outcome``: the designer names the course's outcome, enters
values one by one or imports a CSV file of them (all or nothing, every row reported), and removes a wrong
one; ``/courses/<id>/outcome/<table>.csv`` downloads the values (importable again) and the before/after
summary. The course's dashboard shows the same figures beside the learning data.

For whoever reads the course's dashboard (:func:`~lti_tool.permissions.can_edit_programme_outcome`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from lti_tool.db import get_session, rollback_only
from lti_tool.lti.session import launch_url
from lti_tool.models import Context
from lti_tool.permissions import may_read_dashboards, permission, the_actor
from lti_tool.states import OutcomeDirection
from lti_tool.tracking import outcome
from lti_tool.tracking.downloads import csv_download, no_such_table
from lti_tool.web import error_page

blueprint = Blueprint("outcome", __name__)

ID = "int(max=2147483647)"
NOTICES = {
    "saved": "The outcome is saved.",
    "value": "The value is saved.",
    "removed": "The value is removed.",
}
NO_OUTCOME_YET = "This course names no outcome yet: there is nothing to download."


def _page(
    context: Context,
    *,
    status: int = 200,
    problem: str | None = None,
    problem_field: str | None = None,
    form: dict[str, str] | None = None,
    value_problem: str | None = None,
    value_form: dict[str, str] | None = None,
    report: outcome.ImportReport | None = None,
) -> Any:
    session = get_session()
    found = outcome.figures(session, context.id)
    saved = found.outcome if found else None
    if form is None and saved is not None:
        form = {
            "name": saved.name,
            "unit": saved.unit,
            "description": saved.description,
            "baseline": outcome._plain(saved.baseline),
            "target": outcome._plain(saved.target),
            "direction": saved.direction.value,
            "programme_start": saved.programme_start.isoformat(),
        }
    html = render_template(
        "tracking/outcome.html",
        context=context,
        found=found,
        form=form or {"direction": OutcomeDirection.HIGHER.value},
        problem=problem,
        problem_field=problem_field,
        value_problem=value_problem,
        value_form=value_form or {},
        report=report,
        directions=outcome.DIRECTION_LABELS,
        values=outcome.values_of(session, context.id) if saved else [],
        team_names=outcome.team_suggestions(session, context.id) if saved else [],
        tables={name: build(found) for name, build in outcome.TABLES.items()} if found else {},
        chart=outcome.outcome_chart(found) if found and found.has_values else None,
        notice=NOTICES.get(request.args.get("notice", "")),
        max_kb=outcome.MAX_BYTES // 1024,
        plain=outcome._plain,
    )
    if status >= 400:
        rollback_only()
    return html, status


def _course(context_id: int) -> Context:
    return outcome.course_to_edit(get_session(), the_actor(), context_id)


@blueprint.get(f"/courses/<{ID}:context_id>/outcome")
@permission(may_read_dashboards)
def page(context_id: int) -> Any:
    return _page(_course(context_id))


@blueprint.post(f"/courses/<{ID}:context_id>/outcome")
@permission(may_read_dashboards)
def save(context_id: int) -> Any:
    context = _course(context_id)
    form = {
        name: request.form.get(name, "")
        for name in ("name", "unit", "description", "baseline", "target", "direction", "programme_start")
    }
    try:
        outcome.save_outcome(get_session(), the_actor(), context, outcome.OutcomeFields.from_form(form))
    except outcome.OutcomeError as error:
        return _page(context, status=400, problem=error.message, problem_field=error.field, form=form)
    return redirect(launch_url("outcome.page", context_id=context.id, notice="saved"), code=303)


@blueprint.post(f"/courses/<{ID}:context_id>/outcome/values")
@permission(may_read_dashboards)
def add_value(context_id: int) -> Any:
    context = _course(context_id)
    value_form = {name: request.form.get(name, "") for name in ("measured_on", "team", "value", "note")}
    try:
        if len(value_form["note"]) > outcome.MAX_NOTE:
            raise outcome.OutcomeError(f"The note is longer than {outcome.MAX_NOTE} characters.", "note")
        outcome.record_value(
            get_session(),
            the_actor(),
            context,
            measured_on=outcome.parse_day(value_form["measured_on"]),
            team=value_form["team"],
            value=outcome.parse_value(value_form["value"]),
            note=value_form["note"],
        )
    except outcome.OutcomeError as error:
        return _page(context, status=400, value_problem=error.message, value_form=value_form)
    return redirect(launch_url("outcome.page", context_id=context.id, notice="value"), code=303)


@blueprint.post(f"/courses/<{ID}:context_id>/outcome/values/<{ID}:value_id>/remove")
@permission(may_read_dashboards)
def remove_value(context_id: int, value_id: int) -> Any:
    context = _course(context_id)
    outcome.remove_value(get_session(), the_actor(), context, value_id)
    return redirect(launch_url("outcome.page", context_id=context.id, notice="removed"), code=303)


@blueprint.post(f"/courses/<{ID}:context_id>/outcome/import")
@permission(may_read_dashboards)
def import_values(context_id: int) -> Any:
    context = _course(context_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        report = outcome.ImportReport(file_problem="Choose a CSV file to upload.")
    else:
        data = upload.read(outcome.MAX_BYTES + 1)
        report = outcome.import_values(get_session(), the_actor(), context, data)
    return _page(context, status=200 if report.stored else 400, report=report)


@blueprint.get(f"/courses/<{ID}:context_id>/outcome/<name>.csv")
@permission(may_read_dashboards)
def table_csv(context_id: int, name: str) -> Response:
    context = _course(context_id)
    build = outcome.TABLES.get(name)
    if build is None:
        return no_such_table(name, outcome.TABLES, " of the outcome")
    found = outcome.figures(get_session(), context.id)
    if found is None:
        return error_page(404, "No outcome", NO_OUTCOME_YET)
    return csv_download(build(found).csv(), f"course-{context.id}-outcome-{name}.csv")
