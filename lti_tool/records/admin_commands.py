"""``cadre api-token create|list|revoke``, ``cadre xapi export`` and ``cadre person erase``.

Each command that changes something runs in one transaction with its audit entry; bad input ends with a
message naming the option and a non-zero exit status. A new token is printed once, on stdout alone, so it
can be piped into a secret store; nothing else ever shows it again.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from lti_tool import terminal
from lti_tool.db import session_scope
from lti_tool.models import Platform
from lti_tool.ops import audit
from lti_tool.records import erasure, export, tokens

COMMANDS: list[click.Command] = []


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- cadre api-token ------------------------------------------------------------------------------------

api_token = AppGroup("api-token", help="Tokens for GET /xapi/statements (admins' reporting tools, LRS sync).")
COMMANDS.append(api_token)


@api_token.command("create")
@click.option("--name", required=True, help="What the token is for (shown in lists), e.g. 'Power BI'.")
@click.option("--platform", "platform_id", type=int, help="Read only this platform's statements (its id).")
@click.option("--all-platforms", is_flag=True, help="Read every platform's statements.")
def token_create(name: str, platform_id: int | None, all_platforms: bool) -> None:
    """Make a token and print it once (only its hash is kept)."""
    if (platform_id is None) == (not all_platforms):
        raise click.UsageError("Give either --platform ID or --all-platforms (what the token may read).")
    with session_scope(current_app) as session:
        try:
            made = tokens.create_token(session, name=name, platform_id=platform_id,
                                       created_by=audit.CLI_ACTOR)
        except tokens.TokenError as error:
            raise click.UsageError(str(error)) from None
        audit.record(session, "api_token.create", audit.CLI_ACTOR, token_id=made.token.id,
                     platform_id=platform_id, name=made.token.name)
        token_id = made.token.id
    click.echo(f"Made API token {token_id} ({name}); it is shown this once, keep it now:", err=True)
    click.echo(made.secret)


@api_token.command("list")
def token_list() -> None:
    """Every token: id, name, scope, when made, last used and revoked (never the token)."""
    with session_scope(current_app) as session:
        found = tokens.tokens(session)
        rows = [[str(token.id), token.name, token.hint + "…", token.scope_label, _when(token.created_at),
                 _when(token.last_used_at), _when(token.revoked_at)] for token in found]
    if not rows:
        click.echo("No API tokens. Make one with `cadre api-token create --name … --platform ID`.")
        return
    click.echo(terminal.table(["id", "name", "starts", "reads", "made", "last used", "revoked"], rows))


@api_token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token: its next request is refused."""
    with session_scope(current_app) as session:
        try:
            token = tokens.revoke_token(session, token_id, revoked_by=audit.CLI_ACTOR)
        except tokens.TokenError as error:
            raise click.ClickException(str(error)) from None
        audit.record(session, "api_token.revoke", audit.CLI_ACTOR, token_id=token.id)
        name = token.name
    click.echo(f"Revoked API token {token_id} ({name}).")


# --- cadre xapi export ------------------------------------------------------------------------------------

xapi_group = AppGroup("xapi", help="Cadre's xAPI statements.")
COMMANDS.append(xapi_group)


def _moment(_context: Any, parameter: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-12-01T09:30:00Z",
                                 param=parameter) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@xapi_group.command("export")
@click.option("--since", callback=_moment,
              help="Statements stored after this time (ISO 8601; UTC if no zone).")
@click.option("--until", callback=_moment, help="Statements stored at or before this time.")
@click.option("--course", help="One course: the LMS's course id, or context:<Cadre id>.")
@click.option("--platform", "platform_id", type=int, help="One platform's statements (its id).")
@click.option("--format", "export_format", type=click.Choice([f.value for f in export.ExportFormat]),
              default="ndjson", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), required=True,
              help="The file to write ('-' for standard output).")
@click.option("--batch-size", type=click.IntRange(100, 100_000), default=export.BATCH, show_default=True)
@with_appcontext
def xapi_export(since: datetime | None, until: datetime | None, course: str | None, platform_id: int | None,
                export_format: str, output: Path, batch_size: int) -> None:
    """Write every statement chosen, in stored order, in constant memory, with progress on stderr."""
    if since is not None and until is not None and since >= until:
        raise click.BadParameter("--since must be before --until", param_hint="--since")
    chosen = export.ExportFilter(since=since, until=until, course=course, platform_id=platform_id)
    chosen_format = export.ExportFormat(export_format)
    with session_scope(current_app) as session:  # read only: its commit writes nothing
        connection = session.connection()
        known = connection.scalar(select(Platform.id).where(Platform.id == platform_id)) if platform_id else 1
        if known is None:
            raise click.BadParameter(f"there is no platform {platform_id}", param_hint="--platform")
        total = export.count(connection, chosen)
        stream: TextIO
        stream = sys.stdout if str(output) == "-" else output.open("w", encoding="utf-8", newline="")
        try:
            with click.progressbar(length=total, label=f"Exporting {total} statement(s)", file=sys.stderr,
                                   show_pos=True) as progress:
                for chunk in export.chunks(connection, chosen, chosen_format, batch_size, progress):
                    stream.write(chunk)
        finally:
            if stream is not sys.stdout:
                stream.close()
    where = "standard output" if str(output) == "-" else str(output)
    click.echo(f"Exported {total} statement(s) as {export_format} to {where}.", err=True)


# --- cadre person erase -------------------------------------------------------------------------------------

person_group = AppGroup("person", help="People's personal data in Cadre's learning records.")
COMMANDS.append(person_group)


@person_group.command("erase")
@click.option("--platform", "platform_id", type=int, required=True, help="The person's platform (its id).")
@click.option("--sub", help="The person's LMS user id (the LTI sub).")
@click.option("--user", "user_id", type=int, help="The person's Cadre user id.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def person_erase(platform_id: int, sub: str | None, user_id: int | None, yes: bool) -> None:
    """Void a person's statements (forwarded to every LRS) and remove their personal data from Cadre's
    statement store. It cannot be undone."""
    if (sub is None) == (user_id is None):
        raise click.UsageError("Give either --sub (the LMS user id) or --user (Cadre's id).")
    with session_scope(current_app) as session:
        try:
            person = erasure.find_person(session, platform_id=platform_id, sub=sub, user_id=user_id)
        except erasure.ErasureError as error:
            raise click.ClickException(str(error)) from None
        if not yes:
            click.confirm(f"Erase the learning records of Cadre user {person.id}? Their statements are "
                          "voided in every LRS and their personal data removed from Cadre's store; this "
                          "cannot be undone", abort=True)
        report = erasure.erase_person(session, person, erased_by=audit.CLI_ACTOR)
    click.echo(f"Erased Cadre user {report.person_id}'s learning records: {report.voided} statement(s) "
               f"voided, {report.scrubbed} reduced to a form naming nobody, removed from {report.mentions} "
               "other statement(s).")
