"""What the end-to-end tests look at: Cadre's rejection pages, its landing page, and what it stored."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import httpx
from flask import Flask
from sqlalchemy import func, select

from lti_tool.lti.errors import REJECTIONS, rejection_message
from lti_tool.models import Launch, ManagerLink, Membership, User
from tests.fixtures.html_pages import HtmlPage


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


def texts_by_testid(page: str) -> dict[str, str]:
    """Text of each element with a ``data-testid`` (the first one of each id), whitespace collapsed."""
    return HtmlPage(page).first_texts()


def all_texts_by_testid(page: str, testid: str) -> list[str]:
    """Text of every element with this ``data-testid``, whitespace collapsed."""
    return HtmlPage(page).texts(testid)


def attributes_by_testid(page: str) -> dict[str, dict[str, str]]:
    """Attributes of the first element with each ``data-testid``."""
    return HtmlPage(page).first_attributes()
