"""``cadre mail test ADDRESS``: send one e-mail now, to check the ``CADRE_SMTP_*`` settings."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lti_tool.mail import Mail, MailError, send, smtp_port

COMMANDS: list[click.Command] = []

mail_group = AppGroup("mail", help="E-mail: check the SMTP settings.")
COMMANDS.append(mail_group)


@mail_group.command("test")
@click.argument("address")
def mail_test(address: str) -> None:
    """Send a test e-mail to ADDRESS through the configured SMTP server, and say what went wrong if not."""
    settings = current_app.config["CADRE"]
    mode = "SSL" if settings.smtp_ssl else "STARTTLS" if settings.smtp_starttls else "no TLS"
    click.echo(f"Sending through {settings.smtp_host or '(CADRE_SMTP_HOST not set)'}:{smtp_port(settings)} "
               f"({mode}) from {settings.smtp_from or '(CADRE_SMTP_FROM not set)'}")
    try:
        message_id = send(settings, Mail(
            to=address, subject=f"{settings.tool_name}: test e-mail",
            text=f"This is a test e-mail from {settings.tool_name} at {settings.public_url}.\n"
                 "If you can read it, invitations and reminders will reach people too.\n"))
    except MailError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Sent to {address} (Message-ID {message_id}).")
