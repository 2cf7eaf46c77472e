"""``cadre platform …``, ``cadre keys …`` and ``cadre serve``.

Each command runs in one transaction (``session_scope``): it is written whole, with its audit entry, or not
at all. Bad input ends with a message naming the option and a non-zero exit status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import terminal
from lti_tool.db import get_engine, session_scope, utcnow
from lti_tool.lti import keys as tool_keys
from lti_tool.migrate import PENDING_MIGRATIONS_MESSAGE
from lti_tool.models import Platform, ToolKey
from lti_tool.ops import audit, invitations
from lti_tool.ops.migration_guard import report_pending_migrations
from lti_tool.ops.platforms import (
    CANVAS_ENVIRONMENTS,
    InvalidUrl,
    PlatformEndpoints,
    PlatformRegistrationError,
    add_deployment,
    add_platform,
    canvas_endpoints,
    find_platform,
    list_platforms,
    moodle_endpoints,
    remove_platform,
)
from lti_tool.ops.serve import CadreServer, default_config_path
from lti_tool.ops.tool_configuration import ToolUrls, moodle_manual_settings
from lti_tool.settings import Settings, get_settings

COMMANDS: list[click.Command] = []


@contextmanager
def _transaction() -> Iterator[Session]:
    """One transaction for the command; an administrator's mistake becomes a clear message and no write."""
    try:
        with session_scope(current_app) as session:
            yield session
    except InvalidUrl as error:
        raise click.UsageError(str(error)) from None
    except PlatformRegistrationError as error:
        raise click.ClickException(str(error)) from None


def _describe(platform: Platform) -> str:
    deployments = ", ".join(d.deployment_id for d in platform.deployments) or "(none)"
    fields = [
        ("ID", str(platform.id)),
        ("Name", platform.name),
        ("Family", platform.product_family or "-"),
        ("Issuer", platform.issuer),
        ("Client ID", platform.client_id),
        ("Login URL", platform.auth_login_url),
        ("Token URL", platform.auth_token_url),
        ("JWKS URL", platform.key_set_url),
        ("Token audience", platform.auth_audience or "(the token URL)"),
        ("Deployments", deployments),
        ("Added", f"{platform.created_at:%Y-%m-%d %H:%M} UTC"),
    ]
    width = max(len(label) for label, _ in fields)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in fields)


def _platform_selector(
    platform_id: int | None, issuer: str | None, client_id: str | None
) -> dict[str, object]:
    if platform_id is not None and (issuer or client_id):
        raise click.UsageError("Give either a platform ID or --issuer and --client-id, not both.")
    if platform_id is None and not (issuer and client_id):
        raise click.UsageError(
            "Give a platform ID, or both --issuer and --client-id (see `cadre platform list`)."
        )
    return {"platform_id": platform_id, "issuer": issuer, "client_id": client_id}


# --- cadre platform -------------------------------------------------------------------------------------

platform_group = AppGroup("platform", help="Register the LMSs (LTI platforms) that launch Cadre.")
COMMANDS.append(platform_group)


