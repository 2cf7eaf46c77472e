"""``cadre lrs add|list|remove|test|pause|resume|retry-dead|status``: the learning record stores Cadre
delivers statements to. Passwords are asked at a hidden prompt (or read from standard input), never taken
from the command line (it shows in ``ps`` and shell history) and never printed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from lti_tool import outbound, terminal
from lti_tool.db import session_scope, utcnow
from lti_tool.ops import audit
from lti_tool.records import backlog as delivery_backlog
from lti_tool.records import lrs as registry
from lti_tool.records.delivery import check_lrs
from lti_tool.records.models import LearningRecordStore
from lti_tool.settings import Settings
from lti_tool.states import LrsStatus

COMMANDS: list[click.Command] = []
lrs_group = AppGroup("lrs", help="Learning record stores that receive Cadre's xAPI statements.")
COMMANDS.append(lrs_group)


def _settings() -> Settings:
    return current_app.config["CADRE"]


def _sync(session) -> None:  # type: ignore[no-untyped-def]
    registry.sync_environment_store(session, _settings())


@lrs_group.command("add")
@click.argument("name")
@click.option("--endpoint", required=True, help="The LRS's xAPI endpoint, e.g. https://lrs.example.org/xAPI.")
@click.option("--username", required=True, help="Basic-authentication user (key) Cadre sends as.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@click.option("--course", "courses", multiple=True,
              help="Only statements of this course: its LMS course id, or context:<Cadre id> (repeatable).")
@click.option("--verb", "verbs", multiple=True, help="Only statements with this verb IRI (repeatable).")
@click.option("--batch-size", type=int, default=100, show_default=True, help="Statements per POST.")
@click.option("--replace", is_flag=True, help="Change the LRS of that name (its statements stay queued).")
def lrs_add(name: str, endpoint: str, username: str, password_stdin: bool, courses: tuple[str, ...],
            verbs: tuple[str, ...], batch_size: int, replace: bool) -> None:
    """Deliver statements to another LRS, from the next statement recorded on."""
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(current_app) as session:
            store = registry.add_store(session, name=name, endpoint=endpoint, username=username,
                                       password=password, courses=list(courses), verbs=list(verbs),
                                       batch_size=batch_size, replace=replace)
            audit.record(session, "lrs.replace" if replace else "lrs.add", audit.CLI_ACTOR, lrs=store.name,
                         endpoint=store.endpoint, courses=store.filter_courses, verbs=store.filter_verbs)
            shown = (store.name, store.endpoint)
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"LRS {shown[0]} ({shown[1]}) {'changed' if replace else 'added'}. Check it with "
               f"`cadre lrs test {shown[0]}`.")


@lrs_group.command("list")
def lrs_list() -> None:
    """The LRSs, their filters and whether statements go to them (passwords are never shown)."""
    with session_scope(current_app) as session:
        _sync(session)
        stores = session.query(LearningRecordStore).order_by(LearningRecordStore.name).all()
        rows = [[store.name, store.endpoint, store.username, store.status.value,
                 ", ".join(store.filter_courses) or "every course",
                 ", ".join(store.filter_verbs) or "every verb",
                 str(_settings().lrs_batch_size if store.from_environment else store.batch_size),
                 "environment" if store.from_environment else "cadre lrs add"]
                for store in stores]
    if not rows:
        click.echo("No LRS is configured: set CADRE_LRS_ENDPOINT, or `cadre lrs add NAME --endpoint URL "
                   "--username USER`.")
        return
    click.echo(terminal.table(["NAME", "ENDPOINT", "USERNAME", "STATUS", "COURSES", "VERBS", "BATCH", "FROM"],
                              rows))


@lrs_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def lrs_remove(name: str, yes: bool) -> None:
    """Stop delivering to an LRS and forget its queue (Cadre's own statements stay)."""
    try:
        with session_scope(current_app) as session:
            store = registry.find_store(session, name)
            if store.from_environment and _settings().lrs_endpoint:
                raise registry.LrsConfigurationError(
                    f"{name} comes from CADRE_LRS_ENDPOINT: unset that variable to remove it (or `cadre lrs "
                    "pause` it).")
            pending = next((entry.pending for entry in delivery_backlog.backlog(session)
                            if entry.lrs_id == store.id), 0)
            if not yes:
                click.confirm(f"Remove {name}? {pending} statement(s) waiting for it will not be sent.",
                              abort=True)
            session.delete(store)
            audit.record(session, "lrs.remove", audit.CLI_ACTOR, lrs=name, pending=pending)
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"LRS {name} removed.")


