"""Pages: inviting managers (designers, learners), the e-mailed sign-in link and its exchange for a session,
and the invited manager's start page (their course's activities, leading to the same manager pages)."""

from __future__ import annotations

import hmac
import math
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, redirect, render_template, request
from sqlalchemy import select

from lti_tool.db import get_session, utcnow
from lti_tool.form_values import whole_number
from lti_tool.invitations import reminders, services
from lti_tool.lti import session as cadre_session
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import csrf_exempt, launch_url
from lti_tool.models import Activity, Context
from lti_tool.permissions import (
    ACTIVITY_NOT_FOUND,
    FEEDBACK_KINDS,
    PermissionDenied,
    can_configure_activity,
    ensure,
    may_configure_activities,
    may_give_feedback,
    may_invite_managers,
    permission,
    public,
    refuse,
    the_actor,
)
from lti_tool.relationships import services as relationships
from lti_tool.settings import get_settings
from lti_tool.states import Assessors
from lti_tool.web import error_page

blueprint = Blueprint("invitations", __name__, url_prefix="/invitations")
LOG_PATH = "/invitations/sign-in/[token]"
FOREIGN_FORM = "This form was sent from another website, so Cadre refused it. Use the link in your e-mail."
INVITATION = "<int(max=2147483647):invitation_id>"
ACTIVITY = "<int(max=2147483647):activity_id>"


def _form_page(status: int = 200, problems: dict[str, str] | None = None, typed: dict[str, Any] | None = None,
               notice: str | None = None) -> Any:
    session, actor = get_session(), the_actor()
    learners = services.course_learners(session, actor.course_id) if actor.may_edit else []
    activities = list(session.scalars(
        select(Activity).where(Activity.context_id == actor.course_id, Activity.kind.in_(FEEDBACK_KINDS),
                               Activity.assessors != Assessors.LEARNER).order_by(Activity.title)
    )) if actor.may_edit else []
    html = render_template(
        "invitations/manage.html", actor=actor, learners=learners, problems=problems or {},
        activities=activities,
        typed=typed or {"email": "", "name": "", "learners": []}, notice=notice,
        invitations=services.invitations_of_course(session, actor),
        course=services.course_of(session, actor.course_id),
    )
    return html, status


@blueprint.get("/")
@permission(may_invite_managers)
def manage() -> Any:
    return _form_page(notice=request.args.get("notice"))


@blueprint.post("/")
@permission(may_invite_managers)
def invite() -> Any:
    email, name = request.form.get("email", "")[:400], request.form.get("name", "")[:400]
    chosen = [number for value in request.form.getlist("learners")
              if (number := whole_number(value, digits=10)) is not None]
    typed = {"email": email, "name": name, "learners": chosen}
    try:
        services.invite(get_session(), the_actor(), email, name, chosen)
    except services.SendingLimit as error:
        return _too_many(_form_page(429, {error.field: str(error)}, typed), error)
    except services.InvitationError as error:
        return _form_page(400, {error.field: str(error)}, typed)
    return redirect(launch_url("invitations.manage", notice="invited"), code=303)


def _too_many(page: tuple[str, int], limit: services.SendingLimit) -> tuple[str, int, dict[str, str]]:
    """The page refusing one more e-mail, telling clients when to ask again (the page says it to people)."""
    seconds = max(1, math.ceil((limit.retry_at - utcnow()).total_seconds()))
    return (*page, {"Retry-After": str(seconds)})


@blueprint.post(f"/{INVITATION}/revoke")
@permission(may_invite_managers)
def revoke(invitation_id: int) -> Any:
    session = get_session()
    invitation = services.invitation_for(session, the_actor(), invitation_id)
    services.revoke(session, the_actor(), invitation)
    return redirect(launch_url("invitations.manage", notice="revoked"), code=303)


