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


class RubricImportError(ValueError):
    """A file could not be imported; nothing from it was kept."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