@lrs_group.command("test")
@click.argument("name")
def lrs_test(name: str) -> None:
    """Check an LRS without sending a statement: its /about, and an authenticated statements query. A paused
    LRS that passes is resumed."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        with session_scope(app) as session:
            _sync(session)
            store = registry.find_store(session, name)
            endpoint, was_paused = store.endpoint, store.status is LrsStatus.PAUSED
            credentials = registry.credentials_of(store, _settings(), app.config["SECRET_KEY"])
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    check = check_lrs(outbound.client(app), endpoint, credentials)
    click.echo(f"{name}: {endpoint}")
    click.echo(f"  about:       {check.about}")
    if not check.ok:
        click.echo(f"  statements:  FAILED: {check.problem}")
        raise SystemExit(1)
    click.echo("  statements:  an authenticated query passed; Cadre can deliver here.")
    if was_paused:
        with session_scope(app) as session:
            count = registry.resume(session, registry.find_store(session, name))
            audit.record(session, "lrs.resume", audit.CLI_ACTOR, lrs=name, by="test")
        click.echo(f"  resumed:     {count} waiting statement(s) will be sent now.")


@lrs_group.command("pause")
@click.argument("name")
@click.option("--reason", default="paused by an admin", show_default=True)
def lrs_pause(name: str, reason: str) -> None:
    """Stop sending to an LRS; its statements keep queueing until it is resumed."""
    try:
        with session_scope(current_app) as session:
            store = registry.find_store(session, name)
            registry.pause(store, reason)
            audit.record(session, "lrs.pause", audit.CLI_ACTOR, lrs=name, reason=reason)
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"LRS {name} paused: statements wait for `cadre lrs resume {name}`.")


@lrs_group.command("resume")
@click.argument("name")
def lrs_resume(name: str) -> None:
    """Send to a paused LRS again, starting with its waiting statements."""
    try:
        with session_scope(current_app) as session:
            store = registry.find_store(session, name)
            if store.status is LrsStatus.ACTIVE:
                click.echo(f"LRS {name} is not paused.")
                return
            count = registry.resume(session, store)
            audit.record(session, "lrs.resume", audit.CLI_ACTOR, lrs=name, by="admin")
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"LRS {name} resumed: {count} waiting statement(s) will be sent now.")


@lrs_group.command("retry-dead")
@click.argument("name", required=False)
def lrs_retry_dead(name: str | None) -> None:
    """Send the statements an LRS refused again (every LRS's, without NAME), once the cause is fixed."""
    try:
        with session_scope(current_app) as session:
            lrs_id = registry.find_store(session, name).id if name else None
            count = delivery_backlog.retry_dead(session, lrs_id)
            if count:
                audit.record(session, "lrs.retry_dead", audit.CLI_ACTOR, lrs=name, count=count)
    except registry.LrsConfigurationError as error:
        raise click.ClickException(str(error)) from None
    where = f" for {name}" if name else ""
    click.echo(f"{count} refused statement(s){where} will be sent again." if count
               else f"No refused statement to retry{where}.")


@lrs_group.command("status")
@click.option("--dead", "show_dead", type=click.IntRange(0, 1000), default=5, show_default=True,
              help="List this many of the latest refused statements with the LRS's reason.")
def lrs_status(show_dead: int) -> None:
    """Per LRS: waiting statements, the oldest one's age, refused (dead) and delivered ones, and why an LRS
    is paused or failing."""
    now = utcnow()
    with session_scope(current_app) as session:
        _sync(session)
        entries = delivery_backlog.backlog(session)
        letters = delivery_backlog.dead_letters(session, limit=show_dead) if show_dead else []
    if not entries:
        click.echo("No LRS is configured.")
        return
    rows = [[entry.name, entry.status.value, str(entry.pending), terminal.age(entry.oldest_pending_age(now)),
             str(entry.dead), str(entry.delivered)] for entry in entries]
    click.echo(terminal.table(["LRS", "STATUS", "PENDING", "OLDEST PENDING", "DEAD", "DELIVERED"], rows))
    for entry in entries:
        if entry.status is LrsStatus.PAUSED:
            click.echo(f"{entry.name} is paused: {entry.paused_reason}")
        elif entry.last_error:
            click.echo(f"{entry.name}: the last attempt failed: {entry.last_error}")
    if letters:
        click.echo("")
        click.echo(terminal.table(["DEAD", "LRS", "STATEMENT", "REASON"],
                          [[str(letter.delivery_id), letter.lrs_name, letter.statement_id,
                            (letter.reason or "")[:120]] for letter in letters]))
        click.echo("Send them again with `cadre lrs retry-dead [NAME]` once the cause is fixed.")
