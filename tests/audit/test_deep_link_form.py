"""Audit of the deep-linking form (``/lti/deep-link``), driven from a real platform: a bad kind or title is
shown beside the form with everything typed kept, and nothing is signed or sent to the platform; people
who may not place activities, and launches that are not deep-linking launches, are refused."""

from __future__ import annotations

import re

import httpx
import pytest
from flask import Flask

from lti_tool.demo.platform import DEEP_LINKING_REQUEST
from lti_tool.lti.errors import (
    CSRF_FAILED,
    DEEP_LINK_EMPTY_TITLE,
    DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH,
    DEEP_LINK_TITLE_TOO_LONG,
    DEEP_LINK_UNKNOWN_KIND,
    NO_LAUNCH,
)
from lti_tool.lti.views import TITLE_MAX_LENGTH
from tests.audit.helpers import changed_tables, stored_rows
from tests.fixtures.platform import LaunchResult, RunningPlatform, submit_form
from tests.fixtures.visitors import read_page

ROLE_REFUSAL = (
    "This page is for a designer or an administrator; you are signed in to Cadre as {role} in this course."
)


def tokens_of(page_html: str) -> tuple[str, str]:
    """The launch token and CSRF token a Cadre page carries in its head."""
    launch = re.search(r'name="cadre-launch" content="([^"]+)"', page_html)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page_html)
    assert launch and csrf, page_html[:1500]
    return launch.group(1), csrf.group(1)


def post_deep_link(client: httpx.Client, launch_token: str, csrf: str, **fields: str) -> httpx.Response:
    return client.post("/lti/deep-link", data={"lt": launch_token, "csrf_token": csrf, **fields})


@pytest.fixture
def deep_linking(platform: RunningPlatform) -> LaunchResult:
    """A designer on Cadre's "add an activity" page, opened by the platform's deep-linking button."""
    result = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    assert result.status == 200, result.text[:2000]
    assert read_page(result.response).form("deep-link-form")
    return result


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kind": "karaoke", "title": "Feedback round"}, DEEP_LINK_UNKNOWN_KIND),
        ({"kind": "", "title": "Feedback round"}, DEEP_LINK_UNKNOWN_KIND),
        ({"title": "Feedback round"}, DEEP_LINK_UNKNOWN_KIND),
        ({"kind": "self_assessment", "title": ""}, DEEP_LINK_EMPTY_TITLE),
        ({"kind": "self_assessment", "title": " \t "}, DEEP_LINK_EMPTY_TITLE),
        ({"kind": "self_assessment"}, DEEP_LINK_EMPTY_TITLE),
        (
            {"kind": "self_assessment", "title": "t" * (TITLE_MAX_LENGTH + 1)},
            DEEP_LINK_TITLE_TOO_LONG.format(max_length=TITLE_MAX_LENGTH),
        ),
        (
            {"kind": "self_assessment", "title": "t" * 100_000},
            DEEP_LINK_TITLE_TOO_LONG.format(max_length=TITLE_MAX_LENGTH),
        ),
    ],
    ids=["unknown-kind", "empty-kind", "no-kind", "empty-title", "blank-title", "no-title",
         "title-one-too-long", "title-huge"],
)
def test_a_bad_kind_or_title_is_shown_on_the_form_and_nothing_reaches_the_platform(
    fields: dict[str, str], problem: str, deep_linking: LaunchResult, platform: RunningPlatform, app: Flask
) -> None:
    launch_token, csrf = tokens_of(deep_linking.text)
    before = stored_rows(app)
    refused = post_deep_link(deep_linking.client, launch_token, csrf, **fields)
    assert refused.status_code == 400
    page = read_page(refused)
    assert page.texts("form-problem") == [problem]
    assert 'name="JWT"' not in refused.text
    form = page.form("deep-link-form")
    if fields.get("title", "").strip():
        assert form.fields["title"] == fields["title"].strip()  # what was typed is kept
    assert platform.deep_link_returns == []
    assert changed_tables(before, stored_rows(app)) == []


