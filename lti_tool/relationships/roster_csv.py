"""Manager links from a roster CSV (the designer's upload, ``cadre roster import``): all or nothing.

The file has a header row naming its columns ``learner``, ``manager`` and, optionally, ``relation``
(``line_manager``, ``mentor`` or ``coach``; empty means line manager) and ``group`` (the learner's group,
section or department in the course, several separated by ``;``: the dashboard's group filter), in any
order and case. With a ``group`` column, the learners the file names get exactly the groups of their rows
(an empty cell, none from the file); the groups the platform's roster gave are kept. A learner or
manager is named by their LMS user id (the LTI ``sub``), their LMS login or their e-mail address, as the
course's roster knows them (refresh it from the platform first). Every row is reported by its line number
as matched, not matched (someone the roster does not have) or invalid; only a file whose every row matched
is stored, so a half-imported org chart never exists.

Cells are read back with :func:`rubrics.spreadsheet_cells.restore` (a cell Cadre's own export escaped
against spreadsheet formulas reads as typed), and the export goes through its formula-safe writer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.models import ManagerLink
from lti_tool.permissions import Actor
from lti_tool.relationships.groups import PersonGroup, clean_names, replace_groups
from lti_tool.relationships.services import (
    RELATION_LABELS,
    STATUS_LABELS,
    Person,
    RelationshipError,
    check_pair,
    course_people,
    link,
    links_of_course,
)
from lti_tool.states import GroupSource, ManagerLinkRelation, ManagerLinkSource, ManagerLinkStatus
from rubrics.spreadsheet_cells import restore, writer

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
MAX_CELL = 320
COLUMNS = ("learner", "manager", "relation", "group", "status")
INVITED_SUB_PREFIX = "cadre-invited:"
"""The LMS user id Cadre gives a manager invited by e-mail (``lti_tool.invitations.services``)."""
GROUP_SEPARATOR = ";"


class RowState(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    INVALID = "invalid"
    SKIPPED = "skipped"
    """A row the import leaves as it is: an exported link that is not active, or an invited manager's."""


@dataclass(frozen=True)
class RowReport:
    line: int
    state: RowState
    message: str
    learner: str = ""
    manager: str = ""


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    file_problem: str | None = None
    """Why the file as a whole could not be read (nothing else is reported then)."""
    stored: bool = False
    changed: int = 0
    groups: dict[int, set[str]] | None = None
    """With a ``group`` column: each learner named in the file (user id) and the groups their rows give."""

    def count(self, state: RowState) -> int:
        return sum(row.state is state for row in self.rows)

    @property
    def ok(self) -> bool:
        return self.file_problem is None and bool(self.rows) and \
            all(row.state in (RowState.MATCHED, RowState.SKIPPED) for row in self.rows)

    def summary(self) -> str:
        if self.file_problem:
            return self.file_problem
        counts = (f"{self.count(RowState.MATCHED)} matched, {self.count(RowState.NOT_MATCHED)} not matched, "
                  f"{self.count(RowState.INVALID)} invalid")
        if self.count(RowState.SKIPPED):
            counts += f", {self.count(RowState.SKIPPED)} left as they are"
        if self.stored:
            return f"Imported: {counts}; {self.changed} link(s) added or changed."
        if self.ok:
            return f"Checked, nothing stored (dry run): {counts}."
        return f"Nothing was imported: {counts}. Correct the rows below and upload the whole file again."


