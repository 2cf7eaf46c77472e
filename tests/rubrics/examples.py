"""A small, readable rubric used by the unit tests."""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "identifier": "coaching-skills",
    "title": "Coaching skills",
    "description": "Observed coaching conversation.",
    "scoring_mode": "points",
    "competency_frameworks": ["https://case.example/CFDocuments/f1"],
    "criteria": [
        {
            "identifier": "listening",
            "title": "Listening",
            "guidance": "Count who talks more.",
            "position": 1,
            "weight": "1",
            "competency_tags": ["COACH.1"],
            "levels": [
                {"identifier": "novice", "title": "Novice", "position": 1, "points": "0"},
                {"identifier": "proficient", "title": "Proficient", "position": 2, "points": "2"},
            ],
        },
        {
            "identifier": "questions",
            "title": "Questions",
            "position": 2,
            "weight": "1",
            "levels": [
                {"identifier": "novice", "title": "Novice", "position": 1, "points": "0"},
                {"identifier": "proficient", "title": "Proficient", "position": 2, "points": "2"},
            ],
        },
        {
            "identifier": "coaching-conversation",
            "title": "Coaching conversation",
            "position": 3,
            "weight": "2",
            "comment_required": True,
            "levels": [
                {"identifier": "beginning", "title": "Beginning", "position": 1, "points": "1"},
                {
                    "identifier": "developing",
                    "title": "Developing",
                    "position": 2,
                    "min_points": "1.5",
                    "max_points": "2.5",
                },
                {"identifier": "proficient", "title": "Proficient", "position": 3, "points": "3"},
                {"identifier": "expert", "title": "Expert", "position": 4, "points": "4"},
            ],
        },
    ],
}


def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)