@platform_group.command("add")
@click.option("--name", help="A label for administrators, e.g. 'Acme Moodle'.")
@click.option("--issuer", help="The platform's issuer (Moodle: the site URL).")
@click.option("--client-id", required=True, help="The client ID the platform gave Cadre.")
@click.option("--login-url", help="The platform's OIDC authentication request URL.")
@click.option("--token-url", help="The platform's OAuth2 access token URL.")
@click.option("--jwks-url", help="The platform's public keyset URL.")
@click.option("--audience", help="Audience of token requests, when it is not the token URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="A deployment ID (repeatable).")
@click.option("--family", type=click.Choice(["moodle", "canvas", "other"]), help="The kind of LMS.")
@click.option(
    "--preset",
    type=click.Choice(["moodle", "canvas"]),
    help="Fill in the well-known endpoints of Moodle (with --site) or Instructure's Canvas.",
)
@click.option("--site", help="With --preset moodle: the Moodle site URL, e.g. https://moodle.example.edu.")
@click.option(
    "--env",
    "canvas_env",
    type=click.Choice(list(CANVAS_ENVIRONMENTS)),
    help="With --preset canvas: prod (default), beta or test.",
)
def platform_add(
    name: str | None,
    issuer: str | None,
    client_id: str,
    login_url: str | None,
    token_url: str | None,
    jwks_url: str | None,
    audience: str | None,
    deployment_ids: tuple[str, ...],
    family: str | None,
    preset: str | None,
    site: str | None,
    canvas_env: str | None,
) -> None:
    """Register a platform (issuer + client ID) and its deployments."""
    preset_endpoints = _preset_endpoints(preset, site, canvas_env)
    endpoints = PlatformEndpoints(
        issuer=issuer or (preset_endpoints.issuer if preset_endpoints else ""),
        login_url=login_url or (preset_endpoints.login_url if preset_endpoints else ""),
        token_url=token_url or (preset_endpoints.token_url if preset_endpoints else ""),
        jwks_url=jwks_url or (preset_endpoints.jwks_url if preset_endpoints else ""),
        audience=audience,
    )
    missing = [
        option
        for option, value in (
            ("--issuer", endpoints.issuer),
            ("--login-url", endpoints.login_url),
            ("--token-url", endpoints.token_url),
            ("--jwks-url", endpoints.jwks_url),
        )
        if not value
    ]
    if missing:
        raise click.UsageError(
            f"Missing option(s) {', '.join(missing)}; give them, or use --preset moodle --site URL "
            "or --preset canvas."
        )
    if not name:
        if preset is None:
            raise click.UsageError("Missing option --name.")
        name = _preset_name(preset, endpoints.issuer, client_id, canvas_env)
    with _transaction() as session:
        platform = add_platform(
            session,
            name=name,
            client_id=client_id,
            endpoints=endpoints,
            deployment_ids=deployment_ids,
            product_family=family or preset,
            actor_label=audit.CLI_ACTOR,
        )
        report = f"Added platform {platform.id}: {platform.name}\n\n{_describe(platform)}"
        if not platform.deployments:
            report += (
                "\n\nNo deployment yet: add one with `cadre platform add-deployment "
                f"--issuer {platform.issuer} --client-id {platform.client_id} DEPLOYMENT_ID`."
            )
    click.echo(report)


def _preset_endpoints(
    preset: str | None, site: str | None, canvas_env: str | None
) -> PlatformEndpoints | None:
    if preset is None:
        if site or canvas_env:
            raise click.UsageError("--site and --env go with --preset moodle and --preset canvas.")
        return None
    if preset == "moodle":
        if canvas_env:
            raise click.UsageError("--env is for --preset canvas; Moodle is identified by --site.")
        if not site:
            raise click.UsageError(
                "--preset moodle needs --site, the Moodle site URL (e.g. https://moodle.example.edu)."
            )
        try:
            return moodle_endpoints(site)
        except InvalidUrl as error:
            raise click.UsageError(str(error)) from None
    if site:
        raise click.UsageError(
            "--site is for --preset moodle. For a self-hosted Canvas, give --issuer, "
            "--login-url, --token-url and --jwks-url."
        )
    return canvas_endpoints(canvas_env or "prod")


def _preset_name(preset: str, issuer: str, client_id: str, canvas_env: str | None) -> str:
    if preset == "moodle":
        return f"Moodle ({urlsplit(issuer).netloc})"
    environment = f" {canvas_env}" if canvas_env and canvas_env != "prod" else ""
    return f"Canvas{environment} (developer key {client_id})"


@platform_group.command("add-deployment")
@click.option("--issuer", required=True, help="The platform's issuer.")
@click.option("--client-id", required=True, help="The platform's client ID for Cadre.")
@click.argument("deployment_id")
def platform_add_deployment(issuer: str, client_id: str, deployment_id: str) -> None:
    """Add a deployment (Moodle: the tool's type id; Canvas: the app's deployment ID) to a platform."""
    with _transaction() as session:
        platform = find_platform(session, issuer=issuer, client_id=client_id)
        add_deployment(session, platform, deployment_id, actor_label=audit.CLI_ACTOR)
        deployments = ", ".join(d.deployment_id for d in platform.deployments)
        label = f"{platform.id} ({platform.name})"
    click.echo(f"Added deployment {deployment_id.strip()} to platform {label}. Deployments: {deployments}.")


@platform_group.command("list")
def platform_list() -> None:
    """Every registered platform."""
    with _transaction() as session:
        platforms = list_platforms(session)
        rows = [
            [
                str(p.id),
                p.name,
                p.product_family or "-",
                p.issuer,
                p.client_id,
                ", ".join(d.deployment_id for d in p.deployments) or "(none)",
            ]
            for p in platforms
        ]
    if not rows:
        click.echo(
            "No platform is registered yet. Add one with `cadre platform add` "
            "(see `cadre platform config` for what to enter in the LMS)."
        )
        return
    click.echo(terminal.table(["ID", "NAME", "FAMILY", "ISSUER", "CLIENT ID", "DEPLOYMENTS"], rows))


@platform_group.command("show")
@click.argument("platform_id", type=int, required=False)
@click.option("--issuer", help="Select the platform by issuer (with --client-id).")
@click.option("--client-id", help="Select the platform by client ID (with --issuer).")
def platform_show(platform_id: int | None, issuer: str | None, client_id: str | None) -> None:
    """One platform's registration, by ID or by --issuer and --client-id."""
    selector = _platform_selector(platform_id, issuer, client_id)
    with _transaction() as session:
        description = _describe(find_platform(session, **selector))  # type: ignore[arg-type]
    click.echo(description)


@platform_group.command("remove")
@click.argument("platform_id", type=int, required=False)
@click.option("--issuer", help="Select the platform by issuer (with --client-id).")
@click.option("--client-id", help="Select the platform by client ID (with --issuer).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def platform_remove(platform_id: int | None, issuer: str | None, client_id: str | None, yes: bool) -> None:
    """Remove a platform, with its deployments and every user, course and record that came from it."""
    selector = _platform_selector(platform_id, issuer, client_id)
    with _transaction() as session:
        platform = find_platform(session, **selector)  # type: ignore[arg-type]
        label = (
            f"platform {platform.id} ({platform.name}, issuer {platform.issuer}, "
            f"client_id {platform.client_id})"
        )
        if not yes:
            click.confirm(
                f"Remove {label} and its {len(platform.deployments)} deployment(s)? Its users, courses and "
                "their records in Cadre are deleted too.",
                abort=True,
            )
        remove_platform(session, platform, actor_label=audit.CLI_ACTOR)
    click.echo(f"Removed {label}.")


@platform_group.command("config")
def platform_config() -> None:
    """What to enter in Moodle and Canvas to connect them to this Cadre."""
    settings = get_settings()
    urls = ToolUrls.from_settings(settings)
    fields = moodle_manual_settings(settings)
    width = max(len(label) for label, _ in fields)
    click.echo("Moodle: Site administration > Plugins > Activity modules > External tool > Manage tools")
    click.echo(
        '\nEither paste a registration URL into "Tool URL" and press "Add LTI Advantage" (dynamic '
        "registration):"
    )
    click.echo(f"  {_registration_url(settings, urls)}")
    click.echo('\nOr choose "configure a tool manually" and enter:')
    for label, value in fields:
        click.echo(f"  {label.ljust(width)}  {value}")
    click.echo('\n  Then open the tool\'s "View configuration details" and register it in Cadre:')
    click.echo(
        "  cadre platform add --preset moodle --site <Platform ID> --client-id <Client ID> "
        "--deployment-id <Deployment ID>"
    )
    click.echo('\nCanvas: Admin > Developer Keys > + Developer Key > LTI Key, Method "Enter URL":')
    click.echo(f"  JSON URL  {urls.canvas_configuration}")
    click.echo("  Save, switch the key ON, install it (Settings > Apps > + App > By Client ID), then:")
    click.echo(
        "  cadre platform add --preset canvas --client-id <developer key id> --deployment-id <deployment id>"
    )


def _registration_url(settings: Settings, urls: ToolUrls) -> str:
    if settings.dynamic_registration == "off":
        return "(turned off: CADRE_DYNAMIC_REGISTRATION=off)"
    if settings.dynamic_registration == "open":
        return urls.dynamic_registration
    return "run `cadre platform invite` for a single-use registration URL"


@platform_group.command("invite")
def platform_invite() -> None:
    """Print a single-use URL that lets an LMS administrator register Cadre by dynamic registration."""
    settings = get_settings()
    if settings.dynamic_registration == "off":
        raise click.ClickException(
            "Dynamic registration is turned off (CADRE_DYNAMIC_REGISTRATION=off); use `cadre platform add`."
        )
    url = ToolUrls.from_settings(settings).dynamic_registration
    if settings.dynamic_registration == "invite":
        url += "?" + urlencode({"invite": invitations.issue(current_app.config["SECRET_KEY"])})
    click.echo(url)
    click.echo(
        f"Valid for {settings.registration_invite_hours} hours, for one registration. Moodle: Site "
        'administration > Plugins > Activity modules > External tool > Manage tools > "Tool URL".',
        err=True,
    )


# --- cadre keys -----------------------------------------------------------------------------------------

keys_group = AppGroup("keys", help="Cadre's signing keys (published at /lti/jwks).")
COMMANDS.append(keys_group)


def _key_status(key: ToolKey, grace: timedelta) -> str:
    if key.retired_at is None:
        return "signing"
    published_until = key.retired_at + grace
    if published_until > utcnow():
        return f"retired, published until {published_until:%Y-%m-%d %H:%M} UTC"
    return "retired, no longer published"


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Make a new signing key; the old ones stay published for CADRE_KEY_GRACE_DAYS."""
    grace = timedelta(days=get_settings().key_grace_days)
    with _transaction() as session:
        new_key = tool_keys.rotate(session)
        still_published = [key for key in tool_keys.published_keys(session, grace) if key.id != new_key.id]
        audit.record(
            session,
            "keys.rotate",
            audit.CLI_ACTOR,
            kid=new_key.kid,
            retired_kids=[key.kid for key in still_published],
        )
        lines = [f"  {key.kid}  {_key_status(key, grace)}" for key in still_published]
    click.echo(f"New signing key: {new_key.kid}")
    if lines:
        click.echo("Still published, so platforms can verify what they signed before the rotation:")
        click.echo("\n".join(lines))
    else:
        click.echo("No older key is published.")


@keys_group.command("list")
def keys_list() -> None:
    """Every key, newest first, with what it is used for."""
    grace = timedelta(days=get_settings().key_grace_days)
    with _transaction() as session:
        keys = session.scalars(select(ToolKey).order_by(ToolKey.id.desc())).all()
        rows = [[key.kid, f"{key.created_at:%Y-%m-%d %H:%M} UTC", _key_status(key, grace)] for key in keys]
    if not rows:
        click.echo("No key yet: Cadre makes one on first use, or run `cadre keys rotate`.")
        return
    click.echo(terminal.table(["KID", "CREATED", "STATUS"], rows))


# --- cadre serve ----------------------------------------------------------------------------------------


@click.command("serve")
@click.option("--bind", help="host:port to listen on (default: CADRE_BIND, else 127.0.0.1:8000).")
@click.option("--workers", type=click.IntRange(min=1), help="Worker processes (default: CADRE_WORKERS).")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gunicorn configuration file (default: config/gunicorn.conf.py).",
)
@with_appcontext
def serve(bind: str | None, workers: int | None, config_path: Path | None) -> None:
    """Serve Cadre with gunicorn (put HTTPS in front of it)."""
    if report_pending_migrations(current_app):
        click.secho(
            PENDING_MIGRATIONS_MESSAGE + "; until then every page answers 503.", err=True, fg="yellow"
        )
    config_path = config_path or default_config_path()
    options: dict[str, object] = {}
    if config_path is None:
        server_settings = Settings()
        options.update(
            bind=[server_settings.bind],
            workers=server_settings.workers,
            forwarded_allow_ips=server_settings.forwarded_allow_ips,
            accesslog=None,
            control_socket_disable=True,
        )
    if bind:
        options["bind"] = [bind]
    if workers:
        options["workers"] = workers
    # Workers build their own app and engine; drop the connections this process opened before forking.
    get_engine(current_app).dispose()
    CadreServer(get_settings(), options, config_path).run()


COMMANDS.append(serve)