def test_a_title_of_exactly_the_limit_is_accepted(deep_linking: LaunchResult) -> None:
    launch_token, csrf = tokens_of(deep_linking.text)
    accepted = post_deep_link(
        deep_linking.client, launch_token, csrf, kind="self_assessment", title="t" * TITLE_MAX_LENGTH
    )
    assert accepted.status_code == 200
    assert 'name="JWT"' in accepted.text


def test_the_deep_link_form_refuses_the_csrf_token_of_another_launch(
    deep_linking: LaunchResult, platform: RunningPlatform, app: Flask
) -> None:
    launch_token, _ = tokens_of(deep_linking.text)
    other = platform.launch_as("designer", message_type=DEEP_LINKING_REQUEST)
    _, other_csrf = tokens_of(other.text)
    before = stored_rows(app)
    for csrf in ("", other_csrf, "é" * 64):
        refused = post_deep_link(deep_linking.client, launch_token, csrf, kind="self_assessment", title="x")
        assert refused.status_code == 400
        assert read_page(refused).texts("error-message") == [CSRF_FAILED]
        assert 'name="JWT"' not in refused.text
    assert platform.deep_link_returns == []
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize(("role", "article"), [("learner", "a learner"), ("manager", "a manager")])
def test_learners_and_managers_may_not_place_activities_even_from_a_deep_linking_launch(
    role: str, article: str, platform: RunningPlatform, app: Flask
) -> None:
    result = platform.launch_as(role, message_type=DEEP_LINKING_REQUEST)
    assert result.status == 403
    assert read_page(result.response).texts("error-message") == [ROLE_REFUSAL.format(role=article)]
    launch_token, csrf = tokens_of(result.text)
    before = stored_rows(app)
    refused = post_deep_link(result.client, launch_token, csrf, kind="self_assessment", title="Mine")
    assert refused.status_code == 403
    assert read_page(refused).texts("error-message") == [ROLE_REFUSAL.format(role=article)]
    assert 'name="JWT"' not in refused.text
    assert platform.deep_link_returns == []
    assert changed_tables(before, stored_rows(app)) == []


def test_a_resource_link_launch_cannot_post_the_deep_link_form(platform: RunningPlatform, app: Flask) -> None:
    result = platform.launch_as("designer")
    assert result.status == 200
    launch_token, csrf = tokens_of(result.text)
    before = stored_rows(app)
    page = result.client.get("/lti/deep-link", headers={"X-Cadre-Launch": launch_token})
    assert page.status_code == 400
    assert read_page(page).texts("error-message") == [DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH]
    refused = post_deep_link(result.client, launch_token, csrf, kind="self_assessment", title="Sneaky")
    assert refused.status_code == 400
    assert read_page(refused).texts("error-message") == [DEEP_LINK_NEEDS_DEEP_LINKING_LAUNCH]
    assert 'name="JWT"' not in refused.text
    assert changed_tables(before, stored_rows(app)) == []


def test_the_deep_link_page_without_a_launch_says_how_to_open_cadre(
    deep_linking: LaunchResult, app: Flask
) -> None:
    cookieless = httpx.Client(base_url=str(deep_linking.client.base_url))
    with cookieless:
        page = cookieless.get("/lti/deep-link")
        assert page.status_code == 401
        assert read_page(page).texts("error-message") == [NO_LAUNCH]
        before = stored_rows(app)
        refused = cookieless.post("/lti/deep-link", data={"kind": "self_assessment", "title": "x"})
        assert refused.status_code == 401  # no launch at all: the session, not the form, is missing
        assert read_page(refused).texts("error-message") == [NO_LAUNCH]
        assert changed_tables(before, stored_rows(app)) == []


def test_submitting_the_form_as_rendered_places_the_suggested_kind(deep_linking: LaunchResult) -> None:
    """The control for the refusals above: the same client and tokens do get a signed response."""
    returned = submit_form(deep_linking.client, deep_linking.response, {"title": "Feedback round"},
                           form="deep-link-form")
    assert returned.status_code == 200
    assert 'name="JWT"' in returned.text
