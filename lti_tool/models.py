"""Every table of Cadre, in one file while it stays readable.

Conventions: integer surrogate keys, ``created_at`` in UTC, LTI identifiers kept as the platform sent them
(strings), uniqueness scoped by platform because Canvas shares one issuer between customers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.states import CadreRole, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus, MessageType

__all__ = ["CadreRole"]  # re-exported: most features import it with the models


class Platform(Base):
    """One LTI registration: an issuer and the client_id it gave Cadre."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    auth_audience: Mapped[str | None] = mapped_column(String(1000))
    key_set_url: Mapped[str] = mapped_column(String(1000))
    product_family: Mapped[str | None] = mapped_column(String(100))
    key_set: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The platform's JWKS as last fetched; refetched on an unknown kid (rate limited)."""
    key_set_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """Cadre's RSA key pairs: the newest unretired key signs; retired keys stay in the JWKS for a while."""

    __tablename__ = "tool_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LtiCacheEntry(Base):
    """Server-side key/value store behind pylti1p3's launch data storage (state, launch data)."""

    __tablename__ = "lti_cache"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(300))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    is_admin: Mapped[bool] = mapped_column(default=False)
    """Set when the platform says so (institution or system Administrator)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship()

    @property
    def display_name(self) -> str:
        return display_name_of(self.sub, self.name, self.given_name, self.family_name, self.email)

    @property
    def is_named(self) -> bool:
        """Whether Cadre knows this person's name or e-mail (a learner linked by a manager's launch has only
        an LTI id until they open Cadre themselves)."""
        return bool(self.name or self.given_name or self.family_name or self.email)


def display_name_of(sub: str, name: str | None, given_name: str | None, family_name: str | None,
                    email: str | None) -> str:
    """How Cadre names a person (:attr:`User.display_name`), from the columns alone: lists read the columns
    without loading users."""
    if name:
        return name
    if given_name or family_name:
        return " ".join(part for part in (given_name, family_name) if part)
    return email or f"User {sub}"


class Context(Base):
    """A course (or course section) on a platform."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id", ondelete="SET NULL"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(255))
    types: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship()

    @property
    def display_title(self) -> str:
        return self.title or self.label or f"Course {self.context_id}"


class Membership(Base):
    """A user's roles in a context, as the platform last sent them, and the Cadre role derived from them."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[CadreRole] = mapped_column(enum_column(CadreRole, name="role", length=20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    context: Mapped[Context] = relationship()


class ResourceLink(Base):
    """A placement of Cadre in a course (one activity)."""

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity | None] = relationship(
        primaryjoin="ResourceLink.id == foreign(Activity.resource_link_id)", viewonly=True, uselist=False
    )
    """The activity bound to this placement, read with the launch (``lti_tool.lti.session``); binding one
    sets ``Activity.resource_link_id`` (``lti_tool.deliverables.services.activity_of_launch``)."""


class Launch(Base):
    """A validated launch. Its id is the launch token carried by Cadre's pages when cookies are blocked."""

    __tablename__ = "launches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[int | None] = mapped_column(ForeignKey("resource_links.id", ondelete="CASCADE"))
    message_type: Mapped[MessageType] = mapped_column(
        enum_column(MessageType, name="message_type", length=100)
    )
    role: Mapped[CadreRole] = mapped_column(enum_column(CadreRole, name="role", length=20))
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the browser secret in the session cookie of the browser that launched (see
    ``lti_tool.lti.session``): the token is refused with another browser's cookie."""

    platform: Mapped[Platform] = relationship()
    user: Mapped[User] = relationship()
    context: Mapped[Context | None] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()


