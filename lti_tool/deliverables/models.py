"""Tables of learners' work products (``lti_tool.deliverables.work_products``): one per learner and
activity, its versions (a resubmission adds one; none is ever changed or removed), and each version's files.

A file's bytes live outside the database and the web root (``lti_tool.deliverables.uploads``), under a
random ``stored_name``; the row keeps the learner's cleaned name, the type the allow-list gave its
extension, its size and SHA-256. Several versions may list one stored file (a resubmission that keeps it).

Kept beside their feature rather than in ``lti_tool.models``, which imports this module at its end so that
``Base.metadata`` (migrations, the models-match-migrations test) always has these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lti_tool.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:  # lti_tool.models imports this module at its end; the mapper finds them by name
    from lti_tool.models import Activity, User


class WorkProduct(Base):
    """What a learner submitted in an activity: ``version_count`` versions, the newest in force."""

    __tablename__ = "work_products"
    __table_args__ = (UniqueConstraint("activity_id", "learner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version_count: Mapped[int] = mapped_column(default=0)
    """Also the revision check of a resubmission: it is raised by ``UPDATE … WHERE version_count = :seen``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    activity: Mapped[Activity] = relationship()
    learner: Mapped[User] = relationship()


class WorkProductVersion(Base):
    """One submission of a work product: its text (Markdown, rendered safely) and files. Append-only."""

    __tablename__ = "work_product_versions"
    __table_args__ = (UniqueConstraint("work_product_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_product_id: Mapped[int] = mapped_column(ForeignKey("work_products.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    work_product: Mapped[WorkProduct] = relationship()
    files: Mapped[list[WorkProductFile]] = relationship(
        back_populates="version", order_by="WorkProductFile.position", cascade="all, delete-orphan"
    )


class WorkProductFile(Base):
    """A file of a work-product version, as stored."""

    __tablename__ = "work_product_files"
    __table_args__ = (
        UniqueConstraint("version_id", "position"),
        CheckConstraint("size_bytes > 0", name="size_bytes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("work_product_versions.id", ondelete="CASCADE"))
    position: Mapped[int]
    original_name: Mapped[str] = mapped_column(String(255))
    """The learner's file name, cleaned (``uploads.clean_file_name``): shown, and the download's name."""
    stored_name: Mapped[str] = mapped_column(String(64), index=True)
    """Random; the file's name under ``CADRE_UPLOAD_DIR`` (never derived from anything the learner sent)."""
    content_type: Mapped[str] = mapped_column(String(120))
    """From the allow-list of ``CADRE_UPLOAD_TYPES`` for the name's extension, the content checked."""
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    version: Mapped[WorkProductVersion] = relationship(back_populates="files")
