"""The staff dashboards: ``/courses/<id>/dashboard`` (every feedback activity of the course) and
``/activities/<id>/dashboard`` (one of them), each table also as CSV (``…/dashboard/<table>.csv``) with the
same filters.

For the course's designers and the platform's administrators (:func:`~lti_tool.permissions.
can_read_course_dashboard`); the assessments of one activity, learner by learner, are the feedback staff
page's (``feedback_staff.assessments``), which the dashboard links to rather than repeats.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request

from lti_tool.db import get_session
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.permissions import may_read_dashboards, permission, the_actor
from lti_tool.tracking import calibration, dashboard, leaderboard_views, outcome_cli, outcome_views, tables
from lti_tool.tracking import outcome as programme_outcome
from lti_tool.tracking.downloads import csv_download, no_such_table
from lti_tool.tracking.programme_results import programme_results
from lti_tool.tracking.seed import tracking_commands
from lti_tool.web import error_page

blueprint = Blueprint("tracking", __name__)

ID = "int(max=2147483647)"
MANAGERS_SHOWN = 50
"""Managers listed on the page, the most overdue first (a course may have a thousand; the CSV has all)."""
NO_SUCH_TABLE = "There is no table “{name}” on the dashboard; the tables are: {names}."


@blueprint.errorhandler(dashboard.FilterError)
def _bad_filters(error: dashboard.FilterError) -> Response:
    return error_page(error.status, error.title, error.message)


def _render(board: dashboard.Dashboard) -> str:
    return render_template(
        "tracking/dashboard.html",
        board=board,
        filters=board.filters,
        tables={name: build(board) for name, build in tables.TABLES.items()},
        charts={name: build(board) for name, build in tables.CHARTS.items()},
        kinds=[kind_info(kind) for kind in dashboard.KIND_CHOICES],
        kind_info=kind_info,
        managers_shown=MANAGERS_SHOWN,
        outcome=None if board.activity else programme_outcome.panel(get_session(), board.context.id),
    )


def _csv(board: dashboard.Dashboard, name: str) -> Response:
    build = tables.TABLES.get(name)
    if build is None:
        return no_such_table(name, tables.TABLES)
    scope = f"activity-{board.activity.id}" if board.activity is not None else f"course-{board.context.id}"
    return csv_download(build(board).csv(), f"{scope}-{name}.csv")


def _course_board(context_id: int) -> dashboard.Dashboard:
    session = get_session()
    actor = the_actor()
    context = dashboard.course_for_staff(session, actor, context_id)
    board = dashboard.build(session, actor, context, dashboard.Filters.from_args(request.args))
    board.surveys, board.follow_ups = programme_results(session, actor, context)
    return board


def _activity_board(activity_id: int) -> dashboard.Dashboard:
    session = get_session()
    actor = the_actor()
    activity = dashboard.activity_for_staff(session, actor, activity_id)
    filters = dashboard.Filters.from_args(request.args, with_kind=False)
    return dashboard.build(session, actor, activity.context, filters, activity=activity)


@blueprint.get(f"/courses/<{ID}:context_id>/dashboard")
@permission(may_read_dashboards)
def course_dashboard(context_id: int) -> Any:
    return _render(_course_board(context_id))


@blueprint.get(f"/courses/<{ID}:context_id>/dashboard/<name>.csv")
@permission(may_read_dashboards)
def course_table_csv(context_id: int, name: str) -> Response:
    return _csv(_course_board(context_id), name)


@blueprint.get(f"/activities/<{ID}:activity_id>/dashboard")
@permission(may_read_dashboards)
def activity_dashboard(activity_id: int) -> Any:
    return _render(_activity_board(activity_id))


@blueprint.get(f"/activities/<{ID}:activity_id>/dashboard/<name>.csv")
@permission(may_read_dashboards)
def activity_table_csv(activity_id: int, name: str) -> Response:
    return _csv(_activity_board(activity_id), name)


def _calibration(context_id: int) -> calibration.Calibration:
    session = get_session()
    actor = the_actor()
    context = dashboard.course_for_staff(session, actor, context_id)
    return calibration.build(session, actor, context, dashboard.Filters.from_args(request.args))


@blueprint.get(f"/courses/<{ID}:context_id>/calibration")
@permission(may_read_dashboards)
def course_calibration(context_id: int) -> Any:
    figures = _calibration(context_id)
    return render_template(
        "tracking/calibration.html",
        figures=figures,
        board=figures.board,
        filters=figures.board.filters,
        tables={name: build(figures) for name, build in calibration.TABLES.items()},
        kinds=[kind_info(kind) for kind in dashboard.KIND_CHOICES],
    )


@blueprint.get(f"/courses/<{ID}:context_id>/calibration/<name>.csv")
@permission(may_read_dashboards)
def course_calibration_csv(context_id: int, name: str) -> Response:
    build = calibration.TABLES.get(name)
    if build is None:
        return no_such_table(name, calibration.TABLES)
    return csv_download(build(_calibration(context_id)).csv(), f"course-{context_id}-calibration-{name}.csv")


def init_app(app: Flask) -> None:
    from lti_tool.tracking import progress_views  # it reads this module's messages

    app.register_blueprint(blueprint)
    app.register_blueprint(progress_views.blueprint)
    app.cli.add_command(tracking_commands)
    app.register_blueprint(outcome_views.blueprint)  # the programme outcome, cadre outcome import
    app.cli.add_command(outcome_cli.outcome_commands)
    app.register_blueprint(leaderboard_views.blueprint)
