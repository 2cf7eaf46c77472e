"""The rubric library: storing, versioning, sharing, importing and exporting rubrics.

Every function takes the request's session and never commits (the view commits once). Validation is the
rubric engine's (:mod:`rubrics`): a rubric reaches the database only as a validated ``rubrics.Rubric``,
stored whole in a :class:`~lti_tool.models.RubricVersion`. Every write adds an :class:`AuditEntry`.

Who may do what is decided by :mod:`lti_tool.permissions` (``can_view_rubric``, ``can_edit_rubric``,
``can_copy_rubric``, ``can_publish_rubric``); the services ask it before they read or change a rubric, and
a refusal raises :class:`~lti_tool.permissions.PermissionDenied`.

Versions: editing a rubric whose current version no assessment has used yet rewrites that version in
place; once a submitted assessment used it (:func:`mark_version_used`), an edit makes a new version, so
feedback already given keeps reading against the rubric it was given with.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

import rubrics
from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.models import (
    CompetencyFramework,
    Rubric,
    RubricVersion,
    RubricVersionCompetency,
    audit,
)
from lti_tool.permissions import Actor

# -- errors -----------------------------------------------------------------------------------------------


class RubricLibraryError(Exception):
    """Base of the refusals below; ``message`` is written for the person who asked."""

    message = "The rubric library cannot do that."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class RubricNotFound(RubricLibraryError):
    message = permissions.RUBRIC_NOT_FOUND


class ConflictError(RubricLibraryError):
    """Someone saved the rubric after the editor loaded it; nothing was saved."""

    @classmethod
    def saved_since(cls, rubric: Rubric) -> ConflictError:
        """The conflict naming who last saved ``rubric``, and when."""
        return cls(
            rubric,
            changed_by=rubric.updated_by.display_name if rubric.updated_by else None,
            changed_at=rubric.updated_at,
        )

    def __init__(self, rubric: Rubric | None, *, changed_by: str | None, changed_at: datetime | None) -> None:
        self.rubric_id = rubric.id if rubric is not None else None
        self.current_lock_version = rubric.lock_version if rubric is not None else None
        self.changed_by = changed_by
        self.changed_at = changed_at
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else ""
        who = changed_by or "someone else"
        super().__init__(
            f"{who} changed this rubric{when}, after you opened it. Nothing was saved: your changes are "
            "still in the form below. Compare them with the saved rubric, then save again to replace it."
        )


# -- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Library:
    """What a course's rubric library page lists."""

    course_rubrics: list[Rubric]
    published_rubrics: list[Rubric]
    """Published by an administrator from other courses of the platform."""
    archived_rubrics: list[Rubric]
    frameworks: list[CompetencyFramework]


def list_library(session: Session, actor: Actor) -> Library:
    """The course's rubrics (live and archived), and the ones published from other courses."""
    visible = list(
        session.scalars(
            select(Rubric)
            .where(permissions.visible_rubrics(actor))
            .order_by(func.lower(Rubric.title), Rubric.id)
        )
    )
    own = [rubric for rubric in visible if rubric.context_id == actor.context_id]
    return Library(
        course_rubrics=[rubric for rubric in own if rubric.archived_at is None],
        published_rubrics=[rubric for rubric in visible if rubric.context_id != actor.context_id],
        archived_rubrics=[rubric for rubric in own if rubric.archived_at is not None],
        frameworks=list_frameworks(session, actor),
    )


def get_rubric(session: Session, actor: Actor, rubric_id: int, *,
               rule: Callable[[Actor, Rubric], permissions.Decision] = permissions.can_view_rubric) -> Rubric:
    """The rubric if ``rule`` lets ``actor`` have it (by default: see it); RubricNotFound when there is
    none, PermissionDenied when the rule refuses (a rubric the actor may not see is "not found" too)."""
    rubric = session.get(Rubric, rubric_id)
    if rubric is None:
        raise RubricNotFound()
    permissions.ensure(rule(actor, rubric))
    return rubric


