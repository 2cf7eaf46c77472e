"""Work products: what a learner submits in an activity (text and files) for their manager to review.

Every function takes the session and an :class:`~lti_tool.permissions.Actor`, asks
:mod:`lti_tool.permissions` (``can_submit_work_product``, ``can_read_work_product``) and never commits.

* :func:`submit_work_product` checks everything first (text, number of files, each file's name, type,
  content and size: ``uploads.stage``) and stores nothing when anything is wrong; the problems come back
  by field in :class:`WorkProductProblems`. Otherwise it adds the next **version**: a resubmission never
  changes an earlier one, and may keep some of the newest version's files without uploading them again.
* Two submissions at once (two tabs) are told apart by a conditional ``UPDATE … WHERE version_count =
  :seen``: the second is refused, with the form as typed, rather than numbered over the first.
* Files are in place only if the transaction commits (``uploads.publish``).
* Managers see the learner's versions beside their feedback form; where the activity requires a work
  product, :func:`missing_before_feedback` tells the feedback service to refuse a submission until one
  exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lti_tool import permissions
from lti_tool.db import utcnow
from lti_tool.deliverables import uploads
from lti_tool.deliverables.models import WorkProduct, WorkProductFile, WorkProductVersion
from lti_tool.deliverables.uploads import IncomingFile
from lti_tool.models import Activity, User, audit
from lti_tool.outbox import periodic
from lti_tool.outbox.jobs import Period
from lti_tool.permissions import Actor, ensure
from lti_tool.records import events as learning_records
from lti_tool.settings import Settings, get_settings

__all__ = ["IncomingFile", "WorkProductProblems", "submit_work_product"]

MAX_TEXT = 50_000
NOTHING_TO_SUBMIT = "Write your work in the text box, attach a file, or both: there is nothing to submit yet."
TEXT_TOO_LONG = "Your text is {length:,} characters long; the limit is {limit:,}. Attach the rest as a file."
TOO_MANY_FILES = (
    "{count} files for one version; the limit is {limit} (files kept from your previous version count "
    "too). Leave some out, or put them together in one document."
)
UNKNOWN_KEPT_FILE = (
    "A file to keep is not one of your newest version's files (it changed since this page was opened): "
    "choose again."
)
CHANGED_ELSEWHERE = (
    "You submitted version {number} from another tab or device after this page was opened, so Cadre stored "
    "nothing now. Your text is still in the form: compare it with version {number} below, then submit again."
)
NOT_SET_UP = "This activity is not set up yet: your course's designer is preparing it. Come back to it later."
CHOOSE_FILES_AGAIN = "Nothing was stored: files are never kept from a refused form, so choose them again."
NOT_SUBMITTED_YET = (
    "{name} has not submitted their work product yet. You can prepare your feedback and save it as a "
    "draft; you can submit it once {name} has submitted their work."
)
UNNAMED_LEARNER = "This learner"
"""Who :data:`NOT_SUBMITTED_YET` names when the roster has not given the learner's name (never an LTI id)."""


def not_submitted_yet(learner: User) -> str:
    return NOT_SUBMITTED_YET.format(name=learner.display_name if learner.is_named else UNNAMED_LEARNER)


class WorkProductProblems(Exception):
    """Nothing was stored; ``problems`` says why, by field (``text``, ``files``, ``form``)."""

    def __init__(self, problems: dict[str, list[str]], *, status: int = 400) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(message for messages in problems.values() for message in messages))


# -- finding ---------------------------------------------------------------------------------------------


def work_product_activity(session: Session, actor: Actor, activity_id: int) -> Activity:
    """An activity of the actor's course that takes work products (a guessed id is "not found")."""
    activity = session.get(Activity, activity_id)
    if activity is None:
        ensure(permissions.refuse(404, "Activity not found", permissions.ACTIVITY_NOT_FOUND))
    assert activity is not None
    ensure(permissions.can_view_activity(actor, activity))
    if not permissions.accepts_work_products(activity):
        ensure(permissions.refuse(400, "No work product here", permissions.NO_WORK_PRODUCT_HERE))
    return activity


def find_work_product(session: Session, activity_id: int, learner_id: int) -> WorkProduct | None:
    return session.scalars(
        select(WorkProduct).where(WorkProduct.activity_id == activity_id,
                                  WorkProduct.learner_id == learner_id)
    ).first()


def versions_of(session: Session, work_product: WorkProduct | None) -> list[WorkProductVersion]:
    """Every version, newest first, with their files (two queries)."""
    if work_product is None:
        return []
    return list(session.scalars(
        select(WorkProductVersion).where(WorkProductVersion.work_product_id == work_product.id)
        .options(selectinload(WorkProductVersion.files))
        .order_by(WorkProductVersion.number.desc())
    ))


