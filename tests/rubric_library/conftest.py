"""People launching into the rubric library from a real platform, and a reader for its pages and forms.

``designer``, ``admin``, ``manager`` and ``learner`` each launch from the demo course over HTTP
(``launch_as``); ``other_designer`` launches as a designer of another course on the same platform. Each
gives a :class:`Visitor` whose ``get``/``post`` carry the launch token and CSRF token of its own launch,
as Cadre's pages do, with cookies dropped: the library must work without them.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.fixtures.live_server import LiveServer
from tests.fixtures.platform import LaunchResult

OTHER_COURSE = {"id": "course-ops-202", "label": "OPS-202", "title": "Running Service Operations"}


# -- reading pages ------------------------------------------------------------------------------------------


@dataclass
class FormValues:
    """A form as a browser would submit it: what is typed, ticked and selected."""

    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    testid: str | None = None
    enctype: str = ""


class _PageParser(HTMLParser):
    VOID = frozenset({"input", "img", "br", "meta", "link", "hr", "source", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[FormValues] = []
        self.texts: dict[str, list[str]] = {}
        self.attributes: dict[str, list[dict[str, str]]] = {}
        self.links: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        testid = attributes.get("data-testid")
        if testid:
            self.attributes.setdefault(testid, []).append(attributes)
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        if tag not in self.VOID:
            self._open.append((tag, testid))
            if testid:
                self.texts.setdefault(testid, []).append("")
        if tag == "form":
            self.forms.append(
                FormValues(
                    action=attributes.get("action", ""),
                    method=attributes.get("method", "get").lower(),
                    testid=testid,
                    enctype=attributes.get("enctype", ""),
                )
            )
        if not self.forms:
            return
        form = self.forms[-1]
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    form.fields[name] = attributes.get("value", "on")
            elif kind not in {"submit", "button", "file"}:
                form.fields[name] = attributes.get("value", "")
        elif tag == "button" and name:
            form.buttons.append((name, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = name
            form.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            chosen = "selected" in attributes or self._select not in form.fields
            form.fields[self._select] = attributes.get("value", "") if chosen else form.fields[self._select]

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        if tag == "select":
            self._select = None
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data
        for _, testid in self._open:
            if testid:
                self.texts[testid][-1] += data


@dataclass
class Page:
    response: httpx.Response
    parsed: _PageParser

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        """The page as a reader sees it: entities decoded, whitespace collapsed."""
        return " ".join(html.unescape(self.response.text).split())

    def texts(self, testid: str) -> list[str]:
        return [" ".join(text.split()) for text in self.parsed.texts.get(testid, [])]

    def attributes(self, testid: str) -> list[dict[str, str]]:
        return self.parsed.attributes.get(testid, [])

    def form(self, testid: str) -> FormValues:
        for form in self.parsed.forms:
            if form.testid == testid:
                return form
        raise AssertionError(
            f"no form {testid!r} on {self.response.url} ({self.status}):\n{self.text[:2000]}"
        )

    def link(self, testid: str) -> str:
        found = self.attributes(testid)
        assert found, f"no link {testid!r} on {self.response.url}:\n{self.text[:2000]}"
        return found[0]["href"]


def read_page(response: httpx.Response) -> Page:
    parser = _PageParser()
    parser.feed(response.text)
    return Page(response, parser)


# -- people -------------------------------------------------------------------------------------------------


@dataclass
class Visitor:
    """Someone who launched Cadre; requests carry their launch token and CSRF token, never a cookie."""

    role: str
    client: httpx.Client
    launch_token: str
    csrf_token: str
    home: Page

    def _url(self, path: str, with_token: bool) -> str:
        if not with_token:
            return path
        parts = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query.setdefault("lt", self.launch_token)
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def get(self, path: str, *, with_token: bool = True) -> Page:
        self.client.cookies.clear()
        return read_page(self.client.get(self._url(path, with_token)))

    def post(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        *,
        csrf: str | None = None,
        files: Mapping[str, Any] | None = None,
        with_token: bool = True,
        follow: bool = True,
    ) -> Page:
        """POST like a Cadre form: ``lt`` and ``csrf_token`` fields (``csrf=""`` leaves the token out)."""
        body = dict(data or {})
        if with_token:
            body.setdefault("lt", self.launch_token)
        token = self.csrf_token if csrf is None else csrf
        if token:
            body.setdefault("csrf_token", token)
        self.client.cookies.clear()
        response = self.client.post(path, data=body, files=files, follow_redirects=follow)
        return read_page(response)

    def submit(
        self,
        page: Page,
        testid: str,
        changes: Mapping[str, str] | None = None,
        *,
        button: tuple[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
    ) -> Page:
        """Submit a form of ``page`` as it stands, with ``changes`` typed in, by clicking ``button``."""
        form = page.form(testid)
        data = {**form.fields, **(changes or {})}
        if button is not None:
            data[button[0]] = button[1]
        action = urllib.parse.urljoin(str(page.response.url), form.action or str(page.response.url))
        self.client.cookies.clear()
        if form.method == "get":
            return read_page(self.client.get(action, params=data, follow_redirects=True))
        return read_page(self.client.post(action, data=data, files=files, follow_redirects=True))


def visitor_from(result: LaunchResult, role: str) -> Visitor:
    assert result.status == 200, f"{role} launch failed ({result.status}): {result.text[:1500]}"
    page = read_page(result.response)
    launch_token = re.search(r'name="cadre-launch" content="([^"]+)"', result.text)
    csrf_token = re.search(r'name="csrf-token" content="([^"]+)"', result.text)
    assert launch_token and csrf_token, result.text[:1500]
    return Visitor(role, result.client, launch_token.group(1), csrf_token.group(1), page)


@pytest.fixture
def launch_visitor(launch_as: Callable[..., LaunchResult]) -> Callable[..., Visitor]:
    def launch(role: str, **options: Any) -> Visitor:
        return visitor_from(launch_as(role, **options), role)

    return launch


@pytest.fixture
def designer(launch_visitor: Callable[..., Visitor]) -> Visitor:
    return launch_visitor("designer")


@pytest.fixture
def other_designer(launch_visitor: Callable[..., Visitor]) -> Visitor:
    """A designer of another course on the same platform."""
    return launch_visitor("designer", claims={"context": OTHER_COURSE})


@pytest.fixture
def admin(launch_visitor: Callable[..., Visitor]) -> Visitor:
    return launch_visitor("admin")


@pytest.fixture
def manager(launch_visitor: Callable[..., Visitor]) -> Visitor:
    return launch_visitor("manager")


@pytest.fixture
def learner(launch_visitor: Callable[..., Visitor]) -> Visitor:
    return launch_visitor("learner")


@pytest.fixture
def db(app: Flask, live_server: LiveServer) -> Iterator[Session]:
    """A session on the test database, for looking at what the pages stored."""
    with app.extensions["cadre.sessionmaker"]() as session:
        yield session
