"""The outbound policy against a real HTTP server on 127.0.0.1 that stalls, trickles, floods, redirects and
says "try later": every limit holds, and only idempotent calls are retried."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from flask import Flask, Response, redirect, request

from egress import (
    AddressRefused,
    OutboundClient,
    OutboundPolicy,
    OutboundTimeout,
    OutboundUnreachable,
    RedirectRefused,
    ResponseTooLarge,
    shown_url,
)
from egress.policy import parse_retry_after
from tests.fixtures.live_server import free_port, serve_in_thread

SECRET = "SECRET-TOKEN-IN-QUERY"
CHUNK = b"x" * 65536


@dataclass
class Remote:
    """The server, and what it saw."""

    url: str
    hits: Counter[str] = field(default_factory=Counter)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    bytes_sent: dict[str, int] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)

    def reset(self) -> None:
        self.hits.clear()
        self.headers.clear()
        self.bytes_sent.clear()


@pytest.fixture(scope="module")
def remote_server() -> Iterator[Remote]:
    port = free_port()
    remote = Remote(f"http://127.0.0.1:{port}")
    app = Flask("misbehaving_remote")

    @app.before_request
    def count() -> None:
        remote.hits[f"{request.method} {request.path}"] += 1
        remote.headers[request.path] = dict(request.headers)

    @app.route("/ok", methods=["GET", "POST", "PUT"])
    def ok() -> Response:
        return Response('{"ok": true}', mimetype="application/json")

    @app.get("/stall")
    def stall() -> str:
        remote.release.wait(10)  # far beyond the client's read timeout; released at teardown
        return "late"

    @app.get("/trickle")
    def trickle() -> Response:
        def drip() -> Iterator[bytes]:
            for _ in range(200):  # 40 s in all, never silent for longer than 0.2 s
                yield b" "
                if remote.release.wait(0.2):
                    return

        return Response(drip(), mimetype="text/plain")

    @app.get("/flood")
    def flood() -> Response:
        def chunks() -> Iterator[bytes]:
            remote.bytes_sent["/flood"] = 0
            for _ in range(1024):  # 64 MiB if nobody stops reading
                remote.bytes_sent["/flood"] += len(CHUNK)
                yield CHUNK

        return Response(chunks(), mimetype="application/octet-stream")

    @app.get("/declares-too-much")
    def declares_too_much() -> Response:
        return Response(b"{}", headers={"Content-Length": "2"}, mimetype="application/json")

    @app.get("/redirect")
    def moved() -> Response:
        return redirect("/ok")  # type: ignore[return-value]

    @app.get("/to-file")
    def to_file() -> Response:
        return redirect("file:///etc/passwd")  # type: ignore[return-value]

    @app.get("/to-other-origin")
    def to_other_origin() -> Response:
        return redirect(f"http://localhost:{port}/ok")  # type: ignore[return-value]

    @app.route("/busy-then-ok", methods=["GET", "POST"])
    def busy_then_ok() -> Response:
        if remote.hits[f"{request.method} /busy-then-ok"] <= 2:
            return Response("busy", status=503, headers={"Retry-After": "1"})
        return Response('{"ok": true}', mimetype="application/json")

    @app.get("/throttled-for-an-hour")
    def throttled() -> Response:
        return Response("slow down", status=429, headers={"Retry-After": "3600"})

    @app.route("/gateway-down", methods=["GET", "POST", "DELETE"])
    def gateway_down() -> Response:
        return Response("bad gateway", status=502)

    @app.get("/broken")
    def broken() -> Response:
        return Response("bug", status=500)

    server = serve_in_thread(app, port)
    yield remote
    remote.release.set()
    server.shutdown()


@pytest.fixture
def remote(remote_server: Remote) -> Remote:
    remote_server.reset()
    return remote_server


class Sleeps(list[float]):
    """Stands in for time.sleep: records the delays the client would have waited."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sleeps: Sleeps | None = None, **policy: object) -> OutboundClient:
    settings = {"connect_timeout": 2.0, "read_timeout": 0.5, "total_timeout": 5.0, **policy}
    return OutboundClient(OutboundPolicy(**settings), sleep=sleeps if sleeps is not None else Sleeps(),  # type: ignore[arg-type]
                          random=lambda: 1.0)


# -- timeouts and sizes -----------------------------------------------------------------------------------


