"""The feedback pages under ``/activities/<id>``: the manager's people and feedback form, the autosave
endpoint, withdrawal; the learner's page (feedback, acknowledgement and reply, self-assessment beside it).

Views read the request and call :mod:`lti_tool.feedback.services`; the request's unit of work commits. A
refused save answers 400 (409 when the draft changed elsewhere) with everything typed kept in the form;
the autosave endpoint answers JSON, and 409 with the server's copy.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.deliverables import work_products
from lti_tool.feedback import content, people_filters, services
from lti_tool.feedback.content import Draft
from lti_tool.feedback.people_filters import PeopleFilters
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity, Assessment, User
from lti_tool.permissions import (
    FEEDBACK_NOT_FOUND,
    PEER_KINDS,
    Actor,
    PermissionDenied,
    may_give_feedback,
    may_read_own_feedback,
    permission,
    refuse,
    reviews_peer,
    the_actor,
)
from lti_tool.rubric_library.forms import whole_number
from lti_tool.rubric_library.services import version_content
from lti_tool.states import CadreRole
from lti_tool.web import error_page
from lti_tool.web.markdown import render_markdown

blueprint = Blueprint("feedback", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
LEARNER = "<int(max=2147483647):learner_id>"
ASSESSMENT = "<int(max=2147483647):assessment_id>"
MAX_AUTOSAVE_BYTES = 256 * 1024
URL_PLACEHOLDER = 2147480009
NO_REVISION = (
    "This form did not say which saved version of the draft it was opened at, so Cadre saved nothing. "
    "Your answers are still in the form: save again."
)


@blueprint.errorhandler(services.FeedbackError)
def _refused(error: services.FeedbackError) -> Response:
    if _wants_json():
        return _json_answer({"error": error.message}, error.status)
    return error_page(error.status, error.title, error.message)


def _wants_json() -> bool:
    return request.path.endswith("/draft")


def _json_answer(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


# -- the form, shared by the manager's feedback and the learner's self-assessment --------------------------


def _is_peer_review(activity: Activity, learner: User, actor: Actor) -> bool:
    return activity.kind in PEER_KINDS and actor.role is CadreRole.LEARNER and actor.user_id != learner.id \
        and reviews_peer(get_session(), actor, activity, learner.id)


def _form_urls(activity: Activity, learner: User, actor: Actor) -> tuple[str, str]:
    if actor.user_id == learner.id:
        return (launch_url("feedback.self_assessment", activity_id=activity.id),
                launch_url("feedback.self_assessment_draft", activity_id=activity.id))
    if _is_peer_review(activity, learner, actor):
        return (launch_url("peers.review_form", activity_id=activity.id, learner_id=learner.id),
                launch_url("peers.review_draft", activity_id=activity.id, learner_id=learner.id))
    return (launch_url("feedback.feedback_form", activity_id=activity.id, learner_id=learner.id),
            launch_url("feedback.feedback_draft", activity_id=activity.id, learner_id=learner.id))


def _form_page(activity: Activity, learner: User, actor: Actor, assessment: Assessment | None,
               draft: Draft, *, based_on: int, status: int = 200, conflict: str | None = None,
               server_copy: Draft | None = None) -> Any:
    form_url, autosave_url = _form_urls(activity, learner, actor)
    assert activity.rubric_version is not None
    revision = services.newest_revision(assessment) if assessment is not None else None
    work_product = None if actor.user_id == learner.id else \
        work_products.work_product_for_review(get_session(), actor, activity, learner)
    html = render_template(
        "feedback/form.html", work_product=work_product,
        activity=activity, kind=kind_info(activity.kind), learner=learner,
        is_self=actor.user_id == learner.id, rubric=version_content(activity.rubric_version),
        assessment=assessment, revision=revision, draft=draft, based_on=based_on,
        is_peer=_is_peer_review(activity, learner, actor),
        briefing=render_markdown(activity.manager_briefing),
        instructions=render_markdown(activity.instructions),
        form_url=form_url, autosave_url=autosave_url, conflict=conflict, server_copy=server_copy,
        withdrawals=services.withdrawals_of(assessment) if assessment is not None else [],
        notice=request.args.get("notice"), fields=content,
    )
    return html, status


def _show_form(activity: Activity, learner: User, actor: Actor) -> Any:
    assessment = services.find_assessment(get_session(), activity, learner, actor.user_id)
    return _form_page(activity, learner, actor, assessment, services.draft_of(assessment, activity),
                      based_on=assessment.draft_revision if assessment else 0)


def _post_form(activity: Activity, learner: User, actor: Actor, done_url: str) -> Any:
    session = get_session()
    rubric = services.rubric_of(activity)
    draft = content.read_form(request.form, rubric)
    based_on = whole_number(request.form.get("draft_revision", ""))
    assessment = services.find_assessment(session, activity, learner, actor.user_id)
    if based_on is None:
        draft.problems["form"] = NO_REVISION
        return _form_page(activity, learner, actor, assessment, draft,
                          based_on=assessment.draft_revision if assessment else 0, status=400)
    submitting = request.form.get("action") == "submit"
    try:
        if submitting:
            services.submit(session, actor, activity, learner, draft, based_on=based_on)
        else:
            services.save_draft(session, actor, activity, learner, draft, based_on=based_on)
    except services.DraftProblems as refused:
        return _form_page(activity, learner, actor, assessment, refused.draft, based_on=based_on, status=400)
    except services.DraftConflict as conflict:
        server = conflict.assessment
        # Saving again now replaces the other save, knowingly: the form carries the server's revision.
        return _form_page(activity, learner, actor, server, draft, based_on=server.draft_revision,
                          status=409, conflict=conflict.message,
                          server_copy=services.draft_of(server, activity))
    if submitting:
        return redirect(done_url, code=303)
    form_url, _ = _form_urls(activity, learner, actor)
    return redirect(f"{form_url}?notice=saved", code=303)


def _autosave(activity: Activity, learner: User, actor: Actor) -> Response:
    """``{"draft_revision": n, "content": {...}}`` → 200 ``{"draft_revision": n + 1, "saved_at": …}``; 409
    with the server's draft when it is no longer revision ``n``; 400 with problems by field."""
    if (request.content_length or 0) > MAX_AUTOSAVE_BYTES:
        return _json_answer({"error": "This draft is too large to save."}, 413)
    body = request.get_json(silent=True)
    based_on = body.get("draft_revision") if isinstance(body, dict) else None
    if not isinstance(based_on, int) or isinstance(based_on, bool) or not 0 <= based_on < 2**31:
        return _json_answer({"error": "The autosave must be JSON with draft_revision (a whole number) and "
                                      "content."}, 400)
    draft = content.read_content(body.get("content"), services.rubric_of(activity))
    session = get_session()
    try:
        saved = services.autosave(session, actor, activity, learner, draft, based_on=based_on)
    except services.DraftProblems as refused:
        return _json_answer({"error": refused.message, "problems": refused.draft.problems}, 400)
    except services.DraftConflict as conflict:
        server = conflict.assessment
        return _json_answer({
            "error": conflict.message, "draft_revision": server.draft_revision,
            "saved_at": server.draft_saved_at.isoformat() if server.draft_saved_at else None,
            "content": services.draft_of(server, activity).content,
        }, 409)
    return _json_answer({"draft_revision": saved.draft_revision, "saved_at": saved.saved_at.isoformat()})


