"""The launch benchmark's browser: keep-alive connections and a cookie jar, nothing more.

A bare GET of a Flask app under gunicorn takes about a millisecond in the server; httpx with a browser-like
cookie policy (:func:`tests.fixtures.platform.browser_client`) adds more than that again on the client
side, which would make every launch look cheap next to its bare GET. ``http.client`` over one kept-alive
connection per server costs a tenth of it. Every server is on 127.0.0.1 and cookies ignore ports, so one
jar of name → value serves them all, as a browser's would; a ``Set-Cookie`` that expires deletes.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode, urljoin, urlsplit

from lti_tool.db import utcnow


@dataclass(frozen=True)
class Answer:
    url: str
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def is_redirect(self) -> bool:
        return self.status in {301, 302, 303, 307, 308}

    @property
    def location(self) -> str:
        return urljoin(self.url, self.headers["location"])


class Browser:
    def __init__(self, timeout: float = 15.0) -> None:
        self.cookies: dict[str, str] = {}
        self._timeout = timeout
        self._connections: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def post(self, url: str, form: dict[str, str]) -> Answer:
        return self.request("POST", url, form)

    def post_json(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        """A script's ``fetch``: a JSON body with the script's own headers (launch, CSRF token)."""
        return self.request("POST", url, body=body,
                            headers={"Content-Type": "application/json", "Accept": "application/json",
                                     **headers})

    def request(self, method: str, url: str, form: dict[str, str] | None = None, *,
                body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the benchmark browser speaks plain http to loopback only, not {url!r}")
        headers = {"Accept": "text/html", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        address = (parts.hostname, parts.port or 80)
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile is opened again once
            connection = self._connection(address)
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read().decode("utf-8", errors="replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                del self._connections[address]
                if attempt == 2:
                    raise
        self._keep_cookies(response.msg)
        return Answer(url=url, status=response.status, headers=response.msg, text=text)

    def _connection(self, address: tuple[str, int]) -> http.client.HTTPConnection:
        if address not in self._connections:
            self._connections[address] = http.client.HTTPConnection(*address, timeout=self._timeout)
        return self._connections[address]

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        # By hand: http.cookies gives up on a whole header at an attribute it does not know (Partitioned).
        for header in headers.get_all("Set-Cookie") or []:
            pair, *attributes = header.split(";")
            name, _, value = pair.strip().partition("=")
            settings = {key.strip().lower(): raw.strip()
                        for key, _, raw in (attribute.partition("=") for attribute in attributes)}
            expires = settings.get("expires")
            if settings.get("max-age") == "0" or (expires and parsedate_to_datetime(expires) <= utcnow()):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()