def test_a_stalled_server_times_out_at_the_read_timeout(remote: Remote) -> None:
    started = time.monotonic()
    with pytest.raises(OutboundTimeout) as timeout:
        client(max_attempts=1).get(f"{remote.url}/stall?access_token={SECRET}")
    assert time.monotonic() - started < 2.0  # the read timeout is 0.5 s; the server would wait 10 s
    assert SECRET not in str(timeout.value)
    assert str(timeout.value).startswith(f"GET {remote.url}/stall: no answer in time")


def test_a_trickling_server_is_cut_off_at_the_total_timeout(remote: Remote) -> None:
    """Never silent long enough for the read timeout, yet the attempt ends at the total timeout."""
    started = time.monotonic()
    with pytest.raises(OutboundTimeout, match="took longer than 1 s"):
        client(max_attempts=1, total_timeout=1.0).get(f"{remote.url}/trickle")
    assert 0.9 < time.monotonic() - started < 3.0


def test_an_oversized_answer_is_refused_without_reading_it_all(remote: Remote) -> None:
    with pytest.raises(ResponseTooLarge, match="larger than 256 KiB"):
        client().get(f"{remote.url}/flood", max_bytes=256 * 1024)
    time.sleep(0.2)  # let the server notice the closed connection
    assert remote.bytes_sent["/flood"] < 16 * 1024 * 1024  # of 64 MiB offered
    assert remote.hits["GET /flood"] == 1  # a refusal is not retried


def test_a_declared_oversized_answer_is_refused_before_reading(remote: Remote) -> None:
    with pytest.raises(ResponseTooLarge, match="larger than 1 bytes"):
        client().get(f"{remote.url}/declares-too-much", max_bytes=1)


# -- redirects --------------------------------------------------------------------------------------------


def test_redirects_are_not_followed_unless_asked(remote: Remote) -> None:
    answer = client().get(f"{remote.url}/redirect")
    assert answer.status_code == 302
    assert remote.hits == Counter({"GET /redirect": 1})
    followed = client().get(f"{remote.url}/redirect", follow_redirects=True)
    assert followed.json() == {"ok": True} and followed.url == f"{remote.url}/ok"


def test_a_redirect_off_http_is_refused(remote: Remote) -> None:
    with pytest.raises(RedirectRefused, match="refused URL"):
        client().get(f"{remote.url}/to-file", follow_redirects=True)


def test_credentials_do_not_follow_a_redirect_to_another_origin(remote: Remote) -> None:
    credentials = {"Authorization": "Bearer t"}
    client().get(f"{remote.url}/to-other-origin", headers=credentials, follow_redirects=True)
    assert remote.headers["/to-other-origin"]["Authorization"] == "Bearer t"
    assert "Authorization" not in remote.headers["/ok"]


def test_only_get_and_head_may_follow_redirects(remote: Remote) -> None:
    with pytest.raises(ValueError, match="GET and HEAD"):
        client().post(f"{remote.url}/redirect", follow_redirects=True)
    assert not remote.hits


# -- retries ----------------------------------------------------------------------------------------------


def test_a_get_is_retried_after_the_servers_retry_after_then_succeeds(remote: Remote) -> None:
    sleeps = Sleeps()
    answer = client(sleeps).get(f"{remote.url}/busy-then-ok")
    assert answer.status_code == 200 and answer.attempts == 3
    assert sleeps == [1.0, 1.0]  # Retry-After: 1, twice
    assert remote.hits["GET /busy-then-ok"] == 3


def test_retry_after_beyond_the_cap_ends_the_retries(remote: Remote) -> None:
    sleeps = Sleeps()
    answer = client(sleeps, retry_after_cap=30).get(f"{remote.url}/throttled-for-an-hour")
    assert answer.status_code == 429 and answer.retry_after == 3600  # for the caller to schedule
    assert sleeps == [] and remote.hits["GET /throttled-for-an-hour"] == 1


def test_a_post_is_sent_once(remote: Remote) -> None:
    sleeps = Sleeps()
    assert client(sleeps).post(f"{remote.url}/busy-then-ok", content=b"{}").status_code == 503
    assert client(sleeps).post(f"{remote.url}/gateway-down").status_code == 502
    assert remote.hits["POST /busy-then-ok"] == 1 and remote.hits["POST /gateway-down"] == 1
    assert sleeps == []


