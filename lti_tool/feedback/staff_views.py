"""The staff pages of an activity's feedback (``/activities/<id>/assessments``): every learner and every
assessment with its state, score, assessor and grade delivery, filtered and sorted by the query string;
releasing feedback that waits for staff; one assessment's revisions and what changed between them; retrying
a score the platform refused.

For the course's designers and the platform's administrators
(:func:`~lti_tool.permissions.can_oversee_feedback`); views read the request and call
:mod:`lti_tool.feedback.oversight`, and the request's unit of work commits.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.feedback import oversight, services
from lti_tool.form_values import whole_number
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.permissions import may_oversee_feedback, permission, the_actor
from lti_tool.states import FeedbackRelease
from lti_tool.web import error_page

blueprint = Blueprint("feedback_staff", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
ASSESSMENT = "<int(max=2147483647):assessment_id>"
NOTICES = {
    "released": "Feedback released: the learner sees it now, and its score goes to the gradebook.",
    "released-all": "{count} submitted assessment(s) released.",
    "retried": "The score will be sent to the gradebook again.",
}


@blueprint.errorhandler(services.FeedbackError)
def _refused(error: services.FeedbackError) -> Response:
    return error_page(error.status, error.title, error.message)


def _notice() -> str | None:
    text = NOTICES.get(request.args.get("notice", ""))
    count = request.args.get("count", "")
    return text.format(count=whole_number(count, digits=6) or 0) if text else None


def _back(activity_id: int, notice: str, **extra: Any) -> Response:
    """To the page the form was sent from (its own query string kept), with a notice."""
    where = request.form.get("back", "")
    if where == "history" and "assessment_id" in extra:
        return redirect(launch_url("feedback_staff.assessment_history", activity_id=activity_id,
                                   assessment_id=extra.pop("assessment_id"), notice=notice), code=303)
    extra.pop("assessment_id", None)
    kept = oversight.Filters.from_args(request.form).query()
    return redirect(launch_url("feedback_staff.assessments", activity_id=activity_id, notice=notice,
                               **kept, **extra), code=303)


@blueprint.get(f"/{ID}/assessments")
@permission(may_oversee_feedback)
def assessments(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = oversight.activity_for_staff(session, actor, activity_id)
    filters = oversight.Filters.from_args(request.args)
    seen = oversight.overview(session, actor, activity, filters)
    return render_template(
        "feedback/staff.html", activity=activity, kind=kind_info(activity.kind), overview=seen,
        filters=filters, states=oversight.STATES, state_labels=oversight.STATE_LABELS,
        waits_for_release=activity.feedback_release is FeedbackRelease.WHEN_RELEASED, notice=_notice(),
    )


@blueprint.get(f"/{ID}/assessments/{ASSESSMENT}")
@permission(may_oversee_feedback)
def assessment_history(activity_id: int, assessment_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = oversight.activity_for_staff(session, actor, activity_id)
    assessment = oversight.assessment_for_staff(session, actor, activity, assessment_id)
    return render_template(
        "feedback/history.html", activity=activity, kind=kind_info(activity.kind), assessment=assessment,
        history=oversight.history(session, actor, assessment), state=oversight.state_of(assessment),
        state_labels=oversight.STATE_LABELS,
        waits_for_release=activity.feedback_release is FeedbackRelease.WHEN_RELEASED, notice=_notice(),
    )


@blueprint.post(f"/{ID}/assessments/{ASSESSMENT}/release")
@permission(may_oversee_feedback)
def release(activity_id: int, assessment_id: int) -> Response:
    session = get_session()
    actor = the_actor()
    activity = oversight.activity_for_staff(session, actor, activity_id)
    services.release(session, actor, oversight.assessment_for_staff(session, actor, activity, assessment_id))
    return _back(activity_id, "released", assessment_id=assessment_id)


@blueprint.post(f"/{ID}/assessments/release-all")
@permission(may_oversee_feedback)
def release_all(activity_id: int) -> Response:
    session = get_session()
    actor = the_actor()
    activity = oversight.activity_for_staff(session, actor, activity_id)
    count = oversight.release_all_submitted(session, actor, activity)
    return _back(activity_id, "released-all", count=count)


@blueprint.post(f"/{ID}/assessments/{ASSESSMENT}/retry-grade")
@permission(may_oversee_feedback)
def retry_grade(activity_id: int, assessment_id: int) -> Response:
    session = get_session()
    actor = the_actor()
    activity = oversight.activity_for_staff(session, actor, activity_id)
    assessment = oversight.assessment_for_staff(session, actor, activity, assessment_id)
    oversight.retry_grade(session, actor, assessment)
    return _back(activity_id, "retried", assessment_id=assessment_id)