def current_version(rubric: Rubric) -> RubricVersion:
    version = rubric.current_version
    if version is None:  # only if someone deleted versions by hand
        raise RubricNotFound("This rubric has no version to show.")
    return version


PARSED_VERSIONS_KEPT = 512
_parsed_versions: dict[str, rubrics.Rubric] = {}


def version_content(version: RubricVersion) -> rubrics.Rubric:
    """The engine's rubric for a stored version (stored content was validated when it was written).

    Parsed once per process for each content: every feedback request reads its activity's rubric, and
    parsing was a fifth of an autosave. The cache is keyed by ``content_hash``, which :func:`_write_content`
    writes with the content (so equal keys are equal rubrics), and the engine's rubric is frozen, so one
    parse is shared by every request and thread."""
    parsed = _parsed_versions.get(version.content_hash)
    if parsed is None:
        parsed = rubrics.Rubric.from_dict(version.content)
        if len(_parsed_versions) >= PARSED_VERSIONS_KEPT:
            _parsed_versions.clear()
        _parsed_versions[version.content_hash] = parsed
    return parsed


def rubric_of_version(session: Session, version_id: int, *,
                      content_hash: str | None = None) -> rubrics.Rubric:
    """The engine's rubric for the stored version ``version_id``, as :func:`version_content` gives it; when
    this process has parsed that content already, only the version's ``content_hash`` is read (the content
    itself, a whole rubric as JSON, is then neither sent by the database nor decoded), or not even that when
    the caller read it already (``content_hash``, e.g. :meth:`Activity.loaded_rubric_content_hash`)."""
    loaded = session.identity_map.get(identity_key(RubricVersion, version_id))
    if isinstance(loaded, RubricVersion):
        return version_content(loaded)
    if content_hash is None:
        content_hash = session.scalar(select(RubricVersion.content_hash)
                                      .where(RubricVersion.id == version_id))
    parsed = _parsed_versions.get(content_hash) if content_hash is not None else None
    if parsed is not None:
        return parsed
    version = session.get(RubricVersion, version_id)
    if version is None:
        raise LookupError(f"rubric version {version_id} does not exist")
    return version_content(version)


def versions_of(session: Session, rubric: Rubric) -> list[RubricVersion]:
    """Every version of ``rubric`` (as :func:`get_rubric` returned it), newest first."""
    return list(
        session.scalars(
            select(RubricVersion)
            .where(RubricVersion.rubric_id == rubric.id)
            .order_by(RubricVersion.number.desc())
        )
    )


def version_of(session: Session, rubric: Rubric, number: int | None = None) -> RubricVersion:
    """Version ``number`` of ``rubric`` (as :func:`get_rubric` returned it); the current one when None."""
    if number is None:
        return current_version(rubric)
    version = session.scalars(
        select(RubricVersion).where(RubricVersion.rubric_id == rubric.id, RubricVersion.number == number)
    ).first()
    if version is None:
        raise RubricNotFound(f"'{rubric.title}' has no version {number}.")
    return version


def compare_versions(
    session: Session, actor: Actor, rubric_id: int, old_number: int, new_number: int
) -> rubrics.RubricDiff:
    """What changed from version ``old_number`` to ``new_number`` (matched by criterion and level ids)."""
    rubric = get_rubric(session, actor, rubric_id)
    return compare_versions_of(session, rubric, old_number, new_number)


def compare_versions_of(
    session: Session, rubric: Rubric, old_number: int, new_number: int
) -> rubrics.RubricDiff:
    """Like :func:`compare_versions`, for ``rubric`` as :func:`get_rubric` returned it."""
    old = version_of(session, rubric, old_number)
    new = version_of(session, rubric, new_number)
    return rubrics.diff(version_content(old), version_content(new))


# -- writing ------------------------------------------------------------------------------------------------


