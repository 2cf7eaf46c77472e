"""Pages of the rubric library (``/rubrics``): list, preview, edit, versions, import and export.

Views read the request and call :mod:`lti_tool.rubric_library.services`; the request's unit of work
commits. Every page names its rule from :mod:`lti_tool.permissions` (``@permission``), and the services ask
the object rules (another course's rubric: 404; a shared rubric: 403). Every link and form carries the
launch token, so the pages work with cookies blocked; every form carries the CSRF token (checked for all
POSTs by ``lti_tool.lti.session``).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, send_file

import rubrics
from lti_tool.db import get_session, rollback
from lti_tool.lti.session import launch_url
from lti_tool.models import Rubric, RubricVersion
from lti_tool.permissions import (
    Actor,
    can_edit_rubric,
    may_preview_rubrics,
    may_publish_rubrics,
    may_use_rubric_library,
    permission,
    the_actor,
)
from lti_tool.rubric_library import services
from lti_tool.rubric_library.forms import SAVE, RubricForm, whole_number
from lti_tool.settings import get_settings
from lti_tool.web import error_page
from rubrics.exact_numbers import format_decimal

blueprint = Blueprint("rubric_library", __name__, url_prefix="/rubrics")

CSV_TYPE = "text/csv"  # Flask adds "; charset=utf-8" to text types
CASE_TYPE = "application/json"


@blueprint.app_template_filter("rubric_number")
def _rubric_number(value: Decimal | None) -> str:
    """Exact decimals as the engine writes them (``3.5``, not ``3.50``)."""
    return format_decimal(value) if value is not None else ""


@blueprint.app_template_filter("rubric_level_points")
def _rubric_level_points(level: rubrics.Level) -> str:
    if level.min_points is None or level.max_points is None:
        return ""
    if level.is_range:
        return f"{format_decimal(level.min_points)}–{format_decimal(level.max_points)} points"
    unit = "point" if level.max_points == 1 else "points"
    return f"{format_decimal(level.max_points)} {unit}"


@blueprint.app_template_filter("rubric_origin")
def _rubric_origin(rubric: Rubric) -> str:
    return services.origin_label(rubric)


@blueprint.app_template_filter("rubric_shares")
def _rubric_shares(content: rubrics.Rubric) -> dict[str, str]:
    """Each criterion's share of the result in weighted-percentage mode, e.g. ``"33.3%"``."""
    return {
        identifier: f"{float(share) * 100:.1f}%".replace(".0%", "%")
        for identifier, share in rubrics.normalised_weights(content).items()
    }


@blueprint.errorhandler(services.RubricNotFound)
def _not_found(error: services.RubricNotFound) -> Response:
    return error_page(404, "Rubric not found", error.message)


def _redirect(endpoint: str, **values: Any) -> Response:
    return redirect(launch_url(endpoint, **values), code=303)


def _int_arg(name: str) -> int | None:
    """A version number from the query string: None when absent, a 404 when it is not a version number."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise services.RubricNotFound(f"'{text[:20]}' is not a version number.")
    return number


# -- list and preview --------------------------------------------------------------------------------------


@blueprint.get("/")
@permission(may_use_rubric_library)
def library() -> Any:
    """The course's rubrics, rubrics shared with every course, and the templates to start from."""
    actor = the_actor()
    listing = services.list_library(get_session(), actor)
    return render_template(
        "rubric_library/list.html",
        listing=listing,
        templates=rubrics.list_templates(),
        actor=actor,
        notice=request.args.get("notice"),
    )


@blueprint.get("/<int(max=2147483647):rubric_id>")
@permission(may_preview_rubrics)
def preview(rubric_id: int) -> Any:
    """The rubric as a manager sees it when assessing; ``?version=N`` shows an older version."""
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    version = services.version_of(session, rubric, _int_arg("version"))
    frameworks = services.list_frameworks(session, actor)
    return render_template(
        "rubric_library/preview.html",
        rubric=rubric,
        version=version,
        content=services.version_content(version),
        statements=services.competency_statements(frameworks),
        actor=actor,
        may_change=bool(can_edit_rubric(actor, rubric)),
        notice=request.args.get("notice"),
    )