class ManagerLink(Base):
    """A manager responsible for a learner in a course, and where Cadre learned it."""

    __tablename__ = "manager_links"
    __table_args__ = (
        UniqueConstraint("context_id", "manager_id", "learner_id"),
        Index("ix_manager_links_learner", "learner_id", "context_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[ManagerLinkSource] = mapped_column(
        enum_column(ManagerLinkSource, name="source", length=30)
    )
    status: Mapped[ManagerLinkStatus] = mapped_column(
        enum_column(ManagerLinkStatus, name="status", length=20), default=ManagerLinkStatus.ACTIVE
    )
    relation: Mapped[ManagerLinkRelation] = mapped_column(
        enum_column(ManagerLinkRelation, name="relation", length=20),
        default=ManagerLinkRelation.LINE_MANAGER, server_default=ManagerLinkRelation.LINE_MANAGER.value,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the link was ended or the nomination declined (the audit log keeps who did it)."""

    manager: Mapped[User] = relationship(foreign_keys=[manager_id])
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200))
    """Who acted, readable even after the user row is gone (``cli``, ``user 12``)."""
    action: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Acting(Protocol):
    """Who an audit entry names: :class:`lti_tool.permissions.Actor` (not imported here)."""

    @property
    def user_id(self) -> int: ...

    @property
    def audit_label(self) -> str: ...


NOBODY = "cli"
"""The label of an act no person did: a command run on the server."""


def audit(session: Session, actor: Acting | None, action: str, *, nobody: str = NOBODY,
          **details: Any) -> AuditEntry:
    """One audit entry, in the transaction of the change it tells of: ``actor`` did ``action``, or,
    ``actor`` None, ``nobody`` did (Cadre's CLI; an anonymous respondent, whom not even the log names)."""
    entry = AuditEntry(
        actor_user_id=actor.user_id if actor is not None else None,
        actor_label=actor.audit_label if actor is not None else nobody,
        action=action,
        details=details,
    )
    session.add(entry)
    return entry


# --- Rubric library ---
# One append-only block for the rubric library (lti_tool/rubric_library); its import stays here so the
# block can be read and moved as a whole.
from sqlalchemy import CheckConstraint, event, inspect  # noqa: E402


class Rubric(Base):
    """A rubric owned by a course, with its versions; the content lives in :class:`RubricVersion`.

    ``lock_version`` is SQLAlchemy's version counter: every UPDATE of the row checks and bumps it, so two
    designers saving the same rubric at once cannot silently overwrite each other (the edit form posts the
    value it was rendered with, and the second save is refused with who changed it and when).
    ``published_to_platform`` (set by an administrator) shows the rubric to every course on the platform.
    """

    __tablename__ = "rubrics"
    __table_args__ = (Index("ix_rubrics_platform_published", "platform_id", "published_to_platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    """The current version's title, kept here so lists need no JSON."""
    published_to_platform: Mapped[bool] = mapped_column(default=False)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_versions.id", ondelete="SET NULL", use_alter=True)
    )
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(200), default="form", server_default="")
    """What the rubric was made from, as its audit entry says: ``form``, ``template:<slug>``,
    ``import:<format>:<file name>`` or ``duplicate:<rubric id>``; the library shows it, so rubrics of the
    same title can be told apart (empty for rubrics made before Cadre kept it)."""
    case_identifier: Mapped[str | None] = mapped_column(String(36))
    """The rubric's CASE identity (a UUID): minted when the rubric is made, taken from the file when it
    is imported from CASE, and the ``identifier`` of every CASE export, so the rubric (and its criteria
    and levels, whose UUIDs follow from it) keeps one identity on every Cadre it moves to. Not content:
    versions share it and ``content_hash`` ignores it. None for rubrics made before migration 0011, which
    keep the identifier derived from this Cadre's address that they were always exported with."""

    __mapper_args__ = {"version_id_col": lock_version}

    context: Mapped[Context] = relationship()
    current_version: Mapped[RubricVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_user_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_user_id])


class RubricVersion(Base):
    """One version of a rubric: the whole validated rubric as ``rubrics.Rubric.to_dict()``.

    Criteria and levels stay inside ``content`` rather than in tables of their own: a version is an
    immutable snapshot once an assessment used it (``used_at``), scoring and display always read the whole
    rubric at once, and the engine already validates and diffs that form. Criterion and level tables would
    only duplicate the JSON and need keeping in step with it. What must be *queried* across versions -- which
    criteria evidence which competency -- is indexed in :class:`RubricVersionCompetency`.
    """

    __tablename__ = "rubric_versions"
    __table_args__ = (UniqueConstraint("rubric_id", "number"), CheckConstraint("number >= 1", name="number"))

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[int] = mapped_column(ForeignKey("rubrics.id", ondelete="CASCADE"))
    number: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(80))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    """When the content was last written (an unused version may be replaced in place)."""
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set when a submitted assessment first used this version; from then on the content never changes."""

    rubric: Mapped[Rubric] = relationship(foreign_keys=[rubric_id])
    created_by: Mapped[User | None] = relationship()
    competencies: Mapped[list[RubricVersionCompetency]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="RubricVersionCompetency.id"
    )


@event.listens_for(RubricVersion, "before_update")
def _refuse_changing_a_used_version(_mapper: Any, _connection: Any, version: RubricVersion) -> None:
    """A safety net under the services: the content of a version an assessment used never changes."""
    state = inspect(version)
    used_at = state.attrs.used_at.history
    was_used = any(value is not None for value in (*used_at.unchanged, *used_at.deleted))
    content_changed = any(state.attrs[name].history.has_changes() for name in ("content", "content_hash"))
    if was_used and content_changed:
        raise ValueError(f"rubric version {version.id} was used by an assessment; its content cannot change")


class RubricVersionCompetency(Base):
    """Which criterion of a version evidences which competency tag: the index for per-competency reports."""

    __tablename__ = "rubric_version_competencies"
    __table_args__ = (
        # Named by hand: the conventional name would pass PostgreSQL's 63-character limit.
        UniqueConstraint(
            "version_id", "criterion_identifier", "competency_tag", name="uq_rubric_version_competencies_tag"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id", ondelete="CASCADE"))
    criterion_identifier: Mapped[str] = mapped_column(String(100))
    competency_tag: Mapped[str] = mapped_column(String(500), index=True)

    version: Mapped[RubricVersion] = relationship(back_populates="competencies")


class CompetencyFramework(Base):
    """A competency framework imported from a CASE CFPackage, for a course or (no context) a platform.

    ``items`` and ``associations`` are ``rubrics.CompetencyFramework.to_dict()``'s (criteria tags point into
    the items; the associations are the framework's hierarchy and links, kept so its export gives back
    what was imported); ``language`` and ``last_change_at`` are the CFDocument's own.
    """

    __tablename__ = "competency_frameworks"
    __table_args__ = (Index("ix_competency_frameworks_platform_identifier", "platform_id", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int | None] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    identifier: Mapped[str] = mapped_column(String(255))
    uri: Mapped[str] = mapped_column(String(1000))
    title: Mapped[str] = mapped_column(String(500))
    creator: Mapped[str] = mapped_column(String(500), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    associations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    language: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CacheVersion(Base):
    """A version stamp for data that every process caches (see :mod:`lti_tool.cache_versions`).

    Whoever changes the data writes a new stamp in the same transaction; a process compares the stamp it
    cached with this row, one primary-key read, and reloads when they differ: a change made by one gunicorn
    worker or by a CLI command is seen by every worker at once.
    """

    __tablename__ = "cache_versions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))


# --- Activities ---
# The activities designers place by deep linking (lti_tool/deliverables). Appended as one block, like the
# rubric library's.
from decimal import Decimal  # noqa: E402

from sqlalchemy import Numeric, select  # noqa: E402
from sqlalchemy.orm import column_property  # noqa: E402

from lti_tool.states import ActivityKind, Assessors, FeedbackRelease  # noqa: E402


class Activity(Base):
    """One Cadre activity in a course: what the designer configured for a placed resource link.

    Deep linking creates the row before the platform has made its resource link, so the content item
    carries ``public_id`` (custom parameter ``cadre_activity``) and the first launch binds
    ``resource_link_id``. A course copied in the LMS keeps the custom parameter: a launch from another
    course gets its own copy of the settings (``copied_from_id``), never the original's data.

    The rubric is pinned to one version (``rubric_version_id``): editing the rubric later changes nothing
    here until the designer moves the activity to the new version.
    """

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("points_possible IS NULL OR points_possible > 0", name="points_possible"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), index=True)
    resource_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("resource_links.id", ondelete="SET NULL"), unique=True
    )
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind, name="kind", length=40))
    title: Mapped[str] = mapped_column(String(255))
    instructions: Mapped[str] = mapped_column(Text, default="")
    """For the learner; Markdown, rendered safely (``lti_tool.web.markdown``)."""
    manager_briefing: Mapped[str] = mapped_column(Text, default="")
    """For managers: what the training taught and what to look for; Markdown."""
    rubric_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_versions.id", ondelete="SET NULL"), index=True
    )
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    """The IANA time zone the designer gave the due date in; shown with it."""
    points_possible: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    grades_to_lms: Mapped[bool] = mapped_column(default=False)
    line_item_url: Mapped[str | None] = mapped_column(String(1000))
    """The platform's AGS line item for this activity, from the launch's endpoint claim."""
    assessors: Mapped[Assessors] = mapped_column(
        enum_column(Assessors, name="assessors", length=20), default=Assessors.LINE_MANAGER
    )
    work_product_required: Mapped[bool] = mapped_column(default=False)
    feedback_release: Mapped[FeedbackRelease] = mapped_column(
        enum_column(FeedbackRelease, name="feedback_release", length=20),
        default=FeedbackRelease.ON_SUBMISSION,
    )
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="SET NULL"))
    configured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the designer first saved the settings; until then the activity says it is not set up."""
    lock_version: Mapped[int] = mapped_column(default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    rubric_content_hash: Mapped[str | None] = column_property(
        select(RubricVersion.content_hash).where(RubricVersion.id == rubric_version_id).scalar_subquery()
    )
    """The pinned version's ``content_hash``, read with the activity: the cache of parsed rubrics
    (``rubric_library.services.rubric_of_version``) then needs no query of its own. Read-only, and expired
    whenever the activity is flushed; see :meth:`loaded_rubric_content_hash`."""

    __mapper_args__ = {"version_id_col": lock_version}

    context: Mapped[Context] = relationship()
    resource_link: Mapped[ResourceLink | None] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_user_id])

    def loaded_rubric_content_hash(self) -> str | None:
        """:attr:`rubric_content_hash` if it was read with the activity and still describes its version
        (not since the version was changed in memory); None otherwise, without a query."""
        state = inspect(self)
        if "rubric_content_hash" not in state.dict or state.attrs.rubric_version_id.history.has_changes():
            return None
        return state.dict["rubric_content_hash"]


