"""Peer coaching's pages under ``/activities/<id>/peer-coaching``: a member's group (its members, its
sessions, the reflection form), a session's edit page (its author only), and the staff's groups page
(settings, groups formed at random or by hand, every group's log).

Views read the request and call :mod:`lti_tool.programme.peer_coaching`; the request's unit of work
commits. A refused form answers 400 with everything typed kept and a message beside each field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request

from lti_tool.db import get_session, utcnow
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import may_configure_activities, may_peer_coach, permission, the_actor
from lti_tool.programme import peer_coaching
from lti_tool.programme.errors import ProgrammeError
from lti_tool.programme.peer_coaching_models import PeerCoachingGroup, PeerCoachingSession
from lti_tool.web import error_page

blueprint = Blueprint("peer_coaching", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
GROUP = "<int(max=2147483647):group_id>"
SESSION = "<int(max=2147483647):session_id>"
PERSON = "<int(max=2147483647):user_id>"


@blueprint.errorhandler(ProgrammeError)
def _refused(error: ProgrammeError) -> Response:
    return error_page(error.status, error.title, error.message)


def _group_page(
    activity: Activity,
    group: PeerCoachingGroup | None,
    typed: dict[str, str],
    *,
    status: int = 200,
    problems: dict[str, str] | None = None,
    staff: bool = False,
) -> Any:
    session = get_session()
    actor = the_actor()
    settings = peer_coaching.settings_of(session, activity)
    return render_template(
        "programme/peer_coaching.html",
        activity=activity,
        kind=kind_info(activity.kind),
        group=group,
        members=peer_coaching.members_of(session, group) if group else [],
        sessions=peer_coaching.sessions_of(session, actor, group) if group else [],
        ideas=peer_coaching.ideas_of(settings),
        own_idea=peer_coaching.OWN_IDEA,
        values=typed,
        problems=problems or {},
        today=utcnow().date().isoformat(),
        notice=request.args.get("notice"),
        staff=staff,
        me=actor.user_id,
    ), status


@blueprint.get(f"/{ID}/peer-coaching")
@permission(may_peer_coach)
def my_group(activity_id: int) -> Any:
    session = get_session()
    activity = peer_coaching.member_activity(session, the_actor(), activity_id)
    group = peer_coaching.my_group(session, the_actor(), activity)
    return _group_page(activity, group, peer_coaching.empty_form())


@blueprint.post(f"/{ID}/peer-coaching/sessions")
@permission(may_peer_coach)
def log_session(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = peer_coaching.member_activity(session, actor, activity_id)
    typed = peer_coaching.typed_form(request.form)
    try:
        peer_coaching.log_session(session, actor, activity, typed)
    except peer_coaching.CoachingProblems as refused:
        return _group_page(
            activity,
            peer_coaching.my_group(session, actor, activity),
            typed,
            status=400,
            problems=refused.problems,
        )
    return redirect(launch_url("peer_coaching.my_group", activity_id=activity.id, notice="logged"), code=303)


def _edit_page(
    activity: Activity,
    row: PeerCoachingSession,
    typed: dict[str, str],
    *,
    status: int = 200,
    problems: dict[str, str] | None = None,
) -> Any:
    session = get_session()
    settings = peer_coaching.settings_of(session, activity)
    return render_template(
        "programme/peer_coaching_session.html",
        activity=activity,
        kind=kind_info(activity.kind),
        row=row,
        members=peer_coaching.members_of(session, row.group),
        ideas=peer_coaching.ideas_of(settings),
        own_idea=peer_coaching.OWN_IDEA,
        values=typed,
        problems=problems or {},
        today=utcnow().date().isoformat(),
    ), status


@blueprint.get(f"/{ID}/peer-coaching/sessions/{SESSION}")
@permission(may_peer_coach)
def session_form(activity_id: int, session_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = peer_coaching.member_activity(session, actor, activity_id)
    row = peer_coaching.own_session(session, actor, activity, session_id)
    settings = peer_coaching.settings_of(session, activity)
    return _edit_page(activity, row, peer_coaching.form_of(row, peer_coaching.ideas_of(settings)))


@blueprint.post(f"/{ID}/peer-coaching/sessions/{SESSION}")
@permission(may_peer_coach)
def change_session(activity_id: int, session_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = peer_coaching.member_activity(session, actor, activity_id)
    row = peer_coaching.own_session(session, actor, activity, session_id)
    if request.form.get("action") == "delete":
        peer_coaching.delete_session(session, actor, row)
        return redirect(
            launch_url("peer_coaching.my_group", activity_id=activity.id, notice="deleted"), code=303
        )
    typed = peer_coaching.typed_form(request.form)
    try:
        peer_coaching.change_session(session, actor, row, typed)
    except peer_coaching.CoachingProblems as refused:
        return _edit_page(activity, row, typed, status=400, problems=refused.problems)
    return redirect(launch_url("peer_coaching.my_group", activity_id=activity.id, notice="changed"), code=303)


# -- the staff's pages ------------------------------------------------------------------------------------


def _staff_page(
    activity: Activity,
    *,
    status: int = 200,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Any:
    session = get_session()
    groups, waiting = peer_coaching.overview(session, the_actor(), activity)
    settings = peer_coaching.settings_of(session, activity)
    values = typed or {"group_size": str(settings.group_size), "ideas": settings.ideas}
    return render_template(
        "programme/peer_coaching_staff.html",
        activity=activity,
        kind=kind_info(activity.kind),
        groups=groups,
        waiting=waiting,
        values=values,
        problems=problems or {},
        notice=request.args.get("notice"),
    ), status


def _managed(activity_id: int) -> Activity:
    return peer_coaching.managed_activity(get_session(), the_actor(), activity_id)


@blueprint.get(f"/{ID}/peer-coaching/groups")
@permission(may_configure_activities)
def staff(activity_id: int) -> Any:
    return _staff_page(_managed(activity_id))


@blueprint.post(f"/{ID}/peer-coaching/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    activity = _managed(activity_id)
    typed = {name: str(request.form.get(name, "")) for name in ("group_size", "ideas")}
    try:
        peer_coaching.save_settings(get_session(), the_actor(), activity, typed)
    except peer_coaching.CoachingProblems as refused:
        return _staff_page(activity, status=400, problems=refused.problems, typed=typed)
    return redirect(
        launch_url("peer_coaching.staff", activity_id=activity.id, notice="settings-saved"), code=303
    )


@blueprint.post(f"/{ID}/peer-coaching/groups/random")
@permission(may_configure_activities)
def form_at_random(activity_id: int) -> Any:
    activity = _managed(activity_id)
    result = peer_coaching.form_at_random(get_session(), the_actor(), activity)
    return redirect(
        launch_url(
            "peer_coaching.staff",
            activity_id=activity.id,
            notice="formed",
            groups=result.new_groups,
            joined=result.joined,
            waiting=result.waiting,
        ),
        code=303,
    )


@blueprint.post(f"/{ID}/peer-coaching/groups")
@permission(may_configure_activities)
def create_group(activity_id: int) -> Any:
    activity = _managed(activity_id)
    try:
        peer_coaching.create_group(get_session(), the_actor(), activity, request.form.getlist("member"))
    except peer_coaching.CoachingProblems as refused:
        return _staff_page(activity, status=400, problems=refused.problems)
    return redirect(launch_url("peer_coaching.staff", activity_id=activity.id, notice="created"), code=303)


@blueprint.get(f"/{ID}/peer-coaching/groups/{GROUP}")
@permission(may_configure_activities)
def group_log(activity_id: int, group_id: int) -> Any:
    session = get_session()
    activity = _managed(activity_id)
    group = peer_coaching.readable_group(session, the_actor(), activity, group_id)
    return _group_page(activity, group, peer_coaching.empty_form(), staff=True)


@blueprint.post(f"/{ID}/peer-coaching/groups/{GROUP}/dissolve")
@permission(may_configure_activities)
def dissolve(activity_id: int, group_id: int) -> Any:
    activity = _managed(activity_id)
    try:
        peer_coaching.dissolve_group(get_session(), the_actor(), activity, group_id)
    except peer_coaching.CoachingProblems as refused:
        return _staff_page(activity, status=409, problems=refused.problems)
    return redirect(launch_url("peer_coaching.staff", activity_id=activity.id, notice="dissolved"), code=303)


@blueprint.post(f"/{ID}/peer-coaching/groups/{GROUP}/members/{PERSON}/remove")
@permission(may_configure_activities)
def remove_member(activity_id: int, group_id: int, user_id: int) -> Any:
    activity = _managed(activity_id)
    try:
        peer_coaching.remove_member(get_session(), the_actor(), activity, group_id, user_id)
    except peer_coaching.CoachingProblems as refused:
        return _staff_page(activity, status=404, problems=refused.problems)
    return redirect(
        launch_url("peer_coaching.staff", activity_id=activity.id, notice="member-removed"), code=303
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
