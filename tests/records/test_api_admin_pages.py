"""The records admin pages over real HTTP, as an administrator launched from the platform: backlog and dead
letters with a retry, recent statements with filters, the streamed export, API tokens (shown once, usable
on the pull API, revoked) and erasing a person; everyone else is refused."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.db import session_scope
from lti_tool.models import AuditEntry, Platform
from lti_tool.records import lrs as registry
from lti_tool.records.models import Statement, StatementDelivery
from lti_tool.records.tokens import ApiToken, create_token
from lti_tool.states import DeliveryStatus
from tests.fixtures.browser import assert_accessible
from tests.fixtures.visitors import Visitor
from tests.records.pull_data import (
    COMPLETED,
    LAUNCHED,
    account_of,
    make_course,
    make_person,
    make_platform,
    make_statement,
    store,
)
from tests.rubric_library.test_browser_first_use import open_as

PAGES = ["/records/admin/", "/records/admin/tokens", "/records/admin/erase"]
FORMS = ["/records/admin/dead-letters/retry", "/records/admin/export", "/records/admin/tokens",
         "/records/admin/tokens/1/revoke", "/records/admin/erase"]


def recorded(live_app: Flask) -> dict[str, Any]:
    """On the admin's platform: an LRS, two learners' statements, one of them dead at the LRS."""
    with live_app.app_context(), session_scope(live_app) as session:
        platform = session.scalars(select(Platform).order_by(Platform.id)).first()
        assert platform is not None
        registry.add_store(session, name="company-lrs", endpoint="http://127.0.0.1:9/xapi", username="cadre",
                           password="secret-of-the-lrs", courses=[], verbs=[], batch_size=100)
        course = make_course(session, platform, "records-course")
        ada = make_person(session, platform, "learner-ada", "Ada Lovelace")
        grace = make_person(session, platform, "learner-grace", "Grace Hopper")
        ada_statements = [store(session, make_statement(account_of(ada, platform), verb=verb, activity=number,
                                                        course=course), platform=platform, course=course,
                                person=ada).id for number, verb in enumerate([LAUNCHED, COMPLETED])]
        grace_statement = store(session, make_statement(account_of(grace, platform), course=course),
                                platform=platform, course=course, person=grace).id
        dead_seq = session.scalar(select(Statement.seq).where(Statement.id == ada_statements[0]))
        session.execute(update(StatementDelivery).where(StatementDelivery.statement_seq == dead_seq).values(
            status=DeliveryStatus.DEAD, attempts=1, last_error="LRS answered 400: the extension is invalid"))
        return {"platform_id": platform.id, "ada": ada_statements, "grace": grace_statement,
                "ada_id": ada.id, "dead_seq": dead_seq}


def test_the_overview_shows_backlog_dead_letters_and_statements(admin: Visitor, live_app: Flask) -> None:
    data = recorded(live_app)
    assert admin.home.link("records-admin-link") == "/records/admin/"  # from the administrator's home
    page = admin.get("/records/admin/")
    assert page.status == 200, page.text[:1000]
    backlog = page.attributes("backlog")
    assert [row["data-lrs"] for row in backlog] == ["company-lrs"]
    assert page.texts("pending") == ["2"] and page.texts("dead") == ["1"]
    assert page.texts("reason") == ["LRS answered 400: the extension is invalid"]
    assert "secret-of-the-lrs" not in page.response.text
    listed = [row["data-statement-id"] for row in page.attributes("statement")]
    assert listed == [data["grace"], *reversed(data["ada"])]

    by_verb = admin.submit(page, "statement-filters", {"verb": LAUNCHED})
    assert [row["data-statement-id"] for row in by_verb.attributes("statement")] == [data["ada"][0]]
    by_person = admin.submit(page, "statement-filters", {"person": "grace"})
    assert [row["data-statement-id"] for row in by_person.attributes("statement")] == [data["grace"]]
    by_course = admin.submit(page, "statement-filters", {"course": "elsewhere"})
    assert by_course.attributes("statement") == [] and by_course.texts("no-statements")


def test_a_dead_letter_is_retried_from_the_page(admin: Visitor, live_app: Flask, db: Session) -> None:
    data = recorded(live_app)
    page = admin.get("/records/admin/")
    delivery = page.attributes("dead-letter")[0]["data-delivery"]
    retried = admin.submit(page, "retry-form", {"delivery": delivery})
    assert retried.status == 200 and "due again" in " ".join(retried.texts("notice"))
    row = db.scalar(select(StatementDelivery).where(StatementDelivery.statement_seq == data["dead_seq"]))
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "lrs.retry_dead")).details["count"] == 1
    assert admin.get("/records/admin/").attributes("dead-letter") == []  # nothing dead any more


def test_the_export_downloads_this_platforms_statements(admin: Visitor, live_app: Flask) -> None:
    data = recorded(live_app)
    page = admin.get("/records/admin/")
    download = admin.submit(page, "export-form", {"format": "ndjson"})
    response = download.response
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-ndjson")
    assert "attachment" in response.headers["content-disposition"]
    assert [json.loads(line)["id"] for line in response.text.splitlines()] == [*data["ada"], data["grace"]]
    as_csv = admin.submit(page, "export-form", {"format": "csv", "course": "records-course"}).response
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [row["id"] for row in rows] == [*data["ada"], data["grace"]]
    assert {row["course"] for row in rows} == {"records-course"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"format": "xml"}, "format"), ({"since": "yesterday"}, "since"),
    ({"since": "2026-12-02T10:00", "until": "2026-12-01T10:00"}, "until"),
])
def test_a_bad_export_form_says_what_is_wrong(admin: Visitor, live_app: Flask, changes: dict[str, str],
                                              field: str) -> None:
    recorded(live_app)
    refused = admin.submit(admin.get("/records/admin/"), "export-form", {"format": "ndjson", **changes})
    assert refused.status == 400
    assert [problem["data-field"] for problem in refused.attributes("problems")] == [field]


def test_a_token_is_shown_once_works_on_the_api_and_is_revoked(admin: Visitor, live_app: Flask,
                                                              live_server: Any, db: Session) -> None:
    data = recorded(live_app)
    page = admin.get("/records/admin/tokens")
    made = admin.submit(page, "create-form", {"name": "Power BI"})
    assert made.status == 200
    secret = made.attributes("secret")[0]["value"]
    assert secret.startswith("cadre_")
    listing = admin.get("/records/admin/tokens")
    assert secret not in listing.response.text
    assert [t["data-state"] for t in listing.attributes("token")] == ["live"]
    token = db.scalar(select(ApiToken))
    assert token.platform_id == data["platform_id"] and token.created_by.startswith("user ")

    pulled = httpx.get(f"{live_server.url}/xapi/statements", headers={
        "Authorization": f"Bearer {secret}", "X-Experience-API-Version": "1.0.3"})
    assert pulled.status_code == 200
    assert [s["id"] for s in pulled.json()["statements"]] == [data["grace"], *reversed(data["ada"])]

    nameless = admin.submit(listing, "create-form", {"name": ""})
    assert nameless.status == 400 and nameless.texts("problems")
    after = admin.post(f"/records/admin/tokens/{token.id}/revoke")
    assert after.status == 200 and [t["data-state"] for t in after.attributes("token")] == ["revoked"]
    refused = httpx.get(f"{live_server.url}/xapi/statements", headers={
        "Authorization": f"Bearer {secret}", "X-Experience-API-Version": "1.0.3"})
    assert refused.status_code == 401


def test_another_platforms_token_cannot_be_revoked_from_the_page(admin: Visitor, live_app: Flask,
                                                                 db: Session) -> None:
    with live_app.app_context(), session_scope(live_app) as session:
        other = make_platform(session, "https://other-lms.example")
        theirs = create_token(session, name="theirs", platform_id=other.id, created_by="cli").token.id
    refused = admin.post(f"/records/admin/tokens/{theirs}/revoke")
    assert refused.status == 404
    assert db.get(ApiToken, theirs).revoked_at is None
    assert "theirs" not in admin.get("/records/admin/tokens").text


def test_erasing_a_person_from_the_page(admin: Visitor, live_app: Flask, db: Session) -> None:
    data = recorded(live_app)
    form = admin.get("/records/admin/erase")
    unconfirmed = admin.submit(form, "erase-form", {"sub": "learner-ada"})
    assert unconfirmed.status == 400 and [p["data-field"] for p in unconfirmed.attributes("problems")] == [
        "confirm"]
    unknown = admin.submit(form, "erase-form", {"sub": "nobody", "confirm": "yes"})
    assert unknown.status == 400 and [p["data-field"] for p in unknown.attributes("problems")] == ["sub"]
    assert db.scalar(select(Statement).where(Statement.id == data["ada"][0])).voided is False
    erased = admin.submit(form, "erase-form", {"sub": "learner-ada", "confirm": "yes"})
    assert erased.status == 200 and "2 statement(s) voided" in " ".join(erased.texts("erased"))
    db.expire_all()
    for statement_id in data["ada"]:
        row = db.scalar(select(Statement).where(Statement.id == statement_id))
        assert row.voided and "learner-ada" not in json.dumps(row.body) and row.person_id is None
    assert db.scalar(select(Statement).where(Statement.id == data["grace"])).voided is False


@pytest.mark.parametrize("role", ["designer", "manager", "learner"])
def test_only_administrators_reach_the_records_pages(launch_visitor: Any, live_app: Flask, role: str) -> None:
    recorded(live_app)
    visitor = launch_visitor(role)
    for path in PAGES:
        page = visitor.get(path)
        assert page.status == 403 and "administrator" in page.text, (role, path)
    for path in FORMS:
        page = visitor.post(path, {"sub": "learner-ada", "confirm": "yes", "name": "x", "format": "ndjson"})
        assert page.status == 403, (role, path)


def test_the_records_pages_pass_the_accessibility_checks_in_a_browser(
    admin: Visitor, live_app: Flask, live_server: Any, page: Any
) -> None:
    recorded(live_app)
    for path in PAGES:
        open_as(page, live_server, admin, path)
        assert_accessible(page)
    open_as(page, live_server, admin, "/records/admin/tokens")
    page.fill("#token-name", "Power BI")
    page.click("[data-testid=create]")
    page.wait_for_selector("[data-testid=secret]")
    assert page.input_value("[data-testid=secret]").startswith("cadre_")
    assert_accessible(page)
