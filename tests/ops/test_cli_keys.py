"""`cadre keys …`: rotation keeps old keys published for the grace period."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from lti_tool.db import session_scope
from lti_tool.lti.keys import jwks
from lti_tool.models import ToolKey
from tests.fixtures.operations import Cadre, audit_actions


def test_list_without_keys(cadre: Cadre) -> None:
    result = cadre("keys", "list")
    assert result.exit_code == 0 and "No key yet" in result.output


def test_rotate_publishes_the_new_key_and_keeps_the_old_one(cadre: Cadre, app: Flask) -> None:
    first = cadre("keys", "rotate")
    assert first.exit_code == 0 and "No older key is published." in first.output
    first_kid = first.output.split("New signing key: ")[1].split()[0]

    second = cadre("keys", "rotate")
    assert second.exit_code == 0
    second_kid = second.output.split("New signing key: ")[1].split()[0]
    assert second_kid != first_kid
    assert f"{first_kid}  retired, published until" in second.output

    grace = timedelta(days=app.config["CADRE"].key_grace_days)
    with session_scope(app) as session:
        keys = {key.kid: key for key in session.scalars(select(ToolKey))}
        published = {key["kid"] for key in jwks(session, grace)["keys"]}
    assert keys[second_kid].retired_at is None and keys[first_kid].retired_at is not None
    assert published == {first_kid, second_kid}
    expected_until = f"{keys[first_kid].retired_at + grace:%Y-%m-%d %H:%M} UTC"
    assert expected_until in second.output
    assert audit_actions(app) == [("keys.rotate", "cli"), ("keys.rotate", "cli")]

    listing = cadre("keys", "list").output.splitlines()
    assert listing[0].split() == ["KID", "CREATED", "STATUS"]
    assert listing[2].startswith(second_kid) and listing[2].endswith("signing")
    assert listing[3].startswith(first_kid) and f"published until {expected_until}" in listing[3]


def test_expired_keys_are_listed_as_no_longer_published(cadre: Cadre, app: Flask) -> None:
    cadre("keys", "rotate")
    cadre("keys", "rotate")
    grace = timedelta(days=app.config["CADRE"].key_grace_days)
    with session_scope(app) as session:
        old = session.scalars(select(ToolKey).where(ToolKey.retired_at.is_not(None))).one()
        old.retired_at = old.retired_at - grace - timedelta(hours=1)
        old_kid = old.kid
    listing = cadre("keys", "list").output
    assert f"{old_kid}" in listing and "retired, no longer published" in listing
    assert old_kid not in cadre("keys", "rotate").output
