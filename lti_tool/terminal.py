"""What the ``cadre`` commands print for people at a terminal: aligned tables and short ages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns aligned under their headers, a rule of dashes between, no trailing spaces."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [headers, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def age(elapsed: timedelta | None) -> str:
    """``4m 05s``, ``3h 20m``, ``2d 07h``; ``-`` for nothing waiting."""
    if elapsed is None:
        return "-"
    seconds = max(0, int(elapsed.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"
