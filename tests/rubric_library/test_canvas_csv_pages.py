"""Canvas rubric CSV on the rubric library's pages: importing Canvas's files on the import page and
downloading a rubric for Canvas, over HTTP after real launches (cookies dropped on every request)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import rubrics
from lti_tool.models import AuditEntry, Rubric, RubricVersion
from lti_tool.rubric_library import services
from tests.fixtures.visitors import Page, Visitor, create_from_template

CANVAS_FILE = (
    "\ufeffRubric Name,Criteria Name,Criteria Description,Criteria Enable Range,"
    "Rating Name 1,Rating Description 1,Rating Points 1,Rating Name 2,Rating Description 2,Rating Points 2,"
    "Rating Name 3,Rating Description 3,Rating Points 3\r\n"
    'Coaching check-in,Listening,"Lets the employee talk, then reflects back.",false,'
    "Strong,,3,Partly,,1.5,Not yet,,0\r\n"
    "Coaching check-in,Next steps,Agrees what happens next.,true,Agreed,,4,Missing,,1\r\n"
)


def template_rubric(visitor: Visitor, slug: str) -> int:
    return create_from_template(visitor, slug)[0]


def upload(visitor: Visitor, filename: str, content: str | bytes) -> Page:
    data = content.encode() if isinstance(content, str) else content
    return visitor.submit(
        visitor.get("/rubrics/import"), "import-form", files={"file": (filename, data, "text/csv")}
    )


def rubric_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Rubric)) or 0


def test_a_canvas_file_imports_through_the_import_page(designer: Visitor, db: Session) -> None:
    imported = upload(designer, "canvas-export.csv", CANVAS_FILE)
    assert imported.status == 200, imported.text[:2000]
    assert imported.attributes("notice")[0]["data-notice"] == "imported"
    assert imported.texts("rubric-heading") == ["Coaching check-in"]
    assert imported.texts("criterion-title") == ["Listening", "Next steps"]

    version = db.scalars(select(RubricVersion)).one()
    content = rubrics.Rubric.from_dict(version.content)
    assert content.scoring_mode is rubrics.ScoringMode.POINTS
    assert [(c.identifier, c.weight) for c in content.criteria] == [("listening", 1), ("next-steps", 1)]
    assert [(level.title, str(level.max_points)) for level in content.criteria[0].levels] == [
        ("Not yet", "0"), ("Partly", "1.5"), ("Strong", "3")
    ]
    assert [(str(level.min_points), str(level.max_points)) for level in content.criteria[1].levels] == [
        ("0", "1"), ("1.01", "4")
    ]
    audit = db.scalars(select(AuditEntry).where(AuditEntry.action == "rubric.create")).one()
    assert audit.details["origin"] == "import:canvas:canvas-export.csv"


def test_a_canvas_file_is_recognised_by_its_header_whatever_its_name(designer: Visitor, db: Session) -> None:
    imported = upload(designer, "rubric.txt", CANVAS_FILE)
    assert imported.status == 200, imported.text[:2000]
    assert imported.texts("rubric-heading") == ["Coaching check-in"]
    assert rubric_count(db) == 1


def test_a_bad_canvas_file_shows_the_line_and_stores_nothing(designer: Visitor, db: Session) -> None:
    bad = CANVAS_FILE.replace("Partly,,1.5", "Partly,,lots").replace(",true,", ",maybe,")
    refused = upload(designer, "canvas.csv", bad)
    assert refused.status == 400
    assert refused.texts("import-filename") == ["canvas.csv"]
    assert refused.texts("problem-location") == ["line 2", "line 3"]
    assert refused.texts("import-problem") == [
        "line 2: column 10 'Rating Points 2': rating 'Partly' has points 'lots', which is not a number",
        "line 3: column 4 'Criteria Enable Range': expected true or false, got 'maybe'",
    ]
    assert rubric_count(db) == 0
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_canvas_file_with_several_rubrics_is_refused_naming_them(designer: Visitor, db: Session) -> None:
    several = CANVAS_FILE + "Second rubric,Tone,,false,Warm,,2,Cold,,0\r\n"
    refused = upload(designer, "canvas.csv", several)
    assert refused.status == 400
    assert refused.texts("import-problem") == [
        "file: this file holds 2 rubrics (Coaching check-in, Second rubric); import one at a time: keep the "
        "rows of one Rubric Name and upload the file again"
    ]
    assert rubric_count(db) == 0


def test_export_for_canvas_downloads_a_canvas_csv(designer: Visitor) -> None:
    rubric_id = template_rubric(designer, "communication")
    preview = designer.get(f"/rubrics/{rubric_id}")
    assert preview.texts("export-canvas-csv") == ["Export for Canvas (CSV)"]
    download = designer.get(preview.link("export-canvas-csv")).response
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"] == "attachment; filename=communication-v1.canvas.csv"
    header, *rows = csv.reader(io.StringIO(download.text, newline=""))
    assert header[:5] == [
        "Rubric Name", "Criteria Name", "Criteria Description", "Criteria Enable Range", "Rating Name 1"
    ]
    template = rubrics.get_template("communication")
    assert [row[1] for row in rows] == [criterion.title for criterion in template.criteria]
    assert rubrics.looks_like_canvas_csv(download.content)
    [back] = rubrics.import_canvas_csv(download.content)
    assert back.title == template.title


def test_levels_only_rubrics_offer_no_canvas_export(designer: Visitor) -> None:
    rubric_id = template_rubric(designer, "career-conversation-readiness")
    preview = designer.get(f"/rubrics/{rubric_id}")
    assert preview.attributes("export-csv") and not preview.attributes("export-canvas-csv")
    refused = designer.get(f"/rubrics/{rubric_id}/export.canvas.csv")
    assert refused.status == 422
    assert refused.texts("error-message") == [
        "'Career-conversation readiness' scores by levels only, without points; Canvas rubrics need points "
        "for every rating, so it cannot be exported for Canvas. Give the levels points (points or weighted "
        "percentage scoring) to export it."
    ]


def test_learners_and_other_courses_cannot_download_the_canvas_export(
    designer: Visitor, learner: Visitor, other_designer: Visitor
) -> None:
    rubric_id = template_rubric(designer, "communication")
    path = f"/rubrics/{rubric_id}/export.canvas.csv"
    assert not learner.get(f"/rubrics/{rubric_id}").attributes("export-canvas-csv")
    refused = learner.get(path)
    assert refused.status == 403
    assert refused.texts("error-message") == [
        "This page is for a designer or an administrator; you are signed in to Cadre as a learner in this "
        "course."
    ]
    not_found = other_designer.get(path)
    assert not_found.status == 404
    assert not_found.texts("error-message") == [services.RubricNotFound.message]