@blueprint.get("/templates/<slug>")
@permission(may_use_rubric_library)
def template_preview(slug: str) -> Any:
    content = services.get_template(slug)
    actor = the_actor()
    frameworks = services.list_frameworks(get_session(), actor)
    return render_template(
        "rubric_library/preview.html",
        rubric=None,
        version=None,
        content=content,
        template_slug=slug,
        statements=services.competency_statements(frameworks),
        actor=actor,
        may_change=False,
        notice=None,
    )


# -- creating ----------------------------------------------------------------------------------------------


@blueprint.route("/new", methods=["GET", "POST"])
@permission(may_use_rubric_library)
def new() -> Any:
    """A new rubric, blank or (``?template=slug``) filled in from a template: nothing is stored until the
    designer saves a valid one, so leaving the page (Cancel) leaves nothing behind."""
    actor = the_actor()
    if request.method == "GET":
        slug = request.args.get("template", "")
        if not slug:
            return _edit_page(RubricForm.blank(), rubric=None, actor=actor)
        template = services.get_template(slug)  # an unknown one: 404
        form = RubricForm.from_rubric(template)
        form.template = slug
        return _edit_page(form, rubric=None, actor=actor, template=template)
    form = RubricForm.from_post(request.form)
    template = services.find_template(form.template)
    if template is None:
        form.template = ""
    if form.apply_action(request.form.get("action", SAVE)):
        return _edit_page(form, rubric=None, actor=actor, template=template)
    content = form.parse()
    if content is None:
        return _edit_page(form, rubric=None, actor=actor, status=400, template=template)
    session = get_session()
    origin = f"template:{form.template}" if template is not None else "form"
    rubric = services.create_rubric(session, actor, content, origin=origin)
    notice = "created" if template is not None else "saved"
    return _redirect("rubric_library.preview", rubric_id=rubric.id, notice=notice)


@blueprint.post("/<int(max=2147483647):rubric_id>/duplicate")
@permission(may_use_rubric_library)
def duplicate(rubric_id: int) -> Any:
    session = get_session()
    copy = services.duplicate_rubric(session, the_actor(), rubric_id)
    return _redirect("rubric_library.edit", rubric_id=copy.id, notice="duplicated")


# -- editing -----------------------------------------------------------------------------------------------


STALE_FORM = (
    "This form did not say which version of the rubric it was opened at. Check your changes below and "
    "save again."
)


def _edit_page(
    form: RubricForm,
    *,
    rubric: Rubric | None,
    actor: Actor,
    status: int = 200,
    conflict: services.ConflictError | None = None,
    conflict_changes: tuple[str, ...] = (),
    template: rubrics.Rubric | None = None,
) -> Any:
    version = rubric.current_version if rubric is not None else None
    html = render_template(
        "rubric_library/edit.html",
        form=form,
        rubric=rubric,
        version=version,
        actor=actor,
        scoring_modes=list(rubrics.ScoringMode),
        conflict=conflict,
        conflict_changes=conflict_changes,
        template=template,
        notice=request.args.get("notice"),
    )
    return html, status


@blueprint.get("/<int(max=2147483647):rubric_id>/edit")
@permission(may_use_rubric_library)
def edit(rubric_id: int) -> Any:
    actor = the_actor()
    rubric = services.get_rubric(get_session(), actor, rubric_id, rule=can_edit_rubric)
    version = services.current_version(rubric)
    form = RubricForm.from_rubric(services.version_content(version), rubric.lock_version)
    return _edit_page(form, rubric=rubric, actor=actor)


