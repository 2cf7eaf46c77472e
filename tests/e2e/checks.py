"""What the end-to-end tests look at: Cadre's rejection pages, its landing page, and what it stored."""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import func, select

from lti_tool.lti.errors import REJECTIONS, rejection_message
from lti_tool.models import Launch, ManagerLink, Membership, User


@dataclass(frozen=True)
class StoredRows:
    users: int
    launches: int
    memberships: int
    manager_links: int


def stored_rows(app: Flask) -> StoredRows:
    with app.extensions["cadre.sessionmaker"]() as session:

        def count(model: type[Any]) -> int:
            return session.scalar(select(func.count()).select_from(model)) or 0

        return StoredRows(count(User), count(Launch), count(Membership), count(ManagerLink))


def page_text(response: httpx.Response) -> str:
    """The page's text with entities decoded and whitespace collapsed, as a reader sees it."""
    return " ".join(html.unescape(response.text).split())


def assert_rejected(response: httpx.Response, reason: str, **details: Any) -> None:
    """Cadre refused with the status and the exact message its error catalogue defines for ``reason``."""
    expected_status = REJECTIONS[reason].status
    expected_message = " ".join(rejection_message(reason, **details).split())
    text = page_text(response)
    assert response.status_code == expected_status, (
        f"expected {expected_status} ({reason}), got {response.status_code}: {text[:1500]}"
    )
    assert "text/html" in response.headers.get("content-type", "")
    assert expected_message in text, f"expected message {expected_message!r} in page: {text[:1500]}"


class _TestIdParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self.attributes: dict[str, dict[str, str]] = {}
        self._open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        testid = dict(attrs).get("data-testid")
        if tag in {"input", "img", "br", "meta", "link", "hr"}:
            return
        self._open.append((tag, testid))
        if testid:
            self.values.setdefault(testid, []).append("")
            self.attributes.setdefault(testid, {name: value or "" for name, value in attrs})

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            open_tag, _testid = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for _tag, testid in self._open:
            if testid:
                self.values[testid][-1] += data


def texts_by_testid(page: str) -> dict[str, str]:
    """Text of each element with a ``data-testid`` (the first one of each id), whitespace collapsed."""
    parser = _TestIdParser()
    parser.feed(page)
    return {key: " ".join(texts[0].split()) for key, texts in parser.values.items()}


def all_texts_by_testid(page: str, testid: str) -> list[str]:
    """Text of every element with this ``data-testid``, whitespace collapsed."""
    parser = _TestIdParser()
    parser.feed(page)
    return [" ".join(text.split()) for text in parser.values.get(testid, [])]


def attributes_by_testid(page: str) -> dict[str, dict[str, str]]:
    """Attributes of the first element with each ``data-testid``."""
    parser = _TestIdParser()
    parser.feed(page)
    return parser.attributes
