"""The launch benchmark runs end to end (two launches per tool, no figures checked: it never asserts on
time), so ``make bench`` does not rot between the times someone runs it."""

from __future__ import annotations

import re

import pytest

from tests.bench import bench_launch
from tests.bench.browser import Browser
from tests.bench.server_timing import parse_server_timing


def test_the_launch_benchmark_measures_cadre_and_the_stock_tool(capsys: pytest.CaptureFixture[str]) -> None:
    bench_launch.main(["--rounds", "1", "--launches", "2", "--warmup", "1", "--backends", "sqlite",
                       "--workers", "1"])
    output = capsys.readouterr().out
    assert re.search(r"cadre-sqlite +\d+\.\d\dx +launch +\d+\.\d\d ms over 4 requests", output), output
    assert re.search(r"stock +\d+\.\d\dx +launch +\d+\.\d\d ms over 3 requests", output), output
    # Cadre's steps say what they cost in statements; the login writes its state (no statement-free login).
    login = re.search(r"cadre-sqlite +login .* (\d+) statements \(([A-Z:0-9 ]+)\)", output)
    assert login is not None and int(login.group(1)) > 0, output
    assert re.search(r"stock +launch +round trip", output), output


def test_server_timing_is_read_back_with_statements_and_commit() -> None:
    timing = parse_server_timing('app;dur=2.500, sql;dur=0.400;desc="3 INSERT:2 SELECT:1", commit;dur=0.250')
    assert timing is not None
    assert (timing.app_ms, timing.sql_ms, timing.statements, timing.statement_kinds, timing.commit_ms) == (
        2.5, 0.4, 3, "INSERT:2 SELECT:1", 0.25)
    assert parse_server_timing("app;dur=1.000") == parse_server_timing("app;dur=1.000")
    assert parse_server_timing(None) is None


def test_the_browser_drops_a_cookie_the_server_expires() -> None:
    browser = Browser()
    message = _headers(["a=1; Path=/; Secure; HttpOnly; SameSite=None; Partitioned",
                        "b=2; Max-Age=600; Path=/"])
    browser._keep_cookies(message)
    assert browser.cookies == {"a": "1", "b": "2"}
    browser._keep_cookies(_headers(["a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"]))
    assert browser.cookies == {"b": "2"}


def _headers(set_cookies: list[str]):  # type: ignore[no-untyped-def]
    import email.parser
    import http.client

    text = "".join(f"Set-Cookie: {value}\r\n" for value in set_cookies) + "\r\n"
    return email.parser.Parser(_class=http.client.HTTPMessage).parsestr(text)
