"""``db.read_memo``: answers a session read are kept only while it writes nothing. Every flush, every
INSERT/UPDATE/DELETE it executes and the end of its transaction forget them, so a permission asked twice in
one request reads once, and never answers from before a change."""

from __future__ import annotations

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from lti_tool.db import read_memo
from lti_tool.models import Platform


def remembered(session: Session) -> Session:
    read_memo(session)["answer"] = 42
    return session


def platform() -> Platform:
    return Platform(name="P", issuer="https://memo.example", client_id="c", auth_login_url="https://x/a",
                    auth_token_url="https://x/t", key_set_url="https://x/k")


def test_reads_keep_what_was_remembered(db: Session) -> None:
    remembered(db)
    db.scalars(select(Platform)).all()
    db.get(Platform, 1)
    assert read_memo(db) == {"answer": 42}


def test_a_flush_forgets(db: Session) -> None:
    remembered(db).add(platform())
    db.flush()
    assert read_memo(db) == {}


def test_changes_not_flushed_yet_hide_what_was_remembered(db: Session) -> None:
    row = platform()
    db.add(row)
    db.flush()
    remembered(db)
    row.name = "Changed"  # the next query would flush this first: no answer from before it
    assert read_memo(db) == {}


def test_a_flush_with_nothing_to_write_forgets_nothing(db: Session) -> None:
    remembered(db).flush()
    assert read_memo(db) == {"answer": 42}


def test_every_kind_of_write_statement_forgets(db: Session) -> None:
    db.add(platform())
    db.flush()
    for statement in (update(Platform).values(name="Q"), delete(Platform).where(Platform.name == "none"),
                      text("UPDATE platforms SET name = 'R'")):  # text could be anything: it forgets too
        remembered(db).execute(statement)
        assert read_memo(db) == {}, statement


def test_the_end_of_a_transaction_forgets(db: Session) -> None:
    with db.begin_nested():
        remembered(db)
    assert read_memo(db) == {}  # the savepoint's release ends what it could see
    nested = db.begin_nested()
    remembered(db)
    nested.rollback()
    assert read_memo(db) == {}
