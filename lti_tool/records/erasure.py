"""Erasing a person from Cadre's learning records (``cadre person erase``, the records admin page).

What happens, in one transaction:

1. **Void.** Every statement about the person (``person_id``) or made by them (their actor key, on their
   own platform: another platform's same e-mail or LMS id is someone else) that is not voided yet, and is
   no voiding statement itself, is answered with a voiding statement by Cadre
   (:func:`xapi.statements.voided`, actor Cadre's own agent), recorded through
   :func:`lti_tool.records.store.record`: it is delivered like every statement, and also to each LRS that
   was sent (or is to be sent) the statement it voids, even if that LRS's verb filter leaves voiding out.
2. **Scrub.** Those statements' bodies (voided earlier or now) are replaced by a minimal form that names
   nobody: the id, verb, the activity, the course activities, the times, and the actor replaced by
   :data:`ERASED_ACTOR`; result, extensions, registration, instructor and team go. ``actor_key`` becomes
   the erased key and ``person_id`` is cleared. Another person's statement on their platform that only
   mentions them (as the instructor who assessed, an agent object, a member of a team) keeps its own
   content, with the person replaced by :data:`ERASED_ACTOR` wherever they appear. ``object_id`` follows the
   new body: an agent object that was the person is the erased key.
3. **Side rows.** ``statement_agents`` rows of those statements are written again from the new bodies, as
   the store writes them: the erased key where the person was, so ``related_agents`` queries stay
   consistent.

An LRS keeps what it was sent before: xAPI has no erasure, only voiding, which tells every LRS that the
statements no longer stand; removing them from an LRS is that LRS operator's task (docs/xapi-profile.md).
Pending deliveries of a scrubbed statement send its minimal form. Cadre's other tables (users, feedback)
are not changed here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from lti_tool.db import utcnow
from lti_tool.models import Platform, User
from lti_tool.ops import audit
from lti_tool.records.models import Statement, StatementAgent
from lti_tool.records.store import (
    VOIDED_VERB,
    agent_key,
    agent_rows,
    forward_voiding,
    object_key,
    record,
)
from lti_tool.settings import get_settings

ERASED_NAME = "erased-person"
ERASE_ACTION = "person.erase"


def erased_actor() -> dict[str, Any]:
    """The agent that stands for every erased person: Cadre's public URL and a name shared by all of them,
    so nothing about who it was, or that two erased statements were the same person's, remains."""
    return {"objectType": "Agent", "account": {"homePage": get_settings().public_url, "name": ERASED_NAME}}


class ErasureError(ValueError):
    """The person cannot be erased as asked (unknown, another platform's); the message says why."""


@dataclass(frozen=True)
class ErasureReport:
    person_id: int
    voided: int
    """Voiding statements recorded now."""
    scrubbed: int
    """The person's own statements reduced to the minimal form (voided now or before)."""
    mentions: int
    """Other people's statements the person was removed from."""


def keys_of(person: User, platform: Platform) -> set[str]:
    """Every actor key a statement may know the person by: the LMS account, and the e-mail forms (mbox,
    mbox_sha1sum) of the address Cadre has, since an identity-mode change may have used either."""
    keys = {agent_key({"account": {"homePage": platform.issuer, "name": person.sub}})}
    email = (person.email or "").strip().lower()
    if email:
        keys.add(agent_key({"mbox": f"mailto:{email}"}))
        digest = hashlib.sha1(f"mailto:{email}".encode(), usedforsecurity=False).hexdigest()
        keys.add(agent_key({"mbox_sha1sum": digest}))
    return keys


def find_person(session: Session, *, platform_id: int, sub: str | None = None,
                user_id: int | None = None) -> User:
    """The platform's person by LMS user id (``sub``) or Cadre id; another platform's is "no such person"."""
    query = select(User).where(User.platform_id == platform_id)
    query = query.where(User.sub == sub) if sub is not None else query.where(User.id == user_id)
    person = session.scalar(query)
    if person is None:
        raise ErasureError(f"No person {'with LMS id ' + repr(sub) if sub is not None else user_id} "
                           f"on platform {platform_id}.")
    return person


