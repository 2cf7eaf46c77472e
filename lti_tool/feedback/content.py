"""What an assessor types: the draft's answers, read from a form post or an autosave's JSON, checked
against the rubric, and turned into the engine's answers when submitted.

A draft may be incomplete (no level yet, an empty required comment): only its shape and sizes are
checked, so a half-written form is always saved. Submitting asks the pure engine
(``rubrics.Scorer``) for the rest, and its problems are shown beside the fields they concern.

The stored form of a draft::

    {"criteria": {"<criterion id>": {"level": "<level id>", "points": "2.5", "comment": "..."}},
     "strengths": "...", "next_steps": "..."}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import rubrics
from rubrics.scoring import MAX_COMMENT

MAX_OVERALL = 10_000
"""Characters in "strengths" and in "next steps"."""
MAX_POINTS_TEXT = 30
OVERALL_FIELDS = {"strengths": "Strengths", "next_steps": "Next steps"}


def level_field(criterion: str) -> str:
    return f"level-{criterion}"


def points_field(criterion: str) -> str:
    return f"points-{criterion}"


def comment_field(criterion: str) -> str:
    return f"comment-{criterion}"


@dataclass
class Draft:
    """A draft as typed, and the problems found in it, by form field name."""

    content: dict[str, Any]
    problems: dict[str, str] = field(default_factory=dict)

    def answer(self, criterion: str) -> dict[str, str]:
        return self.content["criteria"].get(criterion, {"level": "", "points": "", "comment": ""})

    @property
    def strengths(self) -> str:
        return self.content["strengths"]

    @property
    def next_steps(self) -> str:
        return self.content["next_steps"]


def empty_content() -> dict[str, Any]:
    return {"criteria": {}, "strengths": "", "next_steps": ""}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _checked(draft: Draft, name: str, label: str, value: object, limit: int) -> str:
    text = _text(value if value is not None else "")
    if text is None:
        draft.problems[name] = f"{label} must be text."
        return ""
    text = text.replace("\r\n", "\n").replace("\x00", "")
    if len(text) > limit:
        draft.problems[name] = f"{label} is {len(text):,} characters long; the limit is {limit:,}."
    return text


def read_form(form: Mapping[str, str], rubric: rubrics.Rubric) -> Draft:
    """The draft typed in the feedback form (field names from :func:`level_field` and its siblings)."""
    criteria = {
        criterion.identifier: {
            "level": form.get(level_field(criterion.identifier), ""),
            "points": form.get(points_field(criterion.identifier), ""),
            "comment": form.get(comment_field(criterion.identifier), ""),
        }
        for criterion in rubric.criteria
    }
    return read_content({"criteria": criteria, "strengths": form.get("strengths", ""),
                         "next_steps": form.get("next_steps", "")}, rubric)


def read_content(raw: object, rubric: rubrics.Rubric) -> Draft:
    """Check a draft's shape and sizes (an autosave's JSON, or a stored draft read back for a newer
    rubric version): criteria the rubric does not have are dropped, levels it does not know are kept
    for the engine to name at submission."""
    draft = Draft(empty_content())
    if not isinstance(raw, Mapping):
        draft.problems["form"] = "The draft must be an object with criteria, strengths and next steps."
        return draft
    given = raw.get("criteria")
    given = {} if given is None else given
    if not isinstance(given, Mapping):
        draft.problems["form"] = "The draft's criteria must be an object, by criterion."
        given = {}
    for criterion in rubric.criteria:
        answer = given.get(criterion.identifier)
        if answer is None:
            continue
        if not isinstance(answer, Mapping):
            draft.problems[level_field(criterion.identifier)] = \
                f"{criterion.title}: the answer is not readable."
            continue
        level = _checked(draft, level_field(criterion.identifier), f"{criterion.title}: the level",
                         answer.get("level"), 100)
        points = _checked(draft, points_field(criterion.identifier), f"{criterion.title}: the points",
                          answer.get("points"), MAX_POINTS_TEXT).strip()
        comment = _checked(draft, comment_field(criterion.identifier), f"{criterion.title}: the comment",
                           answer.get("comment"), MAX_COMMENT)
        if level or points or comment:
            draft.content["criteria"][criterion.identifier] = {"level": level, "points": points,
                                                               "comment": comment}
    for name, label in OVERALL_FIELDS.items():
        draft.content[name] = _checked(draft, name, label, raw.get(name), MAX_OVERALL)
    return draft


def answers(draft: Draft, rubric: rubrics.Rubric) -> list[rubrics.Answer]:
    """The engine's answers for a complete draft (criteria without a level are left for the engine to
    report as missing)."""
    chosen = []
    for criterion in rubric.criteria:
        answer = draft.content["criteria"].get(criterion.identifier)
        if answer and answer["level"]:
            chosen.append(rubrics.Answer(criterion.identifier, answer["level"], answer["points"] or None,
                                         answer["comment"]))
    return chosen


def problems_by_field(error: rubrics.AssessmentError) -> dict[str, str]:
    """The engine's problems, keyed by the form field each concerns (``("criteria", id, "comment")``)."""
    found: dict[str, str] = {}
    for problem in error.problems:
        path = problem.path
        criterion = str(path[1]) if len(path) > 1 and path[0] == "criteria" else None
        what = str(path[2]) if len(path) > 2 else "level"
        name = {"comment": comment_field, "points": points_field}.get(what, level_field)(criterion) \
            if criterion is not None else "form"
        found.setdefault(name, _sentence(problem.message))
    return found


def _sentence(message: str) -> str:
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."


def content_of_revision(criteria: list[dict[str, Any]], strengths: str, next_steps: str) -> dict[str, Any]:
    """A submitted revision as a draft, to edit it into the next revision."""
    return {
        "criteria": {
            line["criterion"]: {"level": line["level"], "points": line["points"] or "",
                                "comment": line["comment"] or ""}
            for line in criteria
        },
        "strengths": strengths,
        "next_steps": next_steps,
    }
