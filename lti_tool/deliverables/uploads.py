"""Where learners' files are kept, and the checks they pass first.

**Storage.** Files live under ``CADRE_UPLOAD_DIR`` (``instance/uploads`` by default), outside the web root:
Cadre serves them only through a view that asks :func:`lti_tool.permissions.can_read_work_product`. Each is
stored under a random name (32 hex digits, fanned out by its first two) that says nothing of the
learner's name; the directories are ``0700`` and the files ``0600``.

**Checks** (:func:`stage`): the name is cleaned or refused (path separators, control or invisible
formatting characters, only dots, too long); the extension must be one of ``CADRE_UPLOAD_TYPES``; the
content must be what the extension promises (``file_types``); an empty file or one over
``CADRE_UPLOAD_MAX_BYTES`` is refused. While it is read, the file is written to ``.incoming/`` and hashed
(SHA-256), never held in memory whole.

**Atomic, and tied to the transaction.** :func:`publish` renames the checked file into place (same
file system: atomic, fsynced) and remembers it in the session; if that session's transaction ends in
anything but a commit (a rollback, an error page, a view that raised, a failed commit), the file is
removed. So a failed request leaves no file behind, and no row is ever committed without its file. A
process killed between the rename and the commit leaves an unreferenced file: :func:`sweep` (the
``upload-sweep`` job) removes those, and ``.incoming/`` leftovers, once they are an hour old.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from lti_tool.deliverables.file_types import FILE_TYPES, SERVED_TYPES, SNIFF_BYTES, extension_of
from lti_tool.settings import Settings

log = logging.getLogger("cadre.uploads")

CHUNK_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200
STORED_NAME = re.compile(r"[0-9a-f]{32}")
INCOMING = ".incoming"
SWEEP_AFTER_SECONDS = 3600
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
"""Control, invisible formatting (such as U+202E, which shows ``cod.exe`` as ``exe.doc``), surrogate,
private-use characters and line or paragraph separators."""

NO_NAME = "A file came without a name: choose it again."
PATH_IN_NAME = "“{name}” has a path separator (/ or \\) in its name: rename the file without one."
CONTROL_IN_NAME = (
    "The name of a file has control or invisible formatting characters in it: rename it with letters, "
    "digits, spaces and punctuation only."
)
ONLY_DOTS = "A file named “{name}” has no name but dots: rename it."
NAME_TOO_LONG = "“{name}…” has a name longer than {limit} characters: give it a shorter one."
TYPE_REFUSED = "“{name}” is not a kind of file Cadre accepts. You can attach: {accepted}."
NOT_WHAT_IT_SAYS = (
    "“{name}” is not what its name says: it does not contain a {label}. Save it again as a {label}, or "
    "rename it with the right extension."
)
EMPTY_FILE = "“{name}” is empty (0 bytes): choose the file with your work in it."
TOO_BIG = "“{name}” is larger than {limit}, the limit for one file: make it smaller, or split it."


class FileRefused(Exception):
    """A file that cannot be stored; ``message`` says why, for the person who chose it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def readable_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".rstrip("0").rstrip(".") + " MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def accepted_list(settings: Settings) -> str:
    """The accepted kinds, for people: ``PDF document (.pdf), Word document (.docx), …``."""
    return ", ".join(f"{FILE_TYPES[extension].label} (.{extension})"
                     for extension in settings.upload_types.split())


def _shown(name: str) -> str:
    """A name fit to be quoted back (escaped by the template anyway): refused characters as ``?``."""
    return "".join("?" if unicodedata.category(char) in REFUSED_CATEGORIES else char for char in name)[:80]


def clean_file_name(raw: str | None) -> str:
    """The learner's file name as Cadre keeps and shows it (NFC, runs of spaces as one, no trailing dots
    or spaces), or :class:`FileRefused`. A name is only ever shown and sent back as the download's name;
    it never becomes a path."""
    name = unicodedata.normalize("NFC", raw or "")
    if not name.strip():
        raise FileRefused(NO_NAME)
    if "/" in name or "\\" in name:
        raise FileRefused(PATH_IN_NAME.format(name=_shown(name)))
    if any(unicodedata.category(char) in REFUSED_CATEGORIES for char in name):
        raise FileRefused(CONTROL_IN_NAME)
    name = " ".join(name.split()).rstrip(". ")
    if not name.strip("."):
        raise FileRefused(ONLY_DOTS.format(name=_shown(raw or "")))
    if len(name) > MAX_NAME_LENGTH:
        raise FileRefused(NAME_TOO_LONG.format(name=name[:60], limit=MAX_NAME_LENGTH))
    return name


