"""The platform's HTTP side: JWKS, OIDC authorization, deep-linking return, OAuth 2 token, NRPS/AGS, and
(for ``cadre demo``) the course pages that launch Cadre in an iframe.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, jsonify, render_template, request, url_for
from jinja2 import DictLoader

from lti_tool.demo import pages
from lti_tool.demo.platform import (
    DEEP_LINKING_REQUEST,
    LIS_ROLES_FOR,
    Activity,
    LaunchRequest,
    LmsUser,
    LtiPlatform,
    PlatformError,
)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"


def create_platform_app(
    platform: LtiPlatform,
    *,
    with_course_pages: bool = True,
    storage_target: str | None = "_parent",
    storage_responder: bool = True,
) -> Flask:
    """A Flask app serving ``platform``. ``with_course_pages`` adds the demo LMS's pages.

    On those pages, the launch page answers the tool frame's LTI Platform Storage messages
    (``storage_responder``) and its login initiation offers them with ``lti_storage_target``
    (``storage_target``; None sends none, as Moodle does).
    """
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_urlsafe(32)
    # Cookies ignore ports: on 127.0.0.1 the LMS and Cadre share a cookie jar, so never reuse its names.
    app.config["SESSION_COOKIE_NAME"] = "demo_lms_session"
    app.extensions["lti_platform"] = platform
    app.jinja_loader = DictLoader(pages.TEMPLATES)  # type: ignore[assignment]

    @app.errorhandler(PlatformError)
    def _refused(error: PlatformError) -> tuple[str, int]:
        return render_template("error.html", style=pages.STYLE, message=error.message), error.status

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(platform.jwks())

    @app.route("/auth", methods=["GET", "POST"])
    def authorize() -> str:
        params = request.values.to_dict()
        issued = platform.authorize(params)
        return render_template(
            "auto_submit.html",
            title="Launching",
            action=issued.redirect_uri,
            fields={"id_token": issued.id_token, "state": issued.state},
        )

    @app.post("/deep-link-return")
    def deep_link_return() -> str:
        token = request.form.get("JWT", "")
        if not token:
            raise PlatformError("The deep-linking response has no JWT field.")
        received = platform.verify_deep_link_response(token)
        titles = [str(item.get("title") or "Cadre activity") for item in received.content_items]
        added = platform.course.activities[-1].resource_link_id if received.content_items else None
        course_url = url_for("demo_course", added=added) if with_course_pages else platform.url("/")
        return render_template(
            "deep_link_done.html", style=pages.STYLE, titles=titles or ["nothing"], course_url=course_url
        )

    @app.post("/token")
    def token() -> tuple[Response, int]:
        try:
            access = platform.issue_access_token(request.form.to_dict())
        except PlatformError as error:
            return jsonify(error=error.oauth_error, error_description=error.message), error.status
        return jsonify(
            access_token=access.token,
            token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
            expires_in=3600,
            scope=" ".join(access.scopes),
        ), 200

    @app.get("/api/contexts/<context_id>/memberships")
    def memberships(context_id: str) -> Response:
        platform.check_access_token(request.headers.get("Authorization", ""), SCOPE_NRPS)
        course = platform.course
        if context_id != course.context_id:
            abort(404)
        people = course.people
        canvas = platform.profile.product_family_code == "canvas"
        page_size = platform.nrps_page_size or len(people) or 1
        base = platform.url(f"/api/contexts/{context_id}/memberships")
        if canvas:
            # Canvas pages with ``page`` and ``per_page`` and names current, next, first and last pages.
            limit = max(request.args.get("per_page", type=int) or page_size, 1)
            page = max(request.args.get("page", 1, type=int), 1)
            start = (page - 1) * limit
            last = max(-(-len(people) // limit), 1)
            rels = {"current": page, "next": page + 1 if page < last else None, "first": 1, "last": last}
            links = [f'<{base}?page={number}&per_page={limit}>; rel="{rel}"'
                     for rel, number in rels.items() if number is not None]
        else:
            # Moodle pages with ``limit`` and ``from`` and names only the next page.
            limit = max(request.args.get("limit", type=int) or page_size, 1)
            start = max(request.args.get("from", 0, type=int), 0)
            links = [f'<{base}?limit={limit}&from={start + limit}>; rel="next"'] \
                if start + limit < len(people) else []
        members = [_member(platform, person, canvas=canvas) for person in people[start:start + limit]]
        response = jsonify(
            id=request.url,
            context={"id": course.context_id, "label": course.label, "title": course.title},
            members=members,
        )
        response.mimetype = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
        if links:
            response.headers["Link"] = ",".join(links)
        return response

    @app.route("/api/contexts/<context_id>/lineitems", methods=["GET", "POST"])
    def line_items(context_id: str) -> tuple[Response, int]:
        platform.check_access_token(request.headers.get("Authorization", ""), SCOPE_LINEITEM)
        if request.method == "GET":
            return jsonify(platform.line_items), 200
        item = dict(request.get_json(force=True) or {})
        item["id"] = platform.url(f"/api/contexts/{context_id}/lineitems/{len(platform.line_items) + 1}")
        platform.line_items.append(item)
        return jsonify(item), 201

    @app.route("/api/contexts/<context_id>/lineitems/<int:number>", methods=["GET", "PUT"])
    def line_item(context_id: str, number: int) -> tuple[Response, int]:
        platform.check_access_token(request.headers.get("Authorization", ""), SCOPE_LINEITEM)
        if not 1 <= number <= len(platform.line_items):
            abort(404)
        item = platform.line_items[number - 1]
        if request.method == "PUT":
            changes = dict(request.get_json(force=True) or {})
            changes.pop("id", None)  # a line item keeps its id
            item.update(changes)
        response = jsonify(item)
        response.mimetype = "application/vnd.ims.lis.v2.lineitem+json"
        return response, 200

    @app.post("/api/contexts/<context_id>/lineitems/<int:number>/scores")
    def scores(context_id: str, number: int) -> tuple[str, int]:
        platform.check_access_token(request.headers.get("Authorization", ""), SCOPE_SCORE)
        platform.scores.append({"lineitem": number, **(request.get_json(force=True) or {})})
        return "", 204

    if with_course_pages:
        _add_course_pages(app, platform, storage_target=storage_target, storage_responder=storage_responder)
    return app


def _member(platform: LtiPlatform, person: LmsUser, *, canvas: bool = False) -> dict[str, Any]:
    member: dict[str, Any] = {
        "status": "Active",
        "user_id": person.sub,
        "roles": list(LIS_ROLES_FOR[person.role]),
    }
    member.update(person.identity_claims())
    # The login roster CSVs may name people by: Moodle's username, Canvas's login id in the member's message.
    if canvas:
        member["message"] = [{
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
            "https://www.instructure.com/canvas_user_login_id": person.sub,
        }]
    else:
        member["ext_user_username"] = person.sub
    return member


def _add_course_pages(
    app: Flask, platform: LtiPlatform, *, storage_target: str | None, storage_responder: bool
) -> None:
    course = platform.course

    def render_page(page_title: str, template: str, **context: Any) -> str:
        return render_template(
            template,
            page_title=page_title,
            platform_name=platform.profile.name,
            style=pages.STYLE,
            home_url=url_for("demo_course"),
            course=course,
            role_labels=pages.ROLE_LABELS,
            **context,
        )

    def mentee_names(person: LmsUser) -> str:
        return ", ".join(course.person(sub).label for sub in person.mentees)

    @app.get("/gradebook", endpoint="demo_gradebook")
    def gradebook_page() -> str:
        """What an LMS gradebook would show of Cadre's scores: a column per line item."""
        names = {person.sub: person.label for person in course.people}
        columns = []
        for number, item in enumerate(list(platform.line_items), start=1):
            received = [score for score in platform.scores if score.get("lineitem") == number]
            columns.append({
                "label": item.get("label") or "Cadre activity",
                "maximum": item.get("scoreMaximum"),
                "scores": [{
                    "user": score.get("userId"), "name": names.get(score.get("userId"), score.get("userId")),
                    "given": score.get("scoreGiven"), "maximum": score.get("scoreMaximum"),
                    "progress": f"{score.get('activityProgress')} · {score.get('gradingProgress')}",
                    "timestamp": score.get("timestamp"), "comment": score.get("comment") or "",
                } for score in reversed(received)],
            })
        return render_page("Gradebook", "gradebook.html", columns=columns, heading="gradebook")

    @app.get("/", endpoint="demo_course")
    def course_page() -> str:
        activity = _chosen_activity(platform, request.args.get("activity"))
        added_id = request.args.get("added")
        added = next((a for a in course.activities if a.resource_link_id == added_id), None)
        designer = next((p for p in course.people if p.role == "designer"), None)
        return render_page(
            course.title,
            "course.html",
            activity=activity,
            added=added,
            designer=designer,
            mentee_names=mentee_names,
        )

    @app.get("/launch", endpoint="demo_launch")
    def launch_page() -> str:
        person = _person(platform, request.args.get("user", ""))
        activity = _chosen_activity(platform, request.args.get("activity"))
        if activity is None:
            abort(404)
        launch = platform.prepare_launch(person, activity=activity)
        return render_page(
            activity.title,
            "frame.html",
            person=person,
            heading=activity.title,
            start_url=url_for("demo_login_initiation", hint=launch.message_hint),
            tool_origin=_tool_origin(launch) if storage_responder else None,
        )

    @app.get("/deep-link", endpoint="demo_deep_link")
    def deep_link_page() -> str:
        person = _person(platform, request.args.get("user", ""))
        launch = platform.prepare_launch(person, message_type=DEEP_LINKING_REQUEST)
        return render_page(
            "Add a Cadre activity",
            "frame.html",
            person=person,
            heading="Add a Cadre activity",
            start_url=url_for("demo_login_initiation", hint=launch.message_hint),
            tool_origin=_tool_origin(launch) if storage_responder else None,
        )

    @app.get("/login-initiation", endpoint="demo_login_initiation")
    def login_initiation() -> str:
        """Third-party initiated login, posted from the frame as Moodle and Canvas do."""
        launch = platform.pending_launch(request.args.get("hint", ""))
        if launch is None:
            raise PlatformError("This launch link has expired: start again from the course page.", 404)
        action, fields = platform.login_initiation(launch, storage_target=storage_target)
        return render_template("auto_submit.html", title="Opening Cadre", action=action, fields=fields)


def _tool_origin(launch: LaunchRequest) -> str:
    """The origin the tool frame's Platform Storage messages come from (and answers go to)."""
    parts = urlsplit(launch.registration.tool.base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _person(platform: LtiPlatform, sub: str) -> LmsUser:
    try:
        return platform.course.person(sub)
    except KeyError:
        abort(404)


def _chosen_activity(platform: LtiPlatform, resource_link_id: str | None) -> Activity | None:
    activities = platform.course.activities
    if resource_link_id:
        return next((a for a in activities if a.resource_link_id == resource_link_id), None)
    return activities[0] if activities else None