def has_submitted(session: Session, activity_id: int, learner_id: int) -> bool:
    return session.scalar(
        select(WorkProduct.id).where(WorkProduct.activity_id == activity_id,
                                     WorkProduct.learner_id == learner_id, WorkProduct.version_count > 0)
    ) is not None


def learners_who_submitted(session: Session, activity_id: int, learner_ids: Iterable[int]) -> set[int]:
    """Of ``learner_ids``, those with a work product in the activity: one query (the manager's list)."""
    ids = list(learner_ids)
    if not ids:
        return set()
    return set(session.scalars(
        select(WorkProduct.learner_id).where(WorkProduct.activity_id == activity_id,
                                             WorkProduct.learner_id.in_(ids), WorkProduct.version_count > 0)
    ))


def missing_before_feedback(session: Session, activity: Activity, learner: User) -> str | None:
    """Why a manager may not submit feedback on ``learner`` yet (the activity requires a work product and
    there is none), or None."""
    if not activity.work_product_required or not permissions.accepts_work_products(activity):
        return None
    if has_submitted(session, activity.id, learner.id):
        return None
    return not_submitted_yet(learner)


@dataclass(frozen=True)
class WorkProductView:
    """A learner's work product in an activity as a page shows it."""

    activity: Activity
    learner: User
    work_product: WorkProduct | None
    versions: list[WorkProductVersion] = field(default_factory=list)
    """Newest first."""

    @property
    def latest(self) -> WorkProductVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def required(self) -> bool:
        return self.activity.work_product_required

    @property
    def version_count(self) -> int:
        return self.work_product.version_count if self.work_product else 0

    @property
    def holds_back_feedback(self) -> str | None:
        """Why the manager may not submit feedback yet (:func:`missing_before_feedback`, from what is
        loaded), or None."""
        if self.required and not self.versions:
            return not_submitted_yet(self.learner)
        return None


def own_work_product(session: Session, actor: Actor, activity: Activity) -> WorkProductView:
    """The learner's own work product in ``activity`` (none yet: an empty view)."""
    ensure(permissions.can_submit_work_product(actor, activity))
    learner = session.get(User, actor.user_id)
    assert learner is not None
    work_product = find_work_product(session, activity.id, actor.user_id)
    return WorkProductView(activity, learner, work_product, versions_of(session, work_product))


def work_product_for_review(session: Session, actor: Actor, activity: Activity,
                            learner: User) -> WorkProductView | None:
    """What the manager's feedback form shows of the learner's work: None where the activity takes none
    (or the actor may not read it)."""
    if not permissions.accepts_work_products(activity):
        return None
    work_product = find_work_product(session, activity.id, learner.id)
    if work_product is not None and not permissions.can_read_work_product(actor, work_product):
        return None
    return WorkProductView(activity, learner, work_product, versions_of(session, work_product))


def readable_file(session: Session, actor: Actor, activity_id: int, file_id: int) -> WorkProductFile:
    """A file of a work product of ``activity_id`` the actor may open; "not found" for everything else,
    including a real file of another activity under this activity's address."""
    found = session.get(WorkProductFile, file_id)
    work_product = found.version.work_product if found is not None else None
    if work_product is None or work_product.activity_id != activity_id:
        ensure(permissions.refuse(404, "Work product not found", permissions.WORK_PRODUCT_NOT_FOUND))
    assert found is not None and work_product is not None
    ensure(permissions.can_read_work_product(actor, work_product))
    return found


# -- submitting ------------------------------------------------------------------------------------------


