"""The kinds of activity a designer can place in a course with Cadre (deep linking).

The kind travels to the platform as the custom parameter ``cadre_kind`` of the content item and comes back
in every launch of that activity. Later work (deliverables) adds behaviour per kind; extend this list,
never rename a ``key`` (platforms store it).
"""

from __future__ import annotations

from dataclasses import dataclass

CUSTOM_PARAMETER = "cadre_kind"


@dataclass(frozen=True)
class ActivityKind:
    key: str
    label: str
    description: str


ACTIVITY_KINDS: tuple[ActivityKind, ...] = (
    ActivityKind("manager_feedback", "Manager feedback on a learner",
                 "The manager gives formal, documented feedback on each of their people."),
    ActivityKind("skill_assessment", "Manager-led skill assessment",
                 "The manager assesses a learner's skill against a rubric."),
    ActivityKind("work_product_review", "Work-product review",
                 "The learner submits a piece of work; their manager reviews it."),
    ActivityKind("self_assessment", "Self assessment",
                 "The learner rates themselves against a rubric, to compare with their manager's view."),
    ActivityKind("peer_assessment", "Peer assessment",
                 "Peers give each other feedback against a rubric."),
    ActivityKind("manager_insight_survey", "Manager insight survey",
                 "Three questions for managers: which mistakes they observe, how often, and their "
                 "business impact."),
    ActivityKind("six_month_follow_up", "Six-month follow-up",
                 "About six months after training, managers say what changed."),
    ActivityKind("career_conversation", "Career conversation",
                 "A learner and their manager talk through where the learner's career could go."),
)

_BY_KEY = {kind.key: kind for kind in ACTIVITY_KINDS}


def activity_kind(key: str | None) -> ActivityKind | None:
    return _BY_KEY.get(key or "")
