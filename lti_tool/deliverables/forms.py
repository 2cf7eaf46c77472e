"""The activity settings form: what was posted, kept as typed for the page, and validated into
:class:`~lti_tool.deliverables.services.ActivitySettings` with a message beside each field that is wrong.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

from werkzeug.datastructures import MultiDict

from lti_tool.deliverables.services import ActivitySettings
from lti_tool.lti import activity_kinds
from lti_tool.models import Activity
from lti_tool.rubric_library.forms import whole_number
from lti_tool.states import Assessors, FeedbackRelease
from lti_tool.web.markdown import MAX_MARKDOWN_LENGTH
from rubrics.exact_numbers import NotANumber, decimal_places, format_decimal, to_decimal

TITLE_MAX = 255
POINTS_MAX = Decimal(100_000)
DEFAULT_DUE_TIME = "23:59"
FIELDS = ("title", "instructions", "manager_briefing", "rubric_id", "due_date", "due_time", "due_timezone",
          "points_possible", "grades_to_lms", "assessors", "work_product_required", "feedback_release",
          "lock_version")

ASSESSOR_LABELS = {
    Assessors.LINE_MANAGER: "The learner's line manager",
    Assessors.ANY_MANAGER: "Any manager linked to the learner (line manager, mentor, coach)",
    Assessors.LEARNER: "The learner themself (self-assessment)",
}
KIND_FIELDS = {
    activity_kinds.INSTRUCTIONS: ("instructions",),
    activity_kinds.BRIEFING: ("manager_briefing",),
    activity_kinds.RUBRIC: ("rubric_id",),
    activity_kinds.DUE: ("due_date", "due_time", "due_timezone"),
    activity_kinds.GRADEBOOK: ("points_possible", "grades_to_lms"),
    activity_kinds.FEEDBACK: ("assessors", "work_product_required", "feedback_release"),
}
"""The form's fields of each part of the settings page a kind may use (``KindInfo.settings``)."""
RELEASE_LABELS = {
    FeedbackRelease.ON_SUBMISSION: "As soon as the assessor submits it",
    FeedbackRelease.WHEN_RELEASED: "When course staff release it",
}


@cache
def time_zones() -> tuple[str, ...]:
    """IANA time zone names, for the due date's zone (``Etc/`` aliases left out, UTC kept)."""
    return tuple(sorted(name for name in available_timezones()
                        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/"))
                        ) + ["UTC"])


