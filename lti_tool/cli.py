"""The ``cadre`` command: Flask's CLI group with Cadre's own commands."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup
from sqlalchemy.exc import InterfaceError, OperationalError

from lti_tool import create_app
from lti_tool.db import get_engine
from lti_tool.migrate import pending_revisions, upgrade

DATABASE_DOWN = ("cannot use the database: {reason}. Is it running, and does CADRE_DATABASE_URL name it? "
                 "Nothing was changed.")


class CadreGroup(FlaskGroup):
    """Flask's group, with one message (and exit status 1) for every command whose database cannot be
    reached, instead of a driver's traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (OperationalError, InterfaceError) as error:
            lines = str(error.orig or error).strip().splitlines() or [type(error).__name__]
            raise click.ClickException(DATABASE_DOWN.format(reason=lines[0].rstrip("."))) from None


@click.group(cls=CadreGroup, create_app=create_app, add_version_option=False, add_default_commands=False)
def main() -> None:
    """Cadre: managers in the loop of their employees' training (an LTI 1.3 tool)."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    engine = get_engine(current_app)
    pending = pending_revisions(engine)
    upgrade(engine)
    click.echo(f"Applied {len(pending)} migration(s); the database is up to date." if pending
               else "The database is already up to date.")


def _register_feature_commands() -> None:
    from lti_tool.demo.cli import COMMANDS as demo_commands
    from lti_tool.mail.cli import COMMANDS as mail_commands
    from lti_tool.ops.cli import COMMANDS as ops_commands
    from lti_tool.outbox.cli import COMMANDS as outbox_commands
    from lti_tool.records.admin_commands import COMMANDS as records_admin_commands
    from lti_tool.records.cli import COMMANDS as lrs_commands
    from lti_tool.relationships.cli import COMMANDS as relationships_commands

    for command in [*ops_commands, *demo_commands, *outbox_commands, *mail_commands, *relationships_commands,
                    *records_admin_commands, *lrs_commands]:
        main.add_command(command)


_register_feature_commands()
