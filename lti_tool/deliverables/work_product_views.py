"""The learner's work-product page (``/activities/<id>/work-product``: submit, see earlier versions,
resubmit) and the download of a work product's file (``/activities/<id>/work-products/files/<id>``).

Views read the request and call :mod:`lti_tool.deliverables.work_products`; the request's unit of work
commits. A refused submission answers 400 (409 when another one came first) with the text as typed and
the problems beside their fields; files are never kept from a refused form (a browser cannot refill a
file input), and the page says so.

Files are served as attachments only: ``Content-Disposition: attachment`` with the cleaned name
(``filename*`` for names beyond ASCII), the type from the allow-list, ``nosniff``, and a CSP sandbox in
case a browser shows one anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, send_file
from markupsafe import Markup

from lti_tool.db import get_session
from lti_tool.deliverables import uploads, work_products
from lti_tool.deliverables.file_types import FILE_TYPES, extension_of
from lti_tool.deliverables.uploads import IncomingFile
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.lti.session import launch_url
from lti_tool.models import Activity
from lti_tool.permissions import may_open_work_products, may_submit_work_products, permission, the_actor
from lti_tool.rubric_library.forms import whole_number
from lti_tool.settings import get_settings
from lti_tool.web import error_page
from lti_tool.web.markdown import render_markdown

log = logging.getLogger("cadre.work_products")
blueprint = Blueprint("work_products", __name__, url_prefix="/activities")

ID = "<int(max=2147483647):activity_id>"
FILE = "<int(max=2147483647):file_id>"
FILE_MISSING = (
    "This file should be here but is not: Cadre's administrator has been told. Ask the learner to submit "
    "it again."
)
BAD_KEPT_FILE = "The form named a file to keep that is not a number: reload the page and choose again."
SANDBOX = "sandbox; default-src 'none'"


@blueprint.errorhandler(work_products.WorkProductProblems)
def _refused(error: work_products.WorkProductProblems) -> Response:
    return error_page(error.status, "Not possible", str(error))


@blueprint.app_template_filter("work_product_text")
def _work_product_text(text: str) -> Markup:
    """A version's text, as safe Markdown (``lti_tool.web.markdown``)."""
    return render_markdown(text)


@blueprint.app_template_filter("file_size")
def _file_size(size: int) -> str:
    return uploads.readable_size(size)


@blueprint.app_template_filter("file_kind")
def _file_kind(name: str) -> str:
    found = FILE_TYPES.get(extension_of(name))
    return found.label if found else "file"


def _page(activity: Activity, view: work_products.WorkProductView, *, text: str = "", status: int = 200,
          problems: dict[str, list[str]] | None = None, kept: set[int] | None = None) -> Any:
    settings = get_settings()
    latest = view.latest
    html = render_template(
        "deliverables/work_product.html",
        activity=activity, kind=kind_info(activity.kind), view=view, text=text, problems=problems or {},
        kept=kept if kept is not None else {file.id for file in (latest.files if latest else [])},
        instructions=render_markdown(activity.instructions), notice=request.args.get("notice"),
        accepted=uploads.accepted_list(settings), max_files=settings.upload_max_files,
        max_size=uploads.readable_size(settings.upload_max_bytes),
        accept=",".join(f".{extension}" for extension in settings.upload_types.split()),
        max_text=work_products.MAX_TEXT, max_bytes=settings.upload_max_bytes,
        # The server's messages, for the form's script to show the same before sending ({name}, {count}).
        too_big=uploads.TOO_BIG.format(name="{name}", limit=uploads.readable_size(settings.upload_max_bytes)),
        too_many=work_products.TOO_MANY_FILES.format(count="{count}", limit=settings.upload_max_files),
    )
    return html, status


def _activity(activity_id: int) -> Activity:
    return work_products.work_product_activity(get_session(), the_actor(), activity_id)


@blueprint.get(f"/{ID}/work-product")
@permission(may_submit_work_products)
def my_work_product(activity_id: int) -> Any:
    activity = _activity(activity_id)
    return _page(activity, work_products.own_work_product(get_session(), the_actor(), activity))


def _chosen_files() -> list[IncomingFile]:
    """The files of the form's file input; an input left empty sends a part with no name and no bytes."""
    chosen = []
    for upload in request.files.getlist("files"):
        if not upload.filename:
            first = upload.stream.read(1)
            upload.stream.seek(0)
            if not first:
                continue
        chosen.append(IncomingFile(upload.filename or "", upload.stream))
    return chosen


@blueprint.post(f"/{ID}/work-product")
@permission(may_submit_work_products)
def submit(activity_id: int) -> Any:
    session, actor = get_session(), the_actor()
    activity = _activity(activity_id)
    text = request.form.get("text", "")
    keep = [whole_number(value) for value in request.form.getlist("keep_file")]
    based_on = whole_number(request.form.get("version_count", ""))
    files = _chosen_files()
    try:
        if None in keep:
            raise work_products.WorkProductProblems({"files": [BAD_KEPT_FILE]})
        work_products.submit_work_product(session, actor, activity, text, files,
                                          keep_file_ids=[number for number in keep if number is not None],
                                          based_on=based_on)
    except work_products.WorkProductProblems as refused:
        problems = {name: list(messages) for name, messages in refused.problems.items()}
        if files:
            problems.setdefault("files", []).append(work_products.CHOOSE_FILES_AGAIN)
        view = work_products.own_work_product(session, actor, activity)
        return _page(activity, view, text=text, problems=problems, status=refused.status,
                     kept={number for number in keep if number is not None})
    return redirect(launch_url("work_products.my_work_product", activity_id=activity.id, notice="submitted"),
                    code=303)


@blueprint.get(f"/{ID}/work-products/files/{FILE}")
@permission(may_open_work_products)
def download(activity_id: int, file_id: int) -> Any:
    stored = work_products.readable_file(get_session(), the_actor(), activity_id, file_id)
    path = uploads.path_of(get_settings(), stored.stored_name)
    if not path.is_file():
        log.error("work-product file %s (stored as %s) is missing from the upload directory", stored.id,
                  stored.stored_name)
        return error_page(404, "File missing", FILE_MISSING)
    response = send_file(path, mimetype=uploads.served_type(stored.content_type), as_attachment=True,
                         download_name=stored.original_name, conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "private, no-store"
    return response
