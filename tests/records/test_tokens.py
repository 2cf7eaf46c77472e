"""API tokens: only a hash kept, shown once, scoped, revoked, their use noted; ``cadre api-token``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.models import AuditEntry
from lti_tool.permissions import (
    RECORDS_ADMINS_ONLY,
    Actor,
    ApiCaller,
    may_administer_records,
    may_pull_statements,
    visible_statement_platforms,
)
from lti_tool.records.tokens import (
    LAST_USED_GRANULARITY,
    TOKEN_PREFIX,
    ApiToken,
    TokenError,
    authenticate,
    create_token,
    credential_from_header,
    hash_of,
    revoke_token,
    tokens,
)
from lti_tool.states import CadreRole
from tests.records.pull_data import make_platform


@pytest.fixture
def in_app(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def test_a_token_is_random_and_only_its_hash_is_kept(db: Session) -> None:
    platform = make_platform(db)
    first = create_token(db, name="  Power   BI ", platform_id=platform.id, created_by="test")
    second = create_token(db, name="Power BI", platform_id=platform.id, created_by="test")
    assert first.secret != second.secret and first.secret.startswith(TOKEN_PREFIX) and len(first.secret) > 40
    row = db.get(ApiToken, first.token.id)
    assert row.token_hash == hash_of(first.secret) and first.secret not in (row.hint, row.token_hash)
    assert row.name == "Power BI" and row.hint == first.secret[:len(row.hint)] and len(row.hint) < 16
    assert row.scope_label == platform.issuer


@pytest.mark.parametrize(("name", "platform_id", "words"), [
    ("", None, "name"), ("   ", None, "name"), ("x" * 201, None, "longer"), ("ok", 987654, "no platform"),
])
def test_a_token_needs_a_name_and_a_real_platform(db: Session, name: str, platform_id: int | None,
                                                  words: str) -> None:
    with pytest.raises(TokenError, match=words):
        create_token(db, name=name, platform_id=platform_id, created_by="test")


def test_authentication_finds_live_tokens_only_and_notes_use_once_a_minute(db: Session) -> None:
    made = create_token(db, name="sync", platform_id=None, created_by="test")
    assert authenticate(db, made.secret).id == made.token.id
    db.expire_all()
    first_use = db.get(ApiToken, made.token.id).last_used_at
    assert first_use is not None
    authenticate(db, made.secret)
    db.expire_all()
    assert db.get(ApiToken, made.token.id).last_used_at == first_use  # within the minute: not written again
    db.execute(update(ApiToken).values(last_used_at=first_use - LAST_USED_GRANULARITY - timedelta(seconds=1)))
    authenticate(db, made.secret)
    db.expire_all()
    assert db.get(ApiToken, made.token.id).last_used_at > first_use - LAST_USED_GRANULARITY
    for wrong in ("", "cadre_", made.secret + "x", made.secret[len(TOKEN_PREFIX):], "cadre_" + "x" * 300):
        assert authenticate(db, wrong) is None
    revoke_token(db, made.token.id, revoked_by="test")
    assert authenticate(db, made.secret) is None


def test_a_platform_admin_revokes_only_their_platforms_tokens(db: Session) -> None:
    mine, theirs = make_platform(db, "https://mine.example"), make_platform(db, "https://theirs.example")
    other = create_token(db, name="theirs", platform_id=theirs.id, created_by="test")
    with pytest.raises(TokenError, match="no API token"):
        revoke_token(db, other.token.id, revoked_by="admin", platform_id=mine.id, any_platform=False)
    assert db.get(ApiToken, other.token.id).revoked_at is None
    assert [t.id for t in tokens(db, platform_id=mine.id, everything=False)] == []
    with pytest.raises(TokenError):
        revoke_token(db, 10**9, revoked_by="admin")


@pytest.mark.parametrize(("header", "expected"), [
    ("Bearer cadre_abc", "cadre_abc"), ("bearer  cadre_abc ", "cadre_abc"),
    ("Basic " + base64.b64encode(b"user:cadre_abc").decode(), "cadre_abc"),
    ("Basic " + base64.b64encode(b":cadre_abc:with:colons").decode(), "cadre_abc:with:colons"),
    ("Basic " + base64.b64encode(b"user:").decode(), None), ("Basic ???", None),
    ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), None), ("Token cadre_abc", None), ("", None),
    (None, None), ("Bearer", None),
])
def test_credentials_are_read_from_bearer_or_basic(header: str | None, expected: str | None) -> None:
    assert credential_from_header(header) == expected


# -- cadre api-token ----------------------------------------------------------------------------------------


def test_create_prints_the_token_once_and_list_never_shows_it(db: Session, runner: FlaskCliRunner,
                                                              in_app: None) -> None:
    platform = make_platform(db)
    made = runner.invoke(main, ["api-token", "create", "--name", "Power BI", "--platform", str(platform.id)])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith(TOKEN_PREFIX) and "shown this once" in made.stderr
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_of(secret)))
    assert token is not None and token.platform_id == platform.id and token.created_by == "cli"
    listed = runner.invoke(main, ["api-token", "list"])
    assert listed.exit_code == 0 and "Power BI" in listed.output and platform.issuer in listed.output
    assert secret not in listed.output and token.hint in listed.output
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "api_token.create")).all()
    assert [entry.details["token_id"] for entry in audit] == [token.id]
    assert secret not in str(audit[0].details)


def test_revoke_from_the_command_line(db: Session, runner: FlaskCliRunner, in_app: None) -> None:
    made = runner.invoke(main, ["api-token", "create", "--name", "sync", "--all-platforms"])
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == hash_of(made.stdout.strip())))
    assert token.platform_id is None and token.scope_label == "every platform"
    revoked = runner.invoke(main, ["api-token", "revoke", str(token.id)])
    assert revoked.exit_code == 0 and f"Revoked API token {token.id}" in revoked.output
    db.expire_all()
    revoked_row = db.get(ApiToken, token.id)
    assert revoked_row.revoked_at is not None and revoked_row.revoked_by == "cli"
    unknown = runner.invoke(main, ["api-token", "revoke", "999999"])
    assert unknown.exit_code == 1 and "no API token 999999" in unknown.output


@pytest.mark.parametrize(("args", "words"), [
    (["--name", "x"], "either --platform"),
    (["--name", "x", "--platform", "1", "--all-platforms"], "either --platform"),
    (["--name", " ", "--all-platforms"], "name"),
    (["--name", "x", "--platform", "424242"], "no platform 424242"),
    (["--platform", "1"], "--name"),
])
def test_create_refuses_bad_input(db: Session, runner: FlaskCliRunner, in_app: None, args: list[str],
                                  words: str) -> None:
    result = runner.invoke(main, ["api-token", "create", *args])
    assert result.exit_code == 2 and words in result.output
    assert db.scalar(select(ApiToken)) is None


def test_list_without_tokens_says_how_to_make_one(runner: FlaskCliRunner, in_app: None) -> None:
    result = runner.invoke(main, ["api-token", "list"])
    assert result.exit_code == 0 and "cadre api-token create" in result.output


# -- the permission rules of API-token callers and the records pages ----------------------------------------


@pytest.mark.parametrize("role", list(CadreRole))
def test_only_administrators_under_an_lms_launch_administer_records(role: CadreRole) -> None:
    actor = Actor(user_id=1, name="x", platform_id=1, context_id=None, role=role)
    decision = may_administer_records(actor)
    assert bool(decision) == (role is CadreRole.ADMIN)
    if not decision:
        assert decision.status == 403
    invited = Actor(user_id=1, name="x", platform_id=1, context_id=3, role=role, invitation_id=9)
    refused = may_administer_records(invited)
    assert not refused and refused.message == RECORDS_ADMINS_ONLY


def test_an_api_caller_sees_its_platform_or_every_platform() -> None:
    scoped, everywhere = ApiCaller(token_id=1, platform_id=4), ApiCaller(token_id=2, platform_id=None)
    assert scoped.sees_platform(4) and not scoped.sees_platform(5)
    assert everywhere.sees_platform(4) and everywhere.sees_platform(5)
    assert visible_statement_platforms(scoped) == 4 and visible_statement_platforms(everywhere) is None
    assert may_pull_statements(scoped)
