"""What the programme activities' services refuse with: a message for people, the status and title of the
error page that says it (each blueprint's error handler renders it)."""

from __future__ import annotations


class ProgrammeError(Exception):
    status = 400
    title = "Not possible"

    def __init__(self, message: str, *, status: int | None = None, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title


class FieldProblems(ProgrammeError):
    """What was typed cannot be stored: ``problems`` holds a message by field name (each form shows it
    beside its field, and this error's message above the form). A feature's own kind derives from this and
    from its error (``class CareerProblems(FieldProblems, CareerError)``), so its handlers still catch it."""

    summary = "Some answers need your attention: see the messages beside them."

    def __init__(self, problems: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or self.summary)
        self.problems = problems