def submit_work_product(session: Session, actor: Actor, activity: Activity, text: str,
                        files: Sequence[IncomingFile], *, keep_file_ids: Iterable[int] = (),
                        based_on: int | None = None, settings: Settings | None = None) -> WorkProductVersion:
    """Add the learner's next version of their work product in ``activity``: ``text`` (Markdown) and
    ``files``, plus the files of their newest version named in ``keep_file_ids``.

    ``based_on`` is the number of versions the learner's page showed (None: whatever is stored now); a
    submission made after another one the page did not show is refused (409). Anything wrong, nothing
    stored: :class:`WorkProductProblems`, with the problems by field.
    """
    ensure(permissions.can_submit_work_product(actor, activity))
    if activity.configured_at is None:
        raise WorkProductProblems({"form": [NOT_SET_UP]}, status=409)
    settings = settings or get_settings()
    text = (text or "").replace("\r\n", "\n")
    problems: dict[str, list[str]] = {}
    if len(text) > MAX_TEXT:
        problems.setdefault("text", []).append(TEXT_TOO_LONG.format(length=len(text), limit=MAX_TEXT))
    work_product = find_work_product(session, activity.id, actor.user_id)
    newest = versions_of(session, work_product)[:1]
    keep = set(keep_file_ids)
    kept = [file for version in newest for file in version.files if file.id in keep]
    if len(kept) != len(keep):
        problems.setdefault("files", []).append(UNKNOWN_KEPT_FILE)
    staged: list[uploads.StagedFile] = []
    if len(files) + len(kept) > settings.upload_max_files:
        problems.setdefault("files", []).append(
            TOO_MANY_FILES.format(count=len(files) + len(kept), limit=settings.upload_max_files))
    else:
        for incoming in files:
            try:
                staged.append(uploads.stage(settings, incoming))
            except uploads.FileRefused as refused:
                problems.setdefault("files", []).append(refused.message)
    if not problems and not text.strip() and not staged and not kept:
        problems["text"] = [NOTHING_TO_SUBMIT]
    if problems:
        uploads.discard(staged)
        raise WorkProductProblems(problems)
    try:
        work_product = work_product or _open_work_product(session, activity, actor)
        seen = work_product.version_count if based_on is None else based_on
        return _store_version(session, actor, settings, work_product, seen, text, staged, kept)
    finally:
        uploads.discard(staged)  # the ones not published yet, if storing failed half way


def _open_work_product(session: Session, activity: Activity, actor: Actor) -> WorkProduct:
    """The learner's row, made on their first submission. Two first submissions at once (two tabs) both
    reach here: ``INSERT … ON CONFLICT DO NOTHING`` lets the second wait for the first and take its row
    (whose revision check then refuses it). No SAVEPOINT: on SQLite, pysqlite would commit one that starts
    the transaction, and a later rollback of the request would leave the row behind."""
    now = utcnow()
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(WorkProduct.__table__)
        .values(activity_id=activity.id, learner_id=actor.user_id, version_count=0, created_at=now,
                updated_at=now)
        .on_conflict_do_nothing(index_elements=["activity_id", "learner_id"])
    )
    found = find_work_product(session, activity.id, actor.user_id)
    assert found is not None  # inserted now, or by the submission this one waited for
    return found


def _store_version(session: Session, actor: Actor, settings: Settings, work_product: WorkProduct, seen: int,
                   text: str, staged: list[uploads.StagedFile],
                   kept: list[WorkProductFile]) -> WorkProductVersion:
    """The one place a submission is stored: the version number claimed, the files put in place, the
    rows and the audit entry added. (Effects of a submission, such as a learning record, belong here.)"""
    now = utcnow()
    claimed = session.execute(
        update(WorkProduct)
        .where(WorkProduct.id == work_product.id, WorkProduct.version_count == seen)
        .values(version_count=seen + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(work_product)
        raise WorkProductProblems({"form": [CHANGED_ELSEWHERE.format(number=work_product.version_count)]},
                                  status=409)
    set_committed_value(work_product, "version_count", seen + 1)
    set_committed_value(work_product, "updated_at", now)
    version = WorkProductVersion(work_product_id=work_product.id, number=seen + 1, text=text,
                                 submitted_at=now, submitted_by_user_id=actor.user_id)
    for position, file in enumerate(kept, start=1):
        version.files.append(WorkProductFile(
            position=position, original_name=file.original_name, stored_name=file.stored_name,
            content_type=file.content_type, size_bytes=file.size_bytes, sha256=file.sha256))
    for position, staged_file in enumerate(staged, start=len(kept) + 1):
        uploads.publish(session, settings, staged_file)
        version.files.append(WorkProductFile(
            position=position, original_name=staged_file.original_name, stored_name=staged_file.stored_name,
            content_type=staged_file.content_type, size_bytes=staged_file.size_bytes,
            sha256=staged_file.sha256))
    session.add(version)
    session.flush()
    audit(session, actor, "work_product.submit", work_product_id=work_product.id, version=version.number,
          activity_id=work_product.activity_id, files=len(version.files))
    learning_records.work_product_submitted(session, work_product, version)
    return version


# -- files a crash left behind ---------------------------------------------------------------------------


@periodic("upload-sweep", every=timedelta(hours=6))
def sweep_unreferenced_uploads(session: Session, period: Period) -> str:
    """Files no row names (a process killed between writing a learner's file and committing its row)."""
    return f"{uploads.sweep(session, get_settings())} unreferenced upload(s) removed"
