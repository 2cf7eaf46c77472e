"""The manager's team view (``/team``, and ``/team/<learner id>`` for one of their people) and the learner's
progress view (``/progress``), each table also as CSV (``….csv``).

The rules are :func:`~lti_tool.permissions.may_follow_team` with :func:`~lti_tool.permissions.
can_follow_person` (a manager, their people only: anyone else is "not found") and
:func:`~lti_tool.permissions.may_read_own_progress` (a learner, themself only: the page takes no person);
the figures are :mod:`lti_tool.tracking.progress`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, render_template

from lti_tool.db import get_session
from lti_tool.lti.activity_kinds import kind_info
from lti_tool.models import Context
from lti_tool.permissions import (
    may_follow_team,
    may_read_own_progress,
    permission,
    refuse,
    the_actor,
)
from lti_tool.tracking import progress, progress_tables
from lti_tool.tracking.progress import Progress
from lti_tool.tracking.tables import Table
from lti_tool.tracking.views import NO_SUCH_TABLE
from lti_tool.web import error_page

blueprint = Blueprint("progress", __name__)

ID = "int(max=2147483647)"


def _context() -> Context:
    context = get_session().get(Context, the_actor().course_id)
    assert context is not None  # the actor's launch names it
    return context


def _csv(
    found: Progress, builders: dict[str, Callable[[Progress], Table]], name: str, scope: str
) -> Response:
    build = builders.get(name)
    if build is None:
        refusal = refuse(
            404, "No such table", NO_SUCH_TABLE.format(name=name[:40], names=", ".join(builders))
        )
        return error_page(refusal.status, refusal.title, refusal.message)
    return Response(
        build(found).csv(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{scope}-{name}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _team() -> Progress:
    return progress.team_of(get_session(), the_actor(), _context())


def _person(learner_id: int) -> Progress:
    return progress.person_of(get_session(), the_actor(), _context(), learner_id)


def _own() -> Progress:
    return progress.own_progress(get_session(), the_actor(), _context())


@blueprint.get("/team")
@permission(may_follow_team)
def team() -> Any:
    found = _team()
    return render_template(
        "tracking/team.html",
        progress=found,
        chart=progress_tables.team_chart(found),
        tables={name: build(found) for name, build in progress_tables.TEAM_TABLES.items()},
    )


@blueprint.get("/team/<name>.csv")
@permission(may_follow_team)
def team_csv(name: str) -> Response:
    return _csv(_team(), progress_tables.TEAM_TABLES, name, "team")


def _render_person(found: Progress, builders: dict[str, Callable[[Progress], Table]], *, own: bool) -> str:
    return render_template(
        "tracking/person_progress.html",
        progress=found,
        person=found.people[0],
        own=own,
        chart=progress_tables.person_chart(found),
        tables={name: build(found) for name, build in builders.items()},
        kind_info=kind_info,
    )


@blueprint.get(f"/team/<{ID}:learner_id>")
@permission(may_follow_team)
def person(learner_id: int) -> Any:
    return _render_person(_person(learner_id), progress_tables.PERSON_TABLES, own=False)


@blueprint.get(f"/team/<{ID}:learner_id>/<name>.csv")
@permission(may_follow_team)
def person_csv(learner_id: int, name: str) -> Response:
    return _csv(_person(learner_id), progress_tables.PERSON_TABLES, name, f"person-{learner_id}")


@blueprint.get("/progress")
@permission(may_read_own_progress)
def own() -> Any:
    return _render_person(_own(), progress_tables.OWN_TABLES, own=True)


@blueprint.get("/progress/<name>.csv")
@permission(may_read_own_progress)
def own_csv(name: str) -> Response:
    return _csv(_own(), progress_tables.OWN_TABLES, name, "my-progress")
