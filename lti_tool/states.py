"""Every set of values a column may hold, defined once.

Each is a ``StrEnum`` stored as its value in a ``VARCHAR`` with a ``CHECK`` constraint
(:func:`lti_tool.db.enum_column`), so SQLite and PostgreSQL refuse anything else, and Python code compares
members, not strings typed twice.
"""

from __future__ import annotations

import enum


class CadreRole(enum.StrEnum):
    """What a person may do in Cadre, derived from LIS roles (see ``lti_tool.lti.roles``)."""

    ADMIN = "admin"
    DESIGNER = "designer"
    MANAGER = "manager"
    LEARNER = "learner"


class MessageType(enum.StrEnum):
    """The LTI messages Cadre accepts at ``/lti/launch``."""

    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"


class ManagerLinkSource(enum.StrEnum):
    """Where Cadre learned that a manager is responsible for a learner."""

    LTI_MENTOR = "lti_mentor"
    """Canvas's ``role_scope_mentor`` claim in the manager's launch."""
    ROSTER = "roster"
    DESIGNER = "designer"
    NOMINATION = "nomination"


class ManagerLinkStatus(enum.StrEnum):
    ACTIVE = "active"
    ENDED = "ended"
    """No longer in force; kept with its history and the feedback given under it."""


class OutboxStatus(enum.StrEnum):
    """Where an outbox message is on its way out (see ``lti_tool.outbox``)."""

    PENDING = "pending"
    """Not attempted yet."""
    DELIVERED = "delivered"
    FAILED = "failed"
    """The last attempt failed; another is due at ``next_attempt_at``."""
    DEAD = "dead"
    """Given up (a permanent refusal, or too many attempts); ``last_error`` says why. An admin may retry it."""