# --- Outbox and scheduled jobs ---
# Durable side effects (lti_tool/outbox): a message per effect, written in the transaction of the change
# that causes it and delivered after commit by a worker; and one row per period a scheduled job has done.
from sqlalchemy import BigInteger, Integer  # noqa: E402

from lti_tool.states import OutboxStatus  # noqa: E402


class OutboxMessage(Base):
    """One side effect to deliver (an AGS score, an e-mail, an xAPI statement), at least once, by topic.

    ``(topic, dedupe_key)`` is unique: enqueueing the same event twice keeps one message. A worker claims a
    message by setting ``claimed_by`` (a token of that claim) and a lease: ``claimed_until`` and
    ``next_attempt_at`` both move to the lease's end, so a message whose worker died is due again once the
    lease has run out, with no other condition in the claim query (one index serves it).
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("topic", "dedupe_key"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_topic_status", "topic", "status"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(100))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Identifiers and values only; never a token or a password (a handler fetches those when it sends)."""
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, name="status", length=20), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    """Why the last attempt failed or the message is dead, redacted and shortened (safe to show admins)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class JobRun(Base):
    """A period a scheduled job has done. The row is written in the transaction of the job's work, and the
    unique ``(job, period_start)`` lets only one of two runners (two hosts' cron) commit it."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period_start"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    summary: Mapped[str] = mapped_column(String(500), default="")


# --- Feedback ---
# Assessments of a learner in an activity by a manager or by the learner themself (lti_tool/feedback):
# the draft being written, the append-only revisions submitted, and withdrawals with their reason.
from lti_tool.states import AssessmentStatus, AssessorRole  # noqa: E402


class Assessment(Base):
    """One assessor's assessment of one learner in one activity.

    The draft (``draft_content``: the form's answers as typed) is saved over and over; ``draft_revision``
    counts those saves, and a save names the revision it started from, so two tabs or two devices cannot
    silently overwrite each other (the second is refused with the server's copy). Submitting scores the
    draft with the activity's rubric version and appends an :class:`AssessmentRevision`; editing after
    submission opens a new draft and submitting it appends the next revision.
    """

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("activity_id", "learner_id", "assessor_id"),
        Index("ix_assessments_activity_assessor", "activity_id", "assessor_id"),
        Index("ix_assessments_learner", "learner_id", "activity_id"),
        # The dashboard's completion: the submitted ones of an activity, read from the index alone.
        Index("ix_assessments_submitted", "activity_id", "learner_id", "assessor_role",
              postgresql_where=text("status = 'submitted'"), sqlite_where=text("status = 'submitted'")),
        CheckConstraint("draft_revision >= 0", name="draft_revision"),
        CheckConstraint("revision_count >= 0", name="revision_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assessor_role: Mapped[AssessorRole] = mapped_column(
        enum_column(AssessorRole, name="assessor_role", length=20)
    )
    status: Mapped[AssessmentStatus] = mapped_column(
        enum_column(AssessmentStatus, name="status", length=20), default=AssessmentStatus.DRAFT
    )
    draft_content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The answers as typed (``lti_tool.feedback.content``); None when no unsubmitted changes are open."""
    draft_revision: Mapped[int] = mapped_column(default=0)
    draft_saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_count: Mapped[int] = mapped_column(default=0)
    """The number of the newest :class:`AssessmentRevision` (0 before the first submission)."""
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When staff released the feedback to the learner (activities whose feedback waits for release)."""
    released_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acknowledged_revision: Mapped[int | None]
    """The revision the learner last acknowledged having read."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    learner_reply: Mapped[str] = mapped_column(Text, default="")
    learner_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    assessor: Mapped[User] = relationship(foreign_keys=[assessor_id])


class AssessmentRevision(Base):
    """One submission of an assessment, never changed or deleted once written.

    It keeps what was submitted and what it meant then: the rubric version, each criterion's level, points
    and comment, the total and its explanation as the pure engine (``rubrics.Scorer``) computed them, who
    submitted and when, and the activity's settings at that moment.
    """

    __tablename__ = "assessment_revisions"
    __table_args__ = (
        UniqueConstraint("assessment_id", "number"), CheckConstraint("number >= 1", name="number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"))
    number: Mapped[int]
    rubric_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("rubric_versions.id", ondelete="SET NULL")
    )
    criteria: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``rubrics.CriterionScore.to_dict()`` per criterion, in the rubric's order."""
    strengths: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    scoring_mode: Mapped[str] = mapped_column(String(30))
    total: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    max_possible: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    percentage: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    explanation: Mapped[list[str]] = mapped_column(JSON)
    """The engine's lines, as stored and shown: never recomputed."""
    activity_settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assessment: Mapped[Assessment] = relationship()
    rubric_version: Mapped[RubricVersion | None] = relationship()
    submitted_by: Mapped[User | None] = relationship()


class AssessmentWithdrawal(Base):
    """A submission withdrawn by its assessor, and why (kept, like the revisions, for good)."""

    __tablename__ = "assessment_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id", ondelete="CASCADE"), index=True)
    revision_number: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    withdrawn_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


