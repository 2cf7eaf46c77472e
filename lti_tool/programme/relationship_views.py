"""The strategic-relationships pages under ``/activities/<id>/relationships`` (the learner's own map: its
relationships, goals, picture and history, sharing it for review) and ``/activities/<id>/relationship-maps``
(the managers' list of their people's maps, the designers' overview and setting, one map read by someone
allowed to).

Views read the request and call :mod:`lti_tool.programme.relationship_map`; the request's unit of work
commits. A refused form answers 400 with everything typed kept and a message beside each field. The
manager's review itself is the feedback form of :mod:`lti_tool.feedback`, which shows the map above the
rubric (``programme/_relationship_review.html``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request
from sqlalchemy import select

from lti_tool.db import get_session, utcnow
from lti_tool.feedback import services as feedback
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity, User
from lti_tool.permissions import (
    RELATIONSHIP_MAP_KINDS,
    current_actor,
    in_a_course,
    is_manager_in_course,
    may_configure_activities,
    may_map_relationships,
    permission,
    the_actor,
)
from lti_tool.programme import relationship_chart
from lti_tool.programme import relationship_map as maps
from lti_tool.programme.form_fields import typed_form
from lti_tool.programme.relationship_models import MappedRelationship, RelationshipMap
from lti_tool.states import CadreRole, RelationshipType
from lti_tool.web import error_page

blueprint = Blueprint("relationship_maps", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
ROW = "<int(max=2147483647):relationship_id>"
GOAL = "<int(max=2147483647):goal_id>"
MAP = "<int(max=2147483647):map_id>"


@blueprint.errorhandler(maps.RelationshipError)
def _refused(error: maps.RelationshipError) -> Response:
    return error_page(error.status, error.title, error.message)


def _labels() -> dict[str, Any]:
    return {"type_labels": maps.TYPE_LABELS, "type_hints": maps.TYPE_HINTS, "strengths": maps.STRENGTH_LABELS,
            "types": list(RelationshipType), "any_strategic": maps.ANY_STRATEGIC, "category": maps.category,
            "goal_label": maps.type_label}


def pictures(view: maps.MapView, prefix: str) -> dict[str, Any]:
    """The network picture and the history chart of a map, for its pages."""
    return {
        "picture": relationship_chart.network_picture(f"{prefix}-network", "The network by type",
                                                      view.relationships),
        "history_chart": relationship_chart.history_chart(
            f"{prefix}-history", "Strategic and operational relationships, week by week", view.history),
    }


def _own_page(activity: Activity, *, status: int = 200, relationship: dict[str, str] | None = None,
              goal: dict[str, str] | None = None, problems: dict[str, str] | None = None,
              goal_problems: dict[str, str] | None = None) -> Any:
    session = get_session()
    actor = the_actor()
    view = maps.map_view(session, maps.own_map(session, actor, activity))
    return render_template(
        "programme/relationship_map.html", activity=activity, kind=kind_info(activity.kind), view=view,
        values=relationship or maps.empty_relationship_form(), problems=problems or {},
        goal_values=goal or maps.empty_goal_form(), goal_problems=goal_problems or {},
        today=utcnow().date().isoformat(), notice=request.args.get("notice"), **_labels(),
        settings_staff=maps.settings_of(session, activity).staff_may_read, **pictures(view, "own"),
    ), status


@blueprint.get(f"/{ID}/relationships")
@permission(may_map_relationships)
def my_map(activity_id: int) -> Any:
    return _own_page(maps.map_activity(get_session(), the_actor(), activity_id))


@blueprint.post(f"/{ID}/relationships")
@permission(may_map_relationships)
def add_relationship(activity_id: int) -> Any:
    session = get_session()
    activity = maps.map_activity(session, the_actor(), activity_id)
    typed = typed_form(request.form, maps.RELATIONSHIP_FIELDS)
    try:
        maps.add_relationship(session, the_actor(), activity, typed)
    except maps.RelationshipProblems as refused:
        return _own_page(activity, status=400, relationship=typed, problems=refused.problems)
    return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="added"), code=303)


def _edit_page(activity: Activity, row: MappedRelationship, typed: dict[str, str], *, status: int = 200,
               problems: dict[str, str] | None = None) -> Any:
    return render_template(
        "programme/relationship_edit.html", activity=activity, kind=kind_info(activity.kind), row=row,
        values=typed, problems=problems or {}, today=utcnow().date().isoformat(), **_labels(),
    ), status


def _own_row(activity_id: int, relationship_id: int) -> tuple[Activity, RelationshipMap, MappedRelationship]:
    session = get_session()
    actor = the_actor()
    activity = maps.map_activity(session, actor, activity_id)
    relationship_map = maps.own_map(session, actor, activity)
    row = maps.own_relationship(session, actor, relationship_map, relationship_id)
    return activity, relationship_map, row


@blueprint.get(f"/{ID}/relationships/{ROW}")
@permission(may_map_relationships)
def relationship_form(activity_id: int, relationship_id: int) -> Any:
    activity, _map, row = _own_row(activity_id, relationship_id)
    return _edit_page(activity, row, maps.relationship_form_of(row))


@blueprint.post(f"/{ID}/relationships/{ROW}")
@permission(may_map_relationships)
def change_relationship(activity_id: int, relationship_id: int) -> Any:
    session = get_session()
    activity, relationship_map, row = _own_row(activity_id, relationship_id)
    if request.form.get("action") == "end":
        maps.end_relationship(session, the_actor(), relationship_map, row)
        return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="ended"),
                        code=303)
    typed = typed_form(request.form, maps.RELATIONSHIP_FIELDS)
    try:
        maps.change_relationship(session, the_actor(), relationship_map, row, typed)
    except maps.RelationshipProblems as refused:
        return _edit_page(activity, row, typed, status=400, problems=refused.problems)
    return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="changed"),
                    code=303)


@blueprint.post(f"/{ID}/relationships/goals")
@permission(may_map_relationships)
def add_goal(activity_id: int) -> Any:
    session = get_session()
    activity = maps.map_activity(session, the_actor(), activity_id)
    typed = typed_form(request.form, maps.GOAL_FIELDS)
    try:
        maps.add_goal(session, the_actor(), activity, typed)
    except maps.RelationshipProblems as refused:
        return _own_page(activity, status=400, goal=typed, goal_problems=refused.problems)
    return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="goal-set"),
                    code=303)


@blueprint.post(f"/{ID}/relationships/goals/{GOAL}/remove")
@permission(may_map_relationships)
def remove_goal(activity_id: int, goal_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = maps.map_activity(session, actor, activity_id)
    maps.remove_goal(session, actor, maps.own_map(session, actor, activity), goal_id)
    return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="goal-removed"),
                    code=303)


@blueprint.post(f"/{ID}/relationships/share")
@permission(may_map_relationships)
def share(activity_id: int) -> Any:
    session = get_session()
    activity = maps.map_activity(session, the_actor(), activity_id)
    maps.share(session, the_actor(), activity)
    return redirect(launch_url("relationship_maps.my_map", activity_id=activity.id, notice="shared"),
                    code=303)


# -- other people's maps ---------------------------------------------------------------------------------


@blueprint.get(f"/{ID}/relationship-maps/{MAP}")
@permission(in_a_course)
def read_map(activity_id: int, map_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = maps.map_activity(session, actor, activity_id)
    relationship_map = maps.readable_map(session, actor, activity, map_id)
    view = maps.map_view(session, relationship_map)
    may_review = relationship_map.owner_id != actor.user_id and not actor.may_edit
    return render_template(
        "programme/relationship_read.html", activity=activity, kind=kind_info(activity.kind), view=view,
        owner=relationship_map.owner, may_review=may_review, **_labels(), **pictures(view, "read"))


def people_maps(activity: Activity) -> list[tuple[Any, RelationshipMap | None]]:
    """The manager's people in the activity (those they review), each with their map when it is shared."""
    session = get_session()
    people = feedback.my_people(session, the_actor(), activity)
    ids = [person.learner.id for person in people]
    shared = {found.owner_id: found for found in session.scalars(select(RelationshipMap).where(
        RelationshipMap.activity_id == activity.id, RelationshipMap.owner_id.in_(ids),
        RelationshipMap.shared_at.is_not(None)))} if ids else {}
    return [(person, shared.get(person.learner.id)) for person in people]


