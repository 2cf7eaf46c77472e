"""A real LRS (Ralph, on loopback) takes every statement Cadre builds, in every identity mode, and gives back
what it was sent: the builders' output is not only valid for ralph's models but for an LRS's API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from lti_tool.demo.ralph import RalphLrs
from xapi import Deployment, IdentityMode, build
from xapi import examples as ex
from xapi.statements import evaluated_id

PASSWORD = "ralph-xapi-examples"  # noqa: S105 - a throwaway LRS on loopback
XAPI_VERSION = {"X-Experience-API-Version": "1.0.3"}
SET_BY_THE_LRS = ("stored", "authority", "version")


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RalphLrs]:
    lrs = RalphLrs(Path(tmp_path_factory.mktemp("ralph-examples")), password=PASSWORD).start()
    yield lrs
    lrs.stop()


def sent_statements() -> list[dict[str, Any]]:
    """Every example in every identity mode; each mode its own deployment, so the ids differ."""
    statements = []
    for mode in IdentityMode:
        deployment = Deployment(f"https://cadre-{mode.value.replace('_', '-')}.example.com", identity=mode)
        examples = dict(ex.EXAMPLES)
        examples["voided"] = dataclasses.replace(  # the voided example's target, in this deployment
            examples["voided"], statement_id=evaluated_id(deployment, ex.PLATFORM, 41, 1)
        )
        statements += [build(deployment, event) for event in examples.values()]
    return statements


def as_sent(statement: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in statement.items() if key not in SET_BY_THE_LRS}
    kept["timestamp"] = datetime.fromisoformat(kept["timestamp"].replace("Z", "+00:00"))
    return kept


def test_ralph_stores_every_statement_and_returns_it_unchanged(ralph: RalphLrs) -> None:
    statements = sent_statements()
    auth = (ralph.username, PASSWORD)
    answer = httpx.post(f"{ralph.endpoint}/statements", json=statements, auth=auth, headers=XAPI_VERSION,
                        timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json() == [statement["id"] for statement in statements]
    for statement in statements:
        got = httpx.get(f"{ralph.endpoint}/statements", params={"statementId": statement["id"]}, auth=auth,
                        headers=XAPI_VERSION, timeout=30)
        assert got.status_code == 200, (statement["verb"]["id"], got.text)
        body = got.json()
        if "statements" in body:  # Ralph 5.1 answers a statementId query with a result list of one
            assert len(body["statements"]) == 1, body
            body = body["statements"][0]
        assert as_sent(body) == as_sent(statement), statement["verb"]["id"]


def test_sending_the_same_statements_again_stores_nothing_new(ralph: RalphLrs) -> None:
    """Independent of the test above (pytest-xdist may run it on another worker, with its own LRS): it sends
    once itself, so the second sending is always the same statements again."""
    statements = sent_statements()
    auth = (ralph.username, PASSWORD)
    first = httpx.post(f"{ralph.endpoint}/statements", json=statements, auth=auth, headers=XAPI_VERSION,
                       timeout=60)
    assert first.status_code in {200, 204, 409}, first.text  # 409 when the test above ran first, here
    before = len(ralph.stored_statements())
    assert before >= len(statements)
    again = httpx.post(f"{ralph.endpoint}/statements", json=statements, auth=auth, headers=XAPI_VERSION,
                       timeout=60)
    assert again.status_code in {200, 204, 409}, again.text
    assert len(ralph.stored_statements()) == before
