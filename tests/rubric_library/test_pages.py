"""The rubric library's pages, driven over HTTP after real launches, with cookies dropped on every request:
the launch token rides in the ``X-Cadre-Launch`` header (as Cadre's script sends it when the cookie does
not come back) and in the ``lt`` field of posted forms, never in a link."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.lti.errors import CSRF_FAILED, NO_LAUNCH, SESSION_EXPIRED
from lti_tool.models import AuditEntry, Rubric, RubricVersion
from lti_tool.rubric_library import services
from tests.fixtures.visitors import Page, Visitor, create_from_template, read_page

TEMPLATE = "communication"



def stored(db: Session, rubric_id: int) -> Rubric:
    db.expire_all()
    rubric = db.get(Rubric, rubric_id)
    assert rubric is not None
    return rubric


def designers_form_without_tokens(edit_page: Page) -> dict[str, str]:
    """The edit form's fields, for someone else to post with their own launch and CSRF tokens."""
    fields = dict(edit_page.form("rubric-form").fields)
    del fields["lt"], fields["csrf_token"]
    return fields


def rubric_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Rubric)) or 0


# -- designer flows ----------------------------------------------------------------------------------------


def test_designer_creates_a_rubric_from_a_template_and_previews_it(designer: Visitor, db: Session) -> None:
    library = designer.get("/rubrics/")
    assert library.status == 200
    assert library.texts("course-rubrics-empty")
    slugs = [attributes["data-slug"] for attributes in library.attributes("template")]
    assert slugs == [template.slug for template in rubrics.list_templates()]

    rubric_id, edit_page = create_from_template(designer)
    template = rubrics.get_template(TEMPLATE)
    assert edit_page.form("rubric-form").fields["title"] == template.title

    preview = designer.get(edit_page.link("preview-link"))
    assert preview.texts("rubric-heading") == [template.title]
    assert preview.texts("criterion-title") == [criterion.title for criterion in template.criteria]
    first = template.criteria[0]
    assert preview.texts("criterion-guidance")[0] == f"How to judge {first.guidance}"
    assert preview.attributes("criterion")[0]["data-identifier"] == first.identifier
    level_points = preview.texts("level-points")
    assert level_points[: len(first.levels)] == [
        f"{rubrics.exact_numbers.format_decimal(level.max_points)} point"
        + ("" if level.max_points == 1 else "s")
        for level in first.levels
    ]
    assert first.competency_tags[0] in preview.texts("competency-tag")
    assert (
        preview.texts("criterion-weight")[0] == f"weight {rubrics.exact_numbers.format_decimal(first.weight)}"
    )

    listed = designer.get("/rubrics/")
    assert listed.texts("rubric-title") == [template.title]
    assert stored(db, rubric_id).title == template.title


def test_edit_with_problems_rerenders_the_posted_values_with_messages_beside_the_fields(
    designer: Visitor, db: Session
) -> None:
    rubric_id, edit_page = create_from_template(designer)
    changes = {
        "title": "",
        "description": "My new description, not saved yet",
        "criteria-0-title": "Clear message (revised)",
        "criteria-0-levels-1-points": "abc",
        "criteria-1-weight": "0",
    }
    refused = designer.submit(edit_page, "rubric-form", changes, button=("action", "save"))

    assert refused.status == 400
    problems = {
        attributes["data-field"]: text
        for attributes, text in zip(refused.attributes("problems"), refused.texts("problems"), strict=True)
    }
    assert problems["title"] == "rubric: title is missing"
    assert "points must be a number, got 'abc'" in problems["criteria-0-levels-1-points"]
    assert "weight must be above 0, got 0" in problems["criteria-1-weight"]
    assert refused.texts("problem-summary")[0].startswith("Nothing was saved: 3 problems need fixing.")
    kept = refused.form("rubric-form").fields
    for name, value in changes.items():
        assert kept[name] == value, name
    assert kept["criteria-2-title"] == edit_page.form("rubric-form").fields["criteria-2-title"]
    assert stored(db, rubric_id).title == rubrics.get_template(TEMPLATE).title

    fixed = designer.submit(
        refused,
        "rubric-form",
        {"title": "Communication at work", "criteria-0-levels-1-points": "1.5", "criteria-1-weight": "2"},
        button=("action", "save"),
    )
    assert fixed.status == 200 and fixed.attributes("notice")[0]["data-notice"] == "saved"
    assert fixed.texts("rubric-heading") == ["Communication at work"]
    content = rubrics.Rubric.from_dict(stored(db, rubric_id).current_version.content)
    assert content.description == "My new description, not saved yet"
    assert content.criteria[0].title == "Clear message (revised)"
    assert content.criteria[0].levels[1].max_points == rubrics.exact_numbers.to_decimal("1.5")
    assert stored(db, rubric_id).current_version.number == 1  # unused: rewritten in place