def test_a_post_marked_idempotent_is_retried(remote: Remote) -> None:
    answer = client().post(f"{remote.url}/busy-then-ok", content=b"{}", idempotent=True)
    assert answer.status_code == 200 and remote.hits["POST /busy-then-ok"] == 3


def test_backoff_grows_and_is_bounded(remote: Remote) -> None:
    sleeps = Sleeps()
    answer = client(sleeps, max_attempts=5, backoff_base=1.0, backoff_cap=3.0).delete(
        f"{remote.url}/gateway-down"
    )
    assert answer.status_code == 502 and answer.attempts == 5
    assert sleeps == [1.0, 2.0, 3.0, 3.0]  # ceilings with random() = 1: doubling, then capped
    assert remote.hits["DELETE /gateway-down"] == 5


def test_jitter_draws_below_the_ceiling() -> None:
    policy = OutboundPolicy(backoff_base=0.5, backoff_cap=8.0)
    assert policy.backoff(3, lambda: 0.25) == 0.5  # ceiling 2 s
    assert policy.backoff(10, lambda: 0.999) < 8.0


def test_an_error_status_other_than_try_later_is_not_retried(remote: Remote) -> None:
    assert client().get(f"{remote.url}/broken").status_code == 500
    assert remote.hits["GET /broken"] == 1


def test_an_unreachable_server_is_retried_for_a_get_only() -> None:
    closed = f"http://127.0.0.1:{free_port()}/x?access_token={SECRET}"
    sleeps = Sleeps()
    with pytest.raises(OutboundUnreachable) as get_failed:
        client(sleeps).get(closed)
    assert get_failed.value.attempts == 3 and len(sleeps) == 2
    with pytest.raises(OutboundUnreachable) as post_failed:
        client().post(closed)
    assert post_failed.value.attempts == 1
    assert SECRET not in str(get_failed.value) + str(post_failed.value)


def test_logs_name_the_url_without_its_query(remote: Remote, caplog: pytest.LogCaptureFixture) -> None:
    """Cadre's retry lines and httpx's own request lines (INFO) both lose the query."""
    with caplog.at_level(logging.INFO, logger="cadre.outbound"), caplog.at_level(logging.INFO, "httpx"):
        client().get(f"{remote.url}/gateway-down?access_token={SECRET}")
    ours = [r for r in caplog.records if r.name in {"cadre.outbound", "httpx"}]  # not the test server's
    retries = [r for r in ours if r.name == "cadre.outbound"]
    assert len(retries) == 2 and len(ours) == 5
    assert all(r.fields["url"] == f"{remote.url}/gateway-down" for r in retries)  # type: ignore[attr-defined]
    assert not [r for r in ours if SECRET in r.getMessage() or SECRET in str(r.__dict__)]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("0", 0.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", None), (None, None)],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


# -- identity and addresses -------------------------------------------------------------------------------


def test_every_request_says_who_sends_it(remote: Remote) -> None:
    client(user_agent="Cadre/9 (LTI tool; +https://cadre.example)").get(f"{remote.url}/ok")
    assert remote.headers["/ok"]["User-Agent"] == "Cadre/9 (LTI tool; +https://cadre.example)"


@pytest.mark.parametrize(
    "url",
    ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/", "http://0.0.0.0:80/",
     "http://[::ffff:169.254.169.254]/", "http://224.0.0.1/"],
)
def test_link_local_and_other_special_addresses_are_refused_always(url: str) -> None:
    with pytest.raises(AddressRefused, match="does not connect to this address"):
        client(max_attempts=1).get(url)


def test_private_networks_are_refused_when_so_configured(remote: Remote) -> None:
    port = remote.url.rsplit(":", 1)[1]
    strict = client(refuse_private_networks=True)
    for url in (f"{remote.url}/ok", f"http://localhost:{port}/ok"):  # an address, and a name resolving to one
        with pytest.raises(AddressRefused):
            strict.get(url)
    assert not remote.hits
    assert client().get(f"{remote.url}/ok").ok  # the default allows loopback: tests and the demo use it


def test_a_mock_transport_stands_in_for_the_network() -> None:
    mocked = OutboundClient(transport=httpx.MockTransport(lambda request: httpx.Response(204)))
    assert mocked.get("https://platform.example/anything").status_code == 204


def test_shown_url_drops_what_carries_tokens() -> None:
    assert shown_url("https://user:pw@h.example:8443/p/q?access_token=1#frag") == "https://h.example:8443/p/q"
    assert shown_url("http://[::1") == "(an invalid URL)"
