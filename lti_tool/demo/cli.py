"""``cadre demo``: Cadre and a stand-in LMS in one process, wired together over real LTI 1.3."""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, current_app, request
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url
from werkzeug.serving import BaseWSGIServer, make_server

from lti_tool.db import get_engine, session_scope
from lti_tool.demo import pages
from lti_tool.demo.app import create_platform_app
from lti_tool.demo.mail_sink import MailSink, add_mail_page
from lti_tool.demo.platform import LtiPlatform, PlatformKey, ToolEndpoints
from lti_tool.demo.ralph import start_demo_lrs
from lti_tool.demo.registration import register_platform
from lti_tool.demo.seed import place_in_lms, seed_demo_course
from lti_tool.migrate import upgrade
from lti_tool.observability import RedactingRequestHandler
from lti_tool.outbox.worker import start_background_worker
from lti_tool.records.delivery import BackgroundDeliverer
from lti_tool.settings import Settings
from lti_tool.tracking.seed import seed_command

DEMO_CLIENT_ID = "cadre-demo"
DEMO_DEPLOYMENT_ID = "demo-deployment-1"
KEY_FILE_NAME = "demo_platform_key.json"
GRADEBOOK_FILE_NAME = "demo_lms_scores.json"


def demo_platform_key(instance_dir: Path) -> PlatformKey:
    """The demo LMS's signing key, made on first run and kept in instance/ (never in the repository)."""
    path = instance_dir / KEY_FILE_NAME
    if path.exists():
        return PlatformKey.from_json(path.read_text())
    key = PlatformKey.generate(kid="demo-lms-key-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(key.to_json())
    return key


def build_demo_platform(settings: Settings, key: PlatformKey) -> LtiPlatform:
    return LtiPlatform(
        settings.demo_platform_url,
        client_id=DEMO_CLIENT_ID,
        deployment_id=DEMO_DEPLOYMENT_ID,
        tool=ToolEndpoints(settings.public_url),
        key=key,
    )


def prepare_demo(app: Flask) -> LtiPlatform:
    """Migrate Cadre's database, register the demo LMS in it, seed the demo course once, and give the demo
    LMS (which keeps its course in memory) the course's activities and the scores it received before
    (idempotent: a second run changes nothing in Cadre's database)."""
    settings: Settings = app.config["CADRE"]
    upgrade(get_engine(app))
    platform = build_demo_platform(settings, demo_platform_key(Path(app.instance_path)))
    with app.app_context(), session_scope(app) as session:
        register_platform(session, platform)
    with app.app_context(), session_scope(app) as session:
        seed_demo_course(session, platform)
    with app.app_context(), session_scope(app) as session:
        place_in_lms(session, platform, platform.registration.tool.launch_url)
    platform.scores.extend(received_scores(Path(app.instance_path)))
    return platform


def received_scores(instance_dir: Path) -> list[dict[str, Any]]:
    """The scores the demo LMS received in earlier runs (its gradebook outlives a restart)."""
    path = instance_dir / GRADEBOOK_FILE_NAME
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [score for score in kept if isinstance(score, dict)] if isinstance(kept, list) else []


def keep_received_scores(platform_app: Flask, platform: LtiPlatform, instance_dir: Path) -> None:
    """Write the demo LMS's received scores to instance/ after each one it receives."""
    path = instance_dir / GRADEBOOK_FILE_NAME

    @platform_app.after_request
    def _keep(response: Any) -> Any:
        if request.method == "POST" and request.path.endswith("/scores") and response.status_code < 300:
            path.write_text(json.dumps(platform.scores, indent=1))
        return response


def exposure_problems(settings: Settings) -> list[str]:
    """Why this demo would not be private to this machine; empty when it is.

    The demo LMS lets whoever reaches it launch Cadre as anyone, administrator included, and registers
    itself in Cadre's database: it belongs on loopback addresses and on the demo's own SQLite file.
    """
    problems = []
    for name, url in (("CADRE_PUBLIC_URL", settings.public_url),
                      ("CADRE_DEMO_PLATFORM_URL", settings.demo_platform_url)):
        if not _is_loopback(urlsplit(url).hostname):
            problems.append(f"{name}={url} is not a loopback address (127.0.0.1, ::1 or localhost)")
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        problems.append("CADRE_DATABASE_URL is not a SQLite file: the demo would register its LMS there")
    return problems


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(app: Flask, url: str, name: str) -> BaseWSGIServer:
    parts = urlsplit(url)
    # Werkzeug's own request log would print each query string whole (launch states, login hints).
    server = make_server(parts.hostname or "127.0.0.1", parts.port or 80, app, threaded=True,
                         request_handler=RedactingRequestHandler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


@click.group("demo", invoke_without_command=True)
@click.option("--allow-exposed", is_flag=True,
              help="Run even on non-loopback addresses or a non-SQLite database (anyone reaching the demo "
                   "LMS can act as any user).")
@click.pass_context
@with_appcontext
def demo_command(context: click.Context, allow_exposed: bool) -> None:
    """Run Cadre and a demo LMS that launches it (one course, its designer, managers and learners);
    `cadre demo seed` fills a course at scale instead (the dashboards' data set)."""
    if context.invoked_subcommand is None:
        run_demo(allow_exposed)


demo_command.add_command(seed_command, "seed")


def run_demo(allow_exposed: bool) -> None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings: Settings = app.config["CADRE"]
    problems = exposure_problems(settings)
    if problems and not allow_exposed:
        raise click.ClickException(
            "The demo lets anyone who reaches its LMS act as any user, so it runs only on this machine:\n  - "
            + "\n  - ".join(problems)
            + "\nUnset those variables (or pass --allow-exposed if you really mean it)."
        )
    platform = prepare_demo(app)
    sink = use_mail_sink(app) if not settings.smtp_host else None
    # xAPI statements go to a Ralph LRS on loopback (unless CADRE_LRS_ENDPOINT names another), delivered
    # by a thread of this process beside the outbox worker (which holds the SQLite worker slot).
    lrs = start_demo_lrs(app)
    platform_app = create_platform_app(platform)
    keep_received_scores(platform_app, platform, Path(app.instance_path))
    if sink is not None:
        add_mail_page(platform_app, sink, pages.STYLE)
    # Both listen before anything is delivered: the seeded course's scores go to the demo LMS at once
    # rather than failing once and waiting for their retry.
    servers = [
        serve(app, settings.public_url, "cadre"),
        serve(platform_app, settings.demo_platform_url, "demo-lms"),
    ]
    # Side effects (grades to the demo LMS, e-mail, xAPI) leave through the outbox: deliver them in this
    # process, as `cadre worker` does in production.
    worker = start_background_worker(app)
    deliverer = BackgroundDeliverer(app, idle_seconds=2.0, hold_slot=False).start()
    click.echo(f"Cadre:    {settings.public_url}  (registered issuer {platform.issuer}, "
               f"client_id {platform.client_id})")
    mail_page = f"  (the e-mail Cadre sent: {settings.demo_platform_url}/mail)" if sink is not None else ""
    click.echo(f"Demo LMS: {settings.demo_platform_url}{mail_page}")
    if lrs is not None:
        click.echo(f"Demo LRS: {lrs.endpoint}  (Ralph; the statements Cadre delivered: "
                   f"{lrs.statements_file}, or `cadre lrs status`)")
    click.echo("")
    click.secho(f"Open {settings.demo_platform_url}/ and launch Cadre as anyone in the course.", bold=True)
    click.echo("Press Ctrl+C to stop.")
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        click.echo("Stopping.")
    finally:
        # The workers first: one in the middle of a delivery still reaches the demo LMS (which checks the
        # client assertion against Cadre's keys) rather than failing against servers already stopped.
        worker.stop()
        deliverer.stop()
        for server in servers:
            server.shutdown()
        if lrs is not None:
            lrs.stop()
        if sink is not None:
            sink.stop()


def use_mail_sink(app: Flask) -> MailSink:
    """Without CADRE_SMTP_HOST, the demo sends its e-mail to a sink on loopback that the demo LMS shows."""
    sink = MailSink().start()
    app.config["CADRE"] = app.config["CADRE"].model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_starttls": False, "smtp_ssl": False,
        "smtp_username": "", "smtp_from": "Cadre demo <cadre@demo.invalid>",
    })
    return sink


COMMANDS: list[click.Command] = [demo_command]
