"""`cadre platform …`: registrations written whole or not at all, with clear messages on bad input."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.models import AuditEntry, Deployment, Platform
from tests.fixtures.operations import Cadre, audit_actions

MOODLE = "https://moodle.example.edu"
MANUAL = [
    "platform",
    "add",
    "--name",
    "Acme LMS",
    "--issuer",
    "https://lms.acme.test",
    "--client-id",
    "acme-1",
    "--login-url",
    "https://lms.acme.test/auth",
    "--token-url",
    "https://lms.acme.test/token",
    "--jwks-url",
    "https://lms.acme.test/jwks",
]


def platforms(app: Flask) -> list[Platform]:
    with session_scope(app) as session:
        rows = list(session.scalars(select(Platform).order_by(Platform.id)))
        for row in rows:
            _ = row.deployments
        return rows


def count(app: Flask, model: type) -> int:
    with session_scope(app) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_add_with_every_option(cadre: Cadre, app: Flask) -> None:
    result = cadre(
        *MANUAL,
        "--audience",
        "https://lms.acme.test/aud",
        "--deployment-id",
        "d1",
        "--deployment-id",
        "d2",
        "--deployment-id",
        "d1",
        "--family",
        "other",
    )
    assert result.exit_code == 0, result.output
    assert "Added platform" in result.output and "Acme LMS" in result.output
    [platform] = platforms(app)
    assert (platform.issuer, platform.client_id, platform.auth_audience, platform.product_family) == (
        "https://lms.acme.test",
        "acme-1",
        "https://lms.acme.test/aud",
        "other",
    )
    assert [d.deployment_id for d in platform.deployments] == ["d1", "d2"]
    assert audit_actions(app) == [("platform.add", "cli")]
    with session_scope(app) as session:
        details = session.scalars(select(AuditEntry)).one().details
    assert details["deployment_ids"] == ["d1", "d2"] and details["client_id"] == "acme-1"


def test_moodle_preset_fills_in_the_endpoints(cadre: Cadre, app: Flask) -> None:
    result = cadre(
        "platform",
        "add",
        "--preset",
        "moodle",
        "--site",
        MOODLE + "/",
        "--client-id",
        "m1",
        "--deployment-id",
        "3",
    )
    assert result.exit_code == 0, result.output
    [platform] = platforms(app)
    assert platform.name == "Moodle (moodle.example.edu)"
    assert platform.issuer == MOODLE
    assert platform.auth_login_url == f"{MOODLE}/mod/lti/auth.php"
    assert platform.auth_token_url == f"{MOODLE}/mod/lti/token.php"
    assert platform.key_set_url == f"{MOODLE}/mod/lti/certs.php"
    assert platform.product_family == "moodle"


def test_canvas_preset_for_each_environment(cadre: Cadre, app: Flask) -> None:
    assert (
        cadre(
            "platform",
            "add",
            "--preset",
            "canvas",
            "--client-id",
            "10000000000001",
            "--deployment-id",
            "12:abc",
        ).exit_code
        == 0
    )
    assert (
        cadre(
            "platform", "add", "--preset", "canvas", "--env", "beta", "--client-id", "10000000000001"
        ).exit_code
        == 0
    )
    prod, beta = platforms(app)
    assert (prod.issuer, prod.auth_login_url, prod.auth_token_url, prod.key_set_url) == (
        "https://canvas.instructure.com",
        "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "https://sso.canvaslms.com/login/oauth2/token",
        "https://sso.canvaslms.com/api/lti/security/jwks",
    )
    assert beta.issuer == "https://canvas.beta.instructure.com"
    assert beta.key_set_url == "https://sso.beta.canvaslms.com/api/lti/security/jwks"
    assert prod.name == "Canvas (developer key 10000000000001)" and prod.product_family == "canvas"


def test_missing_options_are_named(cadre: Cadre, app: Flask) -> None:
    no_client = cadre("platform", "add", "--preset", "canvas")
    assert no_client.exit_code == 2 and "Missing option '--client-id'" in no_client.output

    no_urls = cadre("platform", "add", "--name", "X", "--client-id", "c", "--issuer", "https://x.test")
    assert no_urls.exit_code == 2
    assert "Missing option(s) --login-url, --token-url, --jwks-url" in no_urls.output

    no_name = cadre(*[arg for arg in MANUAL if arg not in {"--name", "Acme LMS"}])
    assert no_name.exit_code == 2 and "Missing option --name" in no_name.output

    no_site = cadre("platform", "add", "--preset", "moodle", "--client-id", "c")
    assert no_site.exit_code == 2 and "--preset moodle needs --site" in no_site.output
    assert count(app, Platform) == 0


def test_options_that_do_not_go_together(cadre: Cadre) -> None:
    site_for_canvas = cadre("platform", "add", "--preset", "canvas", "--site", MOODLE, "--client-id", "c")
    assert site_for_canvas.exit_code == 2 and "--site is for --preset moodle" in site_for_canvas.output
    env_for_moodle = cadre(
        "platform", "add", "--preset", "moodle", "--site", MOODLE, "--env", "beta", "--client-id", "c"
    )
    assert env_for_moodle.exit_code == 2 and "--env is for --preset canvas" in env_for_moodle.output
    unknown_family = cadre(*MANUAL, "--family", "blackboard")
    assert unknown_family.exit_code == 2 and "'blackboard' is not one of" in unknown_family.output


def test_bad_urls_are_refused(cadre: Cadre, app: Flask) -> None:
    for option, value in [
        ("--login-url", "ftp://lms.acme.test/auth"),
        ("--jwks-url", "lms.acme.test/jwks"),
        ("--issuer", "javascript:alert(1)"),
    ]:
        args = list(MANUAL)
        args[args.index(option) + 1] = value
        result = cadre(*args)
        assert result.exit_code == 2, result.output
        assert "must be an absolute http(s) URL" in result.output and repr(value) in result.output
    bad_site = cadre(
        "platform", "add", "--preset", "moodle", "--site", "moodle.example.edu", "--client-id", "c"
    )
    assert bad_site.exit_code == 2 and "--site must be an absolute http(s) URL" in bad_site.output
    assert count(app, Platform) == 0 and audit_actions(app) == []


def test_duplicate_issuer_and_client_id_is_refused(cadre: Cadre, app: Flask) -> None:
    assert cadre(*MANUAL).exit_code == 0
    again = cadre(*MANUAL, "--deployment-id", "new")
    assert again.exit_code == 1
    assert "already registered" in again.output and "cadre platform add-deployment" in again.output
    assert count(app, Platform) == 1 and count(app, Deployment) == 0
    # The same issuer with another client_id is another customer (Canvas): allowed.
    other = list(MANUAL)
    other[other.index("--client-id") + 1] = "acme-2"
    assert cadre(*other).exit_code == 0


def test_empty_deployment_id_writes_nothing(cadre: Cadre, app: Flask) -> None:
    result = cadre(*MANUAL, "--deployment-id", "ok", "--deployment-id", " ")
    assert result.exit_code == 1 and "A deployment id must not be empty" in result.output
    assert count(app, Platform) == 0 and count(app, Deployment) == 0 and audit_actions(app) == []


def test_add_deployment(cadre: Cadre, app: Flask) -> None:
    cadre(*MANUAL, "--deployment-id", "d1")
    result = cadre(
        "platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "acme-1", "d2"
    )
    assert result.exit_code == 0, result.output
    assert "Added deployment d2" in result.output and "Deployments: d1, d2." in result.output
    duplicate = cadre(
        "platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "acme-1", "d2"
    )
    assert duplicate.exit_code == 1 and "Deployment d2 is already registered" in duplicate.output
    unknown = cadre(
        "platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "nope", "d3"
    )
    assert unknown.exit_code == 1 and "No platform with issuer https://lms.acme.test and client_id nope" in (
        unknown.output
    )
    missing = cadre("platform", "add-deployment", "--issuer", "https://lms.acme.test", "d3")
    assert missing.exit_code == 2 and "Missing option '--client-id'" in missing.output
    assert [d.deployment_id for d in platforms(app)[0].deployments] == ["d1", "d2"]
    assert audit_actions(app) == [("platform.add", "cli"), ("platform.add_deployment", "cli")]


def test_list(cadre: Cadre) -> None:
    empty = cadre("platform", "list")
    assert empty.exit_code == 0 and "No platform is registered yet" in empty.output
    cadre(*MANUAL, "--deployment-id", "d1", "--deployment-id", "d2")
    cadre("platform", "add", "--preset", "canvas", "--client-id", "10000000000001")
    lines = cadre("platform", "list").output.splitlines()
    assert lines[0].split() == ["ID", "NAME", "FAMILY", "ISSUER", "CLIENT", "ID", "DEPLOYMENTS"]
    assert "Acme LMS" in lines[2] and "https://lms.acme.test" in lines[2] and "d1, d2" in lines[2]
    assert "https://canvas.instructure.com" in lines[3] and "(none)" in lines[3]


def test_show_by_id_and_by_issuer(cadre: Cadre, app: Flask) -> None:
    cadre(*MANUAL, "--deployment-id", "d1")
    platform_id = platforms(app)[0].id
    by_id = cadre("platform", "show", str(platform_id))
    by_issuer = cadre("platform", "show", "--issuer", "https://lms.acme.test", "--client-id", "acme-1")
    assert by_id.exit_code == 0 and by_id.output == by_issuer.output
    assert "JWKS URL        https://lms.acme.test/jwks" in by_id.output
    assert "Deployments     d1" in by_id.output

    unknown = cadre("platform", "show", str(platform_id + 100))
    assert unknown.exit_code == 1 and f"No platform with id {platform_id + 100}" in unknown.output
    neither = cadre("platform", "show")
    assert neither.exit_code == 2 and "Give a platform ID, or both --issuer and --client-id" in neither.output
    both = cadre("platform", "show", str(platform_id), "--issuer", "https://lms.acme.test")
    assert both.exit_code == 2 and "not both" in both.output


def test_remove_asks_for_confirmation(cadre: Cadre, app: Flask) -> None:
    cadre(*MANUAL, "--deployment-id", "d1")
    platform_id = platforms(app)[0].id

    declined = cadre("platform", "remove", str(platform_id), input="n\n")
    assert declined.exit_code == 1
    assert "Remove platform" in declined.output and "1 deployment(s)" in declined.output
    assert "Aborted!" in declined.output
    no_answer = cadre("platform", "remove", str(platform_id))
    assert no_answer.exit_code == 1 and "Aborted!" in no_answer.output
    assert count(app, Platform) == 1 and audit_actions(app) == [("platform.add", "cli")]

    confirmed = cadre(
        "platform", "remove", "--issuer", "https://lms.acme.test", "--client-id", "acme-1", input="y\n"
    )
    assert confirmed.exit_code == 0 and "Removed platform" in confirmed.output
    assert count(app, Platform) == 0 and count(app, Deployment) == 0
    assert audit_actions(app)[-1] == ("platform.remove", "cli")


def test_remove_with_yes_and_unknown_platform(cadre: Cadre, app: Flask) -> None:
    cadre(*MANUAL)
    platform_id = platforms(app)[0].id
    assert cadre("platform", "remove", str(platform_id), "--yes").exit_code == 0
    again = cadre("platform", "remove", str(platform_id), "--yes")
    assert again.exit_code == 1 and f"No platform with id {platform_id}" in again.output


def test_config_prints_what_to_paste(cadre: Cadre, app: Flask) -> None:
    base = app.config["CADRE"].public_url
    result = cadre("platform", "config")
    assert result.exit_code == 0
    out = result.output
    assert "run `cadre platform invite` for a single-use registration URL" in out
    for line in [
        f"Tool URL  {base}/lti/launch",
        "LTI version  LTI 1.3",
        "Public key type  Keyset URL",
        f"Public keyset  {base}/lti/jwks",
        f"Initiate login URL  {base}/lti/login",
        f"Redirection URI(s)  {base}/lti/launch",
        f"Content Selection URL  {base}/lti/launch",
        "Custom parameters  (none)",
        f"JSON URL  {base}/lti/config/canvas.json",
    ]:
        label, value = line.split("  ", 1)
        assert any(
            row.strip().startswith(label) and row.strip().endswith(value) for row in out.splitlines()
        ), line
    assert "cadre platform add --preset moodle --site <Platform ID>" in out
    assert "cadre platform add --preset canvas --client-id <developer key id>" in out
