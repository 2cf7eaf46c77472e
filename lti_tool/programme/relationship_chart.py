"""The relationship map's pictures, as geometry for the SVG macros of ``programme/_relationship_parts.html``,
drawn the way ``lti_tool.tracking.charts`` draws the dashboards' (a ``<title>`` and a ``<desc>``, text
labels, not colour alone, a 700-unit ``viewBox``, the table with the same data beside it):

* :func:`network_picture`: the learner in the middle, each relationship a mark in its type's sector,
  nearer the middle the stronger it is (and with a thicker line); strategic ones are circles, operational
  ones squares, and every sector is labelled with its type and count;
* :func:`history_chart`: strategic and operational relationships week by week
  (``tracking.charts.line_chart`` on counts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from lti_tool.programme.relationship_map import STRATEGIC, TYPE_LABELS, Week, category
from lti_tool.programme.relationship_models import MappedRelationship
from lti_tool.states import RelationshipType
from lti_tool.tracking import charts

WIDTH = 700
HEIGHT = 490
CENTRE_X = WIDTH / 2
CENTRE_Y = 235
RADIUS_BY_STRENGTH = {5: 60.0, 4: 92.0, 3: 124.0, 2: 156.0, 1: 185.0}
LABEL_RADIUS = 210.0
MAX_NAME = 16
CHAR_WIDTH = 7.4
"""About the width of a bold 12 px character: a sector label is kept inside the picture with it."""
OPERATIONAL_COLOUR = "#4d4d4d"
"""Grey (8.6:1 on white) for operational relationships; each strategic type has a colour of its own."""


@dataclass(frozen=True)
class Node:
    label: str
    """Its full text (name, type, strength), for the mark's own ``<title>``."""
    short_label: str
    x: float
    y: float
    colour: str
    strategic: bool
    line_width: float
    label_y: float


@dataclass(frozen=True)
class SectorLabel:
    text: str
    x: float
    y: float
    anchor: str
    colour: str


@dataclass(frozen=True)
class Picture:
    id: str
    title: str
    description: str
    nodes: tuple[Node, ...]
    sectors: tuple[SectorLabel, ...]
    rings: tuple[tuple[int, float], ...]
    width: int = WIDTH
    height: int = HEIGHT
    centre_x: float = CENTRE_X
    centre_y: float = CENTRE_Y

    @property
    def empty(self) -> bool:
        return not self.nodes


def colour_of(relation_type: RelationshipType) -> str:
    if relation_type is RelationshipType.OPERATIONAL:
        return OPERATIONAL_COLOUR
    strategic = [kind for kind in RelationshipType if kind is not RelationshipType.OPERATIONAL]
    return charts.PALETTE[strategic.index(relation_type) % len(charts.PALETTE)]


def _label_x(x: float, anchor: str, text: str) -> float:
    """``x`` moved inwards as far as the label needs to stay inside the picture."""
    width = CHAR_WIDTH * len(text)
    if anchor == "end":
        return max(x, width + 6)
    if anchor == "start":
        return min(x, WIDTH - width - 6)
    return min(max(x, width / 2 + 6), WIDTH - width / 2 - 6)


def _description(relationships: Sequence[MappedRelationship]) -> str:
    if not relationships:
        return "No relationships on the map yet."
    strategic = sum(1 for row in relationships if row.relation_type in STRATEGIC)
    counts = [f"{TYPE_LABELS[kind]} {sum(1 for row in relationships if row.relation_type is kind)}"
              for kind in RelationshipType if any(row.relation_type is kind for row in relationships)]
    return (f"{len(relationships)} relationships: {strategic} strategic, {len(relationships) - strategic} "
            f"operational. By type: {', '.join(counts)}. Nearer the centre is stronger; the table below "
            "lists every relationship.")


def network_picture(picture_id: str, title: str, relationships: Sequence[MappedRelationship]) -> Picture:
    present = [kind for kind in RelationshipType if any(row.relation_type is kind for row in relationships)]
    nodes: list[Node] = []
    sectors: list[SectorLabel] = []
    span = 2 * math.pi / max(1, len(present))
    for number, kind in enumerate(present):
        start = -math.pi / 2 + number * span
        members = [row for row in relationships if row.relation_type is kind]
        mid = start + span / 2
        anchor = "middle" if abs(math.cos(mid)) < 0.3 else ("start" if math.cos(mid) > 0 else "end")
        text = f"{TYPE_LABELS[kind]} ({len(members)})"
        sectors.append(SectorLabel(text, _label_x(CENTRE_X + LABEL_RADIUS * math.cos(mid), anchor, text),
                                   CENTRE_Y + LABEL_RADIUS * math.sin(mid) + 4, anchor, colour_of(kind)))
        for index, row in enumerate(members):
            angle = start + span * (index + 1) / (len(members) + 1)
            radius = RADIUS_BY_STRENGTH[row.strength]
            x, y = CENTRE_X + radius * math.cos(angle), CENTRE_Y + radius * math.sin(angle)
            nodes.append(Node(
                f"{row.name} – {TYPE_LABELS[kind]}, {category(kind)}, strength {row.strength} of 5",
                charts.short(row.name, MAX_NAME), x, y, colour_of(kind), kind in STRATEGIC,
                0.6 + 0.5 * row.strength, y + 20 if index % 2 == 0 else y - 14))
    rings = tuple(sorted(RADIUS_BY_STRENGTH.items()))
    return Picture(picture_id, title, _description(relationships), tuple(nodes), tuple(sectors), rings)


def history_chart(chart_id: str, title: str, weeks: Sequence[Week]) -> charts.Chart:
    """Strategic and operational relationships on the map at the end of each week."""
    highest = max([4, *(max(week.strategic, week.operational) for week in weeks)])
    maximum = Decimal(-(-highest // 4) * 4)
    labels = [week.day.strftime("%d %b") for week in weeks]
    if weeks:
        first, last = weeks[0], weeks[-1]
        description = (f"Week by week from {first.day.isoformat()} to {last.day.isoformat()}: strategic "
                       f"relationships went from {first.strategic} to {last.strategic}, operational ones "
                       f"from {first.operational} to {last.operational}. The table below has every week by "
                       "type.")
    else:
        description = "No history yet."
    return charts.line_chart(
        chart_id, title, description, labels,
        [("Strategic", [Decimal(week.strategic) for week in weeks]),
         ("Operational", [Decimal(week.operational) for week in weeks])],
        unit="", maximum=maximum)
