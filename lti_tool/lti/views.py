"""LTI endpoints (``/lti/login``, ``/lti/launch``, ``/lti/jwks``, ``/lti/deep-link``) and the landing page.

Every refused login or launch answers with the status and message of :mod:`lti_tool.lti.errors`, writes
exactly one ``cadre.lti`` log line (reason, issuer, client_id — never the token) and stores nothing: the
request's session is rolled back before the error page is rendered.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti_tool import security
from lti_tool.db import get_session, rollback, rollback_only
from lti_tool.deliverables import services as activities
from lti_tool.deliverables.forms import parse_points
from lti_tool.lti import errors
from lti_tool.lti import session as cadre_session
from lti_tool.lti.activity_kinds import (
    ACTIVITY_KINDS,
    ACTIVITY_PARAMETER,
    CUSTOM_PARAMETER,
    activity_kind,
    kind_info,
)
from lti_tool.lti.errors import LaunchRejected
from lti_tool.lti.launch import (
    CLAIM_CUSTOM,
    CLAIM_DEEP_LINKING_SETTINGS,
    CLAIM_RESOURCE_LINK,
    DEEP_LINKING_REQUEST,
    STORAGE_SECRET_FIELD,
    CadreMessageLaunch,
    PlatformStorageNeeded,
)
from lti_tool.lti.oidc import LOGIN_PARAMS, CadreCookieService, CadreOIDCLogin, login_request
from lti_tool.lti.provisioning import record_launch
from lti_tool.lti.registration import DatabaseToolConf, PlatformKeys, PlatformKeysStale
from lti_tool.lti.session import current_launch
from lti_tool.lti.storage import ExpiredRowsPurge
from lti_tool.models import CadreRole, User
from lti_tool.permissions import (
    can_configure_activity,
    has_launched,
    may_place_activities,
    permission,
    public,
    the_actor,
)
from lti_tool.records import events as learning_records
from lti_tool.relationships import services as manager_links
from lti_tool.settings import get_settings
from lti_tool.web import error_page
from lti_tool.web.markdown import render_markdown
from rubrics.exact_numbers import json_number

log = logging.getLogger("cadre.lti")

blueprint = Blueprint("lti", __name__, url_prefix="/lti")
pages = Blueprint("pages", __name__)

JWKS_MAX_AGE_SECONDS = 300
TITLE_MAX_LENGTH = 255


def _tool_conf() -> DatabaseToolConf:
    return DatabaseToolConf(get_session(), get_settings())


def _rejected(error: LaunchRejected, stage: str) -> Response:
    log.warning(
        "%s rejected: %s", stage, error.reason,
        extra={"fields": {"stage": stage, "reason": error.reason, "status": error.status,
                          "issuer": error.issuer, "client_id": error.client_id,
                          "deployment_id": error.details.get("deployment_id")}},
    )
    return error_page(error.status, error.rejection.title, error.message, error.action,
                             new_tab_url=error.details.get("new_tab_url"))


@blueprint.route("/login", methods=["GET", "POST"])
@public("the platform starts every launch here; the OIDC checks decide")
def login() -> Any:
    """OIDC third-party initiated login: remember state + nonce, send the browser to the platform."""
    params = {key: value for key in LOGIN_PARAMS if (value := request.values.get(key))}
    if request.values.get("lti1p3_new_window"):
        params["lti1p3_new_window"] = "1"
    session = get_session()
    oidc = CadreOIDCLogin(login_request(params), _tool_conf(), session, get_settings())
    try:
        response = oidc.redirect(get_settings().url(url_for("lti.launch")))
    except LaunchRejected as error:
        return _rejected(error, "login")
    current_app.extensions["cadre.expired_lti_rows"].run_if_due(session)
    return response


@blueprint.post("/launch")
@public("the platform posts the id_token here; its validation decides")
def launch() -> Any:
    """The platform posts the id_token here; a valid launch starts Cadre's session and moves on."""
    session = get_session()
    settings = get_settings()
    platform_keys = PlatformKeys(current_app.extensions["cadre.sessionmaker"], settings)
    message_launch = CadreMessageLaunch(login_request(request.form.to_dict()), _tool_conf(), session,
                                        settings, platform_keys)
    try:
        try:
            message_launch.validate()
        except PlatformKeysStale as stale:
            # The platform's keys are out of date and the launch has already written: undo that, fetch the
            # keys with no transaction open (lti_tool.outbound), and validate again from the start.
            rollback(session)
            platform_keys.refresh(stale.platform_id)
            message_launch = CadreMessageLaunch(login_request(request.form.to_dict()), _tool_conf(), session,
                                                settings, platform_keys)
            message_launch.validate()
    except LaunchRejected as error:
        return _rejected(error, "launch")
    except PlatformStorageNeeded as needed:
        return _platform_storage_launch(needed)
    assert message_launch.validated is not None
    recorded = record_launch(session, message_launch.validated, settings)
    launch_row = recorded.row
    cadre_session.start(launch_row)  # before anything flushes: the row is inserted with its browser binding
    learning_records.launched(session, launch_row, recorded.activity_id)
    endpoint = "lti.deep_link" if launch_row.message_type == DEEP_LINKING_REQUEST else "pages.home"
    # The token rides in the fragment, which no server, proxy log or Referer sees (lti_tool.lti.session).
    response = redirect(cadre_session.landing_url(endpoint, launch_row), code=303)
    CadreCookieService.forget_state(response, request.form["state"])
    return response


