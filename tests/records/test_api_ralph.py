"""The pull API answers as a real LRS does: the same statements, delivered to Ralph by Cadre's worker, queried
with the same parameters on both, give the same statements, page by page as a whole.

Ralph (file-system backend, as ``lti_tool.demo.ralph`` runs it) is this module's own, so its file holds only
these statements (its answers are still narrowed to this test's ids). Where Ralph's file-system backend
departs from xAPI the comparison does not go (its ``since``/``until`` read ``timestamp``, not ``stored``:
the statements here are stored at their timestamp; it ignores ``ascending`` and keeps voided statements in
its lists: those are tested in test_api.py). The
Ralph runner (``lti_tool.demo.ralph``) hands its file-system backend ``verb`` and ``activity`` as strings:
as shipped, Ralph 5.1 compared its IRI model with the statements' strings and never matched.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.db import session_scope
from lti_tool.demo.ralph import RalphLrs
from lti_tool.records.tokens import create_token
from tests.records.delivery_support import RALPH_PASSWORD, add_lrs, deliverer, deliveries_of
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
)


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLrs]:
    lrs = RalphLrs(tmp_path_factory.mktemp("ralph-pull"), password=RALPH_PASSWORD).start()
    yield lrs
    lrs.stop()


def at(count: int) -> str:
    return (BASE_TIME + minutes(count)).isoformat().replace("+00:00", "Z")


def made_statements(app: Flask) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    with app.app_context(), session_scope(app) as session:
        lms = make_platform(session, f"https://lms-{run}.example")  # this test's own agents
        course, other_course = make_course(session, lms, f"c-{run}"), make_course(session, lms, f"d-{run}")
        ada, grace = make_person(session, lms, "ada"), make_person(session, lms, "grace")
        boss = make_person(session, lms, "boss")
        registration = str(uuid.uuid4())
        plan = [  # (person, verb, activity, course, instructor, registration)
            (ada, LAUNCHED, 1, course, None, None), (ada, SCORED, 1, course, boss, registration),
            (grace, COMPLETED, 2, other_course, None, None), (ada, COMPLETED, 2, course, None, None),
            (grace, SCORED, 1, course, boss, registration), (ada, COMPLETED, 3, other_course, None, None),
            (boss, LAUNCHED, 3, None, None, None), (grace, LAUNCHED, 1, course, ada, None),
        ]
        ids = []
        for number, (person, verb, activity, in_course, instructor, in_registration) in enumerate(plan, 1):
            body = make_statement(account_of(person, lms), verb=verb, activity=activity, course=in_course,
                                  instructor=account_of(instructor, lms) if instructor else None,
                                  registration=in_registration, timestamp=BASE_TIME + minutes(number))
            ids.append(store(session, body, platform=lms, course=in_course, person=person,
                             stored=BASE_TIME + minutes(number)).id)
        secret = create_token(session, name="comparison", platform_id=lms.id, created_by="test").secret
        agents = {name: json.dumps({"objectType": "Agent", "account": account_of(person, lms)["account"]})
                  for name, person in (("ada", ada), ("grace", grace), ("boss", boss))}
        return {"ids": ids, "secret": secret, "agents": agents, "registration": registration,
                "course": course_iri(course), "other_course": course_iri(other_course)}


def cadre_ids(client: FlaskClient, secret: str, params: dict[str, str]) -> list[str]:
    seen, response = [], client.get("/xapi/statements", query_string=params, headers={
        "Authorization": f"Bearer {secret}", "X-Experience-API-Version": "1.0.3"})
    while True:
        assert response.status_code == 200, response.get_data(as_text=True)
        document = response.get_json()
        if "statements" not in document:  # statementId: the statement itself
            return [document["id"]]
        seen += [statement["id"] for statement in document["statements"]]
        if not document["more"]:
            return seen
        response = client.get(document["more"], headers={
            "Authorization": f"Bearer {secret}", "X-Experience-API-Version": "1.0.3"})


def ralph_ids(ralph: RalphLrs, params: dict[str, str]) -> list[str]:
    base = ralph.endpoint.rsplit("/xAPI", 1)[0]
    seen, url, query = [], f"{ralph.endpoint}/statements", dict(params)
    for _ in range(100):
        response = httpx.get(url, params=query, auth=(ralph.username, RALPH_PASSWORD),
                             headers={"X-Experience-API-Version": "1.0.3"}, timeout=10)
        assert response.status_code == 200, response.text
        document = response.json()
        if "statements" not in document:  # statementId: the statement itself
            return [document["id"]]
        seen += [statement["id"] for statement in document["statements"]]
        if not document.get("more"):
            return list(dict.fromkeys(seen))  # in the order first seen (see the pages note below)
        url, query = base + document["more"], {}
    raise AssertionError("Ralph's more links did not end")


def test_filters_and_pages_agree_with_ralph(records_app: Flask, ralph: RalphLrs) -> None:
    add_lrs(records_app, ralph.endpoint, batch_size=3)
    made = made_statements(records_app)
    deliverer(records_app).drain()
    assert {delivery.status.value for delivery in deliveries_of(records_app)} == {"delivered"}
    ours = set(made["ids"])
    agents = made["agents"]
    queries: list[dict[str, str]] = [
        {},
        {"agent": agents["ada"]}, {"agent": agents["boss"]},
        {"agent": agents["boss"], "related_agents": "true"},
        {"agent": agents["ada"], "related_agents": "true"},
        {"verb": SCORED}, {"verb": LAUNCHED, "agent": agents["grace"]},
        {"activity": activity_iri(1)}, {"activity": made["course"]},
        {"activity": made["course"], "related_activities": "true"},
        {"activity": made["other_course"], "related_activities": "true", "verb": COMPLETED},
        {"registration": made["registration"]},
        {"since": at(3), "until": at(6)}, {"since": at(7)}, {"until": at(2), "agent": agents["ada"]},
        {"statementId": made["ids"][4]},
    ]
    client = records_app.test_client()
    for params in queries:
        from_cadre = cadre_ids(client, made["secret"], params)
        from_ralph = [one for one in ralph_ids(ralph, params) if one in ours]
        assert len(from_cadre) == len(set(from_cadre)), params
        assert sorted(from_cadre) == sorted(from_ralph), params
        assert bool(from_cadre) != (params == {"activity": made["course"]}), params  # a course is no object

    # Cadre's pages, followed to the end, hold what Ralph answers in one page for the same query. (Ralph's
    # own file-system pages are not compared: its search_after restarts from the file's start and repeats
    # statements, a Ralph 5.1 bug.)
    for params in ({"agent": agents["ada"], "related_agents": "true"}, {"agent": agents["grace"]},
                   {"agent": agents["ada"]}, {"activity": activity_iri(1)}, {"verb": COMPLETED}):
        whole = [one for one in ralph_ids(ralph, params) if one in ours]
        for limit in ("1", "2", "3"):
            paged = cadre_ids(client, made["secret"], {**params, "limit": limit})
            assert len(paged) == len(set(paged)) and sorted(paged) == sorted(whole), (params, limit)
        assert len(whole) > 1, params  # more than one page at limit 1
