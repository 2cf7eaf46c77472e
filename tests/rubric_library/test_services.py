"""The rubric library's services against a real database (SQLite and PostgreSQL): versions, conflicts,
sharing between courses, imports that store nothing when they fail, and exports that read back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.models import (
    AuditEntry,
    CadreRole,
    CompetencyFramework,
    Context,
    Platform,
    Rubric,
    RubricVersion,
    RubricVersionCompetency,
    User,
)
from lti_tool.permissions import RUBRIC_NOT_FOUND, PermissionDenied, can_edit_rubric
from lti_tool.rubric_library import services
from lti_tool.rubric_library.services import Actor, ConflictError, RubricNotFound


@dataclass
class People:
    designer: Actor
    other_designer: Actor
    admin: Actor
    manager: Actor
    designer_elsewhere: Actor
    """A designer of a course on another platform."""


@pytest.fixture
def people(db: Session) -> People:
    def platform(name: str) -> Platform:
        row = Platform(
            name=name,
            issuer=f"https://{name}.example",
            client_id="cadre",
            auth_login_url="https://x/auth",
            auth_token_url="https://x/token",
            key_set_url="https://x/jwks",
        )
        db.add(row)
        db.flush()
        return row

    def actor(platform: Platform, course: str, sub: str, name: str, role: CadreRole) -> Actor:
        context = db.scalars(select(Context).filter_by(platform_id=platform.id, context_id=course)).first()
        if context is None:
            context = Context(platform_id=platform.id, context_id=course, title=f"Course {course}")
            db.add(context)
        user = User(platform_id=platform.id, sub=sub, name=name)
        db.add(user)
        db.flush()
        return Actor(user.id, name, platform.id, context.id, role)

    lms, other_lms = platform("lms"), platform("other-lms")
    people = People(
        designer=actor(lms, "A", "maya", "Maya Schmidt", CadreRole.DESIGNER),
        other_designer=actor(lms, "B", "lee", "Lee Chan", CadreRole.DESIGNER),
        admin=actor(lms, "A", "sam", "Sam Admin", CadreRole.ADMIN),
        manager=actor(lms, "A", "omar", "Omar Haddad", CadreRole.MANAGER),
        designer_elsewhere=actor(other_lms, "A", "eve", "Eve Else", CadreRole.DESIGNER),
    )
    db.commit()
    return people


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def last_audit(db: Session) -> AuditEntry:
    return db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()


def actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def edited(content: rubrics.Rubric | dict, **changes: object) -> dict:
    data = content.to_dict() if isinstance(content, rubrics.Rubric) else json.loads(json.dumps(content))
    data.update(changes)
    return data


# -- creating ----------------------------------------------------------------------------------------------


def test_create_from_template_stores_version_one_with_its_competency_index(
    db: Session, people: People
) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()

    template = rubrics.get_template("communication")
    version = rubric.current_version
    assert rubric.title == template.title
    assert rubric.context_id == people.designer.context_id
    assert version is not None and version.number == 1 and version.used_at is None
    assert version.content == template.to_dict()
    assert version.content_hash == rubrics.content_hash(template)
    indexed = {(row.criterion_identifier, row.competency_tag) for row in version.competencies}
    assert indexed == {(c.identifier, tag) for c in template.criteria for tag in c.competency_tags}
    assert indexed, "the communication template tags its criteria"
    entry = db.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor_user_id) == ("rubric.create", people.designer.user_id)
    assert entry.details["origin"] == "template:communication"


def test_unknown_template_and_invalid_content_store_nothing(db: Session, people: People) -> None:
    with pytest.raises(RubricNotFound, match="no rubric template 'nope'"):
        services.create_from_template(db, people.designer, "nope")
    with pytest.raises(rubrics.RubricValidationError) as raised:
        services.create_from_dict(
            db, people.designer, {"title": "", "scoring_mode": "points", "criteria": []}
        )
    assert [problem.path for problem in raised.value.problems] == [("title",), ("criteria",)]
    assert count(db, Rubric) == 0 and count(db, AuditEntry) == 0


def test_managers_may_not_create_rubrics(db: Session, people: People) -> None:
    with pytest.raises(PermissionDenied, match="for a designer or an administrator"):
        services.create_from_template(db, people.manager, "communication")


# -- updating ----------------------------------------------------------------------------------------------


def test_edit_of_an_unused_version_rewrites_it_in_place(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    before = rubric.lock_version

    outcome = services.update_rubric(
        db,
        people.designer,
        rubric.id,
        edited(rubric.current_version.content, title="Communication at work"),
        expected_lock_version=before,
    )
    db.commit()

    assert outcome.changed and not outcome.new_version
    assert outcome.version.number == 1
    assert count(db, RubricVersion) == 1
    assert rubric.title == "Communication at work"
    assert rubric.current_version.content["title"] == "Communication at work"
    assert rubric.lock_version > before
    assert actions(db) == ["rubric.create", "rubric.update"]
    assert last_audit(db).details["changes"] == ["Changed rubric title"]


def test_edit_of_a_used_version_creates_the_next_version_and_leaves_the_used_one_alone(
    db: Session, people: People
) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    first = rubric.current_version
    assert services.mark_version_used(db, first) is True
    assert services.mark_version_used(db, first) is False  # once
    db.commit()
    used_content = first.content

    changed = edited(first.content)
    changed["criteria"][0]["weight"] = "3"
    changed["criteria"][0]["competency_tags"] = ["cadre:communication.clarity", "COM.9"]
    outcome = services.update_rubric(
        db, people.designer, rubric.id, changed, expected_lock_version=rubric.lock_version
    )
    db.commit()

    assert outcome.new_version and outcome.version.number == 2
    assert rubric.current_version_id == outcome.version.id
    db.expire_all()
    assert db.get(RubricVersion, first.id).content == used_content
    tags = db.scalars(
        select(RubricVersionCompetency.competency_tag).where(
            RubricVersionCompetency.version_id == outcome.version.id
        )
    ).all()
    assert "COM.9" in tags
    assert actions(db) == ["rubric.create", "rubric_version.used", "rubric.new_version"]
    diff = services.compare_versions(db, people.designer, rubric.id, 1, 2)
    assert diff.affects_scoring
    assert diff.summary() == (
        f"Changed criterion '{changed['criteria'][0]['title']}': weight, competency tags",
    )


def test_the_database_layer_refuses_to_rewrite_a_used_version(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    services.mark_version_used(db, rubric.current_version)
    db.commit()
    rubric.current_version.content = edited(rubric.current_version.content, title="Sneaky")
    with pytest.raises(ValueError, match="was used by an assessment"):
        db.flush()
    db.rollback()


def test_saving_the_same_content_writes_nothing(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    lock = rubric.lock_version
    outcome = services.update_rubric(
        db, people.designer, rubric.id, rubric.current_version.content, expected_lock_version=lock
    )
    db.commit()
    assert not outcome.changed
    assert rubric.lock_version == lock
    assert actions(db) == ["rubric.create"]


def test_a_stale_lock_version_is_a_conflict_naming_who_changed_it(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    opened_at = rubric.lock_version
    services.update_rubric(
        db,
        people.admin,
        rubric.id,
        edited(rubric.current_version.content, title="By Sam"),
        expected_lock_version=opened_at,
    )
    db.commit()

    with pytest.raises(ConflictError) as raised:
        services.update_rubric(
            db,
            people.designer,
            rubric.id,
            edited(rubric.current_version.content, title="By Maya"),
            expected_lock_version=opened_at,
        )
    conflict = raised.value
    assert conflict.changed_by == "Sam Admin"
    assert conflict.changed_at == rubric.updated_at
    assert "Sam Admin changed this rubric at" in conflict.message
    assert "your changes are still in the form" in conflict.message
    db.rollback()
    assert db.get(Rubric, rubric.id).title == "By Sam"


def test_two_saves_racing_from_the_same_version_cannot_both_win(
    live_app: Flask, db: Session, people: People
) -> None:
    """Two connections race: the live app's, which commit for real."""
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    new_session = live_app.extensions["cadre.sessionmaker"]
    with new_session() as first, new_session() as second:
        mine, theirs = first.get(Rubric, rubric.id), second.get(Rubric, rubric.id)
        assert mine is not None and theirs is not None
        lock = mine.lock_version
        content = mine.current_version.content
        services.update_rubric(
            first, people.designer, rubric.id, edited(content, title="First"), expected_lock_version=lock
        )
        first.commit()
        # The second session still holds the row as it was, so it passes the lock_version check:
        # the database's conditional UPDATE is what refuses it.
        assert theirs.lock_version == lock
        with pytest.raises(ConflictError):
            services.update_rubric(
                second, people.admin, rubric.id, edited(content, title="Second"), expected_lock_version=lock
            )
        second.rollback()
    db.expire_all()
    assert db.get(Rubric, rubric.id).title == "First"


