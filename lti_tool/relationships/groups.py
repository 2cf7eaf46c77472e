"""Groups and sections of a course: which people belong to which, for the staff dashboard's group filter.

A group is only a name within a course (a Canvas section, a Moodle group, a department in a roster CSV);
a person may be in several. Cadre learns them from two places, each replacing only what it said before:

* the platform's roster (NRPS, :mod:`lti_tool.relationships.roster`): neither Moodle's nor Canvas's
  membership service lists a member's groups by itself, so Cadre reads them from the member's launch
  ``message`` custom parameters ``groups`` and ``sections`` where the platform's administrator set them
  (Canvas: ``sections=$com.instructure.User.sectionNames``), as a JSON list or comma-separated names;
  and from a top-level ``groups`` list on the member (a list of names, or of objects with a ``title`` or
  ``name``), the shape some platforms send;
* a launch: the same custom parameters in the person's own id_token replace that person's groups from
  the platform (a launch without them changes nothing);
* the ``group`` column of a roster CSV import (:mod:`lti_tool.relationships.roster_csv`): several names in
  one cell are separated by ``;``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.db import Base, UTCDateTime, enum_column, utcnow
from lti_tool.states import GroupSource

MAX_NAME = 200
MAX_GROUPS_PER_PERSON = 50
"""More than this for one person is a platform's or file's mistake; the rest are ignored."""
CUSTOM_KEYS = ("groups", "sections")
CLAIM_CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"


class PersonGroup(Base):
    """A person's membership of one named group of a course, as one source said it."""

    __tablename__ = "person_groups"
    __table_args__ = (
        UniqueConstraint("context_id", "user_id", "name", "source"),
        # The dashboard's filter: a course's members of one group.
        Index("ix_person_groups_name", "context_id", "name", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    source: Mapped[GroupSource] = mapped_column(enum_column(GroupSource, name="source", length=20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_names(names: Iterable[Any]) -> tuple[str, ...]:
    """Trimmed, non-empty, distinct (case kept, the first spelling wins), without control characters (a
    platform's NUL would not even be storable), at most :data:`MAX_GROUPS_PER_PERSON`."""
    found: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str):
            continue
        text = " ".join(CONTROL.sub("", name).split())[:MAX_NAME]
        if text and text.casefold() not in found:
            found[text.casefold()] = text
    return tuple(found.values())[:MAX_GROUPS_PER_PERSON]


def _unsubstituted(value: Any) -> bool:
    """A substitution the platform did not know: it sends the variable's name back (``$Canvas.…``)."""
    return isinstance(value, str) and value.strip().startswith("$")


def _names_in(value: Any) -> list[Any]:
    """Names from a custom parameter: a JSON list (Canvas's substitutions) or comma-separated text."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str) or not value.strip():
        return []
    text = value.strip()
    if _unsubstituted(text):
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return parsed
    return text.split(",")


def groups_of_member(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The group names an NRPS member carries (see the module's docstring for the shapes read)."""
    names: list[Any] = []
    listed = raw.get("groups")
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, Mapping):
            item = item.get("title") or item.get("name")
        names.append(item)
    messages = raw.get("message")
    for message in messages if isinstance(messages, list) else []:
        custom = message.get(CLAIM_CUSTOM) if isinstance(message, Mapping) else None
        if isinstance(custom, Mapping):
            for key in CUSTOM_KEYS:
                names += _names_in(custom.get(key))
    return clean_names(names)


def groups_in_launch(claims: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The groups a launch's custom parameters name; None when it has neither ``groups`` nor ``sections``
    or only variables it did not substitute (the platform does not send them: the roster's word stands)."""
    custom = claims.get(CLAIM_CUSTOM)
    sent = [custom.get(key) for key in CUSTOM_KEYS] if isinstance(custom, Mapping) else []
    if not any(value is not None and not _unsubstituted(value) for value in sent):
        return None
    return groups_of_member({"message": [claims]})


def replace_groups(
    session: Session,
    context_id: int,
    source: GroupSource,
    groups: Mapping[int, Iterable[str]],
    *,
    only_people: Iterable[int] | None = None,
    now: datetime | None = None,
) -> int:
    """Make what ``source`` says of the course's groups exactly ``groups`` (user id -> names): for every
    person of the course, or only for ``only_people`` (a CSV names some learners, not all). What the other
    source said is kept. Answers how many memberships were added or removed."""
    now = now or utcnow()
    query = select(PersonGroup).where(PersonGroup.context_id == context_id, PersonGroup.source == source)
    if only_people is not None:
        query = query.where(PersonGroup.user_id.in_(sorted(set(only_people))))
    existing = {(row.user_id, row.name): row for row in session.scalars(query)}
    wanted = {(user_id, name) for user_id, names in groups.items() for name in clean_names(names)}
    gone = [row.id for key, row in existing.items() if key not in wanted]
    if gone:
        session.execute(delete(PersonGroup).where(PersonGroup.id.in_(gone)))
    added = sorted(wanted - existing.keys())
    session.add_all(
        PersonGroup(context_id=context_id, user_id=user_id, name=name, source=source, updated_at=now)
        for user_id, name in added
    )
    session.flush()
    return len(gone) + len(added)


def group_names(session: Session, context_id: int) -> list[str]:
    """The course's group names, for the filter's choices (sorted without regard to case)."""
    names = session.scalars(
        select(PersonGroup.name).where(PersonGroup.context_id == context_id).distinct()
    )
    return sorted(names, key=lambda name: (name.casefold(), name))


def members_of_group(context_id: int, name: str) -> Any:
    """The SQL ``SELECT`` of the user ids in the course's group ``name`` (from either source)."""
    return select(PersonGroup.user_id).where(PersonGroup.context_id == context_id, PersonGroup.name == name)

