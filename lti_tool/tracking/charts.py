"""The dashboards' charts, as geometry for small SVG templates (``templates/tracking/_charts.html``).

Why not a chart library: pygal (the well-kept choice) draws its SVG for a script of its own to make
interactive, labels values in tooltips a keyboard never reaches, and has no table beside the chart; the
four shapes the dashboards need are a few dozen lines each. Here every chart is:

* an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` saying what it shows and its extremes, the
  axes and every bar labelled in text (not only by colour; series differ by dash pattern too);
* drawn on a 700-unit ``viewBox`` that scales to the frame (an LMS iframe is about 700 px wide) and prints
  in black and white;
* shown beside the table it is drawn from (the template's), so every number is also readable as text.

A chart is drawn from the dashboard's aggregates only, after the page's permission check: it never shows
more than the tables beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 700
LABEL_WIDTH = 210
VALUE_WIDTH = 64
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 28
BOTTOM = 30
PALETTE = ("#1f5f99", "#a34700", "#2e6b30", "#6a1b9a", "#8a1c35", "#005f66")
"""Each at least 4.5:1 against white (text and marks alike)."""
LEVEL_COLOURS = ("#d6e4f0", "#8fb4d9", "#3f7fbf", "#173f66", "#0b2238", "#000000")
LEVEL_TEXT = ("#000000", "#000000", "#ffffff", "#ffffff", "#ffffff", "#ffffff")
DASHES = ("", "6 4", "2 3", "10 3 2 3")
MAX_LABEL = 34
LEGEND_LABEL = 40
LEGEND_ROW = 20


def short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _number(value: Decimal | float | int) -> str:
    text = f"{Decimal(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Bar:
    label: str
    short_label: str
    y: float
    x: float
    width: float
    value_text: str
    colour: str = PALETTE[0]


@dataclass(frozen=True)
class Segment:
    label: str
    x: float
    width: float
    colour: str
    text_colour: str
    text: str
    """Shown inside the segment when it is wide enough (the table has every figure)."""


@dataclass(frozen=True)
class StackedRow:
    label: str
    short_label: str
    y: float
    segments: tuple[Segment, ...]
    total_text: str


@dataclass(frozen=True)
class LegendEntry:
    label: str
    x: float
    colour: str
    dash: str = ""
    row: int = 0
    """A line chart's legend wraps onto rows when its entries pass the frame's width."""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    dash: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{point.x:.1f},{point.y:.1f}" for point in self.points)


@dataclass(frozen=True)
class Chart:
    """What a template draws: ``kind`` is ``bars``, ``stacked``, ``lines`` or ``diverging``."""

    id: str
    kind: str
    title: str
    description: str
    height: float
    ticks: tuple[Tick, ...] = ()
    bars: tuple[Bar, ...] = ()
    rows: tuple[StackedRow, ...] = ()
    legend: tuple[LegendEntry, ...] = ()
    series: tuple[Series, ...] = ()
    x_labels: tuple[Tick, ...] = ()
    y_ticks: tuple[Point, ...] = ()
    zero_x: float = 0.0
    plot_left: float = LABEL_WIDTH
    plot_right: float = WIDTH - VALUE_WIDTH
    plot_top: float = TOP
    plot_bottom: float = 0.0
    width: int = WIDTH

    @property
    def empty(self) -> bool:
        return not (self.bars or self.rows or any(series.points for series in self.series))


def _plot_width() -> float:
    return WIDTH - LABEL_WIDTH - VALUE_WIDTH


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    items: Sequence[tuple[str, Decimal | None]],
    *,
    unit: str = "%",
    maximum: Decimal = Decimal(100),
) -> Chart:
    """Horizontal bars from 0 to ``maximum`` (percentages by default); an item without a value gets no bar
    and says so."""
    scale = _plot_width() / float(maximum)
    bars = []
    for number, (label, value) in enumerate(items):
        y = TOP + number * ROW_HEIGHT
        width = 0.0 if value is None else max(0.0, min(float(value), float(maximum))) * scale
        bars.append(
            Bar(
                label,
                short(label),
                y,
                LABEL_WIDTH,
                width,
                "no data" if value is None else f"{_number(value)}{unit}",
            )
        )
    ticks = tuple(
        Tick(LABEL_WIDTH + _plot_width() * step / 4, f"{_number(maximum * step / 4)}{unit}")
        for step in range(5)
    )
    bottom = TOP + len(bars) * ROW_HEIGHT
    return Chart(
        chart_id,
        "bars",
        title,
        description,
        bottom + BOTTOM,
        ticks=ticks,
        bars=tuple(bars),
        plot_bottom=bottom,
    )


def stacked_chart(
    chart_id: str,
    title: str,
    description: str,
    legend_labels: Sequence[str],
    rows: Sequence[tuple[str, Sequence[int]]],
) -> Chart:
    """One bar per row split into its share of each category (levels); counts are in the table."""
    legend_top = TOP + 4
    legend = []
    x = 0.0
    for number, label in enumerate(legend_labels):
        legend.append(LegendEntry(short(label, 22), x, LEVEL_COLOURS[number % len(LEVEL_COLOURS)]))
        x += 22 + 7 * len(short(label, 22)) + 14
    first = legend_top + 22
    drawn = []
    for number, (label, counts) in enumerate(rows):
        total = sum(counts)
        y = first + number * ROW_HEIGHT
        segments, left = [], float(LABEL_WIDTH)
        for level, count in enumerate(counts):
            if not total or not count:
                continue
            width = _plot_width() * count / total
            share = Decimal(count * 100) / Decimal(total)
            text = f"{share:.0f}%" if width >= 30 else ""
            segments.append(
                Segment(
                    legend_labels[level] if level < len(legend_labels) else f"Level {level + 1}",
                    left,
                    width,
                    LEVEL_COLOURS[level % len(LEVEL_COLOURS)],
                    LEVEL_TEXT[level % len(LEVEL_TEXT)],
                    text,
                )
            )
            left += width
        drawn.append(StackedRow(label, short(label), y, tuple(segments), f"n={total}"))
    bottom = first + len(drawn) * ROW_HEIGHT
    ticks = tuple(Tick(LABEL_WIDTH + _plot_width() * step / 4, f"{25 * step}%") for step in range(5))
    return Chart(
        chart_id,
        "stacked",
        title,
        description,
        bottom + BOTTOM,
        ticks=ticks,
        rows=tuple(drawn),
        legend=tuple(legend),
        plot_top=first,
        plot_bottom=bottom,
    )


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | None]]],
    *,
    unit: str = "%",
    maximum: Decimal = Decimal(100),
) -> Chart:
    """Lines over 0..``maximum`` (100 %) across ``x_labels`` (weeks); a missing value breaks nothing, it is
    skipped. Counts pass ``unit=""`` and a ``maximum`` that divides by four, so the ticks are whole. The
    legend takes as many rows above the plot as its entries need to stay inside the frame."""
    left, right = 60.0, WIDTH - 20.0
    placed, row, position = [], 0, 0.0
    for name, _values in series:
        width = 40 + 7 * len(short(name, LEGEND_LABEL)) + 16
        if position and left + position + width > WIDTH:
            row, position = row + 1, 0.0
        placed.append((position, row))
        position += width
    top = TOP + 26.0 + LEGEND_ROW * row
    bottom = top + 220.0
    count = max(1, len(x_labels) - 1)

    def x_of(index: int) -> float:
        return left + (right - left) * (index / count if len(x_labels) > 1 else 0.5)

    def y_of(value: Decimal) -> float:
        return bottom - (bottom - top) * max(0.0, min(float(value), float(maximum))) / float(maximum)

    drawn = []
    legend = []
    for number, (name, values) in enumerate(series):
        colour, dash = PALETTE[number % len(PALETTE)], DASHES[number % len(DASHES)]
        points = tuple(
            Point(x_of(index), y_of(value), f"{x_labels[index]}: {_number(value)}{unit}")
            for index, value in enumerate(values)
            if value is not None
        )
        drawn.append(Series(name, colour, dash, points))
        x, row = placed[number]
        legend.append(LegendEntry(short(name, LEGEND_LABEL), x, colour, dash, row))
    every = max(1, -(-len(x_labels) // 8))  # at most eight labels fit at 700 px
    labels = tuple(Tick(x_of(index), label) for index, label in enumerate(x_labels) if index % every == 0)
    y_ticks = tuple(Point(left, y_of(maximum * step / 4), f"{_number(maximum * step / 4)}{unit}")
                    for step in range(5))
    return Chart(
        chart_id,
        "lines",
        title,
        description,
        bottom + BOTTOM + 10,
        series=tuple(drawn),
        legend=tuple(legend),
        x_labels=labels,
        y_ticks=y_ticks,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
    )


def diverging_chart(
    chart_id: str,
    title: str,
    description: str,
    items: Sequence[tuple[str, Decimal]],
    *,
    unit: str = " points",
) -> Chart:
    """Bars left (negative) or right (positive) of a zero line, scaled to the widest."""
    widest = max([Decimal(10), *(abs(value) for _label, value in items)])
    reach = Decimal(int((widest + 9) // 10 * 10))
    half = _plot_width() / 2
    zero = LABEL_WIDTH + half
    bars = []
    for number, (label, value) in enumerate(items):
        width = half * float(abs(value) / reach)
        x = zero if value >= 0 else zero - width
        sign = "+" if value > 0 else ""
        bars.append(
            Bar(
                label,
                short(label),
                TOP + number * ROW_HEIGHT,
                x,
                width,
                f"{sign}{_number(value)}{unit}",
                PALETTE[0] if value >= 0 else PALETTE[1],
            )
        )
    ticks = tuple(
        Tick(zero + half * step / 2, f"{'+' if step > 0 else ''}{_number(reach * step / 2)}")
        for step in (-2, -1, 0, 1, 2)
    )
    bottom = TOP + len(bars) * ROW_HEIGHT
    return Chart(
        chart_id,
        "diverging",
        title,
        description,
        bottom + BOTTOM,
        ticks=ticks,
        bars=tuple(bars),
        zero_x=zero,
        plot_bottom=bottom,
    )
