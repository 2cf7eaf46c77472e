"""CASE interchange through the rubric library's services, on SQLite and PostgreSQL: a framework stored and
exported again keeps what was imported; a rubric keeps its CASE identity when it moves between Cadres."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import rubrics
from lti_tool import migrate
from lti_tool.db import build_engine
from lti_tool.models import CadreRole, CompetencyFramework, Context, Platform, Rubric, User
from lti_tool.rubric_library import services
from lti_tool.rubric_library.services import Actor

DATA = Path(__file__).parents[1] / "rubrics" / "data"
SAMPLE = (DATA / "opensalt_what_standards_could_be.json").read_bytes()


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


@pytest.fixture
def other_cadre(tmp_path: Path) -> Iterator[Session]:
    """A second, independent Cadre: its own database, built by the migrations."""
    engine = build_engine(f"sqlite:///{tmp_path / 'other-cadre.db'}")
    migrate.upgrade(engine)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def case_identifiers(text: str) -> list[str]:
    document = json.loads(text)
    found = [document["identifier"]]
    for criterion in document["CFRubricCriteria"]:
        found.append(criterion["identifier"])
        found.extend(level["identifier"] for level in criterion["CFRubricCriterionLevels"])
    return found


def export_from(session: Session, rubric_id: int, host: str) -> str:
    rubric = session.get(Rubric, rubric_id)
    assert rubric is not None
    version = services.current_version(rubric)
    return services.export_case(version, base_uri=f"https://{host}/rubrics/{rubric.id}/case")


def test_a_template_rubric_keeps_its_case_identity_in_another_cadre(
    db: Session, designer: Actor, other_cadre: Session
) -> None:
    # Made from a template: its identifier is the template's slug, so before Cadre kept a CASE identity
    # the rubric's UUID (and its criteria's and levels') came from this Cadre's address.
    made_here = services.create_from_template(db, designer, "skill-assessment-coaching-conversation")
    db.flush()
    assert made_here.case_identifier is not None and uuid.UUID(made_here.case_identifier)
    first = export_from(db, made_here.id, "cadre-a.example")

    elsewhere = designer_of(other_cadre, "other-lms", course="Z")
    moved = services.import_file(other_cadre, elsewhere, "coaching.case.json", first.encode()).rubric
    assert moved is not None
    other_cadre.commit()
    second = export_from(other_cadre, moved.id, "cadre-b.example")

    assert case_identifiers(second) == case_identifiers(first)
    assert json.loads(second)["identifier"] == made_here.case_identifier
    assert len(set(case_identifiers(first))) == len(case_identifiers(first))  # rubric, criteria, levels
    # And back again: importing the second Cadre's export here gives the same identifiers once more.
    back = services.import_file(db, designer, "back.case.json", second.encode()).rubric
    assert back is not None
    assert case_identifiers(export_from(db, back.id, "cadre-a.example")) == case_identifiers(first)


def test_the_case_identity_is_the_rubrics_not_its_versions_or_copies(db: Session, designer: Actor) -> None:
    rubric = services.create_from_template(db, designer, "skill-assessment-coaching-conversation")
    db.flush()
    before = case_identifiers(export_from(db, rubric.id, "cadre-a.example"))
    content = services.version_content(services.current_version(rubric)).to_dict()
    content["description"] = "Edited after the first export."
    services.update_rubric(db, designer, rubric.id, content, expected_lock_version=rubric.lock_version)
    assert case_identifiers(export_from(db, rubric.id, "cadre-a.example")) == before
    copy = services.duplicate_rubric(db, designer, rubric.id)
    db.flush()
    assert copy.case_identifier != rubric.case_identifier
    assert case_identifiers(export_from(db, copy.id, "cadre-a.example"))[0] != before[0]


def test_rubrics_stored_before_the_case_identity_export_as_they_always_did(
    db: Session, designer: Actor
) -> None:
    rubric = services.create_from_template(db, designer, "skill-assessment-coaching-conversation")
    rubric.case_identifier = None  # as migration 0011 leaves rubrics made before it
    db.flush()
    text = export_from(db, rubric.id, "cadre-a.example")
    version = services.current_version(rubric)
    legacy = rubrics.export_case_rubric(
        services.version_content(version),
        base_uri=f"https://cadre-a.example/rubrics/{rubric.id}/case",
        changed_at=version.changed_at,
    )
    assert case_identifiers(text) == case_identifiers(json.dumps(legacy))