# -- the manager's pages ---------------------------------------------------------------------------------


def _assessing(activity_id: int, learner_id: int) -> tuple[Activity, User, Actor]:
    session = get_session()
    actor = the_actor()
    activity = services.feedback_activity(session, actor, activity_id)
    learner = services.learner_to_assess(session, actor, activity, learner_id)
    return activity, learner, actor


@blueprint.get(f"/{ID}/people")
@permission(may_give_feedback)
def people(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = services.feedback_activity(session, actor, activity_id)
    services.ensure_set_up(activity)
    everyone = services.my_people(session, actor, activity)
    filters = PeopleFilters.from_args(request.args)
    return render_template("feedback/people.html", activity=activity, kind=kind_info(activity.kind),
                           people=filters.apply(everyone), everyone=len(everyone), filters=filters,
                           listing=people_filters, briefing=render_markdown(activity.manager_briefing),
                           notice=request.args.get("notice"),
                           feedback_url=_per_learner_url("feedback.feedback_form", activity_id=activity.id),
                           actions=PEOPLE_ACTIONS)


PEOPLE_ACTIONS = {"not_started": "Give feedback", "draft": "Continue", "draft_changes": "Continue",
                  "submitted": "Open", "withdrawn": "Open"}
"""The people list's link text by where the feedback stands."""


def _per_learner_url(endpoint: str, **values: Any) -> tuple[str, str]:
    """The URL of ``endpoint`` for each learner of a list as (before, after) the learner's id, built once:
    ``url_for`` costs more than the rest of a row of the people list."""
    head, placeholder, tail = launch_url(endpoint, learner_id=URL_PLACEHOLDER, **values).rpartition(
        str(URL_PLACEHOLDER))
    assert placeholder, endpoint
    return head, tail


@blueprint.get(f"/{ID}/people/{LEARNER}/feedback")
@permission(may_give_feedback)
def feedback_form(activity_id: int, learner_id: int) -> Any:
    return _show_form(*_assessing(activity_id, learner_id))


@blueprint.post(f"/{ID}/people/{LEARNER}/feedback")
@permission(may_give_feedback)
def save_feedback(activity_id: int, learner_id: int) -> Any:
    activity, learner, actor = _assessing(activity_id, learner_id)
    return _post_form(activity, learner, actor,
                      launch_url("feedback.people", activity_id=activity.id, notice="submitted"))


@blueprint.post(f"/{ID}/people/{LEARNER}/feedback/draft")
@permission(may_give_feedback)
def feedback_draft(activity_id: int, learner_id: int) -> Response:
    return _autosave(*_assessing(activity_id, learner_id))


@blueprint.post(f"/{ID}/people/{LEARNER}/feedback/withdraw")
@permission(may_give_feedback)
def withdraw_feedback(activity_id: int, learner_id: int) -> Any:
    activity, learner, actor = _assessing(activity_id, learner_id)
    assessment = services.find_assessment(get_session(), activity, learner, actor.user_id)
    if assessment is None:
        raise services.FeedbackError("There is no submitted feedback on this person to withdraw.")
    services.withdraw(get_session(), actor, assessment, request.form.get("reason", ""))
    return redirect(launch_url("feedback.feedback_form", activity_id=activity.id, learner_id=learner.id,
                               notice="withdrawn"), code=303)


# -- the learner's pages ---------------------------------------------------------------------------------


def _own(activity_id: int) -> tuple[Activity, User, Actor]:
    session = get_session()
    actor = the_actor()
    activity = services.feedback_activity(session, actor, activity_id)
    learner = services.learner_to_assess(session, actor, activity, actor.user_id)
    return activity, learner, actor


@blueprint.get(f"/{ID}/feedback")
@permission(may_read_own_feedback)
def my_feedback(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = services.feedback_activity(session, actor, activity_id)
    rubric = services.rubric_of(activity)
    seen = services.feedback_for_learner(session, actor, activity)
    return render_template("feedback/learner.html", activity=activity, kind=kind_info(activity.kind),
                           rubric=rubric, seen=seen, instructions=render_markdown(activity.instructions),
                           notice=request.args.get("notice"))


@blueprint.post(f"/{ID}/feedback/{ASSESSMENT}/acknowledge")
@permission(may_read_own_feedback)
def acknowledge(activity_id: int, assessment_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    assessment = services.readable_assessment(session, actor, assessment_id)
    if assessment.activity_id != activity_id:  # a guessed pair of ids: as unknown as any other
        raise PermissionDenied(refuse(404, "Feedback not found", FEEDBACK_NOT_FOUND))
    services.acknowledge(session, actor, assessment, request.form.get("reply", ""))
    return redirect(launch_url("feedback.my_feedback", activity_id=activity_id, notice="acknowledged"),
                    code=303)


@blueprint.get(f"/{ID}/self-assessment")
@permission(may_read_own_feedback)
def self_assessment(activity_id: int) -> Any:
    return _show_form(*_own(activity_id))


@blueprint.post(f"/{ID}/self-assessment")
@permission(may_read_own_feedback)
def save_self_assessment(activity_id: int) -> Any:
    activity, learner, actor = _own(activity_id)
    return _post_form(activity, learner, actor,
                      launch_url("feedback.my_feedback", activity_id=activity.id, notice="self-submitted"))


@blueprint.post(f"/{ID}/self-assessment/draft")
@permission(may_read_own_feedback)
def self_assessment_draft(activity_id: int) -> Response:
    return _autosave(*_own(activity_id))
