"""Markdown that designers write (activity instructions, manager briefings), rendered safely.

CommonMark with raw HTML turned off, so whatever is typed is escaped; markdown-it's link validation drops
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` links. Links open outside the LMS frame, without
telling the target where the reader came from.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_MARKDOWN_LENGTH = 20_000


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

    def link_open(renderer: Any, tokens: list[Any], index: int, options: Any, env: Any) -> str:
        tokens[index].attrSet("target", "_blank")
        tokens[index].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, index, options, env)

    parser.add_render_rule("link_open", link_open)
    return parser


RENDERED_KEPT = 512
"""Texts whose HTML each process keeps: a briefing or instructions are rendered on every visit of their
activity's pages, and the HTML is a pure function of the text (at most 512 x 20,000 characters)."""


@lru_cache(maxsize=RENDERED_KEPT)
def _rendered(text: str) -> str:
    return _parser().render(text)


def render_markdown(text: str | None) -> Markup:
    """``text`` as HTML that is safe to put in a page (empty for no text)."""
    if not text:
        return Markup("")
    return Markup(_rendered(text))  # noqa: S704 - markdown-it escapes all input (html=False)
