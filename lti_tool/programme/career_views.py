"""The career conversation's pages under ``/activities/<id>/career``: the activity's page (the learner's
own conversation, the manager's people, the staff's overview and setting) and one conversation's page
(the learner's answers, the manager's, the agreement and the learner's consent).

Views read the request and call :mod:`lti_tool.programme.career`; the request's unit of work commits. A
refused form answers 400 with everything typed kept and a message beside each field.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import (
    in_a_course,
    is_career_manager,
    is_manager_in_course,
    may_configure_activities,
    may_hold_career_conversations,
    permission,
    the_actor,
)
from lti_tool.programme import career, career_reminders  # noqa: F401 - registers the job and the composer
from lti_tool.programme.career_models import CareerConversation
from lti_tool.programme.survey import person_name
from lti_tool.states import CadreRole
from lti_tool.web import error_page

blueprint = Blueprint("career", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
CONVERSATION = "<int(max=2147483647):conversation_id>"
BLANK_ACTIONS = 2


@blueprint.errorhandler(career.CareerError)
def _refused(error: career.CareerError) -> Response:
    return error_page(error.status, error.title, error.message)


@blueprint.get(f"/{ID}/career")
@permission(in_a_course)
def overview(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = career.career_activity(session, actor, activity_id)
    own = career.own_conversation(session, actor, activity, create=False) \
        if actor.role is CadreRole.LEARNER else None
    return render_template(
        "programme/career.html", activity=activity, kind=kind_info(activity.kind), own=own,
        people=career.my_people(session, actor, activity) if is_manager_in_course(actor, session) else [],
        held=career.held_overview(session, actor, activity) if actor.may_edit else None,
        settings=career.settings_of(session, activity), notice=request.args.get("notice"),
    )


@blueprint.post(f"/{ID}/career/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    session = get_session()
    activity = career.career_activity(session, the_actor(), activity_id)
    career.save_settings(session, the_actor(), activity,
                         staff_may_read=request.form.get("staff_may_read") == "1")
    # The setting is a panel of the activity's settings page (``programme/_settings.html``).
    return redirect(launch_url("deliverables.settings", activity_id=activity.id, notice="kind-saved"),
                    code=303)


def _page(activity: Activity, conversation: CareerConversation, *, status: int = 200, form: str = "",
          typed: dict[str, Any] | None = None, problems: dict[str, str] | None = None,
          first_save: bool = False) -> Any:
    actor = the_actor()
    session = get_session()
    learner_view = conversation.learner_id == actor.user_id and actor.role is CadreRole.LEARNER
    manager_view = conversation.id is not None and is_career_manager(actor, conversation)
    typed = typed or {}
    learner_values = typed if form == "learner" else conversation.learner_answers or {}
    manager_values = typed if form == "manager" else conversation.manager_answers or {}
    if form == "agreement":
        actions = career.action_rows(typed)
        next_on = typed.get("next_conversation", "")
    else:
        actions = [{"what": action.what, "owner": action.owner, "due": action.due_on.isoformat()}
                   for action in conversation.actions]
        next_on = conversation.next_conversation_on.isoformat() if conversation.next_conversation_on else ""
    actions = [*actions, *[{"what": "", "owner": "", "due": ""} for _ in range(BLANK_ACTIONS)]]
    stored = conversation.id is not None and not first_save
    learner = conversation.learner if stored else None
    learner_action = launch_url("career.save_learner", activity_id=activity.id,
                                conversation_id=conversation.id) if stored else \
        launch_url("career.save_mine", activity_id=activity.id)
    html = render_template(
        "programme/career_conversation.html", activity=activity, kind=kind_info(activity.kind),
        conversation=conversation, learner_name=person_name(learner) if learner else actor.name,
        learner_view=learner_view, manager_view=manager_view, questions=career.QUESTIONS,
        learner_values=learner_values, manager_values=manager_values, actions=actions[: career.MAX_ACTIONS],
        next_on=next_on, owners=career.OWNER_LABELS, form=form, problems=problems or {},
        settings=career.settings_of(session, activity), notice=request.args.get("notice"),
        max_answer=career.MAX_ANSWER, max_action=career.MAX_ACTION, learner_action=learner_action,
        stored=stored,
    )
    return html, status


def _conversation(activity: Activity, conversation_id: int) -> CareerConversation:
    return career.conversation_of(get_session(), the_actor(), activity, conversation_id)


def _back(activity: Activity, conversation: CareerConversation, notice: str) -> Response:
    return redirect(launch_url("career.conversation", activity_id=activity.id,
                               conversation_id=conversation.id, notice=notice), code=303)


@blueprint.get(f"/{ID}/career/mine")
@permission(may_hold_career_conversations)
def mine(activity_id: int) -> Any:
    session = get_session()
    activity = career.career_activity(session, the_actor(), activity_id)
    own = career.own_conversation(session, the_actor(), activity, create=False)
    if own.id is not None:
        return _back(activity, own, request.args.get("notice", ""))
    return _page(activity, own)


@blueprint.post(f"/{ID}/career/mine")
@permission(may_hold_career_conversations)
def save_mine(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = career.career_activity(session, actor, activity_id)
    existed = career.own_conversation(session, actor, activity, create=False).id is not None
    own = career.own_conversation(session, actor, activity)
    return _save_learner(activity, own, first_save=not existed)


def _save_learner(activity: Activity, conversation: CareerConversation, *, first_save: bool = False) -> Any:
    typed = {key: request.form.get(key, "") for key in career.QUESTION_KEYS}
    share = request.form.get("action") == "share"
    try:
        career.save_learner_answers(get_session(), the_actor(), conversation, typed, share=share)
    except career.CareerProblems as refused:
        # A refused first save stores nothing: the form posts to the learner's page again.
        return _page(activity, conversation, status=400, form="learner", typed=typed,
                     problems=refused.problems, first_save=first_save)
    return _back(activity, conversation, "shared" if share else "saved")


@blueprint.get(f"/{ID}/career/{CONVERSATION}")
@permission(in_a_course)
def conversation(activity_id: int, conversation_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = career.career_activity(session, actor, activity_id)
    found = career.readable_conversation(session, actor, activity, conversation_id)
    return _page(activity, found)


@blueprint.post(f"/{ID}/career/{CONVERSATION}/learner")
@permission(may_hold_career_conversations)
def save_learner(activity_id: int, conversation_id: int) -> Any:
    activity = career.career_activity(get_session(), the_actor(), activity_id)
    return _save_learner(activity, _conversation(activity, conversation_id))


@blueprint.post(f"/{ID}/career/{CONVERSATION}/manager")
@permission(may_hold_career_conversations)
def save_manager(activity_id: int, conversation_id: int) -> Any:
    activity = career.career_activity(get_session(), the_actor(), activity_id)
    found = _conversation(activity, conversation_id)
    typed = {key: request.form.get(key, "") for key in career.QUESTION_KEYS}
    try:
        career.save_manager_answers(get_session(), the_actor(), found, typed)
    except career.CareerProblems as refused:
        return _page(activity, found, status=400, form="manager", typed=typed, problems=refused.problems)
    return _back(activity, found, "manager-saved")


@blueprint.post(f"/{ID}/career/{CONVERSATION}/agreement")
@permission(may_hold_career_conversations)
def save_agreement(activity_id: int, conversation_id: int) -> Any:
    activity = career.career_activity(get_session(), the_actor(), activity_id)
    found = _conversation(activity, conversation_id)
    typed = dict(request.form)
    try:
        career.record_agreement(get_session(), the_actor(), found, career.action_rows(request.form),
                                request.form.get("next_conversation", ""))
    except career.CareerProblems as refused:
        return _page(activity, found, status=400, form="agreement", typed=typed, problems=refused.problems)
    return _back(activity, found, "agreed")


@blueprint.post(f"/{ID}/career/{CONVERSATION}/consent")
@permission(may_hold_career_conversations)
def save_consent(activity_id: int, conversation_id: int) -> Any:
    activity = career.career_activity(get_session(), the_actor(), activity_id)
    found = _conversation(activity, conversation_id)
    career.set_consent(get_session(), the_actor(), found, request.form.get("staff_consent") == "1")
    return _back(activity, found, "consent")


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
