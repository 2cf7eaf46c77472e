"""Audit of every form of the rubric library (``POST /rubrics/…``): bad input and refused people get a
status and a message a person can act on, and nothing stored changes.

Forms: new, edit (save), new from a template, duplicate, archive, restore, publish, unpublish, import. Each is
posted with a missing and a wrong CSRF token, by roles that may not use it, from another course, for a
rubric that does not exist, and with malformed fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.lti.errors import CSRF_FAILED, NO_LAUNCH
from lti_tool.models import Rubric
from lti_tool.rubric_library import services
from tests.audit.helpers import (
    TEMPLATE,
    TEMPLATE_TITLE,
    changed_tables,
    create_from_template,
    form_without_tokens,
    stored_rows,
)
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor

EDITORS_ONLY = (
    "This page is for a designer or an administrator; you are signed in to Cadre as {role} in this course."
)
ADMINS_ONLY = "This page is for an administrator; you are signed in to Cadre as {role} in this course."
ARTICLE = {"manager": "a manager", "learner": "a learner", "designer": "a designer"}
NOT_FOUND = services.RubricNotFound.message
UNKNOWN_MODE = "rubric: scoring 'karaoke' is not one of points, weighted_percentage, levels_only"
WERKZEUG_400 = "The browser (or proxy) sent a request that this server could not understand"


@dataclass
class Library:
    """Two rubrics of the designer's course, set up so that every form would change something if accepted:
    ``live`` is published (unpublish, archive, edit and duplicate act on it), ``archived`` is archived and
    unpublished (restore and publish act on it)."""

    live: int
    archived: int
    edit_fields: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def library(designer: Visitor, admin: Visitor) -> Library:
    live, _ = create_from_template(designer)
    archived, _ = create_from_template(designer, "work-product-review")
    assert admin.post(f"/rubrics/{live}/publish").status == 200
    assert designer.post(f"/rubrics/{archived}/archive").status == 200
    edit_page = designer.get(f"/rubrics/{live}/edit")  # with the lock_version publishing left
    fields = {**form_without_tokens(edit_page), "title": "Changed by someone who may not", "action": "save"}
    return Library(live=live, archived=archived, edit_fields=fields)


def upload(name: str = "review.csv", content: bytes = b"") -> dict[str, Any]:
    return {"file": (name, content, "text/csv")}


def valid_csv() -> bytes:
    return rubrics.export_csv(rubrics.get_template("work-product-review")).encode()


@dataclass(frozen=True)
class Form:
    """One form of the library: where it posts and what a genuine submission carries."""

    name: str
    path: Callable[[Library], str]
    data: Callable[[Library], dict[str, str]] = lambda _library: {}
    with_file: bool = False

    def post(self, visitor: Visitor, library: Library, **options: Any) -> Page:
        files = upload("review.csv", valid_csv()) if self.with_file else None
        return visitor.post(self.path(library), self.data(library), files=files, **options)


NEW_RUBRIC = {
    "title": "Stakeholder map",
    "scoring_mode": "levels_only",
    "criteria-0-title": "Breadth",
    "criteria-0-levels-0-title": "Narrow",
    "criteria-0-levels-1-title": "Wide",
    "action": "save",
}

FORMS = [
    Form("new", lambda _: "/rubrics/new", lambda _: dict(NEW_RUBRIC)),
    Form("edit", lambda lib: f"/rubrics/{lib.live}/edit", lambda lib: dict(lib.edit_fields)),
    Form("from-template", lambda _: "/rubrics/new", lambda _: {**NEW_RUBRIC, "template": TEMPLATE}),
    Form("duplicate", lambda lib: f"/rubrics/{lib.live}/duplicate"),
    Form("archive", lambda lib: f"/rubrics/{lib.live}/archive"),
    Form("restore", lambda lib: f"/rubrics/{lib.archived}/restore"),
    Form("publish", lambda lib: f"/rubrics/{lib.archived}/publish"),
    Form("unpublish", lambda lib: f"/rubrics/{lib.live}/unpublish"),
    Form("import", lambda _: "/rubrics/import", with_file=True),
]
FORM_IDS = [form.name for form in FORMS]
EDITOR_FORMS = [form for form in FORMS if form.name not in {"publish", "unpublish"}]
ADMIN_FORMS = [form for form in FORMS if form.name in {"publish", "unpublish"}]


def rubric_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Rubric)) or 0


# -- the control: each form, posted genuinely by someone allowed, does change what is stored ---------------


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_each_form_posted_genuinely_by_an_administrator_changes_what_is_stored(
    form: Form, library: Library, admin: Visitor, app: Flask
) -> None:
    """Without this, "nothing stored changed" below could pass because the form never changes anything."""
    before = stored_rows(app)
    accepted = form.post(admin, library)
    assert accepted.status == 200, accepted.text[:1000]
    assert "rubrics" in changed_tables(before, stored_rows(app))


# -- CSRF ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    form: Form, library: Library, admin: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    for token in ("", "0" * 64):
        refused = form.post(admin, library, csrf=token)
        assert refused.status == 400, (token, refused.text[:1000])
        assert refused.texts("error-message") == [CSRF_FAILED]
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_a_form_posted_with_the_csrf_token_of_another_launch_is_refused(
    form: Form, library: Library, admin: Visitor, designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    refused = form.post(admin, library, csrf=designer.csrf_token)
    assert refused.status == 400
    assert refused.texts("error-message") == [CSRF_FAILED]
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_a_form_posted_without_any_launch_is_refused_and_changes_nothing(
    form: Form, library: Library, designer: Visitor, app: Flask
) -> None:
    """No launch token and no cookie: the page says how to open Cadre, whatever the form carries."""
    before = stored_rows(app)
    refused = form.post(designer, library, with_token=False)
    assert refused.status == 401
    assert refused.texts("error-message") == [NO_LAUNCH]
    assert changed_tables(before, stored_rows(app)) == []


# -- roles -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS, ids=FORM_IDS)
def test_managers_and_learners_may_not_post_any_library_form(
    form: Form, library: Library, manager: Visitor, learner: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    template = ADMINS_ONLY if form in ADMIN_FORMS else EDITORS_ONLY
    for visitor in (manager, learner):
        refused = form.post(visitor, library)
        assert refused.status == 403, (visitor.role, refused.text[:1000])
        assert refused.texts("error-message") == [template.format(role=ARTICLE[visitor.role])]
    assert changed_tables(before, stored_rows(app)) == []


@pytest.mark.parametrize("form", ADMIN_FORMS, ids=[form.name for form in ADMIN_FORMS])
def test_designers_may_not_publish_or_unpublish(
    form: Form, library: Library, designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    refused = form.post(designer, library)
    assert refused.status == 403
    assert refused.texts("error-message") == [ADMINS_ONLY.format(role="a designer")]
    assert changed_tables(before, stored_rows(app)) == []


# -- other courses and unknown rubrics ----------------------------------------------------------------------


@pytest.fixture
def other_admin(launch_visitor: Callable[..., Visitor]) -> Visitor:
    """An administrator launching from another course of the same platform."""
    return launch_visitor("admin", claims={"context": OTHER_COURSE})


def test_another_courses_unpublished_rubric_is_not_found_by_any_form(
    library: Library, other_designer: Visitor, other_admin: Visitor, app: Flask
) -> None:
    """``archived`` is unpublished: outside its course it does not exist, whatever the form or role."""
    before = stored_rows(app)
    hidden = library.archived
    for visitor, path, data in (
        (other_designer, f"/rubrics/{hidden}/edit", {**library.edit_fields}),
        (other_designer, f"/rubrics/{hidden}/duplicate", {}),
        (other_designer, f"/rubrics/{hidden}/archive", {}),
        (other_designer, f"/rubrics/{hidden}/restore", {}),
        (other_admin, f"/rubrics/{hidden}/publish", {}),
        (other_admin, f"/rubrics/{hidden}/unpublish", {}),
        (other_admin, f"/rubrics/{hidden}/restore", {}),
    ):
        refused = visitor.post(path, data)
        assert refused.status == 404, (visitor.role, path, refused.status)
        assert refused.texts("error-message") == [NOT_FOUND], path
    assert changed_tables(before, stored_rows(app)) == []


def test_another_courses_published_rubric_may_be_copied_but_never_changed(
    library: Library, other_designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    shared = library.live
    for path, data in (
        (f"/rubrics/{shared}/edit", {**library.edit_fields}),
        (f"/rubrics/{shared}/archive", {}),
        (f"/rubrics/{shared}/restore", {}),
    ):
        refused = other_designer.post(path, data)
        assert refused.status == 403, (path, refused.status)
        [message] = refused.texts("error-message")
        assert message.startswith(f"'{TEMPLATE_TITLE}' belongs to the course ")
        assert message.endswith("was shared with every course; duplicate it to change your own copy.")
    assert changed_tables(before, stored_rows(app)) == []


RUBRIC_FORMS = [form for form in FORMS if form.name not in {"new", "from-template", "import"}]


@pytest.mark.parametrize("form", RUBRIC_FORMS, ids=[form.name for form in RUBRIC_FORMS])
def test_a_rubric_that_does_not_exist_is_not_found_by_any_form(
    form: Form, library: Library, admin: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    missing = Library(live=999_999, archived=999_999, edit_fields=library.edit_fields)
    refused = form.post(admin, missing)
    assert refused.status == 404
    assert refused.texts("error-message") == [NOT_FOUND]
    assert changed_tables(before, stored_rows(app)) == []


# -- malformed fields ---------------------------------------------------------------------------------------


def problems_by_field(page: Page) -> dict[str, str]:
    return {
        attributes["data-field"]: text
        for attributes, text in zip(page.attributes("problems"), page.texts("problems"), strict=True)
    }


def test_a_blank_new_rubric_names_every_missing_field_and_stores_nothing(
    designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    blank = form_without_tokens(designer.get("/rubrics/new"))
    refused = designer.post("/rubrics/new", {**blank, "action": "save"})
    assert refused.status == 400
    assert refused.texts("problem-summary")[0].startswith("Nothing was saved: 6 problems need fixing.")
    assert problems_by_field(refused) == {
        "title": "rubric: title is missing",
        "criteria-0-title": "criterion 1: title is missing",
        "criteria-0-levels-0-title": "criterion 1, level 1: title is missing",
        "criteria-0-levels-0-points": (
            "criterion 1, level 1: points are missing; give a number, or a range like 1.5-2.5"
        ),
        "criteria-0-levels-1-title": "criterion 1, level 2: title is missing",
        "criteria-0-levels-1-points": (
            "criterion 1, level 2: points are missing; give a number, or a range like 1.5-2.5"
        ),
    }
    assert changed_tables(before, stored_rows(app)) == []


def test_a_new_rubric_post_with_no_fields_at_all_says_what_is_missing(designer: Visitor, app: Flask) -> None:
    before = stored_rows(app)
    refused = designer.post("/rubrics/new", {"action": "save"})
    assert refused.status == 400
    summary = refused.texts("problem-summary")[0]
    assert summary.startswith("Nothing was saved: 3 problems need fixing.")
    assert "rubric: scoring is missing; choose one of points, weighted_percentage, levels_only" in (
        summary
    )
    assert "rubric: add at least one criterion" in summary
    assert changed_tables(before, stored_rows(app)) == []


def test_wrong_types_and_out_of_range_values_in_a_new_rubric_are_named_beside_their_fields(
    designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    blank = form_without_tokens(designer.get("/rubrics/new"))
    typed = {
        "title": "T" * 201,
        "scoring_mode": "karaoke",
        "criteria-0-title": "C",
        "criteria-0-weight": "heavy",
        "criteria-0-levels-0-title": "a",
        "criteria-0-levels-0-points": "lots",
        "criteria-0-levels-1-title": "b",
        "criteria-0-levels-1-points": "5-1",
    }
    refused = designer.post("/rubrics/new", {**blank, **typed, "action": "save"})
    assert refused.status == 400
    assert problems_by_field(refused) == {
        "title": "rubric: title is 201 characters long; the limit is 200",
        "scoring_mode": UNKNOWN_MODE,
        "criteria-0-weight": "criterion 1 'C': weight must be a number, got 'heavy'",
        "criteria-0-levels-0-points": "criterion 1 'C', level 1 'a': points must be a number, got 'lots'",
        "criteria-0-levels-1-points": (
            "criterion 1 'C', level 2 'b': the range 5-1 goes down; write the lower number first"
        ),
    }
    kept = refused.form("rubric-form").fields
    # scoring_mode is a select: the page offers the known modes again, so only text fields are compared.
    typed_in_text_fields = {name: value for name, value in typed.items() if name != "scoring_mode"}
    assert {name: kept[name] for name in typed_in_text_fields} == typed_in_text_fields

    limits = {
        "title": "T",
        "criteria-0-title": "C",
        "criteria-0-weight": "-1",
        "criteria-0-levels-0-title": "a",
        "criteria-0-levels-0-points": "99999999",
        "criteria-0-levels-1-title": "b",
        "criteria-0-levels-1-points": "1.555",
    }
    refused = designer.post("/rubrics/new", {**blank, **limits, "action": "save"})
    assert refused.status == 400
    assert problems_by_field(refused) == {
        "criteria-0-weight": "criterion 1 'C': weight must be above 0, got -1",
        "criteria-0-levels-0-points": (
            "criterion 1 'C', level 1 'a': points 99999999 is above the limit of 10000"
        ),
        "criteria-0-levels-1-points": (
            "criterion 1 'C', level 2 'b': points 1.555 has more than 2 decimal places"
        ),
    }
    assert changed_tables(before, stored_rows(app)) == []


def test_an_edit_with_an_unknown_scoring_mode_and_an_oversized_title_changes_nothing(
    library: Library, designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    refused = designer.post(
        f"/rubrics/{library.live}/edit",
        {**library.edit_fields, "title": "x" * 300, "scoring_mode": "karaoke"},
    )
    assert refused.status == 400
    assert problems_by_field(refused) == {
        "title": "rubric: title is 300 characters long; the limit is 200",
        "scoring_mode": UNKNOWN_MODE,
    }
    assert refused.form("rubric-form").fields["title"] == "x" * 300
    assert changed_tables(before, stored_rows(app)) == []


def test_an_edit_without_a_usable_lock_version_is_refused_with_a_message_and_changes_nothing(
    library: Library, designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    for lock_version in ("", "²", "-1"):
        refused = designer.post(
            f"/rubrics/{library.live}/edit", {**library.edit_fields, "lock_version": lock_version}
        )
        assert refused.status == 400, lock_version
        assert WERKZEUG_400 not in refused.text
        assert refused.texts("error-message") or refused.texts("problem-summary"), refused.text[:500]
    assert changed_tables(before, stored_rows(app)) == []


def test_an_unknown_or_missing_template_is_named_and_nothing_is_created(
    designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    for slug, message in (
        ("karaoke", "There is no rubric template 'karaoke'."),
        ("x" * 5000, None),
    ):
        refused = designer.get(f"/rubrics/new?template={slug}")
        assert refused.status == 404
        if message is not None:
            assert refused.texts("error-message") == [message]
    # A posted form naming no known template is a rubric written in Cadre: it is not refused for that.
    created = designer.post("/rubrics/new", {**NEW_RUBRIC, "template": "karaoke"})
    assert created.status == 200 and created.texts("rubric-heading") == [NEW_RUBRIC["title"]]
    assert sorted(changed_tables(before, stored_rows(app))) == ["audit_log", "rubric_versions", "rubrics"]


def test_duplicating_twice_in_a_row_never_touches_the_original(
    library: Library, designer: Visitor, db: Session
) -> None:
    """The one form that always stores something: it adds copies and leaves the source alone."""
    original = db.get(Rubric, library.live)
    assert original is not None
    lock_version = original.lock_version
    for _ in range(2):
        copy = designer.post(f"/rubrics/{library.live}/duplicate")
        assert copy.status == 200
        assert copy.form("rubric-form").fields["title"] == f"Copy of {TEMPLATE_TITLE}"
    db.expire_all()
    assert rubric_count(db) == 4
    original = db.get(Rubric, library.live)
    assert original is not None and original.lock_version == lock_version


# -- import -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "line 1: the file is empty; expected a header row"),
        ("latin1.csv", b"\xff\xfe\x00abc", "line 1: the file is not UTF-8 text (byte 1 cannot be read)"),
        ("big.csv", b"a" * 5_100_000, "file: the file is 5,100,000 bytes; the limit is 5,000,000"),
        (
            "deep.json",
            b"[" * 100_000,
            "$: invalid JSON: maximum recursion depth exceeded while decoding a JSON array from a unicode "
            "string",
        ),
        ("notes.txt", b"just some words\n", None),
    ],
    ids=["empty", "not-utf8", "over-the-engine-limit", "deeply-nested-json", "not-a-rubric"],
)
def test_a_bad_import_file_is_refused_with_its_problem_and_stores_nothing(
    name: str, content: bytes, problem: str | None, designer: Visitor, app: Flask
) -> None:
    before = stored_rows(app)
    refused = designer.post("/rubrics/import", files=upload(name, content))
    assert refused.status == 400, refused.text[:1000]
    assert refused.texts("import-filename") == [name]
    problems = refused.texts("import-problem")
    assert problems, refused.text[:1000]
    if problem is not None:
        assert problems == [problem]
    assert changed_tables(before, stored_rows(app)) == []


def test_an_import_without_a_file_asks_for_one(designer: Visitor, app: Flask) -> None:
    before = stored_rows(app)
    for files in (None, upload("", b"rubric_title\n")):
        refused = designer.post("/rubrics/import", files=files)
        assert refused.status == 400
        assert refused.texts("import-problem") == ["file: choose a file to import"]
    assert changed_tables(before, stored_rows(app)) == []


def test_an_upload_over_the_request_limit_is_a_file_too_large_page(designer: Visitor, app: Flask) -> None:
    before = stored_rows(app)
    limit_mb = app.config["CADRE"].max_upload_mb
    too_big = b"x" * ((limit_mb + 1) * 1024 * 1024)
    refused = designer.post("/rubrics/import", files=upload("huge.csv", too_big))
    assert refused.status == 413
    assert refused.texts("error-message") == [
        f"The upload is larger than Cadre accepts ({limit_mb} MB). Choose a smaller file."
    ]
    assert changed_tables(before, stored_rows(app)) == []


def test_an_admin_of_another_course_unpublishing_a_shared_rubric_is_told_what_happened(
    library: Library, other_admin: Visitor, db: Session
) -> None:
    answer = other_admin.post(f"/rubrics/{library.live}/unpublish")
    db.expire_all()
    rubric = db.get(Rubric, library.live)
    assert rubric is not None
    if rubric.published_to_platform:  # refused: it must say so
        assert answer.status == 403
        assert answer.texts("error-message") and answer.texts("error-message") != [NOT_FOUND]
    else:  # done: it must say that, not "this rubric does not exist"
        assert answer.status == 200, answer.texts("error-message")
        assert answer.attributes("notice")[0]["data-notice"] == "unpublished"