def _write_content(version: RubricVersion, content: rubrics.Rubric) -> None:
    """Put ``content`` into ``version`` and bring its competency index in step."""
    version.content = content.to_dict()
    version.content_hash = rubrics.content_hash(content)
    version.changed_at = utcnow()
    wanted = [
        (criterion.identifier, tag) for criterion in content.criteria for tag in criterion.competency_tags
    ]
    # Keep rows that stay: deleting and re-inserting the same pair in one flush would hit the unique key.
    kept = [row for row in version.competencies if (row.criterion_identifier, row.competency_tag) in wanted]
    present = {(row.criterion_identifier, row.competency_tag) for row in kept}
    version.competencies = kept + [
        RubricVersionCompetency(criterion_identifier=identifier, competency_tag=tag)
        for identifier, tag in wanted
        if (identifier, tag) not in present
    ]


def _require_editor(actor: Actor) -> None:
    permissions.ensure(permissions.may_use_rubric_library(actor))


def create_rubric(
    session: Session, actor: Actor, content: rubrics.Rubric, *, origin: str, case_identifier: str = ""
) -> Rubric:
    """A new rubric in the actor's course, with ``content`` as version 1. ``origin`` goes to the audit log.

    ``case_identifier`` is the rubric's CASE identity when it arrives with one (a CASE import); else a new
    one is minted: a copy or a rubric made here is a rubric of its own.
    """
    _require_editor(actor)
    now = utcnow()
    rubric = Rubric(
        platform_id=actor.platform_id,
        context_id=actor.context_id,
        title=content.title,
        created_by_user_id=actor.user_id,
        updated_by_user_id=actor.user_id,
        created_at=now,
        updated_at=now,
        origin=origin[:200],
        case_identifier=case_identifier or str(uuid.uuid4()),
    )
    version = RubricVersion(rubric=rubric, number=1, created_by_user_id=actor.user_id, created_at=now)
    _write_content(version, content)
    rubric.current_version = version
    session.add_all([rubric, version])
    session.flush()
    audit(
        session,
        actor,
        "rubric.create",
        rubric_id=rubric.id,
        version=1,
        origin=origin,
        context_id=actor.context_id,
    )
    return rubric


def origin_label(rubric: Rubric) -> str:
    """Where ``rubric`` came from, in a designer's words: what tells apart rubrics of the same title."""
    kind, _, detail = rubric.origin.partition(":")
    if kind == "form":
        return "written in Cadre"
    if kind == "template":
        template = find_template(detail)
        return f"from the template “{template.title}”" if template is not None else "from a template"
    if kind == "import":
        file_format, _, filename = detail.partition(":")
        return f"imported from {filename}" if filename else f"imported ({file_format})"
    if kind == "duplicate":
        return "copied from another rubric"
    return ""


def create_from_dict(
    session: Session, actor: Actor, data: Mapping[str, Any], *, origin: str = "form"
) -> Rubric:
    """Validate ``data`` (the engine's plain form) and store it; RubricValidationError stores nothing."""
    _require_editor(actor)
    return create_rubric(session, actor, rubrics.parse_rubric(data), origin=origin)


def get_template(slug: str) -> rubrics.Rubric:
    """A built-in rubric template; RubricNotFound for an unknown slug."""
    try:
        return rubrics.get_template(slug)
    except KeyError:
        raise RubricNotFound(f"There is no rubric template '{slug}'.") from None


def find_template(slug: str) -> rubrics.Rubric | None:
    """The template ``slug`` names, None when it names none (a form may post anything)."""
    try:
        return rubrics.get_template(slug) if slug else None
    except KeyError:
        return None


def create_from_template(session: Session, actor: Actor, slug: str) -> Rubric:
    """Store a template as it is (the pages instead open it in the edit form and store it on Save)."""
    return create_rubric(session, actor, get_template(slug), origin=f"template:{slug}")


@dataclass(frozen=True)
class UpdateOutcome:
    rubric: Rubric
    version: RubricVersion
    changed: bool
    """False when the posted rubric equals the current version (nothing was written)."""
    new_version: bool
    """True when the current version was used, so the edit became a new version."""