@event.listens_for(AssessmentRevision, "before_update")
@event.listens_for(AssessmentWithdrawal, "before_update")
@event.listens_for(AssessmentRevision, "before_delete")
@event.listens_for(AssessmentWithdrawal, "before_delete")
def _refuse_rewriting_history(_mapper: Any, _connection: Any, row: Any) -> None:
    """A safety net under the services: what was submitted or withdrawn stays as it was."""
    raise ValueError(f"{type(row).__name__} {row.id} is history: it is never changed or deleted")


# --- Course rosters (lti_tool/relationships) ---
# Who is in a course as the platform's Names and Role Provisioning Service (or a designer's CSV) says,
# with the names the platform shares, so people Cadre has not met are shown by name.


class CourseRoster(Base):
    """A course's roster service (NRPS ``context_memberships_url``, from a launch) and the last refresh."""

    __tablename__ = "course_rosters"

    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"), primary_key=True)
    memberships_url: Mapped[str | None] = mapped_column(String(2000))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    member_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    """Why the last refresh failed (no token, no query string), None after a good one."""
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RosterMember(Base):
    """A person in a course's roster, with what the platform shared about them."""

    __tablename__ = "roster_members"
    __table_args__ = (
        UniqueConstraint("context_id", "user_id"),
        Index("ix_roster_members_email", "context_id", "email"),
        Index("ix_roster_members_login", "context_id", "login"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    """Lower-cased, for matching CSV rows."""
    login: Mapped[str | None] = mapped_column(String(255))
    """The LMS username where the platform shares one (Canvas ``canvas_user_login_id``, Moodle
    ``ext_user_username``), lower-cased."""
    lti_roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[CadreRole] = mapped_column(enum_column(CadreRole, name="role", length=20))
    active: Mapped[bool] = mapped_column(default=True)
    """False once the platform says Inactive or no longer lists them (kept: links and feedback point here)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()

    @property
    def display_name(self) -> str:
        full = " ".join(part for part in (self.given_name, self.family_name) if part)
        return self.name or full or self.email or self.login or "Unnamed member"


# --- Learners' work products (lti_tool.deliverables.work_products): their tables live beside the feature ---
from lti_tool.deliverables.models import WorkProduct, WorkProductFile, WorkProductVersion  # noqa: E402, F401

# --- Peer assessment (lti_tool.feedback.peers): who reviews whom, and its settings ---
from lti_tool.feedback.peer_models import PeerAssignment, PeerSettings  # noqa: E402, F401

# --- Managers invited by e-mail (lti_tool.invitations): their tables live beside the feature ---
from lti_tool.invitations.models import InvitationSignInLink, ManagerInvitation, ReminderOptOut  # noqa: E402, F401

# --- Programme activities (lti_tool.programme): survey and follow-up tables live beside the feature ---
from lti_tool.programme.career_models import CareerConversation  # noqa: E402, F401
from lti_tool.programme.models import FollowUp, SurveyAnswer, SurveyResponse  # noqa: E402, F401

# --- Strategic relationships (lti_tool.programme.relationship_map): kept beside the feature ---
from lti_tool.programme.relationship_models import RelationshipMap  # noqa: E402, F401

# --- Learning records (lti_tool.records): statements, LRSs and deliveries live beside the feature ---
from lti_tool.records.models import (  # noqa: E402, F401
    LearningRecordStore,
    Statement,
    StatementActivity,
    StatementAgent,
    StatementDelivery,
)

# --- API tokens of the xAPI statement resource (lti_tool.records.tokens): kept beside the feature ---
from lti_tool.records.tokens import ApiToken  # noqa: E402, F401

# --- Groups and sections of a course (lti_tool.relationships.groups): the dashboard's group filter ---
from lti_tool.relationships.groups import PersonGroup  # noqa: E402, F401

# --- Tracking (lti_tool.tracking): the leaderboard's settings and presence, the dashboards' per-criterion
# scores of in-force submissions, and the programme outcome with its values ---
from lti_tool.tracking.leaderboard_models import LeaderboardPresence, LeaderboardSettings  # noqa: E402, F401
from lti_tool.tracking.models import CriterionScore  # noqa: E402, F401
from lti_tool.tracking.outcome_models import OutcomeValue, ProgrammeOutcome  # noqa: E402, F401

# --- Spaced refreshers (lti_tool.tracking.refreshers): their tables live beside the feature ---
from lti_tool.tracking.refresher_models import Refresher, RefresherSettings, ScheduledRefresher  # noqa: E402, F401