@blueprint.post(f"/{INVITATION}/resend")
@permission(may_invite_managers)
def resend(invitation_id: int) -> Any:
    session = get_session()
    invitation = services.invitation_for(session, the_actor(), invitation_id)
    try:
        services.resend(session, the_actor(), invitation)
    except services.SendingLimit as error:
        return _too_many(_form_page(429, {error.field: str(error)}), error)
    except services.InvitationError as error:
        return _form_page(400, {error.field: str(error)})
    return redirect(launch_url("invitations.manage", notice="resent"), code=303)


# -- reminder schedules (designers) -------------------------------------------------------------------------


def _configurable(activity_id: int) -> Activity:
    activity = get_session().get(Activity, activity_id)
    if activity is None:
        raise PermissionDenied(refuse(404, "Activity not found", ACTIVITY_NOT_FOUND))
    ensure(can_configure_activity(the_actor(), activity))
    return activity


def _schedule_page(activity: Activity, status: int = 200, problems: dict[str, str] | None = None,
                   typed: dict[str, Any] | None = None, notice: str | None = None) -> Any:
    schedule = reminders.schedule_of(get_session(), activity)
    values = typed or {"days_before": str(schedule.days_before), "on_due_day": schedule.on_due_day,
                       "weeks_after": str(schedule.weeks_after)}
    html = render_template("invitations/reminder_schedule.html", activity=activity, values=values,
                           problems=problems or {}, notice=notice,
                           occasions=reminders.occasions(activity, schedule) if not problems else [])
    return html, status


@blueprint.route(f"/activities/{ACTIVITY}/reminders", methods=["GET", "POST"])
@permission(may_configure_activities)
def reminder_schedule(activity_id: int) -> Any:
    """One rule for the page and its form: with two, Werkzeug answers an id past the bound with 405 for
    the second method instead of 404."""
    activity = _configurable(activity_id)
    if request.method == "GET":
        return _schedule_page(activity, notice=request.args.get("notice"))
    typed = {"days_before": request.form.get("days_before", "")[:10], "on_due_day": bool(
        request.form.get("on_due_day")), "weeks_after": request.form.get("weeks_after", "")[:10]}
    try:
        reminders.save_schedule(get_session(), the_actor(), activity, **typed)
    except reminders.ScheduleProblems as error:
        return _schedule_page(activity, 400, error.problems, typed)
    return redirect(launch_url("invitations.reminder_schedule", activity_id=activity.id, notice="saved"),
                    code=303)


# -- the sign-in link -------------------------------------------------------------------------------------


def _no_traces(response: Response) -> Response:
    """The token is in this request's path or body: no cache keeps the page, and no Referer carries it
    to another site. (Not ``no-referrer``: with it, browsers post the page's forms with ``Origin: null``,
    which Cadre must refuse as it would a sandboxed frame on another site.)"""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _refused(check: services.LinkCheck) -> Response:
    assert check.refusal is not None
    status = 404 if check.refusal is services.LinkRefusal.UNKNOWN else 410
    html = render_template("invitations/refused.html", message=services.REFUSALS[check.refusal],
                           refusal=check.refusal.value, may_ask=check.may_ask_for_a_fresh_one)
    return _no_traces(Response(html, status=status))


def _from_another_site() -> bool:
    """A form posted from another origin (``check_csrf``'s rule: these forms carry no CSRF token, since
    there is no session yet; the link's token is their credential)."""
    origin = request.headers.get("Origin")
    public = urlsplit(get_settings().public_url)
    return origin is not None and origin != f"{public.scheme}://{public.netloc}"


@blueprint.get("/sign-in/<token>")
@public("an invited manager's e-mailed sign-in link: the token in the path is the credential")
def sign_in_page(token: str) -> Response:
    """Not spent here (mail scanners follow links): the page posts the token at once, by its script or
    with the button, and its own script drops the token from the address bar and the history."""
    g.cadre_log_path = LOG_PATH
    check = services.check_link(get_session(), token)
    if check.refusal is not None or check.link is None:
        return _refused(check)
    invitation = check.link.invitation
    html = render_template("invitations/sign_in.html", token=token, invitation=invitation,
                           course=invitation.context)
    return _no_traces(Response(html))