# -- duplicating, archiving, sharing ------------------------------------------------------------------------


def test_duplicate_copies_the_current_version_into_the_actors_course(db: Session, people: People) -> None:
    source = services.create_from_template(db, people.designer, "coaching-80-20")
    db.commit()
    copy = services.duplicate_rubric(db, people.designer, source.id)
    db.commit()
    assert copy.id != source.id
    assert copy.title == "Copy of " + source.title
    assert copy.current_version.number == 1
    original = rubrics.Rubric.from_dict(source.current_version.content)
    duplicated = rubrics.Rubric.from_dict(copy.current_version.content)
    assert duplicated.criteria == original.criteria
    assert actions(db)[-1] == "rubric.create"
    assert last_audit(db).details["origin"] == f"duplicate:{source.id}"


def test_unpublished_rubrics_stay_in_their_course(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    for outsider in (people.other_designer, people.designer_elsewhere):
        with pytest.raises(PermissionDenied, match=RUBRIC_NOT_FOUND):
            services.get_rubric(db, outsider, rubric.id)
        with pytest.raises(PermissionDenied, match=RUBRIC_NOT_FOUND):
            services.duplicate_rubric(db, outsider, rubric.id)
        with pytest.raises(PermissionDenied, match=RUBRIC_NOT_FOUND):
            services.update_rubric(
                db,
                outsider,
                rubric.id,
                rubric.current_version.content,
                expected_lock_version=rubric.lock_version,
            )
        assert services.list_library(db, outsider).published_rubrics == []
    # the manager of the course may look, not touch
    assert services.get_rubric(db, people.manager, rubric.id) == rubric
    with pytest.raises(PermissionDenied, match="you can preview this one"):
        services.get_rubric(db, people.manager, rubric.id, rule=can_edit_rubric)


def test_published_rubrics_are_visible_on_the_platform_to_preview_and_copy_not_to_edit(
    db: Session, people: People
) -> None:
    rubric = services.create_from_template(db, people.designer, "communication")
    db.commit()
    with pytest.raises(PermissionDenied, match="Only an administrator"):
        services.publish_rubric(db, people.designer, rubric.id)

    services.publish_rubric(db, people.admin, rubric.id)
    db.commit()

    listing = services.list_library(db, people.other_designer)
    assert [r.id for r in listing.published_rubrics] == [rubric.id]
    assert listing.course_rubrics == []
    assert services.get_rubric(db, people.other_designer, rubric.id) == rubric
    with pytest.raises(PermissionDenied, match="duplicate it to change your own copy"):
        services.update_rubric(
            db,
            people.other_designer,
            rubric.id,
            rubric.current_version.content,
            expected_lock_version=rubric.lock_version,
        )
    copy = services.duplicate_rubric(db, people.other_designer, rubric.id)
    assert copy.context_id == people.other_designer.context_id
    with pytest.raises(PermissionDenied, match=RUBRIC_NOT_FOUND):  # another platform never sees it
        services.get_rubric(db, people.designer_elsewhere, rubric.id)

    services.archive_rubric(db, people.designer, rubric.id)
    db.commit()
    assert services.list_library(db, people.other_designer).published_rubrics == []
    own = services.list_library(db, people.designer)
    assert [r.id for r in own.archived_rubrics] == [rubric.id] and own.course_rubrics == []

    services.restore_rubric(db, people.designer, rubric.id)
    services.unpublish_rubric(db, people.admin, rubric.id)
    db.commit()
    assert services.list_library(db, people.other_designer).published_rubrics == []
    assert actions(db) == [
        "rubric.create",
        "rubric.publish",
        "rubric.create",
        "rubric.archive",
        "rubric.restore",
        "rubric.unpublish",
    ]


# -- import and export -------------------------------------------------------------------------------------


BROKEN_CSV = (
    "criterion_identifier,criterion_title,level_identifier,level_title,points,scoring_mode,rubric_title\n"
    "tone,Tone,low,Low,0,points,Broken\n"
    "tone,Tone,low,Again,abc,,\n"
)


def test_a_failed_import_stores_nothing_and_names_the_line(db: Session, people: People) -> None:
    with pytest.raises(rubrics.RubricImportError) as raised:
        services.import_file(db, people.designer, "broken.csv", BROKEN_CSV.encode())
    locations = {problem.location for problem in raised.value.problems}
    assert locations == {"line 3"}
    assert any("points must be a number" in problem.message for problem in raised.value.problems)
    db.rollback()
    assert count(db, Rubric) == 0 and count(db, RubricVersion) == 0 and count(db, AuditEntry) == 0

    with pytest.raises(rubrics.RubricImportError) as raised:
        services.import_file(db, people.designer, "broken.json", b'{"title": "x", ')
    assert raised.value.problems[0].location.startswith("line 1")
    assert count(db, Rubric) == 0


def test_exports_read_back_as_the_same_rubric(db: Session, people: People) -> None:
    rubric = services.create_from_template(db, people.designer, "skill-assessment-customer-conversation")
    db.commit()
    version = rubric.current_version
    original = rubrics.Rubric.from_dict(version.content)

    csv_text = services.export_csv(version)
    from_csv = services.import_file(db, people.designer, "export.csv", csv_text.encode()).rubric
    case_text = services.export_case(version, base_uri="https://cadre.example/rubrics/1/case")
    from_case = services.import_file(db, people.designer, "export.json", case_text.encode()).rubric
    db.commit()

    assert from_csv is not None and from_case is not None
    for imported in (from_csv, from_case):
        assert imported.current_version.content_hash == rubrics.content_hash(original)
    case = json.loads(case_text)
    assert case["title"] == original.title
    assert case["lastChangeDateTime"].startswith(
        version.changed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    )


def test_a_case_framework_is_stored_for_the_course_and_replaced_on_reimport(
    db: Session, people: People
) -> None:
    framework = rubrics.CompetencyFramework(
        identifier="f1",
        uri="https://case.example/CFDocuments/f1",
        title="Manager competencies",
        items=(rubrics.CompetencyItem("c1", "https://case.example/CFItems/c1", "Coaches weekly", "COACH.1"),),
    )
    package = json.dumps(
        rubrics.export_case_framework(framework, changed_at=datetime(2026, 1, 1, tzinfo=UTC))
    )
    outcome = services.import_file(db, people.designer, "framework.json", package.encode())
    services.import_file(db, people.designer, "framework.json", package.encode())
    db.commit()

    assert outcome.framework is not None and outcome.rubric is None
    rows = db.scalars(select(CompetencyFramework)).all()
    assert len(rows) == 1 and rows[0].title == "Manager competencies"
    assert services.competency_statements(rows)["COACH.1"] == "Coaches weekly"
    assert services.list_frameworks(db, people.other_designer) == []
    assert actions(db) == ["competency_framework.create", "competency_framework.update"]