def erase_person(session: Session, person: User, *, erased_by: str) -> ErasureReport:
    """Void, scrub and unlink the person's learning records (see the module); audited without personal
    data (the person's Cadre id and the counts)."""
    from xapi.events import Voided
    from xapi.statements import Deployment, voided

    platform = session.get(Platform, person.platform_id)
    assert platform is not None
    keys = keys_of(person, platform)
    erased = erased_actor()
    erased_key = agent_key(erased)
    # Only the person's platform: another one's statements may carry the same keys for someone else (the
    # same e-mail address, or the same account where platforms share an issuer, as Canvas's customers do).
    on_platform = Statement.platform_id == person.platform_id
    own = session.execute(
        select(Statement.seq, Statement.id, Statement.voided, Statement.verb, Statement.platform_id,
               Statement.context_id, Statement.activity_kind)
        .where(or_(Statement.person_id == person.id, and_(on_platform, Statement.actor_key.in_(keys))))
        .order_by(Statement.seq)
    ).all()
    deployment = Deployment(public_url=get_settings().public_url, identity=get_settings().actor_identity)
    now = utcnow()
    voided_count = 0
    for row in own:
        if row.voided or row.verb == VOIDED_VERB:
            continue
        voiding = voided(deployment, Voided(actor=None, statement_id=row.id, at=now))
        if record(session, voiding, platform_id=row.platform_id, context_id=row.context_id,
                  activity_kind=row.activity_kind, person_id=None):
            voided_count += 1
        forward_voiding(session, voiding_id=voiding["id"], target_id=row.id)

    own_seqs = [row.seq for row in own]
    own_set = set(own_seqs)
    mentioned = sorted(set(session.scalars(
        select(StatementAgent.statement_seq)
        .join(Statement, Statement.seq == StatementAgent.statement_seq)
        .where(on_platform, StatementAgent.agent_key.in_(keys))
    )) - own_set)
    bodies = dict(session.execute(
        select(Statement.seq, Statement.body).where(Statement.seq.in_(own_seqs + mentioned))).all())
    scrubbed = {seq: minimal_form(bodies[seq], erased) for seq in own_seqs}
    scrubbed |= {seq: without_agents(bodies[seq], keys, erased) for seq in mentioned}
    for seq, body in scrubbed.items():
        # The columns copied out of the body follow it: an agent object's key is the object_id.
        values: dict[str, Any] = {"body": body, "object_id": object_key(body["object"])[:2048]}
        if seq in own_set:
            values |= {"actor_key": erased_key, "person_id": None, "registration": None}
        session.execute(update(Statement).where(Statement.seq == seq).values(**values)
                        .execution_options(synchronize_session=False))

    # Side rows as the store would write them for the new bodies: the erased agent where the person was,
    # and a group's key that follows its new members; the scrubbed form's instructor and team are gone.
    session.execute(delete(StatementAgent).where(StatementAgent.statement_seq.in_(list(scrubbed))))
    rows = [row for seq, body in sorted(scrubbed.items()) for row in agent_rows(seq, body)]
    if rows:
        session.execute(insert(StatementAgent), rows)

    report = ErasureReport(person.id, voided_count, len(own_seqs), len(mentioned))
    audit.record(session, ERASE_ACTION, erased_by, person_id=person.id, platform_id=person.platform_id,
                 voided=report.voided, scrubbed=report.scrubbed, mentions=report.mentions)
    return report


def minimal_form(body: Mapping[str, Any], erased: Mapping[str, Any]) -> dict[str, Any]:
    """What is left of an erased person's statement: nobody named, nothing they answered or scored."""
    kept: dict[str, Any] = {"id": body["id"], "actor": dict(erased)}
    verb = body.get("verb") or {}
    kept["verb"] = {key: verb[key] for key in ("id", "display") if key in verb}
    target = body.get("object") or {}
    if target.get("objectType", "Activity") == "Activity":
        definition = target.get("definition") or {}
        kept["object"] = {"objectType": "Activity", "id": target.get("id")}
        if "type" in definition:
            kept["object"]["definition"] = {"type": definition["type"]}
    elif target.get("objectType") == "StatementRef":
        kept["object"] = {"objectType": "StatementRef", "id": target.get("id")}
    else:  # an agent or a sub-statement: it may name someone
        kept["object"] = dict(erased)
    activities = (body.get("context") or {}).get("contextActivities")
    if activities:
        kept["context"] = {"contextActivities": activities}
    for key in ("timestamp", "stored", "authority", "version"):
        if key in body:
            kept[key] = body[key]
    return kept


def without_agents(body: Mapping[str, Any], keys: Iterable[str], erased: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` with every agent whose key is in ``keys`` replaced by ``erased`` (in groups' members too)."""
    keys = set(keys)

    def scrub(node: Any) -> Any:
        if isinstance(node, list):
            return [scrub(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        if node.get("objectType", "Agent") in ("Agent", "Group") and _identifies(node) \
                and agent_key(node) in keys:
            return dict(erased)
        return {key: scrub(value) for key, value in node.items()}

    return scrub(dict(body))


def _identifies(node: Mapping[str, Any]) -> bool:
    return any(name in node for name in ("mbox", "mbox_sha1sum", "openid", "account"))
