"""What a new user tripped over in the rubric library (issue 7, section 5), without JavaScript: pages driven
over HTTP after real launches. The script's side of the same fixes is in test_browser_first_use.py."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.models import AuditEntry, Rubric
from tests.fixtures.visitors import Page, Visitor
from tests.rubric_library.test_pages import TEMPLATE, create_from_template, stored

FIELD_LABELS = ("lowest points", "highest points", "Points", "scoring")


def rubric_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Rubric)) or 0


def label_of(page: Page, field_id: str) -> str:
    label = page.parsed.soup.find("label", attrs={"for": field_id})
    assert label is not None, f"no label for {field_id}"
    return label.get_text(" ", strip=True)


def autofocused(page: Page) -> list[str]:
    return [str(element.get("id")) for element in page.parsed.soup.find_all(attrs={"autofocus": True})]


def criterion_titles(page: Page) -> list[str]:
    fields = page.form("rubric-form").fields
    count = len(page.attributes("criterion-fields"))
    return [fields[f"criteria-{index}-title"] for index in range(count)]


# -- "Add a level" ------------------------------------------------------------------------------------------


def test_a_level_added_without_javascript_is_labelled_with_its_own_number_and_focused(
    designer: Visitor,
) -> None:
    _, edit_page = create_from_template(designer)
    levels = len(rubrics.get_template(TEMPLATE).criteria[0].levels)
    assert label_of(edit_page, f"field-criteria-0-levels-{levels - 1}-title") == f"Level {levels}"

    added = designer.submit(edit_page, "rubric-form", button=("action", "add-level-0"))
    assert added.status == 200
    assert label_of(added, f"field-criteria-0-levels-{levels}-title") == f"Level {levels + 1}"
    assert label_of(added, f"field-criteria-0-levels-{levels - 1}-title") == f"Level {levels}"
    assert autofocused(added) == [f"field-criteria-0-levels-{levels}-title"]


def test_add_a_level_names_its_criterion_by_its_posted_row_after_a_row_was_removed(designer: Visitor) -> None:
    """Rows removed before the post (the script takes their fields out) leave gaps in the posted numbers."""
    _, edit_page = create_from_template(designer)
    fields = {
        name: value
        for name, value in edit_page.form("rubric-form").fields.items()
        if not name.startswith("criteria-0-")
    }
    levels_of_second = len(rubrics.get_template(TEMPLATE).criteria[1].levels)
    added = designer.post(edit_page.response.url.path, {**fields, "action": "add-level-1"})
    assert added.status == 200
    # Criterion 1 of the post is now the first row: it got the level, labelled after its own levels.
    assert (
        label_of(added, f"field-criteria-0-levels-{levels_of_second}-title")
        == f"Level {levels_of_second + 1}"
    )


# -- "Use this template" ------------------------------------------------------------------------------------


def test_use_this_template_opens_the_form_and_stores_nothing_until_create(
    designer: Visitor, db: Session
) -> None:
    template = rubrics.get_template(TEMPLATE)
    library = designer.get("/rubrics/")
    opened = designer.get(library.link(f"use-template-{TEMPLATE}"))
    assert opened.status == 200
    assert opened.response.url.path == "/rubrics/new"
    assert template.title in opened.texts("template-notice")[0]
    fields = opened.form("rubric-form").fields
    assert fields["title"] == template.title
    assert fields["template"] == TEMPLATE
    assert criterion_titles(opened) == [criterion.title for criterion in template.criteria]
    assert rubric_count(db) == 0, "opening a template stores nothing"

    # Working on the form (adding a level) stores nothing either; Cancel goes back to the library.
    added = designer.submit(opened, "rubric-form", button=("action", "add-level-0"))
    assert added.status == 200 and added.form("rubric-form").fields["template"] == TEMPLATE
    cancel = added.link("cancel")
    assert cancel == "/rubrics/"
    assert designer.get(cancel).texts("course-rubrics-empty")
    assert rubric_count(db) == 0, "cancelling stores nothing"

    created = designer.submit(
        opened, "rubric-form", {"title": "Communication, our way"}, button=("action", "save")
    )
    assert created.status == 200
    assert created.attributes("notice")[0]["data-notice"] == "created"
    assert created.texts("rubric-heading") == ["Communication, our way"]
    assert rubric_count(db) == 1, "saving stores exactly one rubric"
    rubric = db.scalars(select(Rubric)).one()
    assert rubric.origin == f"template:{TEMPLATE}"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "rubric.create")).one()
    assert entry.details["origin"] == f"template:{TEMPLATE}"


def test_an_invalid_save_from_a_template_stores_nothing_and_keeps_the_template(
    designer: Visitor, db: Session
) -> None:
    opened = designer.get(f"/rubrics/new?template={TEMPLATE}")
    refused = designer.submit(opened, "rubric-form", {"title": ""}, button=("action", "save"))
    assert refused.status == 400
    assert refused.form("rubric-form").fields["template"] == TEMPLATE
    assert refused.texts("template-notice")
    assert rubric_count(db) == 0


# -- telling rubrics of the same title apart ----------------------------------------------------------------


def test_imports_of_the_same_title_show_their_file_creation_time_and_version(
    designer: Visitor, db: Session
) -> None:
    template = rubrics.get_template(TEMPLATE)
    data = rubrics.export_csv(template).encode("utf-8")
    for filename in ("communication-2025.csv", "communication-2026.csv"):
        page = designer.get("/rubrics/import")
        imported = designer.submit(
            page, "import-form", files={"file": (filename, io.BytesIO(data), "text/csv")}
        )
        assert imported.status == 200, imported.text[:1500]
    create_from_template(designer)

    library = designer.get("/rubrics/")
    assert library.texts("rubric-title") == [template.title] * 3
    origins = library.texts("rubric-origin")
    assert sorted(origins) == sorted(
        [
            "imported from communication-2025.csv",
            "imported from communication-2026.csv",
            f"from the template “{template.title}”",
        ]
    )
    facts = library.texts("rubric-facts")
    assert all("version 1" in fact and "created" in fact for fact in facts), facts
    created = library.attributes("rubric-created")
    assert len(created) == 3 and all(attributes["datetime"].endswith("Z") for attributes in created)


# -- the form's words ---------------------------------------------------------------------------------------


def test_edit_form_problems_name_the_form_fields_and_imports_keep_the_column_names(
    designer: Visitor,
) -> None:
    _, edit_page = create_from_template(designer)
    refused = designer.submit(
        edit_page,
        "rubric-form",
        {
            "criteria-0-levels-0-points": "",
            "criteria-0-levels-1-points": "5-1",
            "criteria-1-levels-0-points": "x-3",
        },
        button=("action", "save"),
    )
    assert refused.status == 400
    problems = dict(
        zip((a["data-field"] for a in refused.attributes("problems")), refused.texts("problems"), strict=True)
    )
    assert problems["criteria-0-levels-0-points"].endswith(
        "points are missing; give a number, or a range like 1.5-2.5"
    )
    assert problems["criteria-0-levels-1-points"].endswith(
        "the range 5-1 goes down; write the lower number first"
    )
    assert problems["criteria-1-levels-0-points"].endswith(
        "the lowest points of the range must be a number, got 'x'"
    )
    for column in ("min_points", "max_points", "scoring_mode"):
        assert column not in refused.texts("problem-summary")[0], column

    # The same rule in a CSV file speaks in the file's columns.
    rows = list(csv.DictReader(io.StringIO(rubrics.export_csv(rubrics.get_template(TEMPLATE)))))
    rows[0].update(points="", min_points="", max_points="")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = out.getvalue().encode("utf-8")
    page = designer.get("/rubrics/import")
    refused_file = designer.submit(
        page, "import-form", files={"file": ("x.csv", io.BytesIO(data), "text/csv")}
    )
    assert refused_file.status == 400
    assert any(
        "give points or min_points and max_points" in text for text in refused_file.texts("import-problem")
    ), refused_file.texts("import-problem")


# -- move up and down ---------------------------------------------------------------------------------------


def test_criteria_move_up_and_down_without_javascript_and_save_in_that_order(
    designer: Visitor, db: Session
) -> None:
    rubric_id, edit_page = create_from_template(designer)
    original = [criterion.title for criterion in rubrics.get_template(TEMPLATE).criteria]
    assert len(original) >= 3
    buttons = edit_page.attributes("move-up")
    assert "hidden" in buttons[0] and all("hidden" not in button for button in buttons[1:])
    downs = edit_page.attributes("move-down")
    assert "hidden" in downs[-1] and all("hidden" not in button for button in downs[:-1])

    moved = designer.submit(
        edit_page, "rubric-form", {"criteria-0-title": "Typed, not saved"}, button=("action", "move-up-2")
    )
    assert moved.status == 200
    assert criterion_titles(moved) == ["Typed, not saved", original[2], original[1], *original[3:]]
    assert autofocused(moved) == ["move-up-1"], "the same button keeps the focus at the row's new place"
    to_top = designer.submit(moved, "rubric-form", button=("action", "move-up-1"))
    assert criterion_titles(to_top)[:2] == [original[2], "Typed, not saved"]
    assert autofocused(to_top) == ["move-down-0"], "at the top: the other button"
    assert stored(db, rubric_id).title == rubrics.get_template(TEMPLATE).title, "moving saves nothing"

    saved = designer.submit(to_top, "rubric-form", button=("action", "save"))
    assert saved.status == 200
    content = rubrics.Rubric.from_dict(stored(db, rubric_id).current_version.content)
    assert [criterion.title for criterion in content.criteria] == [
        original[2],
        "Typed, not saved",
        original[1],
        *original[3:],
    ]
    assert [criterion.position for criterion in content.criteria] == list(range(1, len(original) + 1))


def test_moving_past_either_end_or_an_unknown_row_changes_nothing(designer: Visitor) -> None:
    _, edit_page = create_from_template(designer)
    before = criterion_titles(edit_page)
    last = len(before) - 1
    for action in ("move-up-0", f"move-down-{last}", "move-up-999", "move-down-x"):
        page = designer.submit(edit_page, "rubric-form", button=("action", action))
        assert page.status == 200, action
        assert criterion_titles(page) == before, action


# -- favicon ------------------------------------------------------------------------------------------------


def test_every_page_links_the_icon_and_favicon_ico_answers_it(designer: Visitor, client: FlaskClient) -> None:
    for path in ("/rubrics/", "/rubrics/new", "/home"):
        page = designer.get(path)
        icon = page.parsed.soup.find("link", rel="icon")
        assert icon is not None and icon["href"] == "/static/favicon.svg", path
        assert icon["type"] == "image/svg+xml"
    for path in ("/static/favicon.svg", "/favicon.ico"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/svg+xml"
        assert response.get_data().startswith(b"<svg")


# -- times --------------------------------------------------------------------------------------------------


def test_times_are_time_elements_in_utc_labelled_utc_for_readers_without_javascript(
    designer: Visitor, db: Session
) -> None:
    rubric_id, _ = create_from_template(designer)
    written = stored(db, rubric_id).current_version.changed_at
    versions = designer.get(f"/rubrics/{rubric_id}/versions")
    element = versions.parsed.soup.find(attrs={"data-testid": "version-written"})
    assert element is not None and element.name == "time"
    assert element["datetime"] == written.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert element["data-local"] == "datetime"
    assert element.get_text() == written.strftime("%Y-%m-%d %H:%M UTC")
    scripts = [str(script.get("src")) for script in versions.parsed.soup.find_all("script")]
    assert "/static/local-times.js" in scripts
