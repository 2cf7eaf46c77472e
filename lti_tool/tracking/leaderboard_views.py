"""The course's leaderboard, ``/courses/<id>/leaderboard``: the ranking as the reader may see it, and the
reader's own choice to appear on it (``…/presence``); its designer's settings at ``…/leaderboard/settings``.

Rules: :func:`~lti_tool.permissions.can_read_leaderboard`, :func:`~lti_tool.permissions.
can_choose_leaderboard_presence`, :func:`~lti_tool.permissions.can_configure_leaderboard`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.lti.session import launch_url
from lti_tool.models import Context
from lti_tool.permissions import (
    can_configure_leaderboard,
    current_actor,
    ensure,
    may_open_leaderboards,
    permission,
    the_actor,
)
from lti_tool.states import LeaderboardDisplay, LeaderboardMetric, LeaderboardSubject
from lti_tool.tracking import leaderboards
from lti_tool.tracking.outcome_models import ProgrammeOutcome
from lti_tool.web import error_page

blueprint = Blueprint("leaderboards", __name__)

ID = "int(max=2147483647)"
NOTICES = {
    "in": "You appear on this course's leaderboard now. You can leave it at any time.",
    "out": "You no longer appear on this course's leaderboard.",
    "saved": "The leaderboard's settings are saved.",
}
UNKNOWN_CHOICE = "Choose to appear on the leaderboard or not to."


@blueprint.errorhandler(leaderboards.LeaderboardError)
def _refused(error: leaderboards.LeaderboardError) -> Response:
    return error_page(400, "Not saved", error.message)


def _course(context_id: int) -> Context:
    return leaderboards.find_course(get_session(), context_id)


@blueprint.get(f"/courses/<{ID}:context_id>/leaderboard")
@permission(may_open_leaderboards)
def board(context_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    context, settings = leaderboards.course_for_leaderboard(session, actor, context_id)
    found = leaderboards.build(session, actor, context, settings)
    return render_template(
        "tracking/leaderboard.html",
        context=context,
        board=found,
        settings=settings,
        metric_labels=leaderboards.METRIC_LABELS,
        metric_explained=leaderboards.METRIC_EXPLAINED,
        subject_labels=leaderboards.SUBJECT_LABELS,
        smallest_group=leaderboards.SMALLEST_GROUP,
        notice=NOTICES.get(request.args.get("notice", "")),
        may_configure=bool(can_configure_leaderboard(actor, context)),
    )


@blueprint.post(f"/courses/<{ID}:context_id>/leaderboard/presence")
@permission(may_open_leaderboards)
def presence(context_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    context = _course(context_id)
    choice = request.form.get("choice", "")
    if choice not in ("in", "out"):
        return error_page(400, "Not saved", UNKNOWN_CHOICE)
    leaderboards.choose_presence(session, actor, context, opted_in=choice == "in")
    return redirect(launch_url("leaderboards.board", context_id=context.id, notice=choice), code=303)


def _settings_page(
    context: Context, *, status: int = 200, problem: str | None = None, form: dict[str, str] | None = None
) -> Any:
    settings = leaderboards.settings_of(get_session(), context.id)
    if form is None:
        form = {
            "enabled": "on" if settings and settings.enabled else "",
            "metric": (settings.metric if settings else LeaderboardMetric.COMPLETION).value,
            "subject": (settings.subject if settings else LeaderboardSubject.LEARNER).value,
            "display": (settings.display if settings else LeaderboardDisplay.PSEUDONYMS).value,
            "show_values": "on" if settings and settings.show_values else "",
        }
    html = render_template(
        "tracking/leaderboard_settings.html",
        context=context,
        form=form,
        problem=problem,
        metric_labels=leaderboards.METRIC_LABELS,
        metric_explained=leaderboards.METRIC_EXPLAINED,
        subject_labels=leaderboards.SUBJECT_LABELS,
        display_labels=leaderboards.DISPLAY_LABELS,
        smallest_group=leaderboards.SMALLEST_GROUP,
    )
    return html, status


@blueprint.get(f"/courses/<{ID}:context_id>/leaderboard/settings")
@permission(may_open_leaderboards)
def settings_page(context_id: int) -> Any:
    context = _course(context_id)
    ensure(can_configure_leaderboard(the_actor(), context))
    return _settings_page(context)


@blueprint.post(f"/courses/<{ID}:context_id>/leaderboard/settings")
@permission(may_open_leaderboards)
def save_settings(context_id: int) -> Any:
    context = _course(context_id)
    form = {
        name: request.form.get(name, "")
        for name in ("enabled", "metric", "subject", "display", "show_values")
    }
    try:
        leaderboards.save_settings(get_session(), the_actor(), context, form)
    except leaderboards.LeaderboardError as error:
        return _settings_page(context, status=400, problem=error.message, form=form)
    return redirect(launch_url("leaderboards.board", context_id=context.id, notice="saved"), code=303)


def leaderboard_home() -> dict[str, Any] | None:
    """The landing page's part (``templates/tracking/_leaderboard_home.html``), for the launch's actor: None
    outside a course."""
    actor = current_actor()
    if actor is None or actor.context_id is None:
        return None
    session = get_session()
    settings = leaderboards.settings_of(session, actor.context_id)
    found = {
        "context_id": actor.context_id,
        "enabled": bool(settings and settings.enabled),
        "staff": actor.may_edit,
        "outcome_name": None,
        "opted_in": False,
    }
    if actor.may_edit:
        saved = session.get(ProgrammeOutcome, actor.context_id)
        found["outcome_name"] = saved.name if saved else None
    elif found["enabled"]:
        presence = leaderboards.presence_of(session, actor.context_id, actor.user_id)
        found["opted_in"] = bool(presence and presence.opted_in)
    return found


blueprint.add_app_template_global(leaderboard_home, "leaderboard_home")
