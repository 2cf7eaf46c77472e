"""Tables of the strategic-relationships activity (``lti_tool.programme.relationship_map``): the designer's
setting, one map per learner and activity, its relationships with their dated history, its goals, and a
snapshot each time the learner shares the map for review.

History is kept, never rewritten: each change of a relationship's type or strength, and its end, appends a
:class:`RelationshipChange` dated the day it happened, so the map's state on any past day (how many
strategic relationships at the start of the quarter) is read from the rows, not guessed. Imported at the
end of ``lti_tool.models`` so that ``Base.metadata`` has these tables.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.models import Activity, User
from lti_tool.states import RelationshipType


class RelationshipMapSettings(Base):
    """What the designer set for a strategic-relationships activity (no row: staff read no map)."""

    __tablename__ = "relationship_map_settings"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"),
                                             primary_key=True)
    staff_may_read: Mapped[bool] = mapped_column(default=False)
    """The course's designers and administrators read every learner's map (names, purposes, goals)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RelationshipMap(Base):
    """One learner's network in one activity."""

    __tablename__ = "relationship_maps"
    __table_args__ = (UniqueConstraint("activity_id", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the learner last shared the map for review; their managers see it from the first share on."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    owner: Mapped[User] = relationship()


class MappedRelationship(Base):
    """A person or a role in the learner's network, what it is to them and what it is for."""

    __tablename__ = "mapped_relationships"
    __table_args__ = (
        CheckConstraint("strength >= 1 AND strength <= 5", name="strength"),
        Index("ix_mapped_relationships_map", "map_id", "ended_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("relationship_maps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    is_role: Mapped[bool] = mapped_column(default=False)
    """``name`` is a role ("Head of procurement"), not a person yet."""
    relation_type: Mapped[RelationshipType] = mapped_column(
        enum_column(RelationshipType, name="relation_type", length=30))
    strength: Mapped[int]
    """1 (barely know each other) to 5 (close and trusted)."""
    last_contact_on: Mapped[date | None] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(Text, default="")
    """What the relationship is for: the perspective, advice or opportunity it brings."""
    added_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    """The day the learner took it off their map (kept for the history)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    relationship_map: Mapped[RelationshipMap] = relationship()


class RelationshipChange(Base):
    """A relationship's type, strength and whether it is on the map, from ``changed_on`` on (append-only)."""

    __tablename__ = "relationship_changes"
    __table_args__ = (
        CheckConstraint("strength >= 1 AND strength <= 5", name="strength"),
        Index("ix_relationship_changes_map", "map_id", "changed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("relationship_maps.id", ondelete="CASCADE"))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("mapped_relationships.id", ondelete="CASCADE"))
    changed_on: Mapped[date] = mapped_column(Date)
    relation_type: Mapped[RelationshipType] = mapped_column(
        enum_column(RelationshipType, name="relation_type", length=30))
    strength: Mapped[int]
    on_map: Mapped[bool]
    """False from the day the relationship was taken off the map."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RelationshipGoal(Base):
    """A goal the learner set: ``target`` new relationships of a type (or any strategic one, when
    ``relation_type`` is None) between ``starts_on`` and ``ends_on``."""

    __tablename__ = "relationship_goals"
    __table_args__ = (
        CheckConstraint("target >= 1 AND target <= 50", name="target"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("relationship_maps.id", ondelete="CASCADE"), index=True)
    relation_type: Mapped[RelationshipType | None] = mapped_column(
        enum_column(RelationshipType, name="relation_type", length=30))
    target: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RelationshipMapShare(Base):
    """The map as it stood when the learner shared it for review: counts only (the relationships
    themselves are read from their history at ``shared_at``)."""

    __tablename__ = "relationship_map_shares"

    id: Mapped[int] = mapped_column(primary_key=True)
    map_id: Mapped[int] = mapped_column(ForeignKey("relationship_maps.id", ondelete="CASCADE"), index=True)
    shared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    relationships: Mapped[int]
    strategic: Mapped[int]
