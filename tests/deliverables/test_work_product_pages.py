"""The work-product pages over real HTTP from the demo platform: a learner submits and resubmits, the files
come back as attachments to exactly the people who may read them, bad input is refused beside its field
with the text kept, and the manager reviews the work beside the feedback form."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool.db import session_scope
from lti_tool.deliverables import uploads, work_products
from lti_tool.deliverables.models import WorkProduct, WorkProductFile, WorkProductVersion
from lti_tool.lti.errors import ROLE_NOT_ALLOWED
from lti_tool.models import Assessment, User
from lti_tool.permissions import NO_WORK_PRODUCT_HERE, WORK_PRODUCT_NOT_FOUND
from lti_tool.settings import Settings
from tests.deliverables.test_activities import activities, place, save_settings
from tests.feedback.conftest import TEMPLATE
from tests.fixtures.platform import RunningPlatform
from tests.fixtures.visitors import OTHER_COURSE, Page, Visitor, create_from_template, visitor_from

PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 200 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Review:
    platform: RunningPlatform
    app: Flask
    activity_id: int
    settings: Settings
    open: Callable[..., Visitor]

    @property
    def page_path(self) -> str:
        return f"/activities/{self.activity_id}/work-product"

    def file_path(self, file_id: int) -> str:
        return f"/activities/{self.activity_id}/work-products/files/{file_id}"

    def user_id(self, sub: str) -> int:
        with session_scope(self.app) as session:
            found = session.scalar(select(User.id).where(User.sub == sub))
        assert found is not None, sub
        return found

    def rows(self, model: type) -> int:
        with session_scope(self.app) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0

    def files_on_disk(self) -> list[Path]:
        base = self.settings.upload_path()
        return sorted(path for path in base.rglob("*") if path.is_file()) if base.exists() else []

    def file_ids(self) -> list[int]:
        with session_scope(self.app) as session:
            return list(session.scalars(select(WorkProductFile.id).order_by(WorkProductFile.id)))


def place_review(platform: RunningPlatform, app: Flask, *, kind: str = "work_product_review",
                 required: bool = True) -> tuple[int, Callable[..., Visitor]]:
    link = place(platform, kind=kind, title="Review of your call notes")

    def open_activity(role: str, *, user: str | None = None, **options: Any) -> Visitor:
        return visitor_from(platform.launch_as(role, activity=link, user=user, **options), role)

    designer = open_activity("designer")
    rubric_id, _ = create_from_template(designer, TEMPLATE)
    activity = activities(app)[-1]
    saved = save_settings(designer, activity.id, rubric_id=str(rubric_id), assessors="line_manager",
                          feedback_release="on_submission", work_product_required="1" if required else "",
                          instructions="Attach your **call notes**.", due_date="", due_time="")
    assert saved.status == 200, saved.text[:1500]
    return activity.id, open_activity


@pytest.fixture
def review(platform: RunningPlatform, app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Review:
    """A work-product review requiring a work product, assessed by line managers (Omar: Ana and Ben);
    uploads go to this test's own directory, at most 3 files of 20 KB each."""
    settings = app.config["CADRE"].model_copy(update={
        "upload_dir": str(tmp_path / "uploads"), "upload_max_bytes": 20_000, "upload_max_files": 3})
    monkeypatch.setitem(app.config, "CADRE", settings)
    activity_id, open_activity = place_review(platform, app)
    return Review(platform, app, activity_id, settings, open_activity)


def send(visitor: Visitor, review: Review, text: str = "", files: list[tuple[str, bytes]] | None = None,
         **fields: Any) -> Page:
    """The learner's form as their browser sends it: every file under ``files`` (an empty part when no file
    was chosen, as browsers send it)."""
    page = visitor.get(review.page_path)
    form = page.form("work-product-form")
    data: dict[str, Any] = {**form.fields, "text": text, **fields}
    parts = [("files", (name, content, "application/octet-stream")) for name, content in files or []]
    no_file = [("files", ("", b"", "application/octet-stream"))]
    return visitor.post(review.page_path, data, files=parts or no_file)


