"""What the audit tests share: a snapshot of everything stored, and a rubric made as a designer makes one."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from lti_tool.db import Base, session_scope
from tests.fixtures.visitors import Page
from tests.fixtures.visitors import create_from_template as create_from_template  # used by the audits

TEMPLATE = "communication"
TEMPLATE_TITLE = "Communication"

Snapshot = dict[str, list[tuple[Any, ...]]]


def stored_rows(app: Flask) -> Snapshot:
    """Every row of every table, so a test can say "nothing stored changed" and mean it."""
    with session_scope(app) as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    return [name for name in before if before[name] != after[name]]



def form_without_tokens(page: Page, testid: str = "rubric-form") -> dict[str, str]:
    """A form's fields without ``lt`` and ``csrf_token``, for someone to post with their own tokens."""
    fields = dict(page.form(testid).fields)
    fields.pop("lt", None)
    fields.pop("csrf_token", None)
    return fields