@blueprint.post("/<int(max=2147483647):rubric_id>/edit")
@permission(may_use_rubric_library)
def save(rubric_id: int) -> Any:
    """Save an edit; invalid input or a conflicting save re-renders the form with everything typed kept."""
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id, rule=can_edit_rubric)
    form = RubricForm.from_post(request.form)
    if form.apply_action(request.form.get("action", SAVE)):
        return _edit_page(form, rubric=rubric, actor=actor)
    content = form.parse()
    if content is None:
        return _edit_page(form, rubric=rubric, actor=actor, status=400)
    if form.lock_version is None:
        # Without the version the form was opened at, a save could silently replace someone else's: show
        # the form again (typed values kept) stamped with the current version, for a deliberate save.
        form.lock_version = rubric.lock_version
        form.problems.append(("title", STALE_FORM))
        return _edit_page(form, rubric=rubric, actor=actor, status=400)
    try:
        outcome = services.update_rubric(
            session, actor, rubric_id, content, expected_lock_version=form.lock_version
        )
    except services.ConflictError as conflict:
        rollback(session)  # the losing save's flush; the page below reads the winner's version
        rubric = services.get_rubric(session, actor, rubric_id, rule=can_edit_rubric)
        if conflict.changed_by is None:  # lost a race at flush time: name the winner now
            conflict = services.ConflictError.saved_since(rubric)
        saved = services.version_content(services.current_version(rubric))
        # Saving again from this page replaces the other person's version, knowingly.
        form.lock_version = rubric.lock_version
        changes = rubrics.diff(saved, content).summary()
        return _edit_page(
            form, rubric=rubric, actor=actor, status=409, conflict=conflict, conflict_changes=changes
        )
    notice = "saved"
    if not outcome.changed:
        notice = "unchanged"
    elif outcome.new_version:
        notice = "new-version"
    return _redirect("rubric_library.preview", rubric_id=rubric_id, notice=notice)


@blueprint.post("/<int(max=2147483647):rubric_id>/archive")
@permission(may_use_rubric_library)
def archive(rubric_id: int) -> Any:
    session = get_session()
    services.archive_rubric(session, the_actor(), rubric_id)
    return _redirect("rubric_library.library", notice="archived")


@blueprint.post("/<int(max=2147483647):rubric_id>/restore")
@permission(may_use_rubric_library)
def restore(rubric_id: int) -> Any:
    session = get_session()
    services.restore_rubric(session, the_actor(), rubric_id)
    return _redirect("rubric_library.preview", rubric_id=rubric_id, notice="restored")


@blueprint.post("/<int(max=2147483647):rubric_id>/publish")
@permission(may_publish_rubrics)
def publish(rubric_id: int) -> Any:
    session = get_session()
    services.publish_rubric(session, the_actor(), rubric_id)
    return _redirect("rubric_library.preview", rubric_id=rubric_id, notice="published")