def update_rubric(
    session: Session,
    actor: Actor,
    rubric_id: int,
    content: rubrics.Rubric | Mapping[str, Any],
    *,
    expected_lock_version: int,
) -> UpdateOutcome:
    """Save an edit made on the rubric as it was at ``expected_lock_version``.

    Raises ConflictError (and writes nothing) when the rubric changed since, RubricValidationError for
    invalid content. After a ConflictError the view must roll the session back.
    """
    rubric = get_rubric(session, actor, rubric_id, rule=permissions.can_edit_rubric)
    if rubric.lock_version != expected_lock_version:
        raise ConflictError.saved_since(rubric)
    if not isinstance(content, rubrics.Rubric):
        content = rubrics.parse_rubric(content)
    version = current_version(rubric)
    if rubrics.content_hash(content) == version.content_hash:
        return UpdateOutcome(rubric, version, changed=False, new_version=False)
    old_content = version_content(version)
    now = utcnow()
    if version.used_at is None:
        _write_content(version, content)
        new_version = False
    else:
        version = RubricVersion(
            rubric=rubric, number=version.number + 1, created_by_user_id=actor.user_id, created_at=now
        )
        _write_content(version, content)
        session.add(version)
        rubric.current_version = version
        new_version = True
    rubric.title = content.title
    rubric.updated_at = now
    rubric.updated_by_user_id = actor.user_id
    try:
        session.flush()
    except StaleDataError:
        # Another request saved between our read and our write: its lock_version check won.
        raise ConflictError(None, changed_by=None, changed_at=None) from None
    audit(
        session,
        actor,
        "rubric.new_version" if new_version else "rubric.update",
        rubric_id=rubric.id,
        version=version.number,
        changes=list(rubrics.diff(old_content, content).summary()),
    )
    return UpdateOutcome(rubric, version, changed=True, new_version=new_version)


def duplicate_rubric(session: Session, actor: Actor, rubric_id: int) -> Rubric:
    """A copy of a visible rubric's current version, as a new rubric of the actor's course."""
    source = get_rubric(session, actor, rubric_id, rule=permissions.can_copy_rubric)
    content = version_content(current_version(source))
    title = f"Copy of {content.title}"[: rubrics.DEFAULT_LIMITS.max_title]
    copy = rubrics.Rubric(
        title=title,
        scoring_mode=content.scoring_mode,
        criteria=content.criteria,
        identifier=content.identifier,
        description=content.description,
        competency_frameworks=content.competency_frameworks,
    )
    return create_rubric(session, actor, copy, origin=f"duplicate:{source.id}")


def _set_archived(session: Session, actor: Actor, rubric_id: int, archived: bool) -> Rubric:
    rubric = get_rubric(session, actor, rubric_id, rule=permissions.can_edit_rubric)
    if (rubric.archived_at is not None) != archived:
        rubric.archived_at = utcnow() if archived else None
        rubric.updated_at = utcnow()
        rubric.updated_by_user_id = actor.user_id
        session.flush()
        audit(session, actor, "rubric.archive" if archived else "rubric.restore", rubric_id=rubric.id)
    return rubric


def archive_rubric(session: Session, actor: Actor, rubric_id: int) -> Rubric:
    """Hide a rubric from the course's list (and from other courses); its versions stay."""
    return _set_archived(session, actor, rubric_id, True)


def restore_rubric(session: Session, actor: Actor, rubric_id: int) -> Rubric:
    return _set_archived(session, actor, rubric_id, False)


def _set_published(session: Session, actor: Actor, rubric_id: int, published: bool) -> Rubric:
    rubric = get_rubric(session, actor, rubric_id, rule=permissions.can_publish_rubric)
    if rubric.published_to_platform != published:
        rubric.published_to_platform = published
        rubric.updated_at = utcnow()
        rubric.updated_by_user_id = actor.user_id
        session.flush()
        audit(
            session,
            actor,
            "rubric.publish" if published else "rubric.unpublish",
            rubric_id=rubric.id,
            platform_id=rubric.platform_id,
        )
    return rubric


