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