def test_rows_are_added_and_removed_without_javascript(designer: Visitor, db: Session) -> None:
    rubric_id, edit_page = create_from_template(designer)
    original = rubrics.get_template(TEMPLATE)
    level_count = len(original.criteria[0].levels)

    with_new_level = designer.submit(
        edit_page, "rubric-form", {"title": "Kept while adding"}, button=("action", "add-level-0")
    )
    fields = with_new_level.form("rubric-form").fields
    assert fields["title"] == "Kept while adding"
    assert fields[f"criteria-0-levels-{level_count}-title"] == ""

    with_new_criterion = designer.submit(
        with_new_level,
        "rubric-form",
        {
            f"criteria-0-levels-{level_count}-title": "Outstanding",
            f"criteria-0-levels-{level_count}-points": "5",
        },
        button=("action", "add-criterion"),
    )
    new_index = len(original.criteria)
    saved = designer.submit(
        with_new_criterion,
        "rubric-form",
        {
            f"criteria-{new_index}-title": "Asks for feedback",
            f"criteria-{new_index}-levels-0-title": "Rarely",
            f"criteria-{new_index}-levels-0-points": "0",
            f"criteria-{new_index}-levels-1-title": "Routinely",
            f"criteria-{new_index}-levels-1-points": "1-2",
            "criteria-1-remove": "1",
        },
        button=("action", "save"),
    )
    assert saved.status == 200, saved.text[:2000]
    content = rubrics.Rubric.from_dict(stored(db, rubric_id).current_version.content)
    titles = [criterion.title for criterion in content.criteria]
    assert original.criteria[1].title not in titles
    assert titles[-1] == "Asks for feedback"
    added = content.criteria[-1]
    assert added.identifier == "asks-for-feedback"
    assert [level.identifier for level in added.levels] == ["rarely", "routinely"]
    assert (added.levels[1].min_points, added.levels[1].max_points) == (1, 2)
    assert content.criteria[0].levels[-1].title == "Outstanding"
    assert content.criteria[0].levels[-1].identifier == "outstanding"


def test_a_conflicting_save_keeps_the_typed_changes_and_names_who_saved(
    designer: Visitor, admin: Visitor, db: Session
) -> None:
    rubric_id, designer_form = create_from_template(designer)
    admin_form = admin.get(f"/rubrics/{rubric_id}/edit")
    assert (
        admin.submit(admin_form, "rubric-form", {"title": "Sam's title"}, button=("action", "save")).status
        == 200
    )

    conflict = designer.submit(
        designer_form,
        "rubric-form",
        {"title": "Maya's title", "criteria-0-weight": "4"},
        button=("action", "save"),
    )
    assert conflict.status == 409
    message = conflict.texts("conflict")[0]
    assert "Sam Admin changed this rubric at" in message
    assert "Nothing was saved" in message
    assert "Changed rubric title" in conflict.texts("conflict-changes")[0]
    kept = conflict.form("rubric-form").fields
    assert (kept["title"], kept["criteria-0-weight"]) == ("Maya's title", "4")
    assert stored(db, rubric_id).title == "Sam's title"

    again = designer.submit(conflict, "rubric-form", button=("action", "save"))
    assert again.status == 200 and again.texts("rubric-heading") == ["Maya's title"]


