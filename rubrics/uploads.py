"""Reading an uploaded file as text, with a size limit checked before any parsing.

Checking the size first means a huge upload costs one ``len`` and never a parse.
"""

from __future__ import annotations

from rubrics.errors import ImportProblem, RubricImportError

DEFAULT_MAX_BYTES = 5_000_000


def read_upload(source: str | bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Return the upload as text (UTF-8, an Excel byte-order mark dropped) or raise RubricImportError."""
    size = len(source) if isinstance(source, bytes) else len(source.encode("utf-8"))
    if size > max_bytes:
        raise RubricImportError(
            [ImportProblem("file", f"the file is {size:,} bytes; the limit is {max_bytes:,}")]
        )
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = source[: error.start].count(b"\n") + 1
        message = f"the file is not UTF-8 text (byte {error.start + 1} cannot be read)"
        raise RubricImportError([ImportProblem(f"line {line}", message)]) from None
