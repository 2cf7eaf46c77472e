"""Audit of the rubric library's pages and downloads (``GET /rubrics/…``): who may not see them, and
what a wrong id or version answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from lti_tool.lti.errors import NO_LAUNCH, SESSION_EXPIRED
from lti_tool.permissions import NO_COURSE_RUBRICS
from lti_tool.rubric_library import services
from tests.audit.helpers import TEMPLATE, TEMPLATE_TITLE, changed_tables, create_from_template, stored_rows
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Visitor, read_page, visitor_from

EDITORS_ONLY = (
    "This page is for a designer or an administrator; you are signed in to Cadre as {role} in this course."
)
NOT_FOUND = services.RubricNotFound.message

# Every page of the library, by the rubric it shows ({id}); the preview is for everyone with a launch.
EDITOR_PAGES = [
    "/rubrics/",
    "/rubrics/new",
    "/rubrics/import",
    f"/rubrics/templates/{TEMPLATE}",
    "/rubrics/{id}/edit",
    "/rubrics/{id}/versions",
    "/rubrics/{id}/diff",
    "/rubrics/{id}/export.csv",
    "/rubrics/{id}/export.canvas.csv",
    "/rubrics/{id}/export.case.json",
]
RUBRIC_PAGES = ["/rubrics/{id}", *[page for page in EDITOR_PAGES if "{id}" in page]]


def test_every_library_page_without_a_launch_says_how_to_open_cadre_or_that_the_session_expired(
    designer: Visitor,
) -> None:
    """Never a launch: how to open Cadre. A token that is no (longer a) launch: the session expired. A token
    in the query string is not read at all (URLs reach logs): as if there were none."""
    rubric_id, _ = create_from_template(designer)
    for page in ("/rubrics/{id}", *EDITOR_PAGES):
        path = page.format(id=rubric_id)
        for token in (None, "not-a-launch", "x" * 5000):
            designer.client.cookies.clear()
            headers = {} if token is None else {"X-Cadre-Launch": token}
            answer = read_page(designer.client.get(path, headers=headers))
            assert answer.status == 401, (path, token, answer.status)
            expected = NO_LAUNCH if token is None else SESSION_EXPIRED
            assert answer.texts("error-message") == [expected], (path, token)
        in_query = designer.get(f"{path}?lt={designer.launch_token}", with_token=False)
        assert in_query.status == 401 and in_query.texts("error-message") == [NO_LAUNCH], path


def test_managers_and_learners_see_only_the_preview(
    designer: Visitor, manager: Visitor, learner: Visitor
) -> None:
    rubric_id, _ = create_from_template(designer)
    for visitor, article in ((manager, "a manager"), (learner, "a learner")):
        assert visitor.get(f"/rubrics/{rubric_id}").status == 200
        for page in EDITOR_PAGES:
            refused = visitor.get(page.format(id=rubric_id))
            assert refused.status == 403, (visitor.role, page, refused.status)
            assert refused.texts("error-message") == [EDITORS_ONLY.format(role=article)], page


def test_another_courses_rubric_is_not_found_on_any_page(designer: Visitor, other_designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    for page in RUBRIC_PAGES:
        refused = other_designer.get(page.format(id=rubric_id))
        assert refused.status == 404, (page, refused.status)
        assert refused.texts("error-message") == [NOT_FOUND], page


def test_a_rubric_that_does_not_exist_is_not_found_on_any_page(designer: Visitor) -> None:
    for page in RUBRIC_PAGES:
        refused = designer.get(page.format(id=999_999))
        assert refused.status == 404, (page, refused.status)
        assert refused.texts("error-message") == [NOT_FOUND], page


def test_a_rubric_id_beyond_the_database_range_is_not_found_rather_than_a_server_error(
    designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    for rubric_id in (2**63, 10**20):
        for page in ("/rubrics/{id}", "/rubrics/{id}/edit", "/rubrics/{id}/export.csv"):
            answer = designer.get(page.format(id=rubric_id))
            assert answer.status == 404, (page, rubric_id, answer.status)
        refused = designer.post(f"/rubrics/{rubric_id}/archive")
        assert refused.status == 404, (rubric_id, refused.status)
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize("page", ["/rubrics/{id}", "/rubrics/{id}/export.csv",
                                  "/rubrics/{id}/export.canvas.csv", "/rubrics/{id}/export.case.json"])
def test_a_version_that_does_not_exist_is_named_in_a_404(page: str, designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    for version in ("7", "0"):
        refused = designer.get(page.format(id=rubric_id) + f"?version={version}")
        assert refused.status == 404, (version, refused.status)
        assert refused.texts("error-message") == [f"'{TEMPLATE_TITLE}' has no version {version}."]
    for version in ("latest", "-1", "1.5"):
        refused = designer.get(page.format(id=rubric_id) + f"?version={version}")
        assert refused.status == 404, (version, refused.status)
        assert refused.texts("error-message") == [f"'{version}' is not a version number."]


def test_a_diff_between_versions_that_do_not_exist_is_named_in_a_404(designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    refused = designer.get(f"/rubrics/{rubric_id}/diff?from=7&to=9")
    assert refused.status == 404
    assert refused.texts("error-message") == [f"'{TEMPLATE_TITLE}' has no version 7."]
    refused = designer.get(f"/rubrics/{rubric_id}/diff?from=one&to=1")
    assert refused.status == 404
    assert refused.texts("error-message") == ["'one' is not a version number."]


def test_an_unknown_template_preview_is_not_found(designer: Visitor) -> None:
    refused = designer.get("/rubrics/templates/karaoke")
    assert refused.status == 404
    assert refused.texts("error-message") == ["There is no rubric template 'karaoke'."]


def test_a_launch_outside_any_course_is_told_rubrics_belong_to_a_course(
    platform: RunningPlatform, app: Flask
) -> None:
    designer = visitor_from(platform.launch_as("designer", omit=["context"]), "designer")
    before = stored_rows(app)
    for page in ("/rubrics/", "/rubrics/new", "/rubrics/import"):
        refused = designer.get(page)
        assert refused.status == 400, page
        assert refused.texts("error-message") == [NO_COURSE_RUBRICS], page
    refused = designer.post("/rubrics/new", {"template": TEMPLATE})
    assert refused.status == 400
    assert refused.texts("error-message") == [NO_COURSE_RUBRICS]
    assert changed_tables(before, stored_rows(app)) == []


def test_the_edit_page_of_a_shared_rubric_tells_another_course_to_duplicate_it(
    designer: Visitor, admin: Visitor, launch_visitor: Callable[..., Visitor]
) -> None:
    rubric_id, _ = create_from_template(designer)
    assert admin.post(f"/rubrics/{rubric_id}/publish").status == 200
    other_admin = launch_visitor("admin", claims={"context": OTHER_COURSE})
    refused = other_admin.get(f"/rubrics/{rubric_id}/edit")
    assert refused.status == 403
    assert refused.texts("error-message")[0].endswith("duplicate it to change your own copy.")
