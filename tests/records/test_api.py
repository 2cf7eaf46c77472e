"""``GET /xapi/statements``: xAPI 1.0.3's statement resource over Cadre's store, for API-token callers.

Every parameter, the bad ones, credentials and the platform scope, voided statements, and keyset pages
that stay complete and stable while statements are being stored.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lti_tool.records import api
from lti_tool.records.tokens import NO_CREDENTIALS, WRONG_CREDENTIALS, ApiToken, create_token, revoke_token
from tests.records.pull_data import (
    BASE_TIME,
    COMPLETED,
    LAUNCHED,
    SCORED,
    account_of,
    activity_iri,
    course_iri,
    make_course,
    make_person,
    make_platform,
    make_statement,
    minutes,
    store,
    void,
)

VERSION = {"X-Experience-API-Version": "1.0.3"}


class Pull:
    """A client of the statement resource with one token."""

    def __init__(self, client: FlaskClient, secret: str) -> None:
        self.client, self.secret = client, secret

    def get(self, path: str = "/xapi/statements", *, headers: dict[str, str] | None = None,
            **params: Any) -> Any:
        sent = {"Authorization": f"Bearer {self.secret}", **VERSION, **(headers or {})}
        return self.client.get(path, query_string=params or None, headers=sent)

    def ids(self, **params: Any) -> list[str]:
        response = self.get(**params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [statement["id"] for statement in response.get_json()["statements"]]

    def every_page(self, **params: Any) -> list[str]:
        seen, response = [], self.get(**params)
        while True:
            assert response.status_code == 200, response.get_data(as_text=True)
            document = response.get_json()
            seen += [statement["id"] for statement in document["statements"]]
            if not document["more"]:
                return seen
            response = self.get(document["more"])


@pytest.fixture
def world(app: Flask, db: Session) -> Iterator[dict[str, Any]]:
    """Two platforms; on the first a course with two learners and a manager, statements of each kind."""
    with app.app_context():  # the store reads Cadre's settings (its authority)
        yield made_world(db)


def made_world(db: Session) -> dict[str, Any]:
    lms, other_lms = make_platform(db, "https://lms.example"), make_platform(db, "https://other-lms.example")
    course, other_course = make_course(db, lms, "course-2"), make_course(db, lms, "course-3")
    ada, grace = make_person(db, lms, "ada"), make_person(db, lms, "grace", "Grace Hopper")
    boss = make_person(db, lms, "boss", "Boss")
    stranger = make_person(db, other_lms, "ada")  # the same sub on another platform is another person
    registration = str(uuid.uuid4())
    ada_agent, grace_agent = account_of(ada, lms), account_of(grace, lms)
    made = {
        "ada_launched": store(db, make_statement(ada_agent, verb=LAUNCHED, activity=1, course=course),
                              platform=lms, course=course, person=ada, stored=BASE_TIME + minutes(1)),
        "ada_scored": store(db, make_statement(ada_agent, verb=SCORED, activity=1, course=course,
                                               instructor=account_of(boss, lms), score=80,
                                               registration=registration),
                            platform=lms, course=course, person=ada, stored=BASE_TIME + minutes(2)),
        "grace_completed": store(db, make_statement(grace_agent, activity=2, course=other_course),
                                 platform=lms, course=other_course, person=grace,
                                 activity_kind="self_assessment", stored=BASE_TIME + minutes(3)),
        "ada_completed": store(db, make_statement(ada_agent, activity=2, course=course), platform=lms,
                               course=course, person=ada, stored=BASE_TIME + minutes(4)),
        "stranger_completed": store(db, make_statement(account_of(stranger, other_lms), activity=1),
                                    platform=other_lms, person=stranger, stored=BASE_TIME + minutes(5)),
    }
    withdrawn = store(db, make_statement(grace_agent, verb=SCORED, activity=2, course=course, score=10),
                      platform=lms, course=course, person=grace, stored=BASE_TIME + minutes(6))
    made["withdrawn"] = withdrawn
    made["voiding"] = void(db, withdrawn, platform=lms, actor=grace_agent)
    db.flush()
    return {"lms": lms, "other_lms": other_lms, "course": course, "other_course": other_course, "ada": ada,
            "grace": grace, "boss": boss, "registration": registration, "statements": made}


@pytest.fixture
def pull(db: Session, client: FlaskClient, world: dict[str, Any]) -> Pull:
    return Pull(client, create_token(db, name="tests", platform_id=world["lms"].id, created_by="test").secret)


def ids_of(world: dict[str, Any], *names: str) -> list[str]:
    return [world["statements"][name].id for name in names]


# -- credentials and the version header -------------------------------------------------------------------


def test_without_a_token_the_answer_is_401_and_says_how_to_authenticate(client: FlaskClient,
                                                                        world: dict[str, Any]) -> None:
    response = client.get("/xapi/statements", headers=VERSION)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Cadre xAPI", Basic realm="Cadre xAPI"'
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert response.get_json()["error"]["message"] == NO_CREDENTIALS


@pytest.mark.parametrize("authorization", [
    "Bearer cadre_wrong", "Bearer " + "x" * 40, "Basic " + base64.b64encode(b"user:cadre_wrong").decode(),
    "Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode(), "Digest abc", "Bearer",
])
def test_wrong_credentials_are_401(client: FlaskClient, world: dict[str, Any], authorization: str) -> None:
    response = client.get("/xapi/statements", headers={**VERSION, "Authorization": authorization})
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert response.get_json()["error"]["message"] in (WRONG_CREDENTIALS, NO_CREDENTIALS)


def test_a_revoked_token_is_refused_from_its_next_request(db: Session, client: FlaskClient,
                                                          world: dict[str, Any]) -> None:
    made = create_token(db, name="soon revoked", platform_id=world["lms"].id, created_by="test")
    pull = Pull(client, made.secret)
    assert pull.get().status_code == 200
    revoke_token(db, made.token.id, revoked_by="test")
    db.flush()
    refused = pull.get()
    assert refused.status_code == 401 and refused.get_json()["error"]["message"] == WRONG_CREDENTIALS


def test_lrs_clients_send_the_token_as_the_basic_password(db: Session, client: FlaskClient,
                                                          world: dict[str, Any]) -> None:
    made = create_token(db, name="LRS sync", platform_id=None, created_by="test")
    basic = base64.b64encode(f"any-user:{made.secret}".encode()).decode()
    response = client.get("/xapi/statements", headers={**VERSION, "Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and len(response.get_json()["statements"]) == 6
    db.expire_all()
    assert db.get(ApiToken, made.token.id).last_used_at is not None


def test_a_launch_is_no_api_credential(pull: Pull, client: FlaskClient) -> None:
    response = client.get("/xapi/statements", headers={**VERSION, "X-Cadre-Launch": "x" * 30})
    assert response.status_code == 401


def test_the_version_header_is_required_and_answered(pull: Pull) -> None:
    missing = pull.client.get("/xapi/statements", headers={"Authorization": f"Bearer {pull.secret}"})
    assert missing.status_code == 400 and missing.get_json()["error"]["message"] == api.MISSING_VERSION
    assert missing.headers["X-Experience-API-Version"] == "1.0.3"
    wrong = pull.get(headers={"X-Experience-API-Version": "2.0.0"})
    assert wrong.status_code == 400 and "2.0.0" in wrong.get_json()["error"]["message"]
    for accepted in ("1.0", "1.0.0", "1.0.3"):
        answer = pull.get(headers={"X-Experience-API-Version": accepted})
        assert answer.status_code == 200 and answer.headers["X-Experience-API-Version"] == "1.0.3"
        assert answer.headers["Cache-Control"] == "no-store"


def test_consistent_through_is_a_timestamp_just_before_now(pull: Pull) -> None:
    response = pull.get()
    moment = datetime.fromisoformat(response.headers["X-Experience-API-Consistent-Through"])
    now = datetime.now(UTC)
    assert now - api.CONSISTENCY_MARGIN - minutes(1) < moment <= now - api.CONSISTENCY_MARGIN + minutes(1)


# -- scope --------------------------------------------------------------------------------------------------


def test_a_platforms_token_never_sees_another_platforms_statements(db: Session, client: FlaskClient,
                                                                   world: dict[str, Any], pull: Pull) -> None:
    stranger = world["statements"]["stranger_completed"].id
    assert stranger not in pull.every_page()
    assert pull.get(statementId=stranger).status_code == 404
    other = Pull(client, create_token(db, name="other", platform_id=world["other_lms"].id,
                                      created_by="test").secret)
    assert other.every_page() == [stranger]
    everything = Pull(client, create_token(db, name="all", platform_id=None, created_by="test").secret)
    assert stranger in everything.every_page() and len(everything.every_page()) == 6


# -- the list and its filters -------------------------------------------------------------------------------


def test_newest_first_voided_statements_left_out_and_the_voiding_one_listed(world: dict[str, Any],
                                                                             pull: Pull) -> None:
    assert pull.ids() == ids_of(world, "voiding", "ada_completed", "grace_completed", "ada_scored",
                                "ada_launched")
    assert pull.ids(ascending="true") == ids_of(world, "ada_launched", "ada_scored", "grace_completed",
                                                "ada_completed", "voiding")


def test_a_statement_by_its_id_and_a_voided_one_only_by_voided_statement_id(world: dict[str, Any],
                                                                            pull: Pull) -> None:
    scored = world["statements"]["ada_scored"]
    answer = pull.get(statementId=scored.id)
    assert answer.status_code == 200 and answer.get_json() == scored.body
    withdrawn = world["statements"]["withdrawn"].id
    assert pull.get(statementId=withdrawn).status_code == 404
    voided = pull.get(voidedStatementId=withdrawn)
    assert voided.status_code == 200 and voided.get_json()["id"] == withdrawn
    assert pull.get(voidedStatementId=scored.id).status_code == 404
    assert pull.get(statementId=str(uuid.uuid4())).status_code == 404


def test_agent_is_the_actor_and_related_agents_widens_to_the_instructor(world: dict[str, Any],
                                                                        pull: Pull) -> None:
    ada = json.dumps(account_of(world["ada"], world["lms"]))
    assert pull.ids(agent=ada) == ids_of(world, "ada_completed", "ada_scored", "ada_launched")
    boss = json.dumps({"account": {"homePage": "https://lms.example", "name": "boss"}})
    assert pull.ids(agent=boss) == []
    assert pull.ids(agent=boss, related_agents="true") == ids_of(world, "ada_scored")
    cadre = json.dumps({"account": {"homePage": "http://127.0.0.1:5000", "name": "cadre"}})
    authority = pull.ids(agent=cadre, related_agents="true")
    assert set(authority) <= set(pull.ids())


def test_verb_activity_and_related_activities(world: dict[str, Any], pull: Pull) -> None:
    # The voided one is left out; the statement voiding it meets the filter its target meets (xAPI 2.1.3).
    assert pull.ids(verb=SCORED) == ids_of(world, "voiding", "ada_scored")
    assert pull.ids(verb=SCORED, activity=activity_iri(2)) == ids_of(world, "voiding")
    assert pull.ids(verb=SCORED, activity=activity_iri(1)) == ids_of(world, "ada_scored")
    assert pull.ids(verb=COMPLETED) == ids_of(world, "ada_completed", "grace_completed")
    assert pull.ids(activity=activity_iri(2)) == ids_of(world, "voiding", "ada_completed", "grace_completed")
    course = course_iri(world["course"])
    assert pull.ids(activity=course) == []
    assert pull.ids(activity=course, related_activities="true") == ids_of(
        world, "voiding", "ada_completed", "ada_scored", "ada_launched")


def test_registration_since_and_until(world: dict[str, Any], pull: Pull) -> None:
    assert pull.ids(registration=world["registration"]) == ids_of(world, "ada_scored")

    def at(count: int) -> str:
        return (BASE_TIME + minutes(count)).isoformat()

    assert pull.ids(since=at(2), until=at(4)) == ids_of(world, "ada_completed", "grace_completed")  # (2, 4]
    assert pull.ids(until=at(1)) == ids_of(world, "ada_launched")
    assert pull.ids(since="2099-01-01T00:00:00Z") == []


def test_since_the_last_stored_a_client_saw_does_not_give_that_statement_again(
    world: dict[str, Any], pull: Pull, db: Session
) -> None:
    """``stored`` is kept to the millisecond the body shows: polling ``since`` the newest ``stored`` seen
    gives only what came after it, and ``until`` it includes it."""
    ada = world["ada"]
    made = store(db, make_statement(account_of(ada, world["lms"]), activity=77), platform=world["lms"],
                 person=ada)
    newest = made.body["stored"]
    assert made.id not in pull.ids(since=newest)
    assert made.id in pull.ids(until=newest)


def test_cadre_filters_course_and_activity_kind(world: dict[str, Any], pull: Pull) -> None:
    assert pull.ids(course="course-3") == ids_of(world, "grace_completed")
    assert pull.ids(course=f"context:{world['other_course'].id}") == ids_of(world, "grace_completed")
    assert pull.ids(activity_kind="self_assessment") == ids_of(world, "grace_completed")
    assert pull.ids(course="no-such-course") == []


def test_limit_and_zero_for_the_server_maximum(world: dict[str, Any], pull: Pull) -> None:
    first = pull.get(limit=2).get_json()
    assert [s["id"] for s in first["statements"]] == ids_of(world, "voiding", "ada_completed")
    assert first["more"].startswith("/xapi/statements?")
    everything = pull.get(limit=0).get_json()
    assert len(everything["statements"]) == 5 and everything["more"] == ""


def test_formats(world: dict[str, Any], pull: Pull) -> None:
    scored = world["statements"]["ada_scored"]
    exact = pull.get(statementId=scored.id, format="exact").get_json()
    assert exact == scored.body
    ids = pull.get(statementId=scored.id, format="ids").get_json()
    assert ids["verb"] == {"id": SCORED} and "definition" not in ids["object"]
    assert "name" not in ids["actor"] and ids["actor"]["account"] == scored.body["actor"]["account"]
    listed = pull.get(format="ids", verb=SCORED, activity=activity_iri(1)).get_json()["statements"]
    assert listed == [ids]
    canonical = pull.get(statementId=scored.id, format="canonical",
                         headers={"Accept-Language": "en-US"}).get_json()
    assert canonical["verb"]["display"] == {"en-US": "scored"}


def test_attachments_true_answers_multipart_with_the_statements_first(world: dict[str, Any],
                                                                      pull: Pull) -> None:
    response = pull.get(attachments="true", verb=SCORED, activity=activity_iri(1))
    assert response.status_code == 200 and response.mimetype == "multipart/mixed"
    boundary = response.headers["Content-Type"].split("boundary=")[1]
    body = response.get_data(as_text=True)
    part = body.split(f"--{boundary}")[1]
    headers, _, payload = part.partition("\r\n\r\n")
    assert "Content-Type: application/json" in headers
    assert [s["id"] for s in json.loads(payload)["statements"]] == ids_of(world, "ada_scored")


# -- malformed parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "named"), [
    ({"limit": "-3"}, "limit"), ({"verb": "scored"}, "verb"), ({"agent": "{"}, "agent"),
    ({"since": "last week"}, "since"), ({"statementId": "1"}, "statementId"), ({"format": "xml"}, "format"),
    ({"ascending": "1"}, "ascending"), ({"unknown": "x"}, "unknown"),
    ({"activity_kind": "quiz"}, "activity_kind"),
    ({"course": " "}, "course"), ({"statementId": str(uuid.uuid4()), "course": "course-2"}, "statementId"),
    ({"statementId": str(uuid.uuid4()), "verb": SCORED}, "statementId"), ({"cursor": "forged"}, "cursor"),
    # Out of Python's range once in UTC; nested past its recursion limit; NUL, which PostgreSQL refuses.
    ({"since": "0001-01-01T00:00:00+01:00"}, "since"), ({"until": "9999-12-31T23:59:59-01:00"}, "until"),
    ({"agent": "[" * 3000}, "agent"), ({"verb": "http://x/\x00y"}, "verb"),
    ({"activity": "http://x/a\x00"}, "activity"), ({"course": "a\x00b"}, "course"),
    ({"agent": '{"mbox": "mailto:a\x00@example.org"}'}, "agent"),
])
def test_malformed_parameters_are_400_naming_the_parameter(pull: Pull, params: dict[str, str],
                                                           named: str) -> None:
    response = pull.get(**params)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(f"Parameter {named} ")
    assert response.headers["X-Experience-API-Version"] == "1.0.3"


def test_a_cursor_works_only_with_its_own_query(world: dict[str, Any], pull: Pull) -> None:
    more = pull.get(limit=1, verb=COMPLETED).get_json()["more"]
    params = dict(parse_qsl(urlsplit(more).query))
    assert pull.get(**params).status_code == 200
    changed = pull.get(**{**params, "verb": SCORED})
    assert changed.status_code == 400 and "another query" in changed.get_json()["error"]["message"]
    tampered = pull.get(**{**params, "cursor": params["cursor"][:-2] + "xx"})
    assert tampered.status_code == 400 and "cursor" in tampered.get_json()["error"]["message"]


# -- pages --------------------------------------------------------------------------------------------------


def many(db: Session, world: dict[str, Any], count: int, start: int = 0) -> list[str]:
    ada = account_of(world["ada"], world["lms"])
    return [store(db, make_statement(ada, activity=100 + number), platform=world["lms"],
                  course=world["course"], person=world["ada"]).id for number in range(start, start + count)]


@pytest.mark.parametrize("ascending", ["true", "false"])
def test_pages_are_complete_without_repeats(db: Session, world: dict[str, Any], pull: Pull,
                                            ascending: str) -> None:
    added = many(db, world, 23)
    whole = pull.ids(ascending=ascending, limit=0)
    paged = pull.every_page(ascending=ascending, limit=4)
    assert paged == whole and len(set(paged)) == len(paged) == 28
    assert set(added) <= set(paged)


def test_pages_stay_stable_while_statements_are_stored(db: Session, world: dict[str, Any],
                                                       pull: Pull) -> None:
    many(db, world, 10)
    before = pull.ids(limit=0)

    def walk(ascending: str) -> list[str]:
        seen, response, round_ = [], pull.get(limit=3, ascending=ascending), 0
        while True:
            document = response.get_json()
            seen += [statement["id"] for statement in document["statements"]]
            if not document["more"]:
                return seen
            round_ += 1
            many(db, world, 2, start=1000 * round_ + (0 if ascending == "false" else 500))  # stored meanwhile
            response = pull.get(document["more"])

    newest_first = walk("false")
    assert newest_first == before  # nothing stored later slips in, nothing is skipped or repeated
    oldest_first = walk("true")
    assert oldest_first[:len(before)] == list(reversed(before))
    assert len(set(oldest_first)) == len(oldest_first) > len(before)  # the new ones follow at the end


def test_one_page_costs_a_bounded_number_of_queries(db: Session, world: dict[str, Any], pull: Pull,
                                                    count_queries: Any) -> None:
    many(db, world, 30)
    pull.get(limit=1)  # the token's first use is noted once: not part of what a page costs
    with count_queries() as few:
        pull.get(limit=5)
    with count_queries() as more_rows:
        pull.get(limit=40)
    assert more_rows.count == few.count <= 2  # the token, the page