def _has_control_characters(text: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(unicodedata.category(char) == "Cc" and char not in allowed for char in text) or any(
        0xD800 <= ord(char) <= 0xDFFF for char in text
    )


def parse_points(text: str) -> tuple[Decimal | None, str | None]:
    """Points possible as typed: (None, None) when empty, else the number or what is wrong with it."""
    if not text.strip():
        return None, None
    try:
        points = to_decimal(text)
    except NotANumber:
        return None, "Give the points as a number, such as 10 or 12.5."
    if points <= 0 or points > POINTS_MAX:
        return None, f"Give more than 0 and at most {POINTS_MAX:,} points."
    if decimal_places(points) > 2:
        return None, "Use at most two decimals, such as 12.25."
    return points, None


@dataclass
class ActivitySettingsForm:
    values: dict[str, str]
    """What the page shows in each field (as typed after a refused save)."""
    problems: dict[str, str] = field(default_factory=dict)
    lock_version: int | None = None

    @classmethod
    def from_activity(cls, activity: Activity) -> ActivitySettingsForm:
        zone = ZoneInfo(activity.due_timezone) if activity.due_timezone in time_zones() else UTC
        due = activity.due_at.astimezone(zone) if activity.due_at else None
        return cls(
            values={
                "title": activity.title,
                "instructions": activity.instructions,
                "manager_briefing": activity.manager_briefing,
                "rubric_id": str(activity.rubric_version.rubric_id) if activity.rubric_version else "",
                "due_date": due.date().isoformat() if due else "",
                "due_time": due.strftime("%H:%M") if due else DEFAULT_DUE_TIME,
                "due_timezone": activity.due_timezone,
                "points_possible": format_decimal(activity.points_possible)
                if activity.points_possible is not None else "",
                "grades_to_lms": "1" if activity.grades_to_lms else "",
                "assessors": activity.assessors.value,
                "work_product_required": "1" if activity.work_product_required else "",
                "feedback_release": activity.feedback_release.value,
            },
            lock_version=activity.lock_version,
        )

    @classmethod
    def from_post(cls, form: MultiDict[str, str], activity: Activity) -> ActivitySettingsForm:
        """What was posted; the fields the activity's kind does not show keep the activity's values (a
        posted value for them is ignored, so a survey's form cannot give it a rubric)."""
        values = {name: form.get(name, "") for name in FIELDS}
        shown = activity_kinds.kind_info(activity.kind).settings
        kept = [name for part, names in KIND_FIELDS.items() if part not in shown for name in names]
        if kept:
            saved = cls.from_activity(activity).values
            values.update({name: saved[name] for name in kept})
        return cls(values=values, lock_version=whole_number(values.pop("lock_version")))

    def parse(self, rubric_ids: set[int]) -> ActivitySettings | None:
        """The settings, or None with :attr:`problems` filled in; ``rubric_ids`` are those one may pick."""
        values, problems = self.values, self.problems
        title = values["title"].strip()
        if not title:
            problems["title"] = "Give the activity a title."
        elif len(title) > TITLE_MAX:
            problems["title"] = f"The title can be at most {TITLE_MAX} characters long."
        elif _has_control_characters(title, allow_newlines=False):
            problems["title"] = "The title contains characters that cannot be shown (such as a tab)."
        texts = {}
        for name, label in (("instructions", "The instructions"), ("manager_briefing", "The briefing")):
            text = values[name].replace("\r\n", "\n").strip()
            if len(text) > MAX_MARKDOWN_LENGTH:
                problems[name] = f"{label} can be at most {MAX_MARKDOWN_LENGTH:,} characters long " \
                                 f"(now {len(text):,})."
            elif _has_control_characters(text, allow_newlines=True):
                problems[name] = f"{label} contain characters that cannot be shown."
            texts[name] = text
        rubric_id = None
        if values["rubric_id"]:
            rubric_id = whole_number(values["rubric_id"])
            if rubric_id is None or rubric_id not in rubric_ids:
                problems["rubric_id"] = "Choose one of the rubrics listed."
        due_at, zone_name = self._due(values, problems)
        points, points_problem = parse_points(values["points_possible"])
        if points_problem:
            problems["points_possible"] = points_problem
        grades = values["grades_to_lms"] == "1"
        if grades and points is None and "points_possible" not in problems:
            problems["points_possible"] = "Give the points the gradebook shows, or do not send scores."
        assessors = _choice(Assessors, values["assessors"])
        if assessors is None:
            problems["assessors"] = "Choose who gives the feedback."
        release = _choice(FeedbackRelease, values["feedback_release"])
        if release is None:
            problems["feedback_release"] = "Choose when learners see their feedback."
        if problems:
            return None
        assert assessors is not None and release is not None
        return ActivitySettings(
            title=title, instructions=texts["instructions"], manager_briefing=texts["manager_briefing"],
            rubric_id=rubric_id, due_at=due_at, due_timezone=zone_name, points_possible=points,
            grades_to_lms=grades, assessors=assessors,
            work_product_required=values["work_product_required"] == "1", feedback_release=release,
        )

    @staticmethod
    def _due(values: dict[str, str], problems: dict[str, str]) -> tuple[datetime | None, str]:
        zone_name = values["due_timezone"].strip() or "UTC"
        if zone_name not in time_zones():
            problems["due_timezone"] = "Choose a time zone from the list."
            zone_name = "UTC"
        if not values["due_date"].strip():
            return None, zone_name
        try:
            day = date.fromisoformat(values["due_date"].strip())
        except ValueError:
            problems["due_date"] = "Give the date as year-month-day, such as 2027-03-31."
            return None, zone_name
        try:
            at = time.fromisoformat(values["due_time"].strip() or DEFAULT_DUE_TIME)
        except ValueError:
            problems["due_time"] = "Give the time as hours:minutes, such as 17:00."
            return None, zone_name
        if not 2000 <= day.year <= 2200:
            problems["due_date"] = "Give a date between the years 2000 and 2200."
            return None, zone_name
        local = datetime.combine(day, at.replace(second=0, microsecond=0, tzinfo=None), ZoneInfo(zone_name))
        return local.astimezone(UTC), zone_name


Choice = TypeVar("Choice", Assessors, FeedbackRelease)


def _choice(enum_class: type[Choice], text: str) -> Choice | None:
    try:
        return enum_class(text)
    except ValueError:
        return None