def _platform_storage_launch(needed: PlatformStorageNeeded) -> Response:
    """No state cookie, but the login stored a secret in the platform's window: a page that fetches it
    (``lti.get_data``) and posts the launch again with it. Nothing was consumed or stored."""
    rollback_only()
    blocked = errors.REJECTIONS["cookies_blocked"]
    html = render_template(
        "lti/storage_launch.html",
        launch_url=url_for("lti.launch"),
        id_token=needed.id_token,
        state=needed.state,
        secret_field=STORAGE_SECRET_FIELD,
        message_id=secrets.token_urlsafe(12),
        blocked_title=blocked.title,
        blocked_message=errors.rejection_message("cookies_blocked"),
        blocked_action=errors.rejection_action("cookies_blocked"),
        new_tab_url=needed.new_tab_url,
        **needed.storage.page_context(needed.state),
    )
    response = make_response(html, 200)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/jwks")
@public("Cadre's public keys, for platforms")
def jwks() -> Response:
    """Cadre's public keys, for platforms to verify deep-linking responses and service assertions."""
    key_set = _tool_conf().get_jwks()  # the first request makes the first key
    response = jsonify(key_set)
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE_SECONDS}"
    return response


@blueprint.get("/deep-link")
@permission(may_place_activities)
def deep_link() -> Any:
    """The designer chooses the kind of activity to place in the course."""
    return _deep_link_form()


def _deep_link_form(status: int = 200, problem: str | None = None, chosen: str | None = None,
                    title: str = "", points: str = "") -> Any:
    launch = current_launch()
    assert launch is not None
    settings_claim = launch.claims.get(CLAIM_DEEP_LINKING_SETTINGS, {})
    html = render_template("lti/deep_link.html", launch=launch, kinds=ACTIVITY_KINDS, problem=problem,
                           chosen=chosen, title=title, title_max_length=TITLE_MAX_LENGTH,
                           suggested_title=settings_claim.get("title") or "", points=points,
                           accepts_line_item=_accepts_line_item(launch.claims))
    return html, status


def _accepts_line_item(claims: dict[str, Any]) -> bool:
    """Whether the platform takes a line item with the content item (LTI Deep Linking 2.0
    ``accept_lineitem``; a platform that does not say is assumed to, as Moodle and Canvas do)."""
    settings_claim = claims.get(CLAIM_DEEP_LINKING_SETTINGS) or {}
    return settings_claim.get("accept_lineitem", True) is not False