def test_a_learner_submits_and_resubmits_and_each_version_is_kept(review: Review) -> None:
    ana = review.open("learner", user="learner-ana")
    page = ana.get(ana.home.link("work-product-link"))
    assert page.status == 200 and page.texts("activity-instructions") == ["Attach your call notes."]
    assert page.texts("required-note") and not page.attributes("work-product-version")
    feedback = ana.get(f"/activities/{review.activity_id}/feedback")  # her feedback page leads here too
    assert feedback.link("work-product-link") == review.page_path

    done = send(ana, review, "My notes of the **Acme** call.", [("call notes.pdf", PDF), ("board.png", PNG)])
    assert done.status == 200, done.text[:1500]
    assert done.texts("notice") == ["Version 1 submitted: your manager sees it beside their feedback form."]
    assert [row["data-version"] for row in done.attributes("work-product-version")] == ["1"]
    assert done.texts("work-product-text") == ["My notes of the Acme call."]  # Markdown, rendered
    names = [text.split(" (")[0] for text in done.texts("work-product-file")]
    assert names == ["call notes.pdf", "board.png"]
    assert done.texts("work-product-file")[0].endswith("(PDF document, 4 KB)")

    pdf_id, png_id = review.file_ids()
    kept = send(ana, review, "Second try.", [("summary.txt", "Résumé of the call".encode())],
                keep_file=str(pdf_id))
    assert kept.status == 200 and kept.texts("notice")[0].startswith("Version 2 submitted")
    assert [row["data-version"] for row in kept.attributes("work-product-version")] == ["2", "1"]
    newest = kept.parsed  # the newest version lists the kept PDF and the new text file
    assert [text.split(" (")[0] for text in kept.texts("work-product-file")][:2] == ["call notes.pdf",
                                                                                   "summary.txt"]
    assert review.rows(WorkProductVersion) == 2 and review.rows(WorkProduct) == 1
    assert len(review.files_on_disk()) == 3  # the kept PDF is stored once
    assert newest is not None

    downloaded = ana.client.get(review.file_path(pdf_id), headers={"X-Cadre-Launch": ana.launch_token})
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.headers["content-disposition"] == 'attachment; filename="call notes.pdf"'
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    assert downloaded.headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert "no-store" in downloaded.headers["cache-control"]
    text_id = review.file_ids()[-1]
    text = ana.client.get(review.file_path(text_id), headers={"X-Cadre-Launch": ana.launch_token})
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    with session_scope(review.app) as session:
        stored = session.get(WorkProductFile, text_id)
        assert stored is not None
        assert stored.sha256 == hashlib.sha256("Résumé of the call".encode()).hexdigest()


def test_a_file_with_a_name_beyond_ascii_downloads_under_that_name(review: Review) -> None:
    ana = review.open("learner", user="learner-ana")
    assert send(ana, review, "", [("Équipe – notes \"final\".pdf", PDF)]).status == 200
    (file_id,) = review.file_ids()
    answer = ana.client.get(review.file_path(file_id), headers={"X-Cadre-Launch": ana.launch_token})
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''%C3%89quipe%20%E2%80%93%20notes%20%22final%22.pdf" in disposition