def decode(data: bytes) -> str:
    """The file's text (UTF-8, with or without the BOM spreadsheets write); raises ValueError."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"The file is larger than {MAX_BYTES // 1024} KB; split it or remove unused "
                         "columns.")
    if not data.strip():
        raise ValueError("The file is empty: it needs a header row (learner, manager, relation) and one row "
                         "per link.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"The file is not UTF-8 text (byte {error.start + 1}): save it from your "
                         "spreadsheet as \"CSV UTF-8\".") from None


class _Index:
    """The course's people by LMS user id, login and e-mail (case-insensitive for the last two)."""

    def __init__(self, people: Iterable[Person]) -> None:
        self.by_key: dict[str, set[int]] = {}
        self.people = {person.id: person for person in people}
        for person in self.people.values():
            keys = {person.user.sub, person.user.sub.casefold()}
            shared = (person.email, person.login, person.user.email)
            keys.update(value.casefold() for value in shared if value)
            for key in keys:
                self.by_key.setdefault(key, set()).add(person.id)

    def find(self, identifier: str) -> Person | None | list[Person]:
        found = self.by_key.get(identifier) or self.by_key.get(identifier.casefold()) or set()
        if len(found) > 1:
            return [self.people[user_id] for user_id in sorted(found)]
        return self.people[next(iter(found))] if found else None


def _relation(text: str) -> ManagerLinkRelation | None:
    value = text.strip().lower().replace(" ", "_").replace("-", "_") or ManagerLinkRelation.LINE_MANAGER.value
    try:
        return ManagerLinkRelation(value)
    except ValueError:
        return None


Planned = list[tuple[Person, Person, ManagerLinkRelation]]


