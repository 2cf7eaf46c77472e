"""The audit log: who changed registrations and keys, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from lti_tool.models import AuditEntry

CLI_ACTOR = "cli"
REGISTRATION_ACTOR = "dynamic registration"


def record(session: Session, action: str, actor_label: str, **details: Any) -> AuditEntry:
    entry = AuditEntry(action=action, actor_label=actor_label, details=details)
    session.add(entry)
    return entry
