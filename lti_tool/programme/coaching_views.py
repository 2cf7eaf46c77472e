"""The coaching log's pages under ``/activities/<id>/coaching-log``: a person's own log (the sessions, the
80/20 share, a form to log one), a session's edit page (change or delete it), and the designers' totals.

Views read the request and call :mod:`lti_tool.programme.coaching_log`; the request's unit of work
commits. A refused form answers 400 with everything typed kept and a message beside each field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request

from lti_tool.db import get_session, utcnow
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import (
    COACHING_LOG_KINDS,
    current_actor,
    may_configure_activities,
    may_keep_coaching_log,
    permission,
    the_actor,
)
from lti_tool.programme import coaching_log, views
from lti_tool.programme.coaching_models import CoachingSession
from lti_tool.states import CadreRole

blueprint = Blueprint("coaching", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
SESSION = "<int(max=2147483647):session_id>"


def _log_page(activity: Activity, typed: dict[str, str], *, status: int = 200,
              problems: dict[str, str] | None = None) -> Any:
    session = get_session()
    actor = the_actor()
    return render_template(
        "programme/coaching_log.html", activity=activity, kind=kind_info(activity.kind),
        sessions=coaching_log.my_sessions(session, actor, activity),
        share=coaching_log.my_share(session, actor, activity), values=typed, problems=problems or {},
        kinds=coaching_log.KIND_LABELS, stresses=coaching_log.STRESS_LABELS,
        today=utcnow().date().isoformat(), notice=request.args.get("notice"),
        action_url=launch_url("coaching.log_session", activity_id=activity.id), editing=None,
    ), status


@blueprint.get(f"/{ID}/coaching-log")
@permission(may_keep_coaching_log)
def my_log(activity_id: int) -> Any:
    activity = coaching_log.log_activity(get_session(), the_actor(), activity_id)
    return _log_page(activity, coaching_log.empty_form())


@blueprint.post(f"/{ID}/coaching-log")
@permission(may_keep_coaching_log)
def log_session(activity_id: int) -> Any:
    session = get_session()
    activity = coaching_log.log_activity(session, the_actor(), activity_id)
    typed = coaching_log.typed_form(request.form)
    try:
        coaching_log.log_session(session, the_actor(), activity, typed)
    except coaching_log.CoachingProblems as refused:
        return _log_page(activity, typed, status=400, problems=refused.problems)
    return redirect(launch_url("coaching.my_log", activity_id=activity.id, notice="logged"), code=303)


def _edit_page(activity: Activity, row: CoachingSession, typed: dict[str, str], *, status: int = 200,
               problems: dict[str, str] | None = None) -> Any:
    return render_template(
        "programme/coaching_session.html", activity=activity, kind=kind_info(activity.kind), row=row,
        values=typed, problems=problems or {}, kinds=coaching_log.KIND_LABELS,
        stresses=coaching_log.STRESS_LABELS, today=utcnow().date().isoformat(),
        action_url=launch_url("coaching.change_session", activity_id=activity.id, session_id=row.id),
    ), status


@blueprint.get(f"/{ID}/coaching-log/{SESSION}")
@permission(may_keep_coaching_log)
def session_form(activity_id: int, session_id: int) -> Any:
    session = get_session()
    activity = coaching_log.log_activity(session, the_actor(), activity_id)
    row = coaching_log.own_session(session, the_actor(), activity, session_id)
    return _edit_page(activity, row, coaching_log.form_of(row))


@blueprint.post(f"/{ID}/coaching-log/{SESSION}")
@permission(may_keep_coaching_log)
def change_session(activity_id: int, session_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = coaching_log.log_activity(session, actor, activity_id)
    row = coaching_log.own_session(session, actor, activity, session_id)
    if request.form.get("action") == "delete":
        coaching_log.delete_session(session, actor, row)
        return redirect(launch_url("coaching.my_log", activity_id=activity.id, notice="deleted"), code=303)
    typed = coaching_log.typed_form(request.form)
    try:
        coaching_log.change_session(session, actor, row, typed)
    except coaching_log.CoachingProblems as refused:
        return _edit_page(activity, row, typed, status=400, problems=refused.problems)
    return redirect(launch_url("coaching.my_log", activity_id=activity.id, notice="changed"), code=303)


@blueprint.get(f"/{ID}/coaching-log/overview")
@permission(may_configure_activities)
def overview(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = coaching_log.overview_activity(session, actor, activity_id)
    return render_template(
        "programme/coaching_overview.html", activity=activity, kind=kind_info(activity.kind),
        share=coaching_log.course_share(session, actor, activity),
        shared=coaching_log.shared_checks(session, actor, activity), stresses=coaching_log.STRESS_LABELS)


@blueprint.post(f"/{ID}/coaching-log/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    """The designer's aim (a panel of the activity's settings page, ``programme/_settings.html``)."""
    session = get_session()
    actor = the_actor()
    activity = coaching_log.overview_activity(session, actor, activity_id)
    typed = {"aim_percent": request.form.get("aim_percent", "")}
    try:
        coaching_log.save_aim(session, actor, activity, typed["aim_percent"])
    except coaching_log.CoachingProblems as refused:
        panel = views.settings_panel(activity, typed, refused.problems)
        assert panel is not None
        return views.panel_page(activity, panel, 400)
    return redirect(launch_url("deliverables.settings", activity_id=activity.id, notice="kind-saved"),
                    code=303)


def keeps_coaching_log(activity: Activity) -> bool:
    """For the landing page: whether the person keeps a log in this activity (a manager or a learner)."""
    actor = current_actor()
    return actor is not None and activity.kind in COACHING_LOG_KINDS \
        and actor.role in (CadreRole.MANAGER, CadreRole.LEARNER)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.add_template_global(keeps_coaching_log, "keeps_coaching_log")
