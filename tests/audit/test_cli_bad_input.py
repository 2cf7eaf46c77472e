"""Audit of the ``cadre`` command line with bad input: every mistake ends with a message naming what to fix
and a non-zero exit status (2 for a usage error, 1 for a refused change), never a traceback, and nothing is
written."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from tests.audit.helpers import changed_tables, stored_rows
from tests.fixtures.operations import Cadre

ADD = [
    "platform", "add",
    "--name", "Acme LMS",
    "--issuer", "https://lms.acme.test",
    "--client-id", "acme-1",
    "--login-url", "https://lms.acme.test/auth",
    "--token-url", "https://lms.acme.test/token",
    "--jwks-url", "https://lms.acme.test/jwks",
]  # fmt: skip


def add_with(**changes: str) -> list[str]:
    """``cadre platform add`` with some options replaced (``client_id="x"`` replaces ``--client-id``)."""
    args = list(ADD)
    for name, value in changes.items():
        option = "--" + name.replace("_", "-")
        if option in args:
            args[args.index(option) + 1] = value
        else:
            args += [option, value]
    return args


def assert_refused(result: Result, exit_code: int, *phrases: str) -> None:
    """Refused with a message, not with a Python exception escaping the command."""
    assert result.exit_code == exit_code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)


@pytest.fixture
def registered(cadre: Cadre) -> None:
    assert cadre(*ADD, "--deployment-id", "d1").exit_code == 0


# -- platform add --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "exit_code", "message"),
    [
        ({"name": "   "}, 1, "The platform needs a name (--name)."),
        ({"client_id": "   "}, 1, "The client_id must not be empty."),
        ({"issuer": "http://["}, 2, "The issuer must be an absolute http(s) URL, got 'http://['"),
        ({"token_url": "https://"}, 2, "The token URL must be an absolute http(s) URL, got 'https://'"),
        ({"jwks_url": ""}, 2, "Missing option(s) --jwks-url"),
        ({"family": "blackboard"}, 2, "'blackboard' is not one of 'moodle', 'canvas', 'other'"),
        ({"preset": "sakai"}, 2, "'sakai' is not one of 'moodle', 'canvas'"),
        ({"deployment_id": "d" * 256}, 1, "A deployment id must be at most 255 characters."),
    ],
    ids=["blank-name", "blank-client-id", "unparsable-issuer", "url-without-host", "empty-jwks-url",
         "unknown-family", "unknown-preset", "deployment-id-too-long"],
)
def test_platform_add_with_a_bad_value_names_it_and_writes_nothing(
    changes: dict[str, str], exit_code: int, message: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    assert_refused(cadre(*add_with(**changes)), exit_code, message)
    assert changed_tables(before, stored_rows(app)) == []


def test_a_canvas_environment_that_does_not_exist_is_named(cadre: Cadre, app: Flask) -> None:
    before = stored_rows(app)
    result = cadre("platform", "add", "--preset", "canvas", "--env", "staging", "--client-id", "1")
    assert_refused(result, 2, "'staging' is not one of 'prod', 'beta', 'test'")
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("name", "n" * 201),
        ("issuer", "https://lms.test/" + "i" * 500),
        ("client_id", "c" * 256),
        ("audience", "https://lms.test/" + "a" * 1000),
        ("login_url", "https://lms.test/" + "l" * 1000),
    ],
    ids=["name", "issuer", "client-id", "audience", "login-url"],
)
def test_platform_add_refuses_a_value_longer_than_cadre_keeps_naming_the_limit(
    option: str, value: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    result = cadre(*add_with(**{option: value}))
    assert result.exit_code in {1, 2}, (result.output, result.exception)
    assert_refused(result, result.exit_code, "at most")
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize(
    "args",
    [
        add_with(name="Acme\x00LMS"),
        add_with(deployment_id="d\x001"),
        ["platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "acme-1",
         "d\x002"],
    ],
    ids=["name", "deployment-id-on-add", "deployment-id-on-add-deployment"],
)
def test_a_nul_byte_in_a_platform_value_is_refused_with_a_message(
    args: list[str], cadre: Cadre, app: Flask
) -> None:
    if args[1] == "add-deployment":
        assert cadre(*ADD).exit_code == 0
    before = stored_rows(app)
    result = cadre(*args)
    assert_refused(result, result.exit_code)
    assert result.exit_code in {1, 2}
    assert changed_tables(before, stored_rows(app)) == []


# -- platform add-deployment, show, remove ------------------------------------------------------------------


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize(
    ("deployment_id", "message"),
    [
        ("   ", "A deployment id must not be empty."),
        ("d" * 256, "A deployment id must be at most 255 characters."),
        ("d1", "Deployment d1 is already registered for platform"),
        (" d1 ", "Deployment d1 is already registered for platform"),
    ],
    ids=["blank", "too-long", "duplicate", "duplicate-with-spaces"],
)
def test_add_deployment_with_a_bad_id_names_the_problem_and_writes_nothing(
    deployment_id: str, message: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    result = cadre(
        "platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "acme-1",
        deployment_id,
    )
    assert_refused(result, 1, message)
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.usefixtures("registered")
def test_add_deployment_without_its_argument_says_what_is_missing(cadre: Cadre, app: Flask) -> None:
    before = stored_rows(app)
    result = cadre("platform", "add-deployment", "--issuer", "https://lms.acme.test", "--client-id", "acme-1")
    assert_refused(result, 2, "Missing argument 'DEPLOYMENT_ID'")
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("command", ["show", "remove"])
def test_show_and_remove_refuse_a_platform_id_that_is_not_a_number(
    command: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    for value in ("abc", "1.5", "¹"):
        assert_refused(
            cadre("platform", command, value), 2,
            f"Invalid value for '[PLATFORM_ID]': '{value}' is not a valid integer.",
        )
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.usefixtures("registered")
def test_remove_with_half_a_selector_or_two_selectors_removes_nothing(cadre: Cadre, app: Flask) -> None:
    before = stored_rows(app)
    assert_refused(cadre("platform", "remove", "--issuer", "https://lms.acme.test", "--yes"), 2,
                   "Give a platform ID, or both --issuer and --client-id (see `cadre platform list`).")
    assert_refused(cadre("platform", "remove", "1", "--client-id", "acme-1", "--yes"), 2,
                   "Give either a platform ID or --issuer and --client-id, not both.")
    assert_refused(cadre("platform", "remove", "--issuer", "https://lms.acme.test", "--client-id",
                         "ACME-1", "--yes"), 1,
                   "No platform with issuer https://lms.acme.test and client_id ACME-1.")
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("command", ["show", "remove"])
def test_show_and_remove_of_an_id_beyond_the_database_range_say_there_is_no_such_platform(
    command: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    options = ["--yes"] if command == "remove" else []
    result = cadre("platform", command, str(10**20), *options)
    assert_refused(result, 1, f"No platform with id {10**20}.")
    assert changed_tables(before, stored_rows(app)) == []


# -- the other commands -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["platform", "nope"], "No such command 'nope'."),
        (["keys", "rotate", "now"], "Got unexpected extra argument (now)"),
        (["keys", "list", "--all"], "No such option: --all"),
        (["db", "upgrade", "head"], "Got unexpected extra argument (head)"),
        (["platform", "list", "extra"], "Got unexpected extra argument (extra)"),
        (["serve", "--workers", "0"], "Invalid value for '--workers': 0 is not in the range x>=1."),
        (["serve", "--workers", "many"], "Invalid value for '--workers': 'many' is not a valid integer"),
        (["serve", "--config", "/nowhere/gunicorn.py"], "File '/nowhere/gunicorn.py' does not exist."),
        (["demo", "--expose"], "No such option: --expose"),
    ],
    ids=["unknown-command", "rotate-extra", "list-unknown-option", "upgrade-extra", "platform-list-extra",
         "serve-zero-workers", "serve-workers-not-a-number", "serve-missing-config", "demo-unknown-option"],
)
def test_a_usage_mistake_is_named_exits_2_and_writes_nothing(
    args: list[str], message: str, cadre: Cadre, app: Flask
) -> None:
    before = stored_rows(app)
    assert_refused(cadre(*args), 2, message)
    assert changed_tables(before, stored_rows(app)) == []


def test_invite_with_dynamic_registration_turned_off_says_what_to_use(
    cadre: Cadre, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.config["CADRE"], "dynamic_registration", "off")
    before = stored_rows(app)
    assert_refused(
        cadre("platform", "invite"), 1,
        "Dynamic registration is turned off (CADRE_DYNAMIC_REGISTRATION=off); use `cadre platform add`.",
    )
    assert changed_tables(before, stored_rows(app)) == []
