"""``cadre platform …``, ``cadre keys …`` and ``cadre serve``."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