def test_editing_a_used_version_creates_a_new_version_with_a_diff(designer: Visitor, db: Session) -> None:
    rubric_id, edit_page = create_from_template(designer)
    services.mark_version_used(db, stored(db, rubric_id).current_version)
    db.commit()

    edit_page = designer.get(f"/rubrics/{rubric_id}/edit")
    assert "saving creates version 2" in edit_page.texts("used-warning")[0]
    saved = designer.submit(edit_page, "rubric-form", {"criteria-0-weight": "3"}, button=("action", "save"))
    assert saved.attributes("notice")[0]["data-notice"] == "new-version"
    assert saved.texts("version-line")[0].startswith("Version 2")

    versions = designer.get(saved.link("versions-link"))
    assert [attributes["data-number"] for attributes in versions.attributes("version")] == ["2", "1"]
    diff = designer.get(versions.link("diff-link"))
    criterion = rubrics.get_template(TEMPLATE).criteria[0].title
    assert diff.texts("diff-heading") == ["From version 1 to version 2"]
    assert diff.texts("diff-line") == [f"Changed criterion '{criterion}': weight"]
    assert diff.texts("affects-scoring")

    old = designer.get(f"/rubrics/{rubric_id}?version=1")
    assert old.texts("version-line")[0].startswith("Version 1 (an older version")
    assert db.scalar(select(func.count()).select_from(RubricVersion)) == 2


def test_new_rubric_from_a_blank_form(designer: Visitor, db: Session) -> None:
    blank = designer.get("/rubrics/new")
    saved = designer.submit(
        blank,
        "rubric-form",
        {
            "title": "Stakeholder map",
            "scoring_mode": "levels_only",
            "criteria-0-title": "Breadth",
            "criteria-0-levels-0-title": "Narrow",
            "criteria-0-levels-1-title": "Wide",
        },
        button=("action", "save"),
    )
    assert saved.status == 200, saved.text[:2000]
    assert saved.texts("rubric-heading") == ["Stakeholder map"]
    assert saved.attributes("scoring-mode")[0]["data-mode"] == "levels_only"
    assert rubric_count(db) == 1


def test_duplicate_archive_and_restore(designer: Visitor, db: Session) -> None:
    rubric_id, _ = create_from_template(designer)
    preview = designer.get(f"/rubrics/{rubric_id}")
    copy_page = designer.submit(preview, "duplicate-form")
    assert copy_page.attributes("notice")[0]["data-notice"] == "duplicated"
    assert copy_page.form("rubric-form").fields["title"] == "Copy of " + rubrics.get_template(TEMPLATE).title

    archived = designer.submit(preview, "archive-form")
    assert archived.attributes("notice")[0]["data-notice"] == "archived"
    assert (
        archived.texts("archived-rubrics")
        and rubrics.get_template(TEMPLATE).title in archived.texts("archived-rubrics")[0]
    )
    assert stored(db, rubric_id).archived_at is not None


# -- import and export -------------------------------------------------------------------------------------


