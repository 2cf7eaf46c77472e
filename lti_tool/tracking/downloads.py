"""The tracking pages' CSV downloads, answered one way: a table's cells (formula-safe, see
:meth:`~lti_tool.tracking.tables.Table.csv`) as an attachment never cached, and a table name that is not
one of the page's a 404 naming the tables there are."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response

from lti_tool.permissions import refuse
from lti_tool.web import error_page

NO_SUCH_TABLE = "There is no table “{name}”{where}; the tables are: {names}."


def csv_download(text: str, filename: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def no_such_table(name: str, names: Iterable[str], where: str = " on the dashboard") -> Response:
    refusal = refuse(
        404, "No such table", NO_SUCH_TABLE.format(name=name[:40], where=where, names=", ".join(names))
    )
    return error_page(refusal.status, refusal.title, refusal.message)
