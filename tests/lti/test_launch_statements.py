"""What a login and a launch ask of the database, statement by statement, and the signed state that lets
the launch find its registration and check the token before it writes (issue 7, launch speed).

Counted with SQLAlchemy's cursor events, by kind and table, so that a new statement shows up here with a
name rather than as a slower benchmark.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event, select

from lti_tool.db import get_engine, session_scope
from lti_tool.lti.launch import CLAIM_CONTEXT, CLAIM_RESOURCE_LINK
from lti_tool.lti.provisioning import SEEN_PRECISION
from lti_tool.lti.storage import DatabaseDataStorage, LoginState, new_state, read_state
from lti_tool.models import Activity, Context, Membership, ResourceLink, User
from lti_tool.records.models import Statement
from lti_tool.states import ActivityKind, CadreRole
from tests.fixtures.database import CountQueries
from tests.fixtures.platform import ADA
from tests.lti.conftest import INSTRUCTOR, InProcessLms
from tests.lti.test_launch_views import assert_rejected
from xapi.profile import Verb

SECRET = "a-secret-key-for-state-signatures"  # noqa: S105
STATEMENT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)",
                       re.IGNORECASE | re.DOTALL)


@contextmanager
def statements(app: Flask) -> Iterator[Counter[str]]:
    """Every statement on rows run meanwhile, as ``"<KIND> <first table>"`` (e.g. ``"INSERT lti_cache"``);
    transaction control (the test's SAVEPOINT and RELEASE) is left out."""
    seen: Counter[str] = Counter()

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if match := STATEMENT.match(statement):
            seen[f"{match.group(1).upper()} {match.group(2)}"] += 1

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_login_reads_its_registration_once_and_writes_one_row(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    in_process_lms.login(client)  # the first login of the process also purges expired rows
    with statements(app) as seen:
        response, params = in_process_lms.login(client, lti_deployment_id=in_process_lms.deployment_id)
    assert response.status_code == 302 and read_state(params["state"], app.config["SECRET_KEY"]) is not None
    # The platform and the deployment it names in one SELECT; the login state (with the nonce) in one INSERT.
    assert seen == Counter({"SELECT platforms": 1, "INSERT lti_cache": 1}), seen


def test_a_login_says_it_may_be_lost_on_a_crash_in_its_insert(
    app: Flask, in_process_lms: InProcessLms, count_queries: CountQueries
) -> None:
    """On PostgreSQL the login's INSERT sets its transaction not to wait for the disk (a lost login only
    makes its launch ask to open the activity again): no SET statement of its own. Nothing on SQLite."""
    client = app.test_client()
    in_process_lms.login(client)
    with count_queries() as login:
        assert in_process_lms.login(client)[0].status_code == 302
    [insert] = [s for s in login.statements if s.lstrip().upper().startswith("INSERT INTO LTI_CACHE")]
    postgresql = get_engine(app).dialect.name == "postgresql"
    assert ("synchronous_commit" in insert) is postgresql, insert
    assert not [s for s in login.statements if s.lstrip().upper().startswith("SET")], login.statements


def test_a_launch_consumes_its_login_in_one_statement_and_needs_no_other_lookup(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    in_process_lms.launch_as(client)  # the first launch fetches and stores the platform's key set
    _, params = in_process_lms.login(client)
    token = in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    with statements(app) as seen:
        response = in_process_lms.launch(client, state=params["state"], token=token)
    assert response.status_code == 303, response.get_data(as_text=True)
    # Platform + deployment: one SELECT; the login (and its nonce) deleted and read by one DELETE … RETURNING;
    # no lti_cache SELECT, nothing in nonces, no separate deployment SELECT.
    assert seen["SELECT platforms"] == 1 and seen["DELETE lti_cache"] == 1, seen
    assert not {name for name in seen if name.endswith(("lti_cache", "nonces", "deployments"))} - {
        "DELETE lti_cache"}, seen
    # A return to a known course with nothing changed: what Cadre holds read in one SELECT, nothing
    # upserted; then the launch row.
    assert seen["SELECT users"] == 1 and seen["INSERT launches"] == 1, seen
    assert not {name for name in seen if name.startswith(("INSERT", "UPDATE"))} - {"INSERT launches"}, seen


def _launched(app: Flask, lms: InProcessLms, **claims: Any) -> Counter[str]:
    """The writes of one launch (login excluded) with these claims."""
    client = app.test_client()
    _, params = lms.login(client)
    token = lms.key.sign(lms.claims(params["nonce"], **claims))
    with statements(app) as seen:
        response = lms.launch(client, state=params["state"], token=token)
    assert response.status_code == 303, response.get_data(as_text=True)
    return Counter({name: count for name, count in seen.items() if name.startswith(("INSERT", "UPDATE"))})


def test_a_launch_writes_only_what_changed(app: Flask, in_process_lms: InProcessLms) -> None:
    first = _launched(app, in_process_lms)
    assert first == Counter({"INSERT users": 1, "INSERT contexts": 1, "INSERT memberships": 1,
                             "INSERT resource_links": 1, "INSERT launches": 1})
    assert _launched(app, in_process_lms) == Counter({"INSERT launches": 1})
    assert _launched(app, in_process_lms, roles=[INSTRUCTOR]) == Counter({"INSERT memberships": 1,
                                                                          "INSERT launches": 1})
    context = {**in_process_lms.claims("n")[CLAIM_CONTEXT], "title": "Leading Teams (2027)"}
    assert _launched(app, in_process_lms, roles=[INSTRUCTOR], **{CLAIM_CONTEXT: context}) == Counter({
        "INSERT contexts": 1, "INSERT launches": 1})
    link = {**in_process_lms.claims("n")[CLAIM_RESOURCE_LINK], "title": "Feedback, renamed"}
    assert _launched(app, in_process_lms, roles=[INSTRUCTOR], **{CLAIM_CONTEXT: context,
                                                                 CLAIM_RESOURCE_LINK: link}) == Counter({
        "INSERT resource_links": 1, "INSERT launches": 1})
    other_course = {**context, "id": "course-2"}
    assert _launched(app, in_process_lms, roles=[INSTRUCTOR], **{CLAIM_CONTEXT: other_course}) == Counter({
        "INSERT contexts": 1, "INSERT memberships": 1, "INSERT resource_links": 1, "INSERT launches": 1})
    where = {CLAIM_CONTEXT: context, CLAIM_RESOURCE_LINK: link}
    renamed = _launched(app, in_process_lms, roles=[INSTRUCTOR], name="Ada King", **where)
    assert renamed == Counter({"INSERT users": 1, "INSERT launches": 1})
    with session_scope(app) as session:
        user = session.scalars(select(User).where(User.sub == ADA.sub)).one()
        assert user.name == "Ada King"
        member = session.scalars(select(Membership).join(Context).where(
            Membership.user_id == user.id, Context.context_id == context["id"])).one()
        assert member.role is CadreRole.DESIGNER
        assert session.scalars(select(Context.title).where(Context.context_id == context["id"])).one() == \
            "Leading Teams (2027)"
        assert "Feedback, renamed" in session.scalars(select(ResourceLink.title)).all()
        seen_at = user.last_seen_at
        user.last_seen_at = seen_at - SEEN_PRECISION - timedelta(seconds=1)  # seen long enough ago
    seen_again = _launched(app, in_process_lms, roles=[INSTRUCTOR], name="Ada King", **where)
    assert seen_again == Counter({"INSERT users": 1, "INSERT launches": 1})
    with session_scope(app) as session:
        assert session.scalars(select(User.last_seen_at).where(User.sub == ADA.sub)).one() >= seen_at


def test_a_launch_of_an_activity_records_launched(app: Flask, in_process_lms: InProcessLms) -> None:
    """The activity found with what provisioning reads names the statement; a placement with none yet
    records nothing."""
    _launched(app, in_process_lms)
    with session_scope(app) as session:
        assert session.scalars(select(Statement)).all() == []
        link = session.scalars(select(ResourceLink)).one()
        platform_id = session.get_one(Context, link.context_id).platform_id
        session.add(Activity(public_id=secrets.token_hex(16), platform_id=platform_id,
                             context_id=link.context_id, resource_link_id=link.id,
                             kind=ActivityKind.MANAGER_FEEDBACK, title="Feedback on Ada"))
    _launched(app, in_process_lms)
    with session_scope(app) as session:
        [statement] = session.scalars(select(Statement)).all()
        assert statement.verb == Verb.LAUNCHED.iri and "Feedback on Ada" in str(statement.body)


def test_the_state_is_signed_with_the_login_time_and_platform() -> None:
    state = new_state(SECRET, platform_id=42, now=1_700_000_000)
    signed = read_state(state, SECRET)
    assert signed is not None and (signed.issued_at, signed.platform_id) == (1_700_000_000, 42)
    body, _, tag = state.rpartition(".")
    random_part, issued_at, _platform = body.split(".")
    assert read_state(f"{random_part}.{issued_at}.43.{tag}", SECRET) is None  # another platform
    assert read_state(f"{random_part}.1800000000.42.{tag}", SECRET) is None  # a later time
    assert read_state(state, SECRET + "-other") is None  # another Cadre's key
    assert read_state("state-made-up", SECRET) is None
    assert new_state(SECRET, 42) != new_state(SECRET, 42)


def test_a_state_with_an_altered_signature_is_unknown_and_consumes_nothing(
    app: Flask, in_process_lms: InProcessLms
) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    token = in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    state = params["state"]
    forged = state[:-1] + ("A" if state[-1] != "A" else "B")
    client.set_cookie("lti1p3-" + forged, forged)
    assert_rejected(in_process_lms.launch(client, state=forged, token=token), "unknown_state")
    assert in_process_lms.launch(client, state=state, token=token).status_code == 303  # the real one works


def test_a_login_older_than_the_nonce_lifetime_is_unknown(app: Flask, in_process_lms: InProcessLms) -> None:
    client = app.test_client()
    _, params = in_process_lms.login(client)
    signed = read_state(params["state"], app.config["SECRET_KEY"])
    assert signed is not None
    lifetime = app.config["CADRE"].nonce_lifetime_seconds
    state = new_state(app.config["SECRET_KEY"], signed.platform_id, now=time.time() - lifetime - 1)
    token = in_process_lms.key.sign(in_process_lms.claims(params["nonce"]))
    client.set_cookie("lti1p3-" + state, state)
    assert_rejected(in_process_lms.launch(client, state=state, token=token), "unknown_state")


def test_a_login_is_consumed_once(app: Flask, in_process_lms: InProcessLms) -> None:
    with session_scope(app) as session:
        storage = DatabaseDataStorage(session)
        login = LoginState(issuer="https://i", client_id="c", platform_id=1, nonce="n", login_hint="h")
        login.save(storage, "state-1", lifetime_seconds=60)
        assert LoginState.load(storage, "state-1") == login  # reading leaves it
        assert LoginState.consume(storage, "state-1") == login
        assert LoginState.consume(storage, "state-1") is None and LoginState.load(storage, "state-1") is None