def publish_rubric(session: Session, actor: Actor, rubric_id: int) -> Rubric:
    """Show the rubric to every course of the platform (to preview and duplicate, not to edit)."""
    return _set_published(session, actor, rubric_id, True)


def unpublish_rubric(session: Session, actor: Actor, rubric_id: int) -> Rubric:
    return _set_published(session, actor, rubric_id, False)


def mark_version_used(session: Session, version: RubricVersion, *, actor_label: str = "assessment") -> bool:
    """Freeze ``version``: a submitted assessment used it. True when this call froze it."""
    if version.used_at is not None:
        return False
    version.used_at = utcnow()
    audit(session, None, "rubric_version.used", nobody=actor_label, rubric_id=version.rubric_id,
          version=version.number)
    return True


# -- import and export --------------------------------------------------------------------------------------


CSV = "csv"
CASE = "case"
CANVAS = "canvas"


def detect_format(filename: str, data: bytes) -> str:
    """CSV or CASE JSON, from the file name, else from the first character; a CSV whose header is
    Canvas's rubric layout (``Rubric Name, Criteria Name, ...``) is Canvas CSV."""
    lowered = filename.lower()
    if lowered.endswith(".json"):
        return CASE
    if not lowered.endswith(".csv") and data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return CASE
    return CANVAS if rubrics.looks_like_canvas_csv(data) else CSV


def is_case_framework(data: bytes) -> bool:
    """A CASE package with a CFDocument and no CFRubrics is a competency framework, not a rubric."""
    return b'"CFDocument"' in data and b'"CFRubrics"' not in data


@dataclass(frozen=True)
class ImportOutcome:
    rubric: Rubric | None = None
    framework: CompetencyFramework | None = None


def import_file(session: Session, actor: Actor, filename: str, data: bytes) -> ImportOutcome:
    """Import a rubric (Cadre CSV, Canvas CSV or CASE CFRubric/CFPackage) or a competency framework
    (CASE CFPackage).

    RubricImportError lists every problem by line or JSON path; nothing is stored then.
    """
    _require_editor(actor)
    file_format = detect_format(filename, data)
    if file_format == CASE and is_case_framework(data):
        framework = rubrics.import_case_framework(data)
        return ImportOutcome(framework=store_framework(session, actor, framework))
    case_identifier = ""
    if file_format == CANVAS:
        content = _one_canvas_rubric(data)
    elif file_format == CSV:
        content = rubrics.import_csv(data)
    else:
        # The rubric keeps the file's CASE identity, so exporting it from here names the same rubric.
        read = rubrics.read_case_rubric(data)
        content, case_identifier = read.rubric, read.case_identifier
    rubric = create_rubric(
        session,
        actor,
        content,
        origin=f"import:{file_format}:{filename[:100]}",
        case_identifier=case_identifier,
    )
    return ImportOutcome(rubric=rubric)


def _one_canvas_rubric(data: bytes) -> rubrics.Rubric:
    """The rubric of a Canvas CSV; a file holding several (Canvas allows that) is refused, naming them."""
    found = rubrics.import_canvas_csv(data)
    if len(found) > 1:
        names = ", ".join(rubric.title for rubric in found[:5]) + (", ..." if len(found) > 5 else "")
        raise rubrics.RubricImportError([rubrics.ImportProblem(
            "file",
            f"this file holds {len(found)} rubrics ({names}); import one at a time: keep the rows of "
            "one Rubric Name and upload the file again",
        )])
    return found[0]


