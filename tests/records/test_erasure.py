"""Erasing a person (``lti_tool.records.erasure``, ``cadre person erase``): their statements voided by Cadre
and the voiding forwarded to every LRS that had them, their personal data gone from Cadre's store (bodies,
actor keys, side rows), other people's statements kept without them, nobody else touched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.db import session_scope
from lti_tool.models import AuditEntry, Platform, User
from lti_tool.records import api
from lti_tool.records.erasure import (
    ERASE_ACTION,
    ERASED_NAME,
    ErasureError,
    erase_person,
    erased_actor,
    find_person,
    keys_of,
)
from lti_tool.records.models import Statement, StatementAgent, StatementDelivery
from lti_tool.records.store import VOIDED_VERB, agent_key
from lti_tool.settings import get_settings
from lti_tool.states import DeliveryStatus
from tests.records.delivery_support import COMPLETED, add_lrs, deliverer
from tests.records.pull_data import (
    LAUNCHED,
    SCORED,
    account_of,
    make_course,
    make_person,
    make_platform,
    make_statement,
    store,
    void,
)
from xapi.events import Activity, Course, PeerCoachingSessionHeld, Person
from xapi.statements import Deployment, peer_coaching_session_held

ADA_SUB, ADA_NAME, ADA_EMAIL = "sub-ada-77310", "Ada Lovelace", "sub-ada-77310@people.example"


@pytest.fixture
def in_app(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield


def made_world(db: Session) -> dict[str, Any]:
    lms, other_lms = make_platform(db), make_platform(db, "https://other-lms.example")
    course = make_course(db, lms)
    ada, grace, boss = (make_person(db, lms, ADA_SUB, ADA_NAME), make_person(db, lms, "grace", "Grace"),
                        make_person(db, lms, "boss", "Boss"))
    namesake = make_person(db, other_lms, ADA_SUB, ADA_NAME)  # the same LMS id elsewhere: another person
    ada_agent = account_of(ada, lms)
    ada_by_mail = {"objectType": "Agent", "name": ADA_NAME, "mbox": f"mailto:{ADA_EMAIL}"}
    statements = {
        "launched": store(db, make_statement(ada_agent, verb=LAUNCHED, course=course), platform=lms,
                          course=course, person=ada),
        "scored": store(db, make_statement(ada_agent, verb=SCORED, course=course, score=42,
                                           instructor=account_of(boss, lms), registration=
                                           "0b7f6a1c-7d2e-4c1a-9a55-3f4d2e1b0c9a"),
                        platform=lms, course=course, person=ada),
        "by_mail": store(db, make_statement(ada_by_mail, course=course), platform=lms, course=course,
                         person=None),  # an identity mode that used her e-mail, and no person_id
        "withdrawn": store(db, make_statement(ada_agent, verb=SCORED, activity=3, course=course, score=5),
                           platform=lms, course=course, person=ada),
        "assessed_grace": store(db, make_statement(account_of(grace, lms), verb=SCORED, course=course,
                                                   score=90, instructor=ada_agent),
                                platform=lms, course=course, person=grace),
        "namesake": store(db, make_statement(account_of(namesake, other_lms)), platform=other_lms,
                          person=namesake),
    }
    statements["voiding"] = void(db, statements["withdrawn"], platform=lms, actor=ada_agent)
    db.flush()
    return {"lms": lms, "ada": ada, "grace": grace, "boss": boss, "namesake": namesake,
            "namesake_lms": other_lms, "statements": statements}


def dump(db: Session, statement_id: str) -> str:
    row = db.scalar(select(Statement).where(Statement.id == statement_id))
    db.refresh(row)
    return json.dumps(row.body) + row.actor_key + str(row.person_id) + str(row.registration)


def test_erasure_voids_scrubs_and_unlinks(db: Session, in_app: None) -> None:
    world = made_world(db)
    ada, statements = world["ada"], world["statements"]
    report = erase_person(db, ada, erased_by="test")
    db.flush()
    assert (report.voided, report.scrubbed, report.mentions) == (3, 5, 1)

    own = ("launched", "scored", "by_mail", "withdrawn", "voiding")
    for name in own:
        text = dump(db, statements[name].id)
        for personal in (ADA_SUB, ADA_NAME, ADA_EMAIL, "Boss", "0b7f6a1c", '"score"'):
            assert personal not in text, (name, personal)
        row = db.scalar(select(Statement).where(Statement.id == statements[name].id))
        assert row.actor_key == agent_key(erased_actor()) and row.person_id is None
        assert row.body["actor"]["account"]["name"] == ERASED_NAME
    scored = db.scalar(select(Statement).where(Statement.id == statements["scored"].id)).body
    before = statements["scored"].body
    assert scored["verb"]["id"] == SCORED and scored["object"]["id"] == before["object"]["id"]
    assert scored["context"]["contextActivities"] == before["context"]["contextActivities"]
    assert scored["timestamp"] == before["timestamp"] and "result" not in scored

    # Voided by Cadre: one voiding statement per statement that still stood, actor Cadre, nobody named.
    voidings = db.scalars(select(Statement).where(Statement.verb == VOIDED_VERB,
                                                  Statement.id != statements["voiding"].id)).all()
    assert sorted(v.voids_statement_id for v in voidings) == sorted(
        statements[name].id for name in ("launched", "scored", "by_mail"))
    for voiding in voidings:
        assert voiding.body["actor"]["account"]["name"] == "cadre" and voiding.person_id is None
        assert ADA_SUB not in json.dumps(voiding.body)
    standing = db.scalars(select(Statement.id).where(Statement.voided.is_(False))).all()
    erased_ids = {statements[name].id for name in ("launched", "scored", "by_mail", "withdrawn")}
    assert not erased_ids & set(standing)

    # Grace's statement stays hers and stands; Ada, her assessor, is replaced by the erased agent.
    grace = db.scalar(select(Statement).where(Statement.id == statements["assessed_grace"].id))
    assert not grace.voided and grace.body["result"]["score"]["raw"] == 90
    assert grace.body["context"]["instructor"] == erased_actor() and ADA_SUB not in dump(db, grace.id)

    # No side row knows her; the erased agent stands in, so related_agents stays consistent.
    keys = keys_of(ada, world["lms"])
    assert db.scalars(select(StatementAgent).where(StatementAgent.agent_key.in_(keys))).all() == []
    erased_rows = set(db.execute(select(StatementAgent.statement_seq, StatementAgent.role)
                                 .where(StatementAgent.agent_key == agent_key(erased_actor()))).all())
    assert (statements["assessed_grace"].seq, "instructor") in erased_rows
    assert (statements["scored"].seq, "actor") in erased_rows
    assert not db.scalars(select(StatementAgent).where(
        StatementAgent.statement_seq == statements["scored"].seq, StatementAgent.role == "instructor")).all()

    # The namesake on another platform is untouched.
    namesake = db.scalar(select(Statement).where(Statement.id == statements["namesake"].id))
    assert ADA_SUB in namesake.actor_key and not namesake.voided

    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == ERASE_ACTION)).one()
    assert audit.details == {"person_id": ada.id, "platform_id": ada.platform_id, "voided": 3, "scrubbed": 5,
                             "mentions": 1}


def test_erasing_twice_voids_nothing_more(db: Session, in_app: None) -> None:
    world = made_world(db)
    erase_person(db, world["ada"], erased_by="test")
    count = db.scalar(select(Statement.seq).order_by(Statement.seq.desc()).limit(1))
    again = erase_person(db, world["ada"], erased_by="test")
    assert again.voided == 0 and again.scrubbed == 0
    assert db.scalar(select(Statement.seq).order_by(Statement.seq.desc()).limit(1)) == count


def test_a_person_is_found_on_their_own_platform_only(db: Session, in_app: None) -> None:
    world = made_world(db)
    assert find_person(db, platform_id=world["lms"].id, sub=ADA_SUB).id == world["ada"].id
    assert find_person(db, platform_id=world["lms"].id, user_id=world["ada"].id).id == world["ada"].id
    with pytest.raises(ErasureError, match="No person"):
        find_person(db, platform_id=world["lms"].id, user_id=world["namesake"].id)
    with pytest.raises(ErasureError):
        find_person(db, platform_id=world["lms"].id, sub="nobody")


# -- forwarded to every LRS ---------------------------------------------------------------------------------


def test_the_voiding_reaches_every_lrs_that_had_the_statements(records_app: Flask, stand_in: Any) -> None:
    everything = add_lrs(records_app, stand_in.url, name="everything")
    completions = add_lrs(records_app, stand_in.url, name="completions", verbs=[COMPLETED])
    with records_app.app_context(), session_scope(records_app) as session:
        lms = make_platform(session)
        course = make_course(session, lms)
        ada = make_person(session, lms, ADA_SUB, ADA_NAME)
        agent = account_of(ada, lms)
        ids = [store(session, make_statement(agent, verb=verb, activity=number, course=course), platform=lms,
                     course=course, person=ada).id
               for number, verb in enumerate([COMPLETED, LAUNCHED, COMPLETED])]
        ada_id = ada.id
    deliverer(records_app).drain()
    assert set(ids) <= set(stand_in.stored)
    with records_app.app_context(), session_scope(records_app) as session:
        report = erase_person(session, session.get(User, ada_id), erased_by="test")
    assert report.voided == 3
    deliverer(records_app).drain()

    with session_scope(records_app) as session:
        voiding = {row.voids_statement_id: row.seq for row in session.execute(
            select(Statement.voids_statement_id, Statement.seq).where(Statement.verb == VOIDED_VERB))}
        delivered = set(session.execute(
            select(StatementDelivery.statement_seq, StatementDelivery.lrs_id)
            .where(StatementDelivery.status == DeliveryStatus.DELIVERED)).all())
        voiding_ids = session.scalars(select(Statement.id).where(Statement.verb == VOIDED_VERB)).all()
    assert sorted(voiding) == sorted(ids)
    for target in ids:
        assert (voiding[target], everything) in delivered
    # The completions LRS takes no "voided" verb by its filter, yet hears of the two it was sent.
    assert {(voiding[ids[0]], completions), (voiding[ids[2]], completions)} <= delivered
    assert (voiding[ids[1]], completions) not in delivered
    for voiding_id in voiding_ids:
        sent = stand_in.stored[voiding_id]
        assert sent["verb"]["id"] == VOIDED_VERB and ADA_SUB not in json.dumps(sent)


# -- cadre person erase -------------------------------------------------------------------------------------


def test_the_command_asks_then_erases(db: Session, runner: FlaskCliRunner, in_app: None) -> None:
    world = made_world(db)
    lms = str(world["lms"].id)
    declined = runner.invoke(main, ["person", "erase", "--platform", lms, "--sub", ADA_SUB], input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == ERASE_ACTION)) is None
    done = runner.invoke(main, ["person", "erase", "--platform", lms, "--sub", ADA_SUB, "--yes"])
    assert done.exit_code == 0, done.output
    assert f"Erased Cadre user {world['ada'].id}'s learning records: 3 statement(s) voided" in done.output
    assert ADA_SUB not in done.output


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--sub", "x"], 2, "--platform"),
    (["--platform", "1"], 2, "either --sub"),
    (["--platform", "1", "--sub", "x", "--user", "2"], 2, "either --sub"),
    (["--platform", "1", "--sub", "nobody-here"], 1, "No person"),
])
def test_the_command_refuses_bad_input(runner: FlaskCliRunner, in_app: None, args: list[str], code: int,
                                       words: str) -> None:
    result = runner.invoke(main, ["person", "erase", *args, "--yes"])
    assert result.exit_code == code and words in result.output


# -- what erasure reaches -----------------------------------------------------------------------------------


def statements_found(db: Session, platform_id: int, **params: str) -> set[str]:
    """The ids the pull API answers for ``params`` on the platform (its own conditions, no HTTP)."""
    found = api.read_filter(list(params.items()), platform_id, "secret")
    return set(db.scalars(select(Statement.id).where(*api.conditions(found))))


def test_erasure_stays_on_the_persons_platform(db: Session, in_app: None) -> None:
    world = made_world(db)
    ada, lms = world["ada"], world["lms"]
    # The same e-mail on another platform, and an LMS that shares Ada's issuer (Canvas does so between
    # customers): the same keys, other people.
    shared_issuer = Platform(name="shared", issuer=lms.issuer, client_id="another-customer",
                             auth_login_url=f"{lms.issuer}/auth", auth_token_url=f"{lms.issuer}/token",
                             key_set_url=f"{lms.issuer}/jwks")
    db.add(shared_issuer)
    db.flush()
    twin = make_person(db, shared_issuer, ADA_SUB, ADA_NAME)
    by_mail = {"objectType": "Agent", "mbox": f"mailto:{ADA_EMAIL}"}
    other = {
        "mail_elsewhere": store(db, make_statement(by_mail), platform=world["namesake_lms"],
                                person=world["namesake"]),
        "mail_instructor_elsewhere": store(db, make_statement(account_of(world["namesake"],
                                                                         world["namesake_lms"]),
                                                              instructor=by_mail),
                                           platform=world["namesake_lms"], person=world["namesake"]),
        "same_account_elsewhere": store(db, make_statement(account_of(twin, shared_issuer)),
                                        platform=shared_issuer, person=twin),
    }
    before = {name: dump(db, recorded.id) for name, recorded in other.items()}
    erase_person(db, ada, erased_by="test")
    db.flush()
    for name, recorded in other.items():
        row = db.scalar(select(Statement).where(Statement.id == recorded.id))
        assert not row.voided and dump(db, recorded.id) == before[name], name
        assert db.scalar(select(Statement).where(Statement.voids_statement_id == recorded.id)) is None, name
        keys = set(db.scalars(select(StatementAgent.agent_key)
                              .where(StatementAgent.statement_seq == recorded.seq)))
        assert agent_key(erased_actor()) not in keys, name


def test_an_agent_object_is_erased_from_the_object_column(db: Session, in_app: None) -> None:
    world = made_world(db)
    lms, ada, grace = world["lms"], world["ada"], world["grace"]
    bob = make_person(db, lms, "sub-bob-2", "Bob")
    bob_agent = account_of(bob, lms)
    about_bob = dict(make_statement(account_of(ada, lms)), object=bob_agent)  # Ada's, about Bob
    by_bob = dict(make_statement(bob_agent), object=account_of(grace, lms))  # Bob's own, about Grace
    mention = store(db, about_bob, platform=lms, person=ada)
    own = store(db, by_bob, platform=lms, person=bob)
    assert statements_found(db, lms.id, agent=json.dumps(bob_agent)) == {mention.id, own.id}

    erase_person(db, bob, erased_by="test")
    db.flush()
    erased_key = agent_key(erased_actor())
    for recorded in (mention, own):
        row = db.scalar(select(Statement).where(Statement.id == recorded.id))
        db.refresh(row)
        assert row.object_id == erased_key and row.body["object"] == erased_actor()
    assert db.scalars(select(Statement.id).where(Statement.object_id.in_(keys_of(bob, lms)))).all() == []
    assert db.scalar(select(Statement.voided).where(Statement.id == mention.id)) is False
    assert statements_found(db, lms.id, agent=json.dumps(bob_agent)) == set()
    assert own.id not in statements_found(db, lms.id, agent=json.dumps(account_of(grace, lms)))


def peer_coaching_statement(lms: Platform, learner: User, others: list[User]) -> dict[str, Any]:
    deployment = Deployment(public_url=get_settings().public_url)
    person = {user.id: Person(lms.issuer, user.sub, email=user.email) for user in [learner, *others]}
    return peer_coaching_session_held(deployment, PeerCoachingSessionHeld(
        person[learner.id], tuple(person[other.id] for other in others),
        Course(deployment.course_iri(3), "Leading customer conversations"),
        Activity(deployment.activity_iri(18), "Peer coaching", "peer_coaching"),
        deployment.peer_group_iri(4), "Group 2", deployment.peer_coaching_session_iri(31), 31,
        held_on=date(2026, 12, 2),
    ))


def test_team_members_are_related_agents(db: Session, in_app: None) -> None:
    world = made_world(db)
    lms, ada, grace = world["lms"], world["ada"], world["grace"]
    bob = make_person(db, lms, "sub-bob-2", "Bob")
    held = store(db, peer_coaching_statement(lms, ada, [bob, grace]), platform=lms, person=ada,
                 activity_kind="peer_coaching")
    team_of_two = {"objectType": "Group", "member": [account_of(bob, lms), account_of(grace, lms)]}
    group_actor = store(db, dict(make_statement(team_of_two)), platform=lms, person=None)
    bob_agent = json.dumps(account_of(bob, lms))
    assert statements_found(db, lms.id, agent=bob_agent, related_agents="true") == {held.id, group_actor.id}
    assert held.id not in statements_found(db, lms.id, agent=bob_agent)  # the team is no actor or object


def test_erasure_takes_a_person_out_of_teams(db: Session, in_app: None) -> None:
    world = made_world(db)
    lms, ada, grace = world["lms"], world["ada"], world["grace"]
    bob = make_person(db, lms, "sub-bob-2", "Bob")
    held = store(db, peer_coaching_statement(lms, ada, [bob, grace]), platform=lms, person=ada,
                 activity_kind="peer_coaching")

    report = erase_person(db, bob, erased_by="test")
    db.flush()
    assert report.mentions == 1
    row = db.scalar(select(Statement).where(Statement.id == held.id))
    db.refresh(row)
    assert not row.voided and row.actor_key == agent_key(account_of(ada, lms))
    members = row.body["context"]["team"]["member"]
    assert erased_actor() in members and agent_key(account_of(grace, lms)) in map(agent_key, members)
    assert "sub-bob-2" not in json.dumps(row.body)
    keys = set(db.scalars(select(StatementAgent.agent_key).where(StatementAgent.statement_seq == held.seq)))
    assert not keys & keys_of(bob, lms) and agent_key(erased_actor()) in keys
    assert agent_key(row.body["context"]["team"]) in keys  # the group's key follows its new members
    bob_agent = json.dumps(account_of(bob, lms))
    assert statements_found(db, lms.id, agent=bob_agent, related_agents="true") == set()
    assert statements_found(db, lms.id, agent=json.dumps(account_of(grace, lms)),
                            related_agents="true") >= {held.id}
