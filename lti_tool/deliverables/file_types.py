"""The kinds of file a learner may attach to a work product, and how Cadre tells that a file is one.

A file's type comes from its extension, and only from this table: the browser's declared type is never
trusted (browsers disagree about ``.csv``, ``.md`` and office files, and anyone can send any type). The
content must then look like what the extension promises (its leading bytes, or valid UTF-8 text), so a
page renamed ``notes.pdf`` is refused, and a file is served back with the table's type, never another.
HTML, SVG and scripts are not in the table: nothing a browser would run can be uploaded.

No imports from the rest of Cadre: ``lti_tool.settings`` validates ``CADRE_UPLOAD_TYPES`` with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

SNIFF_BYTES = 64 * 1024
"""How much of a file's start is read to check its kind (and that a text file is UTF-8)."""

ZIP = (b"PK\x03\x04",)
"""Office Open XML and OpenDocument files are zip archives."""


def _starts_with(*signatures: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(signatures)


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _utf8_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes (a binary file renamed ``.txt`` has them); the sniffed start may end in the
    middle of a character, which is not held against it."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        return len(head) >= SNIFF_BYTES and error.start >= len(head) - 3
    return True


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    looks_right: Callable[[bytes], bool]
    """Whether the first :data:`SNIFF_BYTES` of a file are what this type starts with."""


FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", "PDF document", _starts_with(b"%PDF-")),
    "docx": FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "Word document", _starts_with(*ZIP)),
    "xlsx": FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "Excel workbook", _starts_with(*ZIP)),
    "pptx": FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation",
                     "PowerPoint presentation", _starts_with(*ZIP)),
    "odt": FileType("application/vnd.oasis.opendocument.text", "OpenDocument text", _starts_with(*ZIP)),
    "ods": FileType("application/vnd.oasis.opendocument.spreadsheet", "OpenDocument spreadsheet",
                    _starts_with(*ZIP)),
    "odp": FileType("application/vnd.oasis.opendocument.presentation", "OpenDocument presentation",
                    _starts_with(*ZIP)),
    "txt": FileType("text/plain", "text file", _utf8_text),
    "md": FileType("text/markdown", "Markdown file", _utf8_text),
    "csv": FileType("text/csv", "CSV file", _utf8_text),
    "png": FileType("image/png", "PNG image", _starts_with(b"\x89PNG\r\n\x1a\n")),
    "jpg": FileType("image/jpeg", "JPEG image", _starts_with(b"\xff\xd8\xff")),
    "jpeg": FileType("image/jpeg", "JPEG image", _starts_with(b"\xff\xd8\xff")),
    "gif": FileType("image/gif", "GIF image", _starts_with(b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", "WebP image", _webp),
}

# Text types are stored without their charset: they are UTF-8 (checked), and Werkzeug adds
# "; charset=utf-8" when it serves a text/* type.
SERVED_TYPES = frozenset(file_type.content_type for file_type in FILE_TYPES.values())
"""The only types a stored file is ever served with (anything else goes out as a download of bytes)."""


def extension_of(name: str) -> str:
    """The lower-cased extension of a file name (``""`` without one; a leading dot is no extension)."""
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem.strip(".") else ""
