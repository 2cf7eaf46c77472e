"""The manager's people list, filtered and sorted as its query string says: ``name`` (part of a name),
``state`` (where the feedback stands), ``due`` (``overdue`` or ``on_time``) and ``sort`` (``name``,
``state``, ``overdue``). It works on the list :func:`lti_tool.feedback.services.my_people` read, so it adds no
query however many people there are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lti_tool.feedback.services import PersonStatus

STATES = ("not_started", "draft", "draft_changes", "submitted", "withdrawn")
STATE_LABELS = {"not_started": "Not started", "draft": "Draft", "draft_changes": "Changes not submitted",
                "submitted": "Submitted", "withdrawn": "Withdrawn"}
DUE_CHOICES = {"overdue": "Overdue", "on_time": "Not overdue"}
SORTS = {"name": "name", "state": "state", "overdue": "most overdue"}
MAX_NAME = 100


@dataclass(frozen=True)
class PeopleFilters:
    name: str = ""
    state: str = ""
    due: str = ""
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> PeopleFilters:
        """Anything not understood is ignored (a hand-edited or stale address shows everyone)."""
        state, due, sort = args.get("state", ""), args.get("due", ""), args.get("sort", "name")
        return cls(name=" ".join(args.get("name", "").split())[:MAX_NAME],
                   state=state if state in STATES else "", due=due if due in DUE_CHOICES else "",
                   sort=sort if sort in SORTS else "name")

    @property
    def active(self) -> bool:
        return bool(self.name or self.state or self.due)

    def query(self, **changes: str) -> dict[str, str]:
        """These filters as a query string's values, with ``changes`` (links that keep the others)."""
        values: dict[str, Any] = {"name": self.name, "state": self.state, "due": self.due, "sort": self.sort,
                                  **changes}
        return {key: value for key, value in values.items()
                if value and not (key == "sort" and value == "name")}

    def keeps(self, person: PersonStatus) -> bool:
        shown = person.learner.shown_name
        if self.name and not (shown and self.name.casefold() in shown.casefold()):
            return False
        if self.state and person.state != self.state:
            return False
        if self.due == "overdue" and person.overdue_days is None:
            return False
        return not (self.due == "on_time" and person.overdue_days is not None)

    def apply(self, people: list[PersonStatus]) -> list[PersonStatus]:
        kept = [person for person in people if self.keeps(person)] if self.active else people
        return sorted(kept, key=_sort_key(self.sort))


def _by_name(person: PersonStatus) -> tuple[Any, ...]:
    shown = person.learner.shown_name
    return (shown is None, (shown or "").casefold(), person.learner.id)


def _sort_key(sort: str) -> Callable[[PersonStatus], tuple[Any, ...]]:
    if sort == "state":
        return lambda person: (STATES.index(person.state), *_by_name(person))
    if sort == "overdue":
        return lambda person: (person.overdue_days is None, -(person.overdue_days or 0), *_by_name(person))
    return _by_name
