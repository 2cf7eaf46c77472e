"""Markdown that designers write (briefings, instructions): escaped, links made safe, and rendered once per
text per process (the same text always gives the same HTML)."""

from __future__ import annotations

from markupsafe import Markup

from lti_tool.web import markdown
from lti_tool.web.markdown import render_markdown


def test_raw_html_is_escaped_and_dangerous_links_dropped() -> None:
    html = render_markdown('<script>alert(1)</script> [x](javascript:alert(1)) [d](data:text/html,hi)')
    assert isinstance(html, Markup)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript:' not in html and 'href="data:' not in html


def test_links_open_outside_the_frame_without_a_referrer() -> None:
    html = render_markdown("See [the guide](https://example.com/guide).")
    link = '<a href="https://example.com/guide" target="_blank" rel="noopener noreferrer">the guide</a>'
    assert link in html


def test_no_text_is_no_html() -> None:
    assert render_markdown(None) == Markup("") == render_markdown("")


def test_each_text_is_rendered_once_and_others_are_not_confused_with_it() -> None:
    markdown._rendered.cache_clear()
    first = render_markdown("Look for **empathy**.")
    again = render_markdown("Look for **empathy**.")
    other = render_markdown("Look for *empathy*.")
    assert first == again == Markup("<p>Look for <strong>empathy</strong>.</p>\n")
    assert other == Markup("<p>Look for <em>empathy</em>.</p>\n")
    info = markdown._rendered.cache_info()
    assert (info.hits, info.misses) == (1, 2)
    assert info.maxsize == markdown.RENDERED_KEPT