def test_only_the_learner_their_line_manager_and_the_course_staff_open_the_files(review: Review) -> None:
    ana = review.open("learner", user="learner-ana")
    assert send(ana, review, "Mine", [("mine.pdf", PDF)]).status == 200
    (file_id,) = review.file_ids()
    path = review.file_path(file_id)

    def fetch(visitor: Visitor, address: str = path) -> int:
        return visitor.client.get(address, headers={"X-Cadre-Launch": visitor.launch_token}).status_code

    omar = review.open("manager")  # Ana's line manager
    designer = review.open("designer")
    admin = review.open("admin")
    assert [fetch(ana), fetch(omar), fetch(designer), fetch(admin)] == [200, 200, 200, 200]

    ben = review.open("learner", user="learner-ben")
    rita = review.open("manager", user="manager-rita")  # another team's manager
    other_manager = review.open("manager", claims={"context": OTHER_COURSE})
    other_designer = review.open("designer", claims={"context": OTHER_COURSE})
    for refused in (ben, rita, other_manager, other_designer):
        answer = refused.get(path)
        assert answer.status == 404, refused.role
        assert answer.texts("error-message") == [WORK_PRODUCT_NOT_FOUND]
    # Guessed ids, and the file under another activity's address.
    assert fetch(ana, review.file_path(file_id + 1)) == 404
    assert fetch(ana, f"/activities/{review.activity_id + 1}/work-products/files/{file_id}") == 404
    assert fetch(ana, "/activities/1/work-products/files/2147483648") == 404
    # Nobody but learners submit; nobody submits for another.
    assert omar.get(review.page_path).texts("error-message") == [
        ROLE_NOT_ALLOWED.format(allowed="a learner", role="a manager")]
    assert omar.post(review.page_path, {"text": "for Ana"}).status == 403
    assert other_manager.post(review.page_path, {"text": "x"}).status in (403, 404)
    assert review.rows(WorkProductVersion) == 1