@blueprint.get(f"/{ID}/relationship-maps")
@permission(in_a_course)
def maps_overview(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = maps.map_activity(session, actor, activity_id)
    overview = maps.overview(session, actor, activity) if actor.may_edit else None
    people = people_maps(activity) if overview is None and is_manager_in_course(actor, session) else None
    if overview is None and people is None:
        return error_page(403, "Not for your role", "This page lists the maps of a manager's people, and the "
                          "activity's overview for its designers. Your own map is on the activity's page.")
    return render_template(
        "programme/relationship_overview.html", activity=activity, kind=kind_info(activity.kind),
        overview=overview, people=people, settings=maps.settings_of(session, activity),
        notice=request.args.get("notice"))


@blueprint.post(f"/{ID}/relationship-maps/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    session = get_session()
    activity = maps.map_activity(session, the_actor(), activity_id)
    value = request.form.get("staff_may_read", "")
    if value not in ("", "1"):
        return error_page(400, "Not a setting", "Tick the box, or leave it clear: nothing else is a setting.")
    maps.save_settings(session, the_actor(), activity, staff_may_read=value == "1")
    return redirect(launch_url("relationship_maps.maps_overview", activity_id=activity.id, notice="settings"),
                    code=303)


# -- for other pages -------------------------------------------------------------------------------------


def map_for_review(activity: Activity, learner: User) -> maps.MapView | None:
    """For the manager's feedback form: the learner's shared map, if the actor may read it."""
    actor = current_actor()
    if actor is None or activity.kind not in RELATIONSHIP_MAP_KINDS or actor.user_id == learner.id:
        return None
    return maps.map_for_review(get_session(), actor, activity, learner)


def maps_relationships(activity: Activity) -> bool:
    """For the landing page: whether the person keeps a map in this activity (a learner)."""
    actor = current_actor()
    return actor is not None and activity.kind in RELATIONSHIP_MAP_KINDS and actor.role is CadreRole.LEARNER


def reviews_relationship_maps(activity: Activity) -> bool:
    """For the landing page: whether the person reviews their people's maps here (a manager)."""
    actor = current_actor()
    return actor is not None and activity.kind in RELATIONSHIP_MAP_KINDS \
        and is_manager_in_course(actor, get_session())


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    feedback.before_feedback(maps.missing_before_review)
    app.add_template_global(map_for_review, "relationship_map_for_review")
    app.add_template_global(maps_relationships, "maps_relationships")
    app.add_template_global(reviews_relationship_maps, "reviews_relationship_maps")
    app.add_template_global(pictures, "relationship_pictures")
    app.add_template_global(_labels, "relationship_labels")