@blueprint.post("/sign-in")
@public("exchanges an e-mailed sign-in link for a session; the token in the form is the credential")
@csrf_exempt
def sign_in() -> Response:
    if _from_another_site():
        return _no_traces(error_page(403, "Form from another site", FOREIGN_FORM))
    session = get_session()
    outcome = services.exchange(session, request.form.get("token", "")[:100], get_settings())
    if isinstance(outcome, services.LinkCheck):
        return _refused(outcome)
    cadre_session.start(outcome)
    return _no_traces(redirect(cadre_session.landing_url("invitations.home", outcome), code=303))


@blueprint.post("/fresh-link")
@public("asks for a fresh sign-in link with a spent or expired one; it goes to the invitation's address")
@csrf_exempt
def fresh_link() -> Response:
    if _from_another_site():
        return _no_traces(error_page(403, "Form from another site", FOREIGN_FORM))
    services.ask_for_a_fresh_link(get_session(), request.form.get("token", "")[:100])
    # The same answer whatever the token was: the page tells nothing about links it does not know.
    return _no_traces(Response(render_template("invitations/fresh_sent.html")))


# -- the invited manager's start page ----------------------------------------------------------------------


@blueprint.get("/home")
@permission(may_give_feedback)
def home() -> Any:
    """The course's activities a manager gives feedback in, each leading to the manager's pages."""
    session, actor = get_session(), the_actor()
    activities = list(session.scalars(
        select(Activity).where(Activity.context_id == actor.course_id,
                               Activity.platform_id == actor.platform_id,
                               Activity.kind.in_(FEEDBACK_KINDS), Activity.assessors != Assessors.LEARNER,
                               Activity.configured_at.is_not(None))
        .order_by(Activity.due_at.is_(None), Activity.due_at, Activity.title)
    ))
    nominations = relationships.nominations_for(session, actor.course_id, actor.user_id)
    return render_template("invitations/home.html", activities=activities, kind_info=kind_info,
                           course=services.course_of(session, actor.course_id), actor=actor,
                           nominations=nominations)


# -- reminders' opt-out -------------------------------------------------------------------------------------

reminders_blueprint = Blueprint("reminders", __name__, url_prefix="/reminders")
OPT_OUT = "/opt-out/<int(max=2147483647):user_id>/<int(max=2147483647):context_id>/<signature>"
BAD_OPT_OUT = "This opt-out link is not one Cadre sent, or it was copied incompletely."


def _opt_out_target(user_id: int, context_id: int, signature: str) -> Context | None:
    expected = reminders.opt_out_signature(user_id, context_id, current_app.config["SECRET_KEY"])
    if not hmac.compare_digest(signature.encode()[:64], expected.encode()):
        return None
    return get_session().get(Context, context_id)


@reminders_blueprint.get(OPT_OUT)
@public("the opt-out link of a reminder e-mail: the signature in the path names the manager and course")
def opt_out_page(user_id: int, context_id: int, signature: str) -> Any:
    g.cadre_log_path = "/reminders/opt-out/[link]"
    context = _opt_out_target(user_id, context_id, signature)
    if context is None:
        return error_page(404, "Link not valid", BAD_OPT_OUT)
    done = reminders.opted_out(get_session(), user_id, context_id)
    return _no_traces(Response(render_template("invitations/opt_out.html", course=context, done=done)))


@reminders_blueprint.post(OPT_OUT)
@public("confirms a reminder opt-out (also RFC 8058 one-click from a mail client); signed like the link")
@csrf_exempt
def opt_out(user_id: int, context_id: int, signature: str) -> Any:
    g.cadre_log_path = "/reminders/opt-out/[link]"
    context = _opt_out_target(user_id, context_id, signature)
    if context is None:
        return error_page(404, "Link not valid", BAD_OPT_OUT)
    reminders.opt_out(get_session(), user_id, context_id)
    return _no_traces(Response(render_template("invitations/opt_out.html", course=context, done=True)))


def init_app(app: Any) -> None:
    app.register_blueprint(blueprint)
    app.register_blueprint(reminders_blueprint)
