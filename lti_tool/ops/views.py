"""Health check, the Canvas developer-key JSON and LTI Dynamic Registration."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from sqlalchemy import text

from lti_tool import outbound, security
from lti_tool.db import get_engine, get_session, rollback
from lti_tool.migrate import pending_revisions
from lti_tool.ops import dynamic_registration, invitations
from lti_tool.ops.tool_configuration import ToolUrls, canvas_developer_key, dynamic_registration_request
from lti_tool.permissions import public
from lti_tool.settings import get_settings

blueprint = Blueprint("ops", __name__)
# The LTI blueprint (lti_tool.lti.views) owns /lti/login, /lti/launch and /lti/jwks; these two pages are for
# administrators setting up a platform, so they live with operations under the same prefix.
lti_setup_blueprint = Blueprint("ops_lti", __name__, url_prefix="/lti")
log = logging.getLogger("cadre.registration")


@blueprint.get("/healthz")
@public("for load balancers and monitoring; it tells nothing but up or down")
def healthz():  # type: ignore[no-untyped-def]
    try:
        get_session().execute(text("SELECT 1"))
        pending = pending_revisions(get_engine())
    except Exception as error:  # noqa: BLE001 - report any database failure as unhealthy
        return jsonify(status="error", database="unreachable", error=type(error).__name__), 503
    if pending:
        return jsonify(
            status="error", database="ok", pending_migrations=pending, hint="run `cadre db upgrade`"
        ), 503
    return jsonify(status="ok", database="ok", pending_migrations=[])


@lti_setup_blueprint.get("/config/canvas.json")
@public("the developer-key JSON an administrator pastes into Canvas")
def canvas_configuration() -> Response:
    return jsonify(canvas_developer_key(get_settings()))


@lti_setup_blueprint.get("/register")
@public("LTI Dynamic Registration; the invitation (CADRE_DYNAMIC_REGISTRATION) decides")
def register() -> tuple[str, int]:
    settings = get_settings()
    if settings.dynamic_registration == "off":
        return _registration_failed(
            "Dynamic registration is turned off on this Cadre (CADRE_DYNAMIC_REGISTRATION=off). "
            "Register the platform by hand: see `cadre platform config`.",
            404,
        )
    configuration_url = request.args.get("openid_configuration", "").strip()
    if not configuration_url:
        return _registration_failed(
            "This address starts LTI Dynamic Registration: paste it into your platform "
            "(Moodle: Site administration > Plugins > Activity modules > External tool > Manage tools > "
            "Tool URL) rather than opening it directly. It expects an openid_configuration parameter.",
            400,
        )
    # The platform shows this page in its own frame (Moodle: a dialog) before it is registered, so the
    # frame-ancestors of the registered platforms do not name it yet; the page holds no form or token.
    security.allow_frame_ancestor(configuration_url)
    session = get_session()
    invite_age = timedelta(hours=settings.registration_invite_hours)
    invite_id = None
    if settings.dynamic_registration == "invite":
        try:
            invite_id = invitations.check(
                session, current_app.config["SECRET_KEY"], request.args.get("invite", ""), invite_age
            )
        except invitations.InvitationRefused as refusal:
            log.warning("dynamic registration refused: %s", refusal.message)
            return _registration_failed(refusal.message, 403)
    try:
        # The invitation was only read: register() ends that transaction before calling the platform and
        # stores its answer in a new one, which this request commits (or rolls back) as any other.
        registered = dynamic_registration.register(
            session,
            outbound.client(),
            configuration_url=configuration_url,
            registration_token=request.args.get("registration_token") or None,
            tool_registration=dynamic_registration_request(settings),
        )
        if invite_id is not None:
            invitations.claim(session, invite_id, invite_age)
    except invitations.InvitationRefused as refusal:
        rollback(session)  # a lost race on the invitation fails a flush: nothing of this registration stays
        log.warning("dynamic registration refused: %s", refusal.message)
        return _registration_failed(refusal.message, 403)
    except dynamic_registration.RegistrationFailed as failure:
        # The message names URLs without their query; the platform's own words (failure.shown) may echo
        # its registration token, so they go to the page only.
        log.warning(
            "dynamic registration failed: %s", failure.message, extra={"fields": {"status": failure.status}}
        )
        return _registration_failed(failure.shown, failure.status)
    return render_template(
        "ops/registration_complete.html",
        tool_name=settings.tool_name,
        platform=registered.platform,
        deployment_id=registered.deployment_id,
    ), 200


def _registration_failed(message: str, status: int) -> tuple[str, int]:
    settings = get_settings()
    return render_template(
        "ops/registration_failed.html",
        tool_name=settings.tool_name,
        message=message,
        registration_url=ToolUrls.from_settings(settings).dynamic_registration,
    ), status
