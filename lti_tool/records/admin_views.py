"""The records admin pages, for administrators under a launch (``may_administer_records``), about their own
platform: the backlog per LRS, dead letters with the LRS's reasons and a retry, recent statements with
filters, the export as a streamed download, the API tokens of the platform, and erasing a person.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
)

from lti_tool.db import get_session, session_scope
from lti_tool.form_values import whole_number
from lti_tool.lti.session import launch_url
from lti_tool.models import Platform
from lti_tool.ops import audit
from lti_tool.permissions import may_administer_records, permission, the_actor
from lti_tool.records import erasure, export, overview, tokens

blueprint = Blueprint("records_admin", __name__, url_prefix="/records/admin")
MAX_FIELD = 400
NOTICES = {
    "retried": "The dead letters are due again: the delivery worker sends them at its next round.",
    "none-retried": "There was no dead letter to retry.",
    "revoked": "The token is revoked: its next request is refused.",
}


def _platform() -> Platform:
    platform = get_session().get(Platform, the_actor().platform_id)
    assert platform is not None
    return platform


def _field(name: str, source: Any = None) -> str:
    return ((source or request.form).get(name) or "").strip()[:MAX_FIELD]


# -- overview -----------------------------------------------------------------------------------------------


@blueprint.get("/")
@permission(may_administer_records)
def records() -> Any:
    return _overview_page()


def _overview_page(status: int = 200, problems: dict[str, str] | None = None,
                   typed: dict[str, str] | None = None) -> Any:
    session, actor = get_session(), the_actor()
    filters = overview.StatementFilters(verb=_field("verb", request.args),
                                        course=_field("course", request.args),
                                        person=_field("person", request.args))
    return render_template(
        "records/admin.html", platform=_platform(), backlogs=overview.backlogs(session, actor.platform_id),
        dead_letters=overview.dead_letters(session, actor.platform_id), filters=filters,
        statements=overview.recent_statements(session, actor.platform_id, filters),
        verbs=overview.verb_choices(), formats=[choice.value for choice in export.ExportFormat],
        notice=NOTICES.get(request.args.get("notice", "")), problems=problems or {},
        typed=typed or {"format": "ndjson", "since": "", "until": "", "course": ""},
    ), status


@blueprint.post("/dead-letters/retry")
@permission(may_administer_records)
def retry_dead_letters() -> Any:
    actor = the_actor()
    chosen = None if request.form.get("all") else [
        number for value in request.form.getlist("delivery")
        if (number := whole_number(value, digits=18)) is not None]
    retried = overview.retry_dead_letters(get_session(), actor.platform_id, chosen)
    if retried:
        audit.record(get_session(), "lrs.retry_dead", actor.audit_label, platform_id=actor.platform_id,
                     deliveries=chosen or "all", count=retried)
    return redirect(launch_url("records_admin.records", notice="retried" if retried else "none-retried"),
                    code=303)


# -- export --------------------------------------------------------------------------------------------------


def _moment(text: str) -> datetime:
    """A time from the form: ``datetime-local`` gives no zone, and the page says it is UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@blueprint.post("/export")
@permission(may_administer_records)
def export_statements() -> Any:
    typed = {name: _field(name) for name in ("format", "since", "until", "course")}
    problems: dict[str, str] = {}
    if typed["format"] not in {choice.value for choice in export.ExportFormat}:
        problems["format"] = "Choose NDJSON or CSV."
    moments: dict[str, datetime | None] = {}
    for name in ("since", "until"):
        try:
            moments[name] = _moment(typed[name]) if typed[name] else None
        except (ValueError, OverflowError):  # OverflowError: 0001-01-01T00:00+01:00 is out of range
            problems[name] = "Give a date and time such as 2026-12-01T09:30."
    if not problems and moments["since"] and moments["until"] and moments["since"] >= moments["until"]:
        problems["until"] = "The end must come after the start."
    if problems:
        return _overview_page(400, problems, typed)
    chosen_format = export.ExportFormat(typed["format"])
    chosen = export.ExportFilter(since=moments["since"], until=moments["until"],
                                 course=typed["course"] or None, platform_id=the_actor().platform_id)
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def generate() -> Any:
        # Its own read, not the request's unit of work (committed before the body is sent).
        with session_scope(app) as session:
            yield from export.chunks(session.connection(), chosen, chosen_format)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(stream_with_context(generate()), mimetype=chosen_format.media_type, headers={
        "Content-Disposition": f'attachment; filename="cadre-statements-{stamp}.{chosen_format.value}"'})


# -- API tokens ----------------------------------------------------------------------------------------------


def _tokens_page(status: int = 200, made: tokens.MadeToken | None = None, problem: str | None = None,
                 typed_name: str = "") -> Any:
    actor = the_actor()
    return render_template(
        "records/tokens.html", platform=_platform(), made=made, problem=problem, typed_name=typed_name,
        tokens=tokens.tokens(get_session(), platform_id=actor.platform_id, everything=False),
        notice=NOTICES.get(request.args.get("notice", "")),
        statements_url=current_app.config["CADRE"].public_url + "/xapi/statements",
    ), status


@blueprint.get("/tokens")
@permission(may_administer_records)
def token_list() -> Any:
    return _tokens_page()


@blueprint.post("/tokens")
@permission(may_administer_records)
def token_create() -> Any:
    actor, name = the_actor(), _field("name")
    try:
        made = tokens.create_token(get_session(), name=name, platform_id=actor.platform_id,
                                   created_by=actor.audit_label)
    except tokens.TokenError as error:
        return _tokens_page(400, problem=str(error), typed_name=name)
    audit.record(get_session(), "api_token.create", actor.audit_label, token_id=made.token.id,
                 platform_id=actor.platform_id, name=made.token.name)
    # Shown in this answer only (no redirect: the token never sits in a URL or a later page).
    return _tokens_page(made=made)


@blueprint.post("/tokens/<int:token_id>/revoke")
@permission(may_administer_records)
def token_revoke(token_id: int) -> Any:
    actor = the_actor()
    try:
        tokens.revoke_token(get_session(), token_id, revoked_by=actor.audit_label,
                            platform_id=actor.platform_id, any_platform=False)
    except tokens.TokenError as error:
        return _tokens_page(404, problem=str(error))
    audit.record(get_session(), "api_token.revoke", actor.audit_label, token_id=token_id)
    return redirect(launch_url("records_admin.token_list", notice="revoked"), code=303)


# -- erasure -------------------------------------------------------------------------------------------------


@blueprint.get("/erase")
@permission(may_administer_records)
def erase_form() -> Any:
    return render_template("records/erase.html", platform=_platform(), problems={}, typed="", report=None)


@blueprint.post("/erase")
@permission(may_administer_records)
def erase() -> Any:
    actor, sub = the_actor(), _field("sub")
    problems: dict[str, str] = {}
    if not sub:
        problems["sub"] = "Give the person's user id on the learning platform."
    if request.form.get("confirm") != "yes":
        problems["confirm"] = "Tick the box to confirm: erasure cannot be undone."
    person = None
    if not problems:
        try:
            person = erasure.find_person(get_session(), platform_id=actor.platform_id, sub=sub)
        except erasure.ErasureError:
            problems["sub"] = "Nobody with this user id has used Cadre on your platform."
    if problems or person is None:
        return render_template("records/erase.html", platform=_platform(), problems=problems, typed=sub,
                               report=None), 400
    report = erasure.erase_person(get_session(), person, erased_by=actor.audit_label)
    return render_template("records/erase.html", platform=_platform(), problems={}, typed="", report=report)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
