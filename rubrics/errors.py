"""Errors that carry every problem found, so a designer can fix a rubric in one pass."""

from __future__ import annotations

from dataclasses import dataclass

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rubric or an assessment.

    ``path`` locates the value in the input (``("criteria", 2, "levels", 1, "min_points")``,
    zero-based) for programs; ``message`` names the place for people (one-based, with titles).
    """

    path: Path
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with an imported file: ``location`` is "line 7" or a JSON path."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class RubricValidationError(ValueError):
    """A rubric definition broke one or more rules; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problem.message for problem in self.problems))


class AssessmentError(ValueError):
    """An assessment does not fit its rubric; ``problems`` lists every mismatch."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(problem.message for problem in self.problems))


class ImportProblems(list[ImportProblem]):
    """Every problem found in a file, and the few worth showing: ``listed`` and how many are ``unlisted``.

    A file can hold hundreds of thousands of problems (a CSV header with 200,000 unknown columns); a
    page or message lists the first :data:`LISTED_PROBLEMS` and counts the rest, so it stays small.
    """

    @property
    def listed(self) -> list[ImportProblem]:
        return self[:LISTED_PROBLEMS]

    @property
    def unlisted(self) -> int:
        return max(0, len(self) - LISTED_PROBLEMS)


LISTED_PROBLEMS = 50


class RubricImportError(ValueError):
    """A file could not be imported; nothing from it was kept. ``problems`` holds every problem."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = ImportProblems(problems)
        lines = [str(problem) for problem in self.problems.listed]
        if self.problems.unlisted:
            lines.append(f"and {self.problems.unlisted:,} more problems")
        super().__init__("\n".join(lines))