@blueprint.post("/deep-link")
@permission(may_place_activities)
def deep_link_submit() -> Any:
    """Answer the platform with a signed LtiDeepLinkingResponse carrying one ltiResourceLink."""
    kind = activity_kind(request.form.get("kind"))
    title = (request.form.get("title") or "").strip()
    points_text = request.form.get("points", "")
    points, points_problem = parse_points(points_text)
    problem = None
    if kind is None:
        problem = errors.DEEP_LINK_UNKNOWN_KIND
    elif not title:
        problem = errors.DEEP_LINK_EMPTY_TITLE
    elif len(title) > TITLE_MAX_LENGTH:
        problem = errors.DEEP_LINK_TITLE_TOO_LONG.format(max_length=TITLE_MAX_LENGTH)
    elif points_problem:
        problem = points_problem
    if problem is not None:
        return _deep_link_form(400, problem, request.form.get("kind"), title, points_text[:20])
    assert kind is not None
    launch = current_launch()
    assert launch is not None
    session = get_session()
    if not _accepts_line_item(launch.claims):
        points = None
    activity = activities.create_activity(session, the_actor(), kind.kind, title, points_possible=points)
    message_launch = CadreMessageLaunch.restore(launch, _tool_conf(), session, get_settings())
    deep_link = message_launch.get_deep_link()
    resource = (
        DeepLinkResource()
        .set_url(get_settings().url(url_for("lti.launch")))
        .set_title(title)
        .set_custom_params({CUSTOM_PARAMETER: kind.key, ACTIVITY_PARAMETER: activity.public_id})
    )
    if points is not None:
        resource.set_lineitem(
            LineItem().set_score_maximum(json_number(points)).set_label(title)
            .set_resource_id(activity.public_id).set_tag(kind.key)
        )
    response_jwt = deep_link.get_response_jwt([resource])  # signing may make Cadre's first key
    return_url = launch.claims[CLAIM_DEEP_LINKING_SETTINGS]["deep_link_return_url"]
    security.allow_form_action(return_url)  # validated as an http(s) URL with the launch
    return render_template("lti/deep_link_return.html", return_url=return_url, jwt=response_jwt,
                           kind=kind, title=title)


@pages.get("/home")
@permission(has_launched)
def home() -> Any:
    """Where a resource-link launch lands: who you are here, in which course and activity."""
    launch = current_launch()
    assert launch is not None
    session = get_session()
    custom = launch.claims.get(CLAIM_CUSTOM) or {}
    kind = activity_kind(custom.get(CUSTOM_PARAMETER)) if isinstance(custom, dict) else None
    activity_title = (launch.resource_link.title if launch.resource_link else None) or (
        launch.claims.get(CLAIM_RESOURCE_LINK) or {}
    ).get("title")
    activity = activities.activity_of_launch(session, launch)
    may_configure = False
    if activity is not None:
        kind = kind_info(activity.kind)
        activity_title = activity.title
        may_configure = bool(can_configure_activity(the_actor(), activity))
    # Only the list the page shows for this role: a manager's people, a learner's managers.
    role = CadreRole(launch.role)
    learners: list[User] = []
    managers: list[User] = []
    # A learner may manage people too: Moodle's managers launch as learners (no mentor role).
    if launch.context_id is not None and role is CadreRole.LEARNER:
        learners, managers = manager_links.people_linked_to(session, launch.context_id, launch.user_id)
    elif launch.context_id is not None and role is CadreRole.MANAGER:
        learners = manager_links.learners_of(session, launch.context_id, launch.user_id)
    return render_template("home.html", launch=launch, user=launch.user, context=launch.context,
                           role=role, kind=kind, activity_title=activity_title,
                           learners=learners, managers=managers, activity=activity,
                           may_configure=may_configure,
                           instructions=render_markdown(activity.instructions if activity else ""),
                           briefing=render_markdown(activity.manager_briefing if activity else ""))


@pages.get("/")
@public("what Cadre is, for someone who opened it outside a course")
def index() -> Any:
    """Opened outside a course: say what Cadre is and where to start."""
    if current_launch() is not None:
        return redirect(cadre_session.launch_url("pages.home"))
    return render_template("index.html")


def init_app(app: Flask) -> None:
    app.extensions["cadre.expired_lti_rows"] = ExpiredRowsPurge()
    cadre_session.init_app(app)
    app.register_blueprint(blueprint)
    app.register_blueprint(pages)
