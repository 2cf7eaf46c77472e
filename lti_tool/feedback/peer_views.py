"""Peer assessment's pages under ``/activities/<id>``: the reviewer's list of peers and the review form
(the feedback form of :mod:`lti_tool.feedback.views`, its drafts, autosave and withdrawal), and the staff's
peers page (settings, assignment runs, pairs added or removed by hand, who reviews whom).

The learner reads the reviews of them on their feedback page (``feedback.my_feedback``), beside their
manager's feedback and their self-assessment.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request

from lti_tool.db import get_session
from lti_tool.feedback import peers, services
from lti_tool.feedback import views as feedback_views
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity, User
from lti_tool.permissions import (
    PEER_KINDS,
    Actor,
    current_actor,
    may_configure_activities,
    may_review_peers,
    permission,
    the_actor,
)
from lti_tool.states import CadreRole
from lti_tool.web import error_page

blueprint = Blueprint("peers", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
LEARNER = "<int(max=2147483647):learner_id>"
PAIR = "<int(max=2147483647):assignment_id>"


@blueprint.errorhandler(services.FeedbackError)
def _refused(error: services.FeedbackError) -> Response:
    if request.path.endswith("/draft"):
        return feedback_views._json_answer({"error": error.message}, error.status)
    return error_page(error.status, error.title, error.message)


# -- the reviewer's pages


def _reviewing(activity_id: int, learner_id: int) -> tuple[Activity, User, Actor]:
    session = get_session()
    actor = the_actor()
    activity = peers.reviewing_activity(session, actor, activity_id)
    if learner_id == actor.user_id:  # their own assessment is the self-assessment, at its own address
        raise services.FeedbackError(peers.SAME_PERSON)
    learner = services.learner_to_assess(session, actor, activity, learner_id)
    return activity, learner, actor


@blueprint.get(f"/{ID}/peer-reviews")
@permission(may_review_peers)
def my_reviews(activity_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    activity = peers.reviewing_activity(session, actor, activity_id)
    services.ensure_set_up(activity)
    return render_template(
        "feedback/peer_reviews.html",
        activity=activity,
        kind=kind_info(activity.kind),
        reviews=peers.my_reviews(session, actor, activity),
        anonymous=peers.is_anonymous(session, activity),
        notice=request.args.get("notice"),
    )


@blueprint.get(f"/{ID}/peer-reviews/{LEARNER}/feedback")
@permission(may_review_peers)
def review_form(activity_id: int, learner_id: int) -> Any:
    return feedback_views._show_form(*_reviewing(activity_id, learner_id))


@blueprint.post(f"/{ID}/peer-reviews/{LEARNER}/feedback")
@permission(may_review_peers)
def save_review(activity_id: int, learner_id: int) -> Any:
    activity, learner, actor = _reviewing(activity_id, learner_id)
    return feedback_views._post_form(
        activity, learner, actor, launch_url("peers.my_reviews", activity_id=activity.id, notice="submitted")
    )


@blueprint.post(f"/{ID}/peer-reviews/{LEARNER}/feedback/draft")
@permission(may_review_peers)
def review_draft(activity_id: int, learner_id: int) -> Response:
    return feedback_views._autosave(*_reviewing(activity_id, learner_id))


@blueprint.post(f"/{ID}/peer-reviews/{LEARNER}/feedback/withdraw")
@permission(may_review_peers)
def withdraw_review(activity_id: int, learner_id: int) -> Any:
    activity, learner, actor = _reviewing(activity_id, learner_id)
    assessment = services.find_assessment(get_session(), activity, learner, actor.user_id)
    if assessment is None:
        raise services.FeedbackError("There is no submitted review of this peer to withdraw.")
    services.withdraw(get_session(), actor, assessment, request.form.get("reason", ""))
    return redirect(
        launch_url("peers.review_form", activity_id=activity.id, learner_id=learner.id, notice="withdrawn"),
        code=303,
    )


# -- the staff's page


def _staff_page(
    activity: Activity,
    *,
    status: int = 200,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Any:
    session = get_session()
    actor = the_actor()
    settings = peers.settings_of(session, activity)
    values = typed or {
        "reviews_per_learner": str(settings.reviews_per_learner),
        "scope": settings.scope.value,
        "anonymous": "1" if settings.anonymous else "",
    }
    return render_template(
        "feedback/peers_staff.html",
        activity=activity,
        kind=kind_info(activity.kind),
        overview=peers.overview(session, actor, activity),
        settings=settings,
        values=values,
        problems=problems or {},
        scopes=peers.SCOPE_LABELS,
        notice=request.args.get("notice"),
        max_reviews=peers.MAX_REVIEWS,
    ), status


def _managed(activity_id: int) -> Activity:
    return peers.managed_activity(get_session(), the_actor(), activity_id)


@blueprint.get(f"/{ID}/peers")
@permission(may_configure_activities)
def staff(activity_id: int) -> Any:
    return _staff_page(_managed(activity_id))


@blueprint.post(f"/{ID}/peers/settings")
@permission(may_configure_activities)
def save_settings(activity_id: int) -> Any:
    activity = _managed(activity_id)
    typed = {name: str(request.form.get(name, "")) for name in ("reviews_per_learner", "scope", "anonymous")}
    try:
        peers.save_settings(get_session(), the_actor(), activity, typed)
    except peers.PeerProblems as refused:
        return _staff_page(activity, status=400, problems=refused.problems, typed=typed)
    return redirect(launch_url("peers.staff", activity_id=activity.id, notice="settings-saved"), code=303)


@blueprint.post(f"/{ID}/peers/assign")
@permission(may_configure_activities)
def assign(activity_id: int) -> Any:
    activity = _managed(activity_id)
    result = peers.run_assignment(get_session(), the_actor(), activity)
    notice = "drawn" if result.first_run else "newcomers"
    return redirect(
        launch_url(
            "peers.staff", activity_id=activity.id, notice=notice, added=result.added, short=result.short
        ),
        code=303,
    )


@blueprint.post(f"/{ID}/peers/pairs")
@permission(may_configure_activities)
def add_pair(activity_id: int) -> Any:
    activity = _managed(activity_id)
    typed = {name: str(request.form.get(name, "")) for name in ("reviewer_id", "reviewee_id")}
    try:
        peers.add_pair(get_session(), the_actor(), activity, typed)
    except peers.PeerProblems as refused:
        return _staff_page(activity, status=400, problems=refused.problems)
    return redirect(launch_url("peers.staff", activity_id=activity.id, notice="pair-added"), code=303)


@blueprint.post(f"/{ID}/peers/pairs/{PAIR}/remove")
@permission(may_configure_activities)
def remove_pair(activity_id: int, assignment_id: int) -> Any:
    activity = _managed(activity_id)
    try:
        peers.remove_pair(get_session(), the_actor(), activity, assignment_id)
    except peers.PeerProblems as refused:
        return _staff_page(
            activity,
            status=404 if refused.problems.get("pair") == peers.PAIR_NOT_FOUND else 409,
            problems=refused.problems,
        )
    return redirect(launch_url("peers.staff", activity_id=activity.id, notice="pair-removed"), code=303)


@blueprint.post(f"/{ID}/peers/clear")
@permission(may_configure_activities)
def clear(activity_id: int) -> Any:
    activity = _managed(activity_id)
    peers.clear_pairs(get_session(), the_actor(), activity)
    return redirect(launch_url("peers.staff", activity_id=activity.id, notice="cleared"), code=303)


def reviews_peers(activity: Activity) -> bool:
    """For the landing page: whether the person reviews peers in this activity (a learner)."""
    actor = current_actor()
    return actor is not None and activity.kind in PEER_KINDS and actor.role is CadreRole.LEARNER


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.add_template_global(reviews_peers, "reviews_peers")