def store_framework(
    session: Session, actor: Actor, framework: rubrics.CompetencyFramework
) -> CompetencyFramework:
    """Keep a framework for the actor's course; importing the same framework again replaces it."""
    _require_editor(actor)
    row = session.scalars(
        select(CompetencyFramework).where(
            CompetencyFramework.platform_id == actor.platform_id,
            CompetencyFramework.context_id == actor.context_id,
            CompetencyFramework.identifier == framework.identifier,
        )
    ).first()
    action = "competency_framework.update"
    if row is None:
        row = CompetencyFramework(
            platform_id=actor.platform_id,
            context_id=actor.context_id,
            identifier=framework.identifier,
            created_by_user_id=actor.user_id,
        )
        session.add(row)
        action = "competency_framework.create"
    stored = framework.to_dict()
    row.uri, row.title, row.creator, row.items = (
        framework.uri,
        framework.title,
        framework.creator,
        stored["items"],
    )
    row.associations, row.language, row.last_change_at = (
        stored["associations"],
        framework.language,
        framework.last_change,
    )
    row.updated_at = utcnow()
    session.flush()
    audit(
        session,
        actor,
        action,
        framework_id=row.id,
        identifier=framework.identifier,
        items=len(framework.items),
        associations=len(framework.associations),
    )
    return row


def list_frameworks(session: Session, actor: Actor) -> list[CompetencyFramework]:
    """Frameworks of the actor's course and of the whole platform (no course)."""
    return list(
        session.scalars(
            select(CompetencyFramework)
            .where(
                CompetencyFramework.platform_id == actor.platform_id,
                or_(
                    CompetencyFramework.context_id == actor.context_id,
                    CompetencyFramework.context_id.is_(None),
                ),
            )
            .order_by(CompetencyFramework.title, CompetencyFramework.id)
        )
    )


def framework_content(row: CompetencyFramework) -> rubrics.CompetencyFramework:
    return rubrics.CompetencyFramework.from_dict(
        {
            "identifier": row.identifier,
            "uri": row.uri,
            "title": row.title,
            "creator": row.creator,
            "language": row.language,
            "last_change": row.last_change_at.isoformat() if row.last_change_at else None,
            "items": row.items,
            "associations": row.associations,
        }
    )


def get_framework(session: Session, actor: Actor, framework_id: int) -> CompetencyFramework:
    """The framework if ``actor`` may see it; PermissionDenied (404) otherwise, as for a missing one."""
    framework = session.get(CompetencyFramework, framework_id)
    if framework is None:
        raise permissions.PermissionDenied(
            permissions.refuse(404, "Framework not found", permissions.FRAMEWORK_NOT_FOUND))
    permissions.ensure(permissions.can_view_framework(actor, framework))
    return framework


def export_framework(row: CompetencyFramework) -> str:
    """The framework as the CASE CFPackage it was imported from (its items, associations and their own
    times); ``updated_at`` (when Cadre stored it) stands in only for times the imported file lacked."""
    package = rubrics.export_case_framework(framework_content(row), changed_at=row.updated_at)
    return json.dumps(package, indent=2, ensure_ascii=False)


def export_csv(version: RubricVersion) -> str:
    return rubrics.export_csv(version_content(version))


def export_canvas_csv(version: RubricVersion) -> str:
    """The version in Canvas's rubric CSV layout; rubrics.CanvasExportError for a levels-only rubric."""
    return rubrics.export_canvas_csv(version_content(version))


def export_case(
    version: RubricVersion, *, base_uri: str, frameworks: Sequence[CompetencyFramework] = ()
) -> str:
    """The version as a CASE CFRubric named by its rubric's CASE identity (``base_uri`` names rubrics
    stored before they had one); every lastChangeDateTime is when the version's content was written."""
    return rubrics.dumps_case_rubric(
        version_content(version),
        base_uri=base_uri,
        changed_at=version.changed_at,
        frameworks=[framework_content(row) for row in frameworks],
        case_identifier=version.rubric.case_identifier or "",
    )


def competency_statements(frameworks: Sequence[CompetencyFramework]) -> dict[str, str]:
    """Tag → readable statement, for showing a criterion's competency tags with their meaning."""
    statements: dict[str, str] = {}
    for row in frameworks:
        for item in framework_content(row).items:
            for key in (item.uri, item.identifier, item.human_coding_scheme):
                if key:
                    statements.setdefault(key, item.full_statement)
    return statements