@dataclass(frozen=True)
class IncomingFile:
    """A file as it arrives: from a form (``from_upload``) or built by code (``from_bytes``: the demo
    seed, tests). ``stream`` is read once, in chunks."""

    name: str
    stream: BinaryIO

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> IncomingFile:
        return cls(name, io.BytesIO(data))


@dataclass
class StagedFile:
    """A file that passed every check, written under ``.incoming/`` and not yet in place."""

    original_name: str
    content_type: str
    size_bytes: int
    sha256: str
    temporary_path: Path
    stored_name: str = ""


def root(settings: Settings) -> Path:
    path = settings.upload_path()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def path_of(settings: Settings, stored_name: str) -> Path:
    """Where a stored file is; only names Cadre made are looked up."""
    if not STORED_NAME.fullmatch(stored_name):
        raise ValueError("not a stored file name")
    return settings.upload_path() / stored_name[:2] / stored_name


def served_type(content_type: str) -> str:
    """The type a stored file is served with: its own if the allow-list has it, else plain bytes."""
    return content_type if content_type in SERVED_TYPES else "application/octet-stream"


def stage(settings: Settings, incoming: IncomingFile) -> StagedFile:
    """Check ``incoming`` and write it under ``.incoming/``; :class:`FileRefused` (nothing left behind)
    when a check fails."""
    name = clean_file_name(incoming.name)
    extension = extension_of(name)
    if extension not in settings.upload_extensions:
        raise FileRefused(TYPE_REFUSED.format(name=name, accepted=accepted_list(settings)))
    file_type = FILE_TYPES[extension]
    incoming_dir = root(settings) / INCOMING
    incoming_dir.mkdir(mode=0o700, exist_ok=True)
    temporary = incoming_dir / secrets.token_hex(16)
    digest = hashlib.sha256()
    size = 0
    head = b""
    limit = settings.upload_max_bytes
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            while chunk := incoming.stream.read(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise FileRefused(TOO_BIG.format(name=name, limit=readable_size(limit)))
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                file.write(chunk)
            if size == 0:
                raise FileRefused(EMPTY_FILE.format(name=name))
            if not file_type.looks_right(head):
                raise FileRefused(NOT_WHAT_IT_SAYS.format(name=name, label=file_type.label))
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return StagedFile(name, file_type.content_type, size, digest.hexdigest(), temporary)


def discard(staged: Iterable[StagedFile]) -> None:
    for file in staged:
        file.temporary_path.unlink(missing_ok=True)


def publish(session: Session, settings: Settings, staged: StagedFile) -> StagedFile:
    """Move a staged file into place under a new random name, to be kept only if ``session`` commits."""
    stored_name = secrets.token_hex(16)
    target = path_of(settings, stored_name)
    target.parent.mkdir(mode=0o700, exist_ok=True)
    os.replace(staged.temporary_path, target)
    _fsync_directory(target.parent)
    session.info.setdefault(_UNCOMMITTED, []).append(target)
    staged.stored_name = stored_name
    return staged


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is still atomic
    finally:
        os.close(descriptor)


# -- tied to the transaction ---------------------------------------------------------------------------------

_UNCOMMITTED = "cadre.uploads.uncommitted"


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session: Session) -> None:
    # A SAVEPOINT released (begin_nested) is no commit: its files wait for the outer transaction.
    if not session.in_nested_transaction():
        session.info.pop(_UNCOMMITTED, None)


@event.listens_for(Session, "after_transaction_end")
def _remove_uncommitted_files(session: Session, transaction: SessionTransaction) -> None:
    """The session's outermost transaction ended without a commit (rolled back, or closed after an
    error): the files published in it belong to rows that do not exist."""
    if transaction.parent is not None:
        return
    for path in session.info.pop(_UNCOMMITTED, ()):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove an uploaded file whose transaction rolled back: %s", path.name)


# -- sweeping what a crash left ------------------------------------------------------------------------------


def sweep(session: Session, settings: Settings, *, older_than_seconds: float = SWEEP_AFTER_SECONDS) -> int:
    """Remove files no row names (a process killed between writing a file and committing its row) and
    ``.incoming/`` leftovers, once they are older than ``older_than_seconds``; the number removed."""
    from lti_tool.deliverables.models import WorkProductFile

    base = settings.upload_path()
    if not base.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    candidates = [path for path in base.glob("*/*") if path.is_file() and path.stat().st_mtime < cutoff]
    removed = 0
    names = [path.name for path in candidates if STORED_NAME.fullmatch(path.name)]
    known: set[str] = set()
    for start in range(0, len(names), 500):
        known.update(session.scalars(select(WorkProductFile.stored_name)
                                     .where(WorkProductFile.stored_name.in_(names[start:start + 500]))))
    for path in candidates:
        if path.parent.name == INCOMING or (STORED_NAME.fullmatch(path.name) and path.name not in known):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
