"""The designer's pages of an activity (``/activities/<id>``): its settings, and moving it to a newer
version of its rubric after seeing what changed.

Views read the request and call :mod:`lti_tool.deliverables.services`; the request's unit of work commits.
A refused save answers 400 (or 409 for a conflicting save) with everything typed kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.deliverables import forms, services
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import (
    Actor,
    can_configure_activity,
    may_configure_activities,
    permission,
    the_actor,
)
from lti_tool.rubric_library.forms import whole_number
from lti_tool.web import error_page
from lti_tool.web.markdown import MAX_MARKDOWN_LENGTH, render_markdown

blueprint = Blueprint("deliverables", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"


@blueprint.errorhandler(services.ActivityNotFound)
def _not_found(error: services.ActivityNotFound) -> Response:
    return error_page(404, "Activity not found", error.message)


@blueprint.errorhandler(services.ActivityError)
def _refused(error: services.ActivityError) -> Response:
    return error_page(400, "Not possible", error.message)


def _settings_page(activity: Activity, form: forms.ActivitySettingsForm, actor: Actor, *, status: int = 200,
                   conflict: str | None = None) -> Any:
    session = get_session()
    html = render_template(
        "deliverables/settings.html",
        activity=activity,
        kind=kind_info(activity.kind),
        form=form,
        rubrics=services.choosable_rubrics(session, actor),
        rubric_update=services.rubric_update(session, activity),
        time_zones=forms.time_zones(),
        assessor_labels=forms.ASSESSOR_LABELS,
        release_labels=forms.RELEASE_LABELS,
        markdown_max=MAX_MARKDOWN_LENGTH,
        conflict=conflict,
        notice=request.args.get("notice"),
    )
    return html, status


@blueprint.get(f"/{ID}/settings")
@permission(may_configure_activities)
def settings(activity_id: int) -> Any:
    actor = the_actor()
    activity = services.get_activity(get_session(), actor, activity_id, rule=can_configure_activity)
    return _settings_page(activity, forms.ActivitySettingsForm.from_activity(activity), actor)


@blueprint.post(f"/{ID}/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = services.get_activity(session, actor, activity_id, rule=can_configure_activity)
    form = forms.ActivitySettingsForm.from_post(request.form, activity)
    choosable = {rubric.id for rubric in services.choosable_rubrics(session, actor)}
    if activity.rubric_version is not None:  # the pinned rubric stays choosable, even if archived since
        choosable.add(activity.rubric_version.rubric_id)
    parsed = form.parse(choosable)
    if parsed is None:
        return _settings_page(activity, form, actor, status=400)
    if form.lock_version is None:
        form.problems["title"] = "This form did not say which version of the settings it was opened at: " \
                                 "check your changes and save again."
        form.lock_version = activity.lock_version
        return _settings_page(activity, form, actor, status=400)
    try:
        services.update_settings(session, actor, activity_id, parsed, expected_lock_version=form.lock_version)
    except services.SettingsConflict as conflict:
        form.lock_version = activity.lock_version  # saving again replaces the other save, knowingly
        return _settings_page(activity, form, actor, status=409, conflict=conflict.message)
    return redirect(launch_url("deliverables.settings", activity_id=activity_id, notice="saved"), code=303)


@blueprint.get(f"/{ID}/preview")
@permission(may_configure_activities)
def preview(activity_id: int) -> Any:
    """The instructions and the manager briefing as learners and managers will read them."""
    activity = services.get_activity(get_session(), the_actor(), activity_id, rule=can_configure_activity)
    return render_template("deliverables/preview.html", activity=activity, kind=kind_info(activity.kind),
                           instructions=render_markdown(activity.instructions),
                           briefing=render_markdown(activity.manager_briefing))


@blueprint.post(f"/{ID}/rubric-version")
@permission(may_configure_activities)
def move_rubric_version(activity_id: int) -> Any:
    """Move the activity to the version the update notice showed (the form names it)."""
    version_id = whole_number(request.form.get("version_id", ""))
    if version_id is None:
        raise services.ActivityError("The form did not say which rubric version to use.")
    services.move_to_rubric_version(get_session(), the_actor(), activity_id, version_id)
    return redirect(launch_url("deliverables.settings", activity_id=activity_id, notice="rubric-moved"),
                    code=303)
