"""``cadre roster import``: manager links from a roster CSV, all or nothing (see ``roster_csv``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.form_values import whole_number
from lti_tool.models import Context, Platform
from lti_tool.relationships import roster_csv


def find_course(session: Session, course: str, issuer: str | None) -> Context:
    """The course a command names by its LTI context id (or Cadre's number for it), on ``issuer`` when
    several platforms have it; a :class:`click.ClickException` saying why when there is none or several."""
    query = select(Context).join(Platform, Platform.id == Context.platform_id) \
        .where(Context.context_id == course)
    if issuer:
        query = query.where(Platform.issuer == issuer)
    found = list(session.scalars(query))
    if not found and (number := whole_number(course, digits=18)) is not None and not issuer:
        found = [context] if (context := session.get(Context, number)) else []
    if not found:
        where = f" on {issuer}" if issuer else ""
        raise click.ClickException(f"No course {course!r} is known to Cadre{where}: someone must launch "
                                   "Cadre from it first.")
    if len(found) > 1:
        raise click.ClickException(f"Several platforms have a course {course!r}: name one (--platform).")
    return found[0]


@click.group("roster", cls=AppGroup)
def roster() -> None:
    """Course rosters and manager links."""


@roster.command("import")
@click.option("--course", "course", required=True,
              help="The course: its LTI context id as the platform sends it (or Cadre's number for it).")
@click.option("--platform", "issuer", default=None,
              help="The platform's issuer, when several have this course id.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_links(course: str, issuer: str | None, dry_run: bool, file: Path) -> None:
    """Link managers to learners from FILE (header learner,manager,relation; people by LMS user id, login or
    e-mail). Nothing is stored unless every row matches; the exit status is 1 then."""
    if file.stat().st_size > roster_csv.MAX_BYTES:
        raise click.ClickException(f"{file} is larger than {roster_csv.MAX_BYTES // 1024} KB; split it.")
    data = file.read_bytes()
    with session_scope(current_app) as session:
        context = find_course(session, course, issuer)
        report = roster_csv.import_links(session, None, context.id, data, dry_run=dry_run)
        for row in report.rows:
            if row.state is not roster_csv.RowState.MATCHED:
                click.echo(f"line {row.line}: {row.state.value.replace('_', ' ')}: {row.message}")
        click.echo(report.summary())
    if not (report.stored or (dry_run and report.ok)):
        raise SystemExit(1)


COMMANDS = [roster]
