"""The spaced refreshers' pages: an activity's refreshers for its designer (``/activities/<id>/refreshers``),
a learner's own refreshers (``/refreshers``), and a manager's people's (``/refreshers/people``).

Views read the request and call :mod:`lti_tool.tracking.refreshers`; the request's unit of work commits.
A refused form answers 400 with everything typed kept and a message beside each field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request

from lti_tool import permissions
from lti_tool.db import get_session, utcnow
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity, Context, User
from lti_tool.permissions import (
    ensure,
    may_configure_activities,
    may_read_own_refreshers,
    may_read_people_refreshers,
    permission,
    the_actor,
)
from lti_tool.relationships import services as manager_links
from lti_tool.states import CadreRole
from lti_tool.tracking import refreshers
from lti_tool.tracking.refresher_models import Refresher
from lti_tool.web import error_page

blueprint = Blueprint("refreshers", __name__)

ID = "<int(max=2147483647):activity_id>"
REFRESHER = "<int(max=2147483647):refresher_id>"
SCHEDULED = "<int(max=2147483647):scheduled_id>"
LEARNER = "<int(max=2147483647):learner_id>"
NOTICES = {
    "settings": "The settings are saved.",
    "added": "The refresher is added: learners who scored below its threshold get it on the schedule.",
    "changed": "The refresher is saved.",
    "removed": "The refresher is removed: its steps not done yet are cancelled.",
    "done": "Marked done. Well done!",
    "email-on": "You will get your refreshers by e-mail too.",
    "email-off": "You will no longer get e-mail from this course (refreshers stay on this page).",
}


def _notice() -> str | None:
    return NOTICES.get(request.args.get("notice", ""))


def _refresher_form(refresher: Refresher | None = None) -> dict[str, str]:
    if refresher is None:
        return {"target": "", "title": "", "body": "", "link_url": "", "threshold": ""}
    return {"target": f"{refresher.target_kind.value}:{refresher.target}", "title": refresher.title,
            "body": refresher.body, "link_url": refresher.link_url,
            "threshold": "" if refresher.threshold_percent is None
            else f"{refresher.threshold_percent.normalize():f}"}


def _typed_refresher() -> refreshers.RefresherInput:
    return refreshers.RefresherInput(**{name: request.form.get(name, "")[:10000]
                                        for name in ("target", "title", "body", "link_url", "threshold")})


def _settings_form(activity: Activity) -> dict[str, Any]:
    settings = refreshers.settings_of(get_session(), activity)
    return {"threshold": f"{settings.threshold_percent.normalize():f}",
            "spacing": ", ".join(str(day) for day in settings.spacing_days),
            "send_email": settings.send_email}


def _designer_page(activity: Activity, *, status: int = 200, settings_values: dict[str, Any] | None = None,
                   settings_problems: dict[str, str] | None = None, new_values: dict[str, str] | None = None,
                   new_problems: dict[str, str] | None = None) -> Any:
    session = get_session()
    return render_template(
        "tracking/refreshers.html", activity=activity, kind=kind_info(activity.kind),
        targets=refreshers.targets_of(session, activity), items=refreshers.refreshers_of(session, activity),
        counts=refreshers.counts_of(session, activity, utcnow()),
        default_threshold=refreshers.settings_of(session, activity).threshold_percent,
        settings_values=settings_values or _settings_form(activity),
        settings_problems=settings_problems or {},
        values=new_values or _refresher_form(), problems=new_problems or {}, notice=_notice(),
    ), status


def _back_to_list(activity: Activity, notice: str) -> Any:
    return redirect(launch_url("refreshers.designer_page", activity_id=activity.id, notice=notice), code=303)


@blueprint.get(f"/activities/{ID}/refreshers")
@permission(may_configure_activities)
def designer_page(activity_id: int) -> Any:
    activity = refreshers.configurable_activity(get_session(), the_actor(), activity_id)
    return _designer_page(activity)


@blueprint.post(f"/activities/{ID}/refreshers/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    session = get_session()
    activity = refreshers.configurable_activity(session, the_actor(), activity_id)
    typed = {"threshold": request.form.get("threshold", "")[:100],
             "spacing": request.form.get("spacing", "")[:500],
             "send_email": request.form.get("send_email") == "1"}
    try:
        refreshers.save_settings(session, the_actor(), activity, threshold=typed["threshold"],
                                 spacing=typed["spacing"], send_email=typed["send_email"])
    except refreshers.RefresherProblems as refused:
        return _designer_page(activity, status=400, settings_values=typed, settings_problems=refused.problems)
    return _back_to_list(activity, "settings")


@blueprint.post(f"/activities/{ID}/refreshers")
@permission(may_configure_activities)
def add_refresher(activity_id: int) -> Any:
    session = get_session()
    activity = refreshers.configurable_activity(session, the_actor(), activity_id)
    typed = _typed_refresher()
    try:
        refreshers.save_refresher(session, the_actor(), activity, typed)
    except refreshers.RefresherProblems as refused:
        return _designer_page(activity, status=400, new_values=typed.__dict__, new_problems=refused.problems)
    return _back_to_list(activity, "added")


def _edit_page(activity: Activity, refresher: Refresher, values: dict[str, str], *, status: int = 200,
               problems: dict[str, str] | None = None) -> Any:
    return render_template(
        "tracking/refresher_edit.html", activity=activity, kind=kind_info(activity.kind), refresher=refresher,
        targets=refreshers.targets_of(get_session(), activity), values=values, problems=problems or {},
        default_threshold=refreshers.settings_of(get_session(), activity).threshold_percent,
    ), status


@blueprint.get(f"/activities/{ID}/refreshers/{REFRESHER}")
@permission(may_configure_activities)
def edit_form(activity_id: int, refresher_id: int) -> Any:
    session = get_session()
    activity = refreshers.configurable_activity(session, the_actor(), activity_id)
    refresher = refreshers.refresher_of_activity(session, the_actor(), activity, refresher_id)
    return _edit_page(activity, refresher, _refresher_form(refresher))


@blueprint.post(f"/activities/{ID}/refreshers/{REFRESHER}")
@permission(may_configure_activities)
def change_refresher(activity_id: int, refresher_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = refreshers.configurable_activity(session, actor, activity_id)
    refresher = refreshers.refresher_of_activity(session, actor, activity, refresher_id)
    if request.form.get("action") == "remove":
        refreshers.remove_refresher(session, actor, refresher)
        return _back_to_list(activity, "removed")
    typed = _typed_refresher()
    try:
        refreshers.save_refresher(session, actor, activity, typed, refresher)
    except refreshers.RefresherProblems as refused:
        return _edit_page(activity, refresher, typed.__dict__, status=400, problems=refused.problems)
    return _back_to_list(activity, "changed")


# -- learners ----------------------------------------------------------------------------------------------


@blueprint.get("/refreshers")
@permission(may_read_own_refreshers)
def my_refreshers() -> Any:
    session = get_session()
    actor = the_actor()
    context = session.get(Context, actor.course_id)
    return render_template("tracking/my_refreshers.html", page=refreshers.learner_page(session, actor),
                           context=context, notice=_notice())


@blueprint.post(f"/refreshers/{SCHEDULED}/done")
@permission(may_read_own_refreshers)
def mark_done(scheduled_id: int) -> Any:
    try:
        refreshers.complete(get_session(), the_actor(), scheduled_id)
    except refreshers.RefresherConflict as refused:
        return error_page(409, refused.title, refused.message,
                          action="Go back to your refreshers and reload the page.")
    return redirect(launch_url("refreshers.my_refreshers", notice="done"), code=303)


@blueprint.post("/refreshers/email")
@permission(may_read_own_refreshers)
def choose_email() -> Any:
    choice = request.form.get("email", "")
    if choice not in ("on", "off"):
        return error_page(400, "Choose yes or no", "Say whether you want your refreshers by e-mail.",
                          action="Go back to your refreshers and reload the page.")
    refreshers.set_email(get_session(), the_actor(), wanted=choice == "on")
    return redirect(launch_url("refreshers.my_refreshers", notice=f"email-{choice}"), code=303)


# -- managers and staff ------------------------------------------------------------------------------------


def _people_of(actor: permissions.Actor) -> list[User]:
    """The people whose refreshers the actor may see: a manager's active links; the course's learners
    who have any refresher, for its staff."""
    session = get_session()
    if actor.may_edit:
        return refreshers.learners_with_refreshers(session, actor.course_id)
    return manager_links.learners_of(session, actor.course_id, actor.user_id)


@blueprint.get("/refreshers/people")
@permission(may_read_people_refreshers)
def people() -> Any:
    session = get_session()
    actor = the_actor()
    if actor.role is CadreRole.LEARNER and not permissions.is_manager_in_course(actor, session):
        return error_page(403, "Not for your role", permissions.REFRESHER_PEOPLE_ROLES)
    learners = _people_of(actor)
    states = refreshers.refreshers_for(session, [learner.id for learner in learners], actor.course_id)
    summaries = {learner_id: refreshers.summarise(items) for learner_id, items in states.items()}
    return render_template("tracking/people_refreshers.html", learners=learners, summaries=summaries,
                           context=session.get(Context, actor.course_id))


@blueprint.get(f"/refreshers/people/{LEARNER}")
@permission(may_read_people_refreshers)
def person(learner_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    learner = session.get(User, learner_id)
    ensure(permissions.can_read_person_refreshers(actor, learner, session))
    assert learner is not None
    states = refreshers.refreshers_for(session, [learner.id], actor.course_id)[learner.id]
    return render_template("tracking/person_refreshers.html", learner=learner, states=states,
                           summary=refreshers.summarise(states),
                           context=session.get(Context, actor.course_id))


def home_panel() -> dict[str, Any] | None:
    """What the landing page shows of refreshers for the person who launched (``tracking/_refreshers_home``):
    a learner's due ones, a manager's link to their people's, a designer's link to the activity's."""
    actor = permissions.current_actor()
    if actor is None or actor.context_id is None:
        return None
    session = get_session()
    panel: dict[str, Any] = {"due": [], "manages": False}
    if actor.role is CadreRole.LEARNER:
        page = refreshers.learner_page(session, actor, with_email_choice=False)
        panel.update(due=page.due, stopped=page.stopped, upcoming=len(page.upcoming))
    panel["manages"] = actor.may_edit or permissions.is_manager_in_course(actor, session)
    return panel


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.add_template_global(home_panel, "refreshers_home_panel")
    app.add_template_global(refreshers.valid_link, "refresher_link_ok")
    app.add_template_global(permissions.takes_refreshers, "takes_refreshers")