def test_import_a_csv_and_a_case_file(designer: Visitor, db: Session) -> None:
    template = rubrics.get_template("work-product-review")
    form_page = designer.get("/rubrics/import")
    imported = designer.submit(
        form_page,
        "import-form",
        files={"file": ("review.csv", rubrics.export_csv(template).encode(), "text/csv")},
    )
    assert imported.status == 200, imported.text[:2000]
    assert imported.attributes("notice")[0]["data-notice"] == "imported"
    assert imported.texts("rubric-heading") == [template.title]

    case_text = rubrics.dumps_case_rubric(
        template, base_uri="https://elsewhere.example/case", changed_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    imported_case = designer.submit(
        form_page, "import-form", files={"file": ("review.json", case_text.encode(), "application/json")}
    )
    assert imported_case.texts("rubric-heading") == [template.title]
    hashes = set(db.scalars(select(RubricVersion.content_hash)))
    assert hashes == {rubrics.content_hash(template)}


def test_a_bad_import_shows_every_problem_with_its_line_and_stores_nothing(
    designer: Visitor, db: Session
) -> None:
    bad_csv = (
        "criterion_identifier,criterion_title,level_identifier,level_title,points,scoring_mode,rubric_title\n"
        "tone,Tone,low,Low,-1,points,Broken\n"
        "tone,Tone,high,High,2,,\n"
        "pace,Pace,slow,Slow,abc,,\n"
        "pace,Pace,fast,Fast,1,,\n"
    )
    form_page = designer.get("/rubrics/import")
    refused = designer.submit(
        form_page, "import-form", files={"file": ("bad.csv", bad_csv.encode(), "text/csv")}
    )
    assert refused.status == 400
    assert refused.texts("import-filename") == ["bad.csv"]
    problems = refused.texts("import-problem")
    assert refused.texts("problem-location") == ["line 2", "line 4"]
    assert "points must be 0 or more, got -1" in problems[0]
    assert "points must be a number, got 'abc'" in problems[1]

    bad_json = designer.submit(
        form_page,
        "import-form",
        files={"file": ("bad.json", b'{"CFRubrics": [{"title": "x"}, {}]}', "application/json")},
    )
    assert bad_json.status == 400
    assert bad_json.texts("problem-location") == ["$.CFRubrics"]
    assert rubric_count(db) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_exports_download_with_type_and_file_name(designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    preview = designer.get(f"/rubrics/{rubric_id}")
    template = rubrics.get_template(TEMPLATE)

    csv_download = designer.get(preview.link("export-csv")).response
    assert csv_download.status_code == 200
    assert csv_download.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_download.headers["content-disposition"] == "attachment; filename=communication-v1.csv"
    assert next(csv.reader(io.StringIO(csv_download.text)))[:2] == ["rubric_identifier", "rubric_title"]
    assert rubrics.content_hash(rubrics.import_csv(csv_download.content)) == rubrics.content_hash(template)

    case_download = designer.get(preview.link("export-case")).response
    assert case_download.headers["content-type"] == "application/json"
    assert case_download.headers["content-disposition"] == "attachment; filename=communication-v1.case.json"
    document = json.loads(case_download.text)
    # URNs, not addresses: rubrics are course-private (docs/rubrics.md, "CASE identifiers and URIs").
    assert document["uri"] == f"urn:uuid:{document['identifier']}"
    assert rubrics.content_hash(rubrics.import_case_rubric(case_download.content)) == rubrics.content_hash(
        template
    )


# -- who may do what ---------------------------------------------------------------------------------------


def test_managers_and_learners_preview_but_never_edit(
    designer: Visitor, manager: Visitor, learner: Visitor, db: Session
) -> None:
    rubric_id, edit_page = create_from_template(designer)
    form = designers_form_without_tokens(edit_page)
    for visitor in (manager, learner):
        preview = visitor.get(f"/rubrics/{rubric_id}")
        assert preview.status == 200
        assert preview.texts("rubric-heading") == [rubrics.get_template(TEMPLATE).title]
        assert not preview.attributes("edit-link") and not preview.attributes("export-csv")

        for path in (f"/rubrics/{rubric_id}/edit", "/rubrics/", "/rubrics/import"):
            refused = visitor.get(path)
            assert refused.status == 403, path
            assert refused.texts("error-message") == [
                f"This page is for a designer or an administrator; you are signed in to Cadre as a "
                f"{visitor.role} in this course."
            ]
        posted = visitor.post(f"/rubrics/{rubric_id}/edit", {**form, "title": "Hijacked", "action": "save"})
        assert posted.status == 403
    assert stored(db, rubric_id).title == rubrics.get_template(TEMPLATE).title


def test_another_courses_unpublished_rubric_is_not_found(
    designer: Visitor, other_designer: Visitor, db: Session
) -> None:
    rubric_id, edit_page = create_from_template(designer)
    form = designers_form_without_tokens(edit_page)
    for path in (
        f"/rubrics/{rubric_id}",
        f"/rubrics/{rubric_id}/edit",
        f"/rubrics/{rubric_id}/export.csv",
        f"/rubrics/{rubric_id}/versions",
    ):
        page = other_designer.get(path)
        assert page.status == 404, path
        assert page.texts("error-message") == [services.RubricNotFound.message]
    for path, data in (
        (f"/rubrics/{rubric_id}/edit", {**form, "title": "Mine now", "action": "save"}),
        (f"/rubrics/{rubric_id}/duplicate", {}),
        (f"/rubrics/{rubric_id}/archive", {}),
    ):
        assert other_designer.post(path, data).status == 404, path
    assert other_designer.get("/rubrics/").texts("course-rubrics-empty")
    assert stored(db, rubric_id).title == rubrics.get_template(TEMPLATE).title
    assert rubric_count(db) == 1


def test_only_an_admin_publishes_and_published_rubrics_reach_other_courses(
    designer: Visitor, admin: Visitor, other_designer: Visitor, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    assert not designer.get(f"/rubrics/{rubric_id}").attributes("publish-form")
    refused = designer.post(f"/rubrics/{rubric_id}/publish")
    assert refused.status == 403
    assert "for an administrator" in refused.texts("error-message")[0]
    assert not stored(db, rubric_id).published_to_platform

    published = admin.submit(admin.get(f"/rubrics/{rubric_id}"), "publish-form")
    assert published.attributes("notice")[0]["data-notice"] == "published"
    assert published.texts("published-tag")

    listing = other_designer.get("/rubrics/")
    assert [a["data-rubric-id"] for a in listing.attributes("rubric")] == [str(rubric_id)]
    assert listing.texts("published-rubrics")
    shared = other_designer.get(f"/rubrics/{rubric_id}")
    assert not shared.attributes("edit-link")
    refused_edit = other_designer.get(f"/rubrics/{rubric_id}/edit")
    assert refused_edit.status == 403
    assert "duplicate it to change your own copy" in refused_edit.texts("error-message")[0]
    copy = other_designer.submit(shared, "duplicate-form")
    assert copy.status == 200 and copy.form("rubric-form").fields["title"].startswith("Copy of ")


def test_posts_without_a_valid_csrf_token_are_refused(designer: Visitor, db: Session) -> None:
    rubric_id, edit_page = create_from_template(designer)
    form = {**edit_page.form("rubric-form").fields, "title": "Forged", "action": "save"}
    for token in ("", "0" * 64):
        form["csrf_token"] = token
        refused = designer.post(f"/rubrics/{rubric_id}/edit", form, csrf=token)
        assert refused.status == 400
        assert refused.texts("error-message") == [CSRF_FAILED]
    assert designer.post("/rubrics/new", {"template": TEMPLATE}, csrf="").status == 400
    assert stored(db, rubric_id).title != "Forged"
    assert rubric_count(db) == 1


def test_no_launch_no_library(designer: Visitor) -> None:
    rubric_id, _ = create_from_template(designer)
    for path in ("/rubrics/", f"/rubrics/{rubric_id}", f"/rubrics/{rubric_id}/export.csv"):
        page = designer.get(path, with_token=False)
        assert page.status == 401, path
        assert page.texts("error-message") == [NO_LAUNCH]
    designer.client.cookies.clear()
    expired = read_page(designer.client.get("/rubrics/", headers={"X-Cadre-Launch": "not-a-launch"}))
    assert expired.status == 401 and expired.texts("error-message") == [SESSION_EXPIRED]
    in_query = designer.get(f"/rubrics/?lt={designer.launch_token}", with_token=False)  # never read there
    assert in_query.status == 401 and in_query.texts("error-message") == [NO_LAUNCH]


def test_no_link_carries_the_launch_token_and_every_posted_form_does(designer: Visitor) -> None:
    """A URL reaches server logs, proxies, history and Referer headers: links and GET forms carry nothing
    (Cadre's script adds the header); POST forms carry ``lt`` and the CSRF token in their body."""
    rubric_id, edit_page = create_from_template(designer)
    posted_forms = 0
    for page in (
        designer.get("/rubrics/"),
        designer.get(f"/rubrics/{rubric_id}"),
        edit_page,
        designer.get(f"/rubrics/{rubric_id}/versions"),
        designer.get(f"/rubrics/{rubric_id}/diff"),
        designer.get("/rubrics/import"),
    ):
        assert page.status == 200, page.response.url
        internal = [link for link in page.parsed.links if link.startswith("/rubrics")]
        assert internal
        assert not [link for link in internal if "lt=" in link or designer.launch_token in link], internal
        for form in page.parsed.forms:
            assert designer.launch_token not in form.action and "lt=" not in form.action, form.action
            if form.method == "post":
                posted_forms += 1
                assert form.fields.get("lt") == designer.launch_token, form.testid
                assert form.fields.get("csrf_token") == designer.csrf_token, form.testid
            else:
                assert "lt" not in form.fields and "csrf_token" not in form.fields, form.testid
    assert posted_forms and designer.launch_token not in str(edit_page.response.url)


# -- the way in ---------------------------------------------------------------------------------------------


def test_designers_and_admins_reach_the_library_from_the_landing_page(
    designer: Visitor, admin: Visitor
) -> None:
    for visitor in (designer, admin):
        link = visitor.home.link("rubric-library-link")
        assert link == "/rubrics/"  # the token stays out of the link: the cookie or the script carries it
        library = visitor.get(link)
        assert library.status == 200
        assert [a["data-slug"] for a in library.attributes("template")] == [
            template.slug for template in rubrics.list_templates()
        ]


def test_managers_and_learners_get_no_library_link(manager: Visitor, learner: Visitor) -> None:
    for visitor in (manager, learner):
        assert visitor.home.status == 200
        assert visitor.home.attributes("rubric-library-link") == []