BAD_UPLOADS = {
    "too big": ("big.pdf", b"%PDF-" + b"0" * 20_001, uploads.TOO_BIG.format(name="big.pdf", limit="20 KB")),
    "refused type": ("page.html", b"<script>alert(1)</script>", None),
    "not what its name says": ("notes.pdf", b"<script>alert(1)</script>",
                               uploads.NOT_WHAT_IT_SAYS.format(name="notes.pdf", label="PDF document")),
    "empty": ("empty.pdf", b"", uploads.EMPTY_FILE.format(name="empty.pdf")),
    "path separator": ("../../secret_key.pdf", PDF, uploads.PATH_IN_NAME.format(name="../../secret_key.pdf")),
    "backslash": ("..\\notes.pdf", PDF, uploads.PATH_IN_NAME.format(name="..\\notes.pdf")),
    "only dots": ("..", PDF, uploads.ONLY_DOTS.format(name="..")),
    # Browsers and httpx send control characters percent-encoded; an invisible one arrives as it is.
    "right-to-left override": ("cod\u202efdp.pdf", PDF, uploads.CONTROL_IN_NAME),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_beside_the_files_field_with_the_text_kept(case: str, review: Review) -> None:
    name, content, message = BAD_UPLOADS[case]
    ana = review.open("learner", user="learner-ana")
    refused = send(ana, review, "What I **typed**, kept.", [("fine.png", PNG), (name, content)])
    assert refused.status == 400, refused.text[:1500]
    accepted = uploads.accepted_list(review.settings)
    expected = message or uploads.TYPE_REFUSED.format(name=name, accepted=accepted)
    problems = {row["data-field"] for row in refused.attributes("problems")}
    assert problems == {"files"}
    assert refused.texts("problems") == [expected + work_products.CHOOSE_FILES_AGAIN]  # two items
    assert refused.form("work-product-form").fields["text"] == "What I **typed**, kept."
    assert refused.texts("problem-summary")
    assert review.rows(WorkProduct) == 0 and review.files_on_disk() == []


def test_a_request_that_fails_after_storing_its_files_leaves_no_file_and_no_row(
    review: Review, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_audit(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(work_products, "audit", failing_audit)
    ana = review.open("learner", user="learner-ana")
    failed = send(ana, review, "Lost", [("notes.pdf", PDF), ("board.png", PNG)])
    assert failed.status == 500
    assert review.files_on_disk() == []
    assert review.rows(WorkProductFile) == 0 and review.rows(WorkProduct) == 0


def test_an_empty_or_stale_submission_is_refused_and_too_many_files_too(review: Review) -> None:
    ana = review.open("learner", user="learner-ana")
    empty = send(ana, review, "   ")
    assert empty.status == 400
    assert [(row["data-field"]) for row in empty.attributes("problems")] == ["text"]
    assert empty.texts("problems") == [work_products.NOTHING_TO_SUBMIT]

    many = send(ana, review, "Four", [(f"{n}.png", PNG) for n in range(4)])
    assert many.status == 400 and many.texts("problems")[0].startswith(
        work_products.TOO_MANY_FILES.format(count=4, limit=3))

    opened = ana.get(review.page_path)  # this tab shows no version yet
    assert send(ana, review, "From another tab").status == 200
    stale = ana.submit(opened, "work-product-form", {"text": "From the first tab"})
    assert stale.status == 409
    assert stale.texts("problems") == [work_products.CHANGED_ELSEWHERE.format(number=1)]
    assert stale.form("work-product-form").fields["text"] == "From the first tab"
    assert review.rows(WorkProductVersion) == 1

    keep_junk = send(ana, review, "Keep junk", keep_file="not-a-number")
    assert keep_junk.status == 400 and review.rows(WorkProductVersion) == 1


def test_an_activity_without_a_work_product_has_no_work_product_page(platform: RunningPlatform,
                                                                    app: Flask) -> None:
    activity_id, open_activity = place_review(platform, app, kind="manager_feedback", required=False)
    ana = open_activity("learner", user="learner-ana")
    assert not ana.home.attributes("work-product-link")
    page = ana.get(f"/activities/{activity_id}/work-product")
    assert page.status == 400 and page.texts("error-message") == [NO_WORK_PRODUCT_HERE]
    assert ana.get("/activities/999999/work-product").status == 404


def test_the_manager_reviews_the_work_beside_the_feedback_form_and_may_submit_only_once_it_is_there(
    review: Review,
) -> None:
    omar = review.open("manager")
    ana_id = review.user_id("learner-ana")
    unnamed = omar.get(f"/activities/{review.activity_id}/people/{ana_id}/feedback")  # Ana never launched
    assert unnamed.texts("work-product-missing") == [
        work_products.NOT_SUBMITTED_YET.format(name=work_products.UNNAMED_LEARNER)]
    ana = review.open("learner", user="learner-ana")  # now Cadre knows her name
    people = omar.get(f"/activities/{review.activity_id}/people")
    assert [text for text in people.texts("person-status")] == ["Not started, waiting for work product"] * 2
    form_path = f"/activities/{review.activity_id}/people/{ana_id}/feedback"
    form = omar.get(form_path)
    assert form.texts("work-product-missing") == [work_products.NOT_SUBMITTED_YET.format(name="Ana Lima")]
    fields = {f"level-{criterion}": level for criterion, level in {
        "uses-the-training": "consistent", "effect-on-results": "starting", "consistency": "role-model",
        "next-step": "consistent"}.items()}
    fields.update({"comment-next-step": "Plan the next call.", "strengths": "Clear.", "next_steps": "More."})
    refused = omar.submit(form, "feedback-form", fields, button=("action", "submit"))
    assert refused.status == 400
    assert work_products.NOT_SUBMITTED_YET.format(name="Ana Lima") in refused.texts("problems")
    assert refused.form("feedback-form").fields["strengths"] == "Clear."  # what was typed, kept
    saved = omar.submit(form, "feedback-form", fields, button=("action", "save"))
    assert saved.status == 200  # a draft is fine

    assert send(ana, review, "First", [("notes.pdf", PDF)]).status == 200
    assert send(ana, review, "Second, with *more* detail").status == 200
    people = omar.get(f"/activities/{review.activity_id}/people")
    by_learner = dict(zip([row["data-learner-id"] for row in people.attributes("person")],
                          people.texts("person-status"), strict=True))
    assert by_learner[str(ana_id)] == "Draft"
    form = omar.get(form_path)
    assert not form.texts("work-product-missing")
    assert [row["data-version"] for row in form.attributes("work-product-version")] == ["2", "1"]
    assert form.texts("work-product-text")[0] == "Second, with more detail"
    first_file, kept_file = review.file_ids()  # version 2 kept version 1's file (the box is ticked)
    assert [link["href"] for link in form.attributes("file-link")] == [review.file_path(kept_file),
                                                                       review.file_path(first_file)]
    done = omar.submit(form, "feedback-form", fields, button=("action", "submit"))
    assert done.status == 200 and done.texts("notice") == ["Feedback submitted."]
    with session_scope(review.app) as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 1
