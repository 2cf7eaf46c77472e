"""Managers outside the LMS: invited by e-mail, signed in by single-use e-mailed links, reminded when
their feedback is due (``services``, ``reminders``, ``views``; tables in ``models``).

Imports nothing at module level: ``lti_tool.models`` imports ``lti_tool.invitations.models`` (so the
tables are on ``Base.metadata``), which loads this package first.
"""

from __future__ import annotations

from typing import Any


def init_app(app: Any) -> None:
    from lti_tool.invitations import mails, reminders, views  # noqa: F401 - registers composers and the job

    views.init_app(app)
