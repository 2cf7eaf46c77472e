"""People pages: the designer's roster and assignments (``/people``), the learner's managers and
nominations (``/my-managers``), the manager's nominations to answer (``/nominations``).

Views read the request and call the services; the request's unit of work commits (an answer >= 400 stores
nothing). The roster refresh reads what it needs, ends the read transaction, calls the platform, then
writes: no transaction waits on the platform.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request

from lti_tool import outbound
from lti_tool.db import get_session, session_scope
from lti_tool.lti.session import launch_url
from lti_tool.models import Context, CourseRoster, ManagerLink
from lti_tool.permissions import (
    may_answer_nominations,
    may_manage_people,
    may_nominate,
    permission,
    the_actor,
)
from lti_tool.relationships import roster, roster_csv, services
from lti_tool.rubric_library.forms import whole_number
from lti_tool.states import CadreRole, ManagerLinkRelation
from lti_tool.web import error_page

blueprint = Blueprint("relationships", __name__)

ID = "<int(max=2147483647):link_id>"
NOTICES = {
    "linked": "Link added.",
    "ended": "Link ended. Its history and the feedback given under it are kept.",
    "nominated": "Nomination sent: it waits for the manager's answer.",
    "accepted": "Nomination accepted: the learner is now one of your people.",
    "declined": "Nomination declined.",
}


@blueprint.errorhandler(services.RelationshipError)
def _refused(error: services.RelationshipError) -> Response:
    return error_page(400, "Not possible", error.message)


def _relation(value: str) -> ManagerLinkRelation:
    try:
        return ManagerLinkRelation(value or ManagerLinkRelation.LINE_MANAGER.value)
    except ValueError:
        raise services.RelationshipError("Choose line manager, mentor or coach.", "relation") from None


# -- the designer's page -------------------------------------------------------------------------------------


def _people_page(*, status: int = 200, problem: str | None = None,
                 report: roster_csv.ImportReport | None = None, form: dict[str, str] | None = None,
                 refresh_problem: str | None = None) -> Any:
    session = get_session()
    actor = the_actor()
    people = services.course_people(session, actor.course_id)
    html = render_template(
        "relationships/people.html",
        context=session.get(Context, actor.course_id),
        roster=session.get(CourseRoster, actor.course_id),
        learners=services.learners_with_links(session, actor.course_id),
        managers=services.sorted_people(people.values(), CadreRole.MANAGER),
        relation_labels=services.RELATION_LABELS, status_labels=services.STATUS_LABELS,
        source_labels=services.SOURCE_LABELS, problem=problem, form=form or {}, report=report,
        refresh_problem=refresh_problem, notice=NOTICES.get(request.args.get("notice", "")),
        refreshed=request.args.get("refreshed"), max_kb=roster_csv.MAX_BYTES // 1024,
    )
    return html, status


@blueprint.get("/people")
@permission(may_manage_people)
def people() -> Any:
    actor = the_actor()
    if actor.launch is not None:
        roster.remember_memberships_url(get_session(), actor.course_id, actor.launch.claims)
    return _people_page()


@blueprint.post("/people/roster/refresh")
@permission(may_manage_people)
def refresh_roster() -> Any:
    """Fetch the roster now: read, end the read transaction, call the platform, then write."""
    session = get_session()
    actor = the_actor()
    claims = actor.launch.claims if actor.launch is not None else {}
    url = roster.latest_memberships_url(session, actor.course_id) if not claims else None
    claim = claims.get(roster.CLAIM_NRPS)
    if isinstance(claim, dict) and isinstance(claim.get("context_memberships_url"), str):
        url = claim["context_memberships_url"]
    try:
        # In a unit of its own: the first service call of an install makes Cadre's signing key (a write
        # that must not keep the request's transaction open across the call).
        with session_scope(current_app._get_current_object()) as own:  # type: ignore[attr-defined]
            prepared = roster.prepare_refresh(own, actor.course_id, url)
    except roster.RosterError as error:
        return _people_page(status=400, refresh_problem=f"The roster was not refreshed: {error}")
    outbound.leave_read_transaction(session)
    try:
        entries = roster.fetch_roster(prepared.connector, prepared.memberships_url)
    except roster.RosterError as error:  # the platform's fault: 502, and the page says what it answered
        return _people_page(status=502, refresh_problem=f"The roster was not refreshed: {error}")
    context = session.get(Context, actor.course_id)
    assert context is not None
    roster.remember_memberships_url(session, context.id, claims)
    count = roster.store_roster(session, context, entries)
    return redirect(launch_url("relationships.people", refreshed=str(count)), code=303)


@blueprint.post("/people/links")
@permission(may_manage_people)
def add_link() -> Any:
    form = {name: request.form.get(name, "") for name in ("learner_id", "manager_id", "relation")}
    try:
        services.add_link(get_session(), the_actor(), whole_number(form["learner_id"]),
                          whole_number(form["manager_id"]), _relation(form["relation"]))
    except services.RelationshipError as error:
        return _people_page(status=400, problem=error.message, form=form)
    return redirect(launch_url("relationships.people", notice="linked"), code=303)


@blueprint.post(f"/people/links/{ID}/end")
@permission(may_manage_people)
def end_link(link_id: int) -> Any:
    services.end_link(get_session(), the_actor(), link_id)
    return redirect(launch_url("relationships.people", notice="ended"), code=303)


@blueprint.post("/people/import")
@permission(may_manage_people)
def import_csv() -> Any:
    upload = request.files.get("file")
    data = upload.read(roster_csv.MAX_BYTES + 1) if upload is not None else b""
    if upload is None or not upload.filename:
        report = roster_csv.ImportReport(file_problem="Choose a CSV file to upload.")
    else:
        report = roster_csv.import_links(get_session(), the_actor(), the_actor().course_id, data)
    return _people_page(status=200 if report.stored else 400, report=report)


@blueprint.get("/people/links.csv")
@permission(may_manage_people)
def export_csv() -> Response:
    text = roster_csv.export_links(get_session(), the_actor().course_id)
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="manager-links.csv"'})


# -- the learner's managers ----------------------------------------------------------------------------------


def _my_managers_page(*, status: int = 200, problem: str | None = None,
                      form: dict[str, str] | None = None) -> Any:
    session = get_session()
    actor = the_actor()
    people = services.course_people(session, actor.course_id)
    html = render_template(
        "relationships/my_managers.html",
        links=services.links_of_learner(session, actor.course_id, actor.user_id),
        managers=services.sorted_people(people.values(), CadreRole.MANAGER),
        relation_labels=services.RELATION_LABELS, status_labels=services.STATUS_LABELS,
        problem=problem, form=form or {}, notice=NOTICES.get(request.args.get("notice", "")),
    )
    return html, status


@blueprint.get("/my-managers")
@permission(may_nominate)
def my_managers() -> Any:
    return _my_managers_page()


@blueprint.post("/my-managers/nominate")
@permission(may_nominate)
def nominate() -> Any:
    form = {name: request.form.get(name, "") for name in ("manager_id", "relation")}
    try:
        services.nominate(get_session(), the_actor(), whole_number(form["manager_id"]),
                          _relation(form["relation"]))
    except services.RelationshipError as error:
        return _my_managers_page(status=400, problem=error.message, form=form)
    return redirect(launch_url("relationships.my_managers", notice="nominated"), code=303)


# -- the manager's nominations -------------------------------------------------------------------------------


@blueprint.get("/nominations")
@permission(may_answer_nominations)
def nominations() -> Any:
    actor = the_actor()
    waiting: list[ManagerLink] = services.nominations_for(get_session(), actor.course_id, actor.user_id)
    return render_template("relationships/nominations.html", nominations=waiting,
                           relation_labels=services.RELATION_LABELS,
                           notice=NOTICES.get(request.args.get("notice", "")))


@blueprint.post(f"/nominations/{ID}/<any(accept, decline):answer>")
@permission(may_answer_nominations)
def answer_nomination(link_id: int, answer: str) -> Any:
    services.answer_nomination(get_session(), the_actor(), link_id, accept=answer == "accept")
    return redirect(launch_url("relationships.nominations",
                               notice="accepted" if answer == "accept" else "declined"), code=303)