def check_rows(session: Session, context_id: int, text: str) -> tuple[ImportReport, Planned]:
    report = ImportReport()
    planned: Planned = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        names = [restore(cell).strip().lower() for cell in header or []]
        missing = [column for column in ("learner", "manager") if column not in names]
        if header is None or missing:
            lacking = " and ".join(missing or COLUMNS[:2])
            report.file_problem = ("Line 1 must be a header row naming the columns learner and manager "
                                   f"(and optionally relation and group); it lacks {lacking}.")
            return report, planned
        position = {column: names.index(column) for column in COLUMNS if column in names}
        if "group" in position:
            report.groups = {}
        index = _Index(course_people(session, context_id).values())
        seen: dict[tuple[int, int], int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(report.rows) >= MAX_ROWS:
                report.file_problem = f"The file has more than {MAX_ROWS} rows; split it into smaller files."
                return report, []
            values = {column: restore(cells[at]).strip() if at < len(cells) else ""
                      for column, at in position.items()}
            learner_text, manager_text = values["learner"], values["manager"]

            def add(state: RowState, message: str, *, line: int = line, learner: str = learner_text,
                    manager: str = manager_text) -> None:
                report.rows.append(RowReport(line, state, message, learner[:MAX_CELL], manager[:MAX_CELL]))

            if not learner_text or not manager_text:
                add(RowState.INVALID, "Both the learner and the manager are needed.")
                continue
            status = values.get("status", "")
            if status and status.casefold() != STATUS_LABELS[ManagerLinkStatus.ACTIVE].casefold():
                # An exported file lists every link: importing it again must not make ended or declined
                # links active (ending and declining are done on the people page, by their people).
                add(RowState.SKIPPED, f"{status[:40]} in the file: left as it is (an import makes links "
                                      "active).")
                continue
            if manager_text.startswith(INVITED_SUB_PREFIX):
                add(RowState.SKIPPED, "A manager invited by e-mail: their link is the invitation's, left as "
                                      "it is.")
                continue
            if max(len(learner_text), len(manager_text)) > MAX_CELL:
                add(RowState.INVALID, f"A name is longer than {MAX_CELL} characters.")
                continue
            groups = clean_names(values.get("group", "").split(GROUP_SEPARATOR))
            if any(len(name) > 200 for name in values.get("group", "").split(GROUP_SEPARATOR)):
                add(RowState.INVALID, "A group's name is longer than 200 characters.")
                continue
            if any(ord(character) < 32 and character not in "\t" for character in
                   learner_text + manager_text + values.get("group", "")):
                add(RowState.INVALID, "A cell has a control character (such as NUL): type it again as plain "
                                      "text.")
                continue
            relation = _relation(values.get("relation", ""))
            if relation is None:
                add(RowState.INVALID, f"Unknown relation {values['relation']!r}: use line_manager, mentor or "
                                      "coach.")
                continue
            learner, manager = index.find(learner_text), index.find(manager_text)
            ambiguous = [(what, found) for what, found in (("learner", learner), ("manager", manager))
                         if isinstance(found, list)]
            if ambiguous:
                what, found = ambiguous[0]
                names_found = ", ".join(person.name for person in found)
                add(RowState.INVALID, f"The {what} matches several people ({names_found}): use their LMS "
                                      "user id.")
                continue
            absent = [what for what, found in (("learner", learner), ("manager", manager)) if found is None]
            if absent:
                add(RowState.NOT_MATCHED, f"No one in the course's roster has this {' or '.join(absent)} "
                                          "id, login or e-mail.")
                continue
            assert isinstance(learner, Person) and isinstance(manager, Person)
            try:
                check_pair(index.people, learner.id, manager.id)
            except RelationshipError as error:
                add(RowState.INVALID, error.message)
                continue
            if (learner.id, manager.id) in seen:
                add(RowState.INVALID, f"Repeats line {seen[(learner.id, manager.id)]} (the same learner and "
                                      "manager).")
                continue
            seen[(learner.id, manager.id)] = line
            add(RowState.MATCHED, f"{learner.name}: {RELATION_LABELS[relation].lower()} {manager.name}",
                learner=learner.name, manager=manager.name)
            planned.append((learner, manager, relation))
            if report.groups is not None:
                report.groups.setdefault(learner.id, set()).update(groups)
    except csv.Error as error:
        why = "a quoted cell is never closed" if "unexpected end of data" in str(error) else str(error)
        report.file_problem = f"Line {reader.line_num}: the file is not valid CSV ({why}); nothing was " \
                              "imported."
        return report, []
    if not report.rows:
        report.file_problem = "The file has a header row but no links under it."
    return report, planned


def import_links(session: Session, actor: Actor | None, context_id: int, data: bytes, *,
                 dry_run: bool = False) -> ImportReport:
    """Check every row; store the links only when every row matched (the caller's transaction commits),
    and never in a ``dry_run``."""
    try:
        text = decode(data)
    except ValueError as error:
        return ImportReport(file_problem=str(error))
    report, planned = check_rows(session, context_id, text)
    if not report.ok or dry_run:
        return report
    for learner, manager, relation in planned:
        _row, changed = link(session, actor, context_id, learner, manager, relation, ManagerLinkSource.ROSTER)
        report.changed += changed
    if report.groups is not None:
        report.changed += replace_groups(session, context_id, GroupSource.ROSTER_CSV, report.groups,
                                         only_people=report.groups)
    report.stored = True
    return report


def export_links(session: Session, context_id: int) -> str:
    """The course's links as CSV (importable again), with formula-like cells written as text."""
    buffer = io.StringIO()
    out = writer(buffer)
    out.writerow(["learner", "manager", "relation", "group", "status", "learner_name", "manager_name",
                  "since", "ended"])
    rows: list[ManagerLink] = links_of_course(session, context_id)
    groups: dict[int, list[str]] = {}
    for user_id, name in session.execute(
        select(PersonGroup.user_id, PersonGroup.name)
        .where(PersonGroup.context_id == context_id, PersonGroup.source == GroupSource.ROSTER_CSV)
        .order_by(PersonGroup.name)
    ):
        groups.setdefault(user_id, []).append(name)
    for row in rows:
        out.writerow([row.learner.sub, row.manager.sub, row.relation.value,
                      f"{GROUP_SEPARATOR} ".join(groups.get(row.learner_id, [])), STATUS_LABELS[row.status],
                      row.learner.display_name, row.manager.display_name,
                      f"{row.created_at:%Y-%m-%d}", f"{row.ended_at:%Y-%m-%d}" if row.ended_at else ""])
    return buffer.getvalue()
