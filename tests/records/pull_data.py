"""Statements for the pull API, export and erasure tests: platforms, courses and people as rows, and
statements made by hand (valid xAPI) and recorded through the store as a feature would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from lti_tool.models import Context, Platform, User
from lti_tool.records.models import Statement
from lti_tool.records.store import record

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
SCORED = "http://adlnet.gov/expapi/verbs/scored"
LAUNCHED = "http://adlnet.gov/expapi/verbs/launched"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
BASE_TIME = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def make_platform(db: Session, issuer: str = "https://lms.example") -> Platform:
    platform = Platform(name=issuer, issuer=issuer, client_id="cadre", auth_login_url=f"{issuer}/auth",
                        auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks")
    db.add(platform)
    db.flush()
    return platform


def make_course(db: Session, platform: Platform, lms_id: str = "course-2") -> Context:
    course = Context(platform_id=platform.id, context_id=lms_id, title=f"Course {lms_id}")
    db.add(course)
    db.flush()
    return course


def make_person(db: Session, platform: Platform, sub: str, name: str = "Ada Lovelace") -> User:
    person = User(platform_id=platform.id, sub=sub, name=name, email=f"{sub}@people.example")
    db.add(person)
    db.flush()
    return person


def account_of(person: User, platform: Platform) -> dict[str, Any]:
    return {"objectType": "Agent", "name": person.name,
            "account": {"homePage": platform.issuer, "name": person.sub}}


def activity_iri(number: int) -> str:
    return f"https://cadre.example/xapi/activities/{number}"


def course_iri(course: Context) -> str:
    return f"https://cadre.example/xapi/courses/{course.id}"


@dataclass
class Recorded:
    id: str
    seq: int
    body: dict[str, Any]


def make_statement(actor: dict[str, Any], *, verb: str = COMPLETED, activity: int = 1,
                   course: Context | None = None, instructor: dict[str, Any] | None = None,
                   registration: str | None = None, score: float | None = None,
                   statement_id: str | None = None, timestamp: datetime = BASE_TIME) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": activity_iri(activity),
                   "definition": {"name": {"en-US": f"Activity {activity}"},
                                  "type": "http://adlnet.gov/expapi/activities/assessment"}},
        "timestamp": timestamp.isoformat().replace("+00:00", "Z"),
    }
    context: dict[str, Any] = {}
    if course is not None:
        context["contextActivities"] = {"parent": [{"objectType": "Activity", "id": course_iri(course)}]}
    if instructor is not None:
        context["instructor"] = instructor
    if registration is not None:
        context["registration"] = registration
    if context:
        statement["context"] = context
    if score is not None:
        statement["result"] = {"score": {"raw": score, "min": 0, "max": 100, "scaled": score / 100},
                               "completion": True}
    return statement


def store(db: Session, statement: dict[str, Any], *, platform: Platform, course: Context | None = None,
          person: User | None = None, activity_kind: str | None = "manager_feedback",
          stored: datetime | None = None) -> Recorded:
    """Record ``statement`` as a feature does; ``stored`` sets the stored time (the store takes now)."""
    assert record(db, statement, platform_id=platform.id, context_id=course.id if course else None,
                  activity_kind=activity_kind, person_id=person.id if person else None)
    row = db.query(Statement).filter(Statement.id == statement["id"]).one()
    if stored is not None:
        body = dict(row.body, stored=stored.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
        db.execute(update(Statement).where(Statement.seq == row.seq).values(stored=stored, body=body))
        db.expire(row)
    return Recorded(row.id, row.seq, row.body)


def void(db: Session, target: Recorded, *, platform: Platform, actor: dict[str, Any]) -> Recorded:
    voiding = {"id": str(uuid.uuid4()), "actor": actor,
               "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
               "object": {"objectType": "StatementRef", "id": target.id},
               "timestamp": BASE_TIME.isoformat().replace("+00:00", "Z")}
    return store(db, voiding, platform=platform, activity_kind=None)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)