@blueprint.post("/<int(max=2147483647):rubric_id>/unpublish")
@permission(may_publish_rubrics)
def unpublish(rubric_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    rubric = services.unpublish_rubric(session, actor, rubric_id)
    if rubric.context_id != actor.context_id:  # another course's rubric: no longer visible from here
        return _redirect("rubric_library.library", notice="unpublished")
    return _redirect("rubric_library.preview", rubric_id=rubric_id, notice="unpublished")


# -- versions ----------------------------------------------------------------------------------------------


@blueprint.get("/<int(max=2147483647):rubric_id>/versions")
@permission(may_use_rubric_library)
def versions(rubric_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    history = services.versions_of(session, rubric)
    return render_template("rubric_library/versions.html", rubric=rubric, versions=history, actor=actor)


@blueprint.get("/<int(max=2147483647):rubric_id>/diff")
@permission(may_use_rubric_library)
def compare(rubric_id: int) -> Any:
    """What changed between two versions (``?from=1&to=2``; by default the last two)."""
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    history = services.versions_of(session, rubric)
    newest = history[0].number
    new_number = _int_arg("to") or newest
    old_number = _int_arg("from") or max(new_number - 1, 1)
    changes = services.compare_versions_of(session, rubric, old_number, new_number)
    return render_template(
        "rubric_library/diff.html",
        rubric=rubric,
        versions=history,
        changes=changes,
        old_number=old_number,
        new_number=new_number,
        actor=actor,
    )


# -- import and export -------------------------------------------------------------------------------------


@blueprint.route("/import", methods=["GET", "POST"])
@permission(may_use_rubric_library)
def import_file() -> Any:
    """Upload a rubric (CSV or CASE JSON) or a competency framework (CASE CFPackage)."""
    actor = the_actor()
    if request.method == "GET":
        return render_template("rubric_library/import.html", problems=[], filename=None, actor=actor)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        problems = [rubrics.ImportProblem("file", "choose a file to import")]
        return render_template(
            "rubric_library/import.html", problems=problems, filename=None, actor=actor
        ), 400
    session = get_session()
    data = upload.read()
    try:
        outcome = services.import_file(session, actor, upload.filename, data)
    except rubrics.RubricImportError as error:
        html = render_template(
            "rubric_library/import.html", problems=error.problems, filename=upload.filename, actor=actor
        )
        return html, 400
    if outcome.rubric is not None:
        return _redirect("rubric_library.preview", rubric_id=outcome.rubric.id, notice="imported")
    return _redirect("rubric_library.library", notice="framework-imported")


def _download_name(rubric: Rubric, version: RubricVersion, extension: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", rubric.title).strip("-").lower()[:60] or "rubric"
    return f"{slug}-v{version.number}.{extension}"


@blueprint.get("/<int(max=2147483647):rubric_id>/export.csv")
@permission(may_use_rubric_library)
def export_csv(rubric_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    version = services.version_of(session, rubric, _int_arg("version"))
    data = services.export_csv(version).encode("utf-8")
    return send_file(
        io.BytesIO(data),
        mimetype=CSV_TYPE,
        as_attachment=True,
        download_name=_download_name(rubric, version, "csv"),
    )


@blueprint.get("/<int(max=2147483647):rubric_id>/export.canvas.csv")
@permission(may_use_rubric_library)
def export_canvas_csv(rubric_id: int) -> Any:
    """The version in Canvas's rubric CSV layout, for Canvas's rubric import (levels-only rubrics: 422)."""
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    version = services.version_of(session, rubric, _int_arg("version"))
    try:
        data = services.export_canvas_csv(version).encode("utf-8")
    except rubrics.CanvasExportError as error:
        return error_page(422, "Not exportable for Canvas", str(error))
    return send_file(
        io.BytesIO(data),
        mimetype=CSV_TYPE,
        as_attachment=True,
        download_name=_download_name(rubric, version, "canvas.csv"),
    )


@blueprint.get("/<int(max=2147483647):rubric_id>/export.case.json")
@permission(may_use_rubric_library)
def export_case(rubric_id: int) -> Any:
    session = get_session()
    actor = the_actor()
    rubric = services.get_rubric(session, actor, rubric_id)
    version = services.version_of(session, rubric, _int_arg("version"))
    text = services.export_case(
        version,
        base_uri=get_settings().url(f"/rubrics/{rubric.id}/case"),
        frameworks=services.list_frameworks(session, actor),
    )
    return send_file(
        io.BytesIO(text.encode("utf-8")),
        mimetype=CASE_TYPE,
        as_attachment=True,
        download_name=_download_name(rubric, version, "case.json"),
    )


@blueprint.get("/frameworks/<int(max=2147483647):framework_id>/export.case.json")
@permission(may_use_rubric_library)
def export_framework(framework_id: int) -> Any:
    """The competency framework as the CASE CFPackage it was imported from."""
    framework = services.get_framework(get_session(), the_actor(), framework_id)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", framework.title).strip("-").lower()[:60] or "framework"
    return send_file(
        io.BytesIO(services.export_framework(framework).encode("utf-8")),
        mimetype=CASE_TYPE,
        as_attachment=True,
        download_name=f"{slug}.case.json",
    )
