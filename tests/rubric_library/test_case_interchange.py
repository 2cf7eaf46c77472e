"""CASE interchange through the rubric library's services, on SQLite and PostgreSQL: a framework stored and
exported again keeps what was imported; a rubric keeps its CASE identity when it moves between Cadres."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.models import CadreRole, CompetencyFramework, Context, Platform, User
from lti_tool.rubric_library import services
from lti_tool.rubric_library.services import Actor

SAMPLE = (Path(__file__).parents[1] / "rubrics" / "data" / "opensalt_what_standards_could_be.json").read_bytes()


def designer_of(session: Session, platform_name: str, course: str = "A") -> Actor:
    platform = Platform(
        name=platform_name,
        issuer=f"https://{platform_name}.example",
        client_id="cadre",
        auth_login_url="https://x/auth",
        auth_token_url="https://x/token",
        key_set_url="https://x/jwks",
    )
    session.add(platform)
    session.flush()
    context = Context(platform_id=platform.id, context_id=course, title=f"Course {course}")
    user = User(platform_id=platform.id, sub="maya", name="Maya Schmidt")
    session.add_all([context, user])
    session.flush()
    return Actor(user.id, user.name, platform.id, context.id, CadreRole.DESIGNER)


@pytest.fixture
def designer(db: Session) -> Actor:
    return designer_of(db, "lms")


def test_a_stored_framework_exports_what_was_imported(db: Session, designer: Actor) -> None:
    outcome = services.import_file(db, designer, "opensalt.json", SAMPLE)
    assert outcome.framework is not None
    db.commit()
    db.expire_all()  # read back from the database, not from the session's memory
    row = db.scalars(select(CompetencyFramework)).one()
    exported = json.loads(services.export_framework(row))
    expected = rubrics.export_case_framework(
        rubrics.import_case_framework(SAMPLE), changed_at=row.updated_at
    )
    assert exported == expected
    assert len(exported["CFAssociations"]) == 39
    assert exported["CFDocument"]["lastChangeDateTime"] == "2017-05-25T18:05:33+00:00"
    assert {item["CFItemType"] for item in exported["CFItems"]} == {"Cluster", "Standard", "Component"}
    assert exported["CFItems"][0]["educationLevel"] == ["06"] and exported["CFItems"][0]["language"] == "en"
