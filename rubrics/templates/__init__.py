"""Starter rubrics for the manager deliverables Cadre supports, one JSON file per template.

Templates are data so a designer can read, copy and import them like any exported rubric;
each file holds the rubric dict that :func:`rubrics.parse_rubric` reads, plus a ``summary``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from rubrics.model import Rubric
from rubrics.parsing import parse_rubric


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    slug: str
    title: str
    summary: str
    scoring_mode: str


@cache
def _load_all() -> dict[str, tuple[TemplateInfo, Rubric]]:
    templates: dict[str, tuple[TemplateInfo, Rubric]] = {}
    folder = resources.files(__package__)
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        summary = data.pop("summary", "")
        rubric = parse_rubric(data)
        slug = entry.name.removesuffix(".json")
        templates[slug] = (TemplateInfo(slug, rubric.title, summary, rubric.scoring_mode.value), rubric)
    return templates


def list_templates() -> tuple[TemplateInfo, ...]:
    """All templates, by slug."""
    return tuple(info for info, _ in _load_all().values())


def get_template(slug: str) -> Rubric:
    """The template's rubric; KeyError for an unknown slug. The rubric's identifier is the slug."""
    return _load_all()[slug][1]
