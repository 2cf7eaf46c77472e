"""Work products through their service: versions, files on disk tied to the transaction, every bad input,
and who may read or submit what."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.deliverables import uploads, work_products
from lti_tool.deliverables.models import WorkProduct, WorkProductFile, WorkProductVersion
from lti_tool.deliverables.uploads import IncomingFile
from lti_tool.deliverables.work_products import WorkProductProblems, submit_work_product
from lti_tool.models import Activity, AuditEntry
from lti_tool.permissions import (
    NO_WORK_PRODUCT_HERE,
    WORK_PRODUCT_NOT_FOUND,
    WORK_PRODUCTS_LEARNERS_ONLY,
    Actor,
    PermissionDenied,
    can_read_work_product,
)
from lti_tool.settings import Settings
from lti_tool.states import ActivityKind, Assessors, CadreRole
from tests.feedback.conftest import Course, course  # noqa: F401 - the fixture

PDF = b"%PDF-1.7\n" + b"0" * 5000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, upload_dir=str(tmp_path / "uploads"), upload_max_bytes=10_000,  # type: ignore[call-arg]
                    upload_max_files=3, upload_types="pdf png txt docx")


@pytest.fixture
def review(course: Course) -> Activity:  # noqa: F811 - the fixture
    activity = course.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW)
    activity.work_product_required = True
    course.db.flush()
    return activity


def files_on_disk(settings: Settings) -> list[Path]:
    base = settings.upload_path()
    return sorted(path for path in base.rglob("*") if path.is_file()) if base.exists() else []


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def submit(db: Session, actor: Actor, activity: Activity, settings: Settings, text: str = "",
           files: list[tuple[str, bytes]] | None = None, **options: object) -> WorkProductVersion:
    incoming = [IncomingFile.from_bytes(name, data) for name, data in files or []]
    return submit_work_product(db, actor, activity, text, incoming, settings=settings, **options)  # type: ignore[arg-type]


# -- versions --------------------------------------------------------------------------------------------


def test_a_resubmission_adds_a_version_and_keeps_the_earlier_ones_and_their_files(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    first = submit(course.db, course.ana_actor, review, settings, "My **call notes**.",
                   [("call notes.pdf", PDF)])
    second = submit(course.db, course.ana_actor, review, settings, "Shorter notes.",
                    [("photo.png", PNG)], keep_file_ids=[first.files[0].id])
    third = submit(course.db, course.ana_actor, review, settings, "Text only.")
    course.db.commit()

    assert [first.number, second.number, third.number] == [1, 2, 3]
    work_product = course.db.scalars(select(WorkProduct)).one()
    assert work_product.version_count == 3 and work_product.learner_id == course.ana.id
    versions = work_products.versions_of(course.db, work_product)
    assert [version.number for version in versions] == [3, 2, 1]
    assert versions[2].text == "My **call notes**." and [f.original_name for f in versions[2].files] == [
        "call notes.pdf"]
    assert [f.original_name for f in versions[1].files] == ["call notes.pdf", "photo.png"]
    assert versions[0].files == []
    pdf = versions[2].files[0]
    assert pdf.content_type == "application/pdf" and pdf.size_bytes == len(PDF)
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert versions[1].files[0].stored_name == pdf.stored_name  # kept, not copied
    assert uploads.path_of(settings, pdf.stored_name).read_bytes() == PDF
    assert uploads.STORED_NAME.fullmatch(pdf.stored_name) and "call" not in pdf.stored_name
    assert len(files_on_disk(settings)) == 2
    assert (os.stat(uploads.path_of(settings, pdf.stored_name)).st_mode & 0o777) == 0o600
    audit = course.db.scalars(select(AuditEntry).where(AuditEntry.action == "work_product.submit")).all()
    assert [entry.details["version"] for entry in audit] == [1, 2, 3]


def test_a_submission_from_a_page_that_did_not_show_the_newest_version_is_refused(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    submit(course.db, course.ana_actor, review, settings, "From the first tab.", based_on=0)
    with pytest.raises(WorkProductProblems) as refused:
        submit(course.db, course.ana_actor, review, settings, "From the second tab.", [("a.pdf", PDF)],
               based_on=0)
    assert refused.value.status == 409
    assert refused.value.problems == {"form": [work_products.CHANGED_ELSEWHERE.format(number=1)]}
    course.db.rollback()
    assert files_on_disk(settings) == []  # the refused one's file went with its transaction


# -- files and the transaction ---------------------------------------------------------------------------


def test_a_rolled_back_submission_leaves_no_file_and_a_committed_one_keeps_its_file(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    course.db.commit()
    submit(course.db, course.ana_actor, review, settings, "", [("one.pdf", PDF), ("two.png", PNG)])
    assert len(files_on_disk(settings)) == 2  # in place while the transaction is open
    course.db.rollback()
    assert files_on_disk(settings) == [] and count(course.db, WorkProductFile) == 0

    version = submit(course.db, course.ana_actor, review, settings, "", [("one.pdf", PDF)])
    course.db.commit()
    (stored,) = files_on_disk(settings)
    assert stored.name == version.files[0].stored_name


def test_a_session_closed_without_commit_after_an_error_leaves_no_file(
    app: Flask, course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    course.db.commit()
    session = app.extensions["cadre.sessionmaker"]()
    activity = session.get(Activity, review.id)
    submit(session, course.ana_actor, activity, settings, "", [("one.pdf", PDF)])
    assert len(files_on_disk(settings)) == 1
    session.close()  # what the request teardown does when the view raised
    assert files_on_disk(settings) == []


def test_a_failure_half_way_through_storing_leaves_no_file(
    course: Course, review: Activity, settings: Settings, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    course.db.commit()
    real_publish = uploads.publish
    published: list[uploads.StagedFile] = []

    def publish_then_fail(session: Session, settings: Settings, staged: uploads.StagedFile) -> object:
        if published:
            raise OSError("disk full")
        published.append(staged)
        return real_publish(session, settings, staged)

    monkeypatch.setattr(uploads, "publish", publish_then_fail)
    with pytest.raises(OSError, match="disk full"):
        submit(course.db, course.ana_actor, review, settings, "", [("one.pdf", PDF), ("two.png", PNG)])
    course.db.rollback()
    assert files_on_disk(settings) == []  # neither the published one nor the staged one


def test_the_sweep_removes_old_files_no_row_names_and_keeps_the_others(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    version = submit(course.db, course.ana_actor, review, settings, "", [("kept.pdf", PDF)])
    course.db.commit()
    orphan = uploads.path_of(settings, "ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    leftover = settings.upload_path() / uploads.INCOMING / "half-written"
    leftover.write_bytes(b"partial")
    recent = uploads.path_of(settings, "cd" + "0" * 30)
    recent.parent.mkdir(exist_ok=True)
    recent.write_bytes(b"being committed right now")
    hour_ago = time.time() - 2 * uploads.SWEEP_AFTER_SECONDS
    for path in (orphan, leftover, uploads.path_of(settings, version.files[0].stored_name)):
        os.utime(path, (hour_ago, hour_ago))

    assert uploads.sweep(course.db, settings) == 2
    assert sorted(path.name for path in files_on_disk(settings)) == sorted(
        [version.files[0].stored_name, recent.name])


# -- bad input -------------------------------------------------------------------------------------------


BAD_FILES = {
    "too big": ("big.pdf", b"%PDF-" + b"0" * 10_000, uploads.TOO_BIG.format(name="big.pdf", limit="10 KB")),
    "refused type": ("run.exe", b"MZ\x90\x00", None),
    "html": ("page.html", b"<script>alert(1)</script>", None),
    "svg": ("logo.svg", b"<svg onload='alert(1)'/>", None),
    "no extension": ("README", b"hello", None),
    "not what it says": ("notes.pdf", b"<html><script>alert(1)</script>",
                         uploads.NOT_WHAT_IT_SAYS.format(name="notes.pdf", label="PDF document")),
    "binary as text": ("notes.txt", b"\x00\x01\x02binary",
                       uploads.NOT_WHAT_IT_SAYS.format(name="notes.txt", label="text file")),
    "empty file": ("empty.pdf", b"", uploads.EMPTY_FILE.format(name="empty.pdf")),
    "slash": ("../../etc/passwd.pdf", PDF, uploads.PATH_IN_NAME.format(name="../../etc/passwd.pdf")),
    "backslash": ("C:\\Users\\ana\\notes.pdf", PDF,
                  uploads.PATH_IN_NAME.format(name="C:\\Users\\ana\\notes.pdf")),
    "NUL": ("notes\x00.pdf", PDF, uploads.CONTROL_IN_NAME),
    "newline": ("notes\n.pdf", PDF, uploads.CONTROL_IN_NAME),
    "right-to-left override": ("cod\u202efdp.exe", PDF, uploads.CONTROL_IN_NAME),
    "only dots": ("...", PDF, uploads.ONLY_DOTS.format(name="...")),
    "no name": ("", PDF, uploads.NO_NAME),
    "too long": ("x" * 250 + ".pdf", PDF, uploads.NAME_TOO_LONG.format(name="x" * 60, limit=200)),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_with_its_reason_and_nothing_is_stored(
    case: str, course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    name, data, message = BAD_FILES[case]
    with pytest.raises(WorkProductProblems) as refused:
        submit(course.db, course.ana_actor, review, settings, "Some text, kept.",
               [("fine.png", PNG), (name, data)])
    expected = message or uploads.TYPE_REFUSED.format(name=name, accepted=uploads.accepted_list(settings))
    assert refused.value.problems == {"files": [expected]} and refused.value.status == 400
    assert files_on_disk(settings) == []  # not even the good file, nor a half-written one
    assert count(course.db, WorkProduct) == 0 and count(course.db, WorkProductVersion) == 0


@pytest.mark.parametrize(("text", "files", "field", "message"), [
    ("", [], "text", work_products.NOTHING_TO_SUBMIT),
    ("  \n\t ", [], "text", work_products.NOTHING_TO_SUBMIT),
    ("x" * (work_products.MAX_TEXT + 1), [], "text",
     work_products.TEXT_TOO_LONG.format(length=work_products.MAX_TEXT + 1, limit=work_products.MAX_TEXT)),
    ("Four files", [("a.pdf", PDF), ("b.pdf", PDF), ("c.pdf", PDF), ("d.pdf", PDF)], "files",
     work_products.TOO_MANY_FILES.format(count=4, limit=3)),
])
def test_an_empty_too_long_or_too_large_submission_is_refused(
    text: str, files: list[tuple[str, bytes]], field: str, message: str,
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    with pytest.raises(WorkProductProblems) as refused:
        submit(course.db, course.ana_actor, review, settings, text, files)
    assert refused.value.problems == {field: [message]}
    assert files_on_disk(settings) == [] and count(course.db, WorkProductVersion) == 0


def test_files_kept_from_a_version_that_is_not_the_newest_are_refused(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    first = submit(course.db, course.ana_actor, review, settings, "", [("one.pdf", PDF)])
    submit(course.db, course.ana_actor, review, settings, "Second, without the file.")
    with pytest.raises(WorkProductProblems) as refused:
        submit(course.db, course.ana_actor, review, settings, "Third.", keep_file_ids=[first.files[0].id])
    assert refused.value.problems == {"files": [work_products.UNKNOWN_KEPT_FILE]}
    other = course.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW)
    with pytest.raises(WorkProductProblems):  # nor a file of another activity's work product
        submit(course.db, course.ana_actor, other, settings, "Elsewhere.", keep_file_ids=[first.files[0].id])


def test_names_are_cleaned_for_display_and_never_become_paths() -> None:
    assert uploads.clean_file_name("Cafe\u0301  notes   v2.pdf. ") == "Café notes v2.pdf"
    assert uploads.clean_file_name(".hidden.pdf") == ".hidden.pdf"
    with pytest.raises(uploads.FileRefused):
        uploads.clean_file_name(" . . ")
    with pytest.raises(ValueError):
        uploads.path_of(Settings(_env_file=None), "../../secret_key")  # type: ignore[call-arg]


# -- who may --------------------------------------------------------------------------------------------


def test_only_learners_submit_and_only_where_the_activity_takes_a_work_product(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    with pytest.raises(PermissionDenied) as refused:
        submit(course.db, course.omar, review, settings, "On behalf of Ana")
    assert refused.value.decision.status == 403
    assert refused.value.decision.message == WORK_PRODUCTS_LEARNERS_ONLY
    feedback_only = course.activity(kind=ActivityKind.MANAGER_FEEDBACK)
    with pytest.raises(PermissionDenied) as refused:
        submit(course.db, course.ana_actor, feedback_only, settings, "Not asked for")
    assert refused.value.decision.message == NO_WORK_PRODUCT_HERE
    feedback_only.work_product_required = True  # the designer asks for one: now it takes one
    assert submit(course.db, course.ana_actor, feedback_only, settings, "Asked for").number == 1
    elsewhere = course.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW, context=course.other_context)
    with pytest.raises(PermissionDenied) as refused:
        submit(course.db, course.ana_actor, elsewhere, settings, "Another course")
    assert refused.value.decision.status == 404
    assert count(course.db, WorkProductVersion) == 1


@pytest.fixture
def readers(course: Course) -> Iterator[dict[str, Actor]]:  # noqa: F811
    yield {
        "ana (the learner)": course.ana_actor,
        "ben (another learner)": course.ben_actor,
        "omar (line manager)": course.omar,
        "rita (mentor of Ana)": course.rita,
        "sam (manager of Ana in another course)": course.stranger,
        "maya (designer)": course.designer,
        "designer of another course": Actor(course.designer.user_id, "Maya", course.platform.id,
                                            course.other_context.id, CadreRole.DESIGNER),
        "admin of the platform": Actor(course.designer.user_id, "Admin", course.platform.id,
                                       course.other_context.id, CadreRole.ADMIN),
        "admin of another platform": Actor(course.designer.user_id, "Admin", course.platform.id + 1000,
                                           None, CadreRole.ADMIN),
    }


@pytest.mark.parametrize(("assessors", "allowed"), [
    (Assessors.LINE_MANAGER, {"ana (the learner)", "omar (line manager)", "maya (designer)",
                              "admin of the platform"}),
    (Assessors.ANY_MANAGER, {"ana (the learner)", "omar (line manager)", "rita (mentor of Ana)",
                             "maya (designer)", "admin of the platform"}),
])
def test_who_reads_a_work_product_and_its_files(
    assessors: Assessors, allowed: set[str], course: Course, review: Activity,  # noqa: F811
    settings: Settings, readers: dict[str, Actor]
) -> None:
    review.assessors = assessors
    version = submit(course.db, course.ana_actor, review, settings, "Mine", [("mine.pdf", PDF)])
    course.db.flush()
    file_id = version.files[0].id
    work_product = course.db.scalars(select(WorkProduct)).one()
    may = {name for name, actor in readers.items() if can_read_work_product(actor, work_product)}
    assert may == allowed
    for name, actor in readers.items():
        if name in allowed:
            assert work_products.readable_file(course.db, actor, review.id, file_id).id == file_id
            continue
        with pytest.raises(PermissionDenied) as refused:
            work_products.readable_file(course.db, actor, review.id, file_id)
        assert refused.value.decision.status == 404, name
        assert refused.value.decision.message == WORK_PRODUCT_NOT_FOUND, name


def test_guessed_file_ids_and_a_file_under_another_activity_are_not_found(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    version = submit(course.db, course.ana_actor, review, settings, "", [("mine.pdf", PDF)])
    course.db.flush()
    other = course.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW)
    for activity_id, file_id in [(review.id, version.files[0].id + 1), (review.id, 0),
                                 (other.id, version.files[0].id)]:
        with pytest.raises(PermissionDenied) as refused:
            work_products.readable_file(course.db, course.ana_actor, activity_id, file_id)
        assert refused.value.decision.status == 404


def test_a_required_work_product_holds_back_the_managers_feedback_until_submitted(
    course: Course, review: Activity, settings: Settings  # noqa: F811
) -> None:
    assert work_products.missing_before_feedback(course.db, review, course.ana) == \
        work_products.NOT_SUBMITTED_YET.format(name="Ana Lima")
    assert work_products.learners_who_submitted(course.db, review.id, [course.ana.id, course.ben.id]) == set()
    submit(course.db, course.ana_actor, review, settings, "Done")
    assert work_products.missing_before_feedback(course.db, review, course.ana) is None
    assert work_products.learners_who_submitted(course.db, review.id, [course.ana.id, course.ben.id]) == {
        course.ana.id}
    review.work_product_required = False  # optional: never holds anything back
    assert work_products.missing_before_feedback(course.db, review, course.ben) is None


def test_the_upload_sweep_job_removes_what_a_crash_left_in_the_apps_upload_directory(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lti_tool.outbox.jobs import run_due_jobs

    settings = app.config["CADRE"].model_copy(update={"upload_dir": str(tmp_path / "uploads")})
    monkeypatch.setitem(app.config, "CADRE", settings)
    orphan = uploads.path_of(settings, "ef" + "1" * 30)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a crash")
    old = time.time() - 2 * uploads.SWEEP_AFTER_SECONDS
    os.utime(orphan, (old, old))
    with app.app_context():  # as under `cadre jobs run`
        (result,) = run_due_jobs(app, names=["upload-sweep"])
    assert result.ran and result.summary == "1 unreferenced upload(s) removed"
    assert not orphan.exists()


def test_two_first_submissions_at_once_make_one_version_and_refuse_the_other(
    live_app: Flask, tmp_path: Path
) -> None:
    """Two tabs submitting the learner's first version together, each in its own transaction: one is
    stored, the other is told it came second (409), and only the stored one's file stays."""
    import threading

    from lti_tool.db import session_scope
    from tests.feedback.conftest import course as build_course

    settings = live_app.config["CADRE"].model_copy(update={"upload_dir": str(tmp_path / "uploads")})
    with session_scope(live_app) as session:
        built = build_course.__wrapped__(session)  # type: ignore[attr-defined]
        activity_id = built.activity(kind=ActivityKind.WORK_PRODUCT_REVIEW).id
        ana = built.ana_actor
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def tab(name: str) -> None:
        try:
            with session_scope(live_app) as session:
                activity = session.get(Activity, activity_id)
                barrier.wait(timeout=10)
                submit(session, ana, activity, settings, f"From {name}", [(f"{name}.pdf", PDF)], based_on=0)
            outcomes.append("stored")
        except WorkProductProblems as refused:
            outcomes.append(f"refused {refused.status}")

    threads = [threading.Thread(target=tab, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused 409", "stored"]
    with session_scope(live_app) as session:
        (version,) = session.scalars(select(WorkProductVersion)).all()
        assert version.number == 1
        assert [path.name for path in files_on_disk(settings)] == [version.files[0].stored_name]
