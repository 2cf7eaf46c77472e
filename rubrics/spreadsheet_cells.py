"""CSV cells a spreadsheet would run as formulas are written as text, and read back exactly.

A cell starting with ``=``, ``+``, ``-``, ``@`` (and, for older spreadsheets' DDE, ``|`` and ``%``) is a
formula to Excel, LibreOffice and Google Sheets: a rubric title ``=HYPERLINK(...)`` typed by one designer
would run on the machine of the next one who opens the export (OWASP "CSV injection"). On export,
:func:`writer` escapes such cells the way OWASP advises, with the `defusedcsv` library: a leading
apostrophe, which spreadsheets read as "this is text", and every ``|`` as ``\\|``. The rule, exactly:

* defusedcsv escapes a cell starting with ``= + - @ | %`` unless the whole cell is a plain number
  (``-?[0-9,.]+``), so a number stays a number in the spreadsheet (Cadre writes no negative numbers:
  points and weights are 0 or more, but the rule is defusedcsv's and we keep it);
* Cadre adds the same apostrophe to a cell starting with a tab or a carriage return (OWASP lists them;
  defusedcsv does not), and to a cell that already starts with an apostrophe, so that reading can tell
  an escaped cell from one that was typed with an apostrophe.

:func:`restore` undoes exactly that on import: a cell starting with an apostrophe loses it (and, when
defusedcsv escaped it, ``\\|`` goes back to ``|``). Every text survives export then import unchanged.
A hand-made file whose cell starts with an apostrophe is read the way a spreadsheet shows it: without.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from defusedcsv import csv as defused_csv

APOSTROPHE = "'"
DEFUSEDCSV_TRIGGERS = ("=", "+", "-", "@", "|", "%")
"""The first characters defusedcsv escapes (see ``defusedcsv.csv._escape``)."""
CADRE_TRIGGERS = ("\t", "\r", APOSTROPHE)


class _Writer(Protocol):
    def writerow(self, row: Iterable[str]) -> object: ...


class SafeWriter:
    """A ``csv.writer`` whose cells cannot start a formula (see the module's rule)."""

    def __init__(self, buffer: object, **options: str) -> None:
        self._writer: _Writer = defused_csv.writer(buffer, **options)

    def writerow(self, row: Iterable[str]) -> None:
        self._writer.writerow(
            [APOSTROPHE + cell if cell.startswith(CADRE_TRIGGERS) else cell for cell in row]
        )


def writer(buffer: object, **options: str) -> SafeWriter:
    """A CSV writer (RFC 4180, CRLF line ends unless ``options`` say otherwise, e.g. ``lineterminator``)
    for ``buffer`` that writes formula-like cells as text. Every CSV Cadre writes goes through it."""
    return SafeWriter(buffer, **options)


def restore(cell: str) -> str:
    """The cell as it was before :class:`SafeWriter` wrote it."""
    if not cell.startswith(APOSTROPHE):
        return cell
    text = cell[1:]
    # A cell that started with "|" starts with "\|" once defusedcsv has escaped it.
    if text.startswith((*DEFUSEDCSV_TRIGGERS, "\\|")):
        return text.replace("\\|", "|")
    return text
