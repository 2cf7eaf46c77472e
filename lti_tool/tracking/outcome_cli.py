"""``cadre outcome import``: a course's outcome values from a CSV file, all or nothing (see
:mod:`lti_tool.tracking.outcome`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lti_tool.db import session_scope
from lti_tool.relationships.cli import find_course
from lti_tool.tracking import outcome


@click.group("outcome", cls=AppGroup)
def outcome_commands() -> None:
    """Courses' programme outcomes: the business results they serve."""


@outcome_commands.command("import")
@click.option(
    "--course",
    "course",
    required=True,
    help="The course: its LTI context id as the platform sends it (or Cadre's number for it).",
)
@click.option(
    "--platform", "issuer", default=None, help="The platform's issuer, when several have this course id."
)
@click.option("--dry-run", is_flag=True, help="Check every row and report; store nothing.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_values(course: str, issuer: str | None, dry_run: bool, file: Path) -> None:
    """Store the outcome values of FILE (header date,value,team,note; team and note optional) in the
    course, whose designer has named its outcome. Nothing is stored unless every row is valid; the exit
    status is 1 then."""
    if file.stat().st_size > outcome.MAX_BYTES:
        raise click.ClickException(f"{file} is larger than {outcome.MAX_BYTES // 1024} KB; split it.")
    data = file.read_bytes()
    with session_scope(current_app) as session:
        context = find_course(session, course, issuer)
        report = outcome.import_values(session, None, context, data, dry_run=dry_run)
        for row in report.rows:
            if row.state is outcome.RowState.INVALID:
                click.echo(f"line {row.line}: invalid: {row.message}")
        click.echo(report.summary())
    if not (report.stored or (dry_run and report.ok)):
        raise SystemExit(1)
