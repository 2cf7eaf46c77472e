"""Hostile posts and uploads over HTTP: bounded pages, problems named, nothing stored; the export page
says what Canvas does to point ranges."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.models import Rubric
from tests.fixtures.visitors import Visitor

ROWS = 22_000


def rubric_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Rubric)) or 0


def test_a_post_of_22000_rows_gets_a_bounded_refusal_and_stores_nothing(
    designer: Visitor, db: Session
) -> None:
    blank = designer.get("/rubrics/new")
    fields = {"title": "Flood", "scoring_mode": "points"}
    fields.update({f"criteria-{index}-title": "a" for index in range(ROWS)})
    refused = designer.submit(blank, "rubric-form", fields, button=("action", "save"))
    assert refused.status == 400
    assert len(refused.response.content) < 5_000_000  # was 56 MB
    assert any("22,000 criteria, more than the limit of 1,000" in text for text in refused.texts("problems"))
    assert rubric_count(db) == 0


def test_a_huge_weight_is_a_400_naming_the_field(designer: Visitor, db: Session) -> None:
    blank = designer.get("/rubrics/new")
    refused = designer.submit(
        blank,
        "rubric-form",
        {
            "title": "Numbers",
            "scoring_mode": "points",
            "criteria-0-title": "Only",
            "criteria-0-weight": "1e999999999",
            "criteria-0-levels-0-title": "Low",
            "criteria-0-levels-0-points": "0",
            "criteria-0-levels-1-title": "High",
            "criteria-0-levels-1-points": "1e999999999",
        },
        button=("action", "save"),
    )
    assert refused.status == 400
    fields = {attributes["data-field"] for attributes in refused.attributes("problems")}
    assert {"criteria-0-weight", "criteria-0-levels-1-points"} <= fields
    assert any("weight '1e999999999' is far too large" in text for text in refused.texts("problems"))
    assert rubric_count(db) == 0


def test_an_upload_with_200000_problems_lists_50_and_counts_the_rest(designer: Visitor, db: Session) -> None:
    header = "criterion_identifier,criterion_title,level_identifier,level_title,"
    header += ",".join(f"x{index}" for index in range(200_000))
    form_page = designer.get("/rubrics/import")
    refused = designer.submit(
        form_page, "import-form", files={"file": ("flood.csv", (header + "\n").encode(), "text/csv")}
    )
    assert refused.status == 400
    assert len(refused.texts("import-problem")) == 50
    assert refused.texts("unlisted-problems")[0].startswith("… and 199,950 more problems")
    assert len(refused.response.content) < 200_000  # was 30 MB
    assert rubric_count(db) == 0


def test_the_export_links_say_what_canvas_does_to_ranges(designer: Visitor) -> None:
    blank = designer.get("/rubrics/new")
    saved = designer.submit(
        blank,
        "rubric-form",
        {
            "title": "Ranges",
            "scoring_mode": "points",
            "criteria-0-title": "Only",
            "criteria-0-levels-0-title": "Low",
            "criteria-0-levels-0-points": "0-2",
            "criteria-0-levels-1-title": "High",
            "criteria-0-levels-1-points": "3-4",
        },
        button=("action", "save"),
    )
    assert saved.status == 200, saved.text[:2000]
    assert "comes back as 2.01–4" in saved.texts("canvas-range-note")[0]
