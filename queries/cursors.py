"""Opaque page cursors: where the last page ended, as text a client hands back unchanged.

A cursor is base64 of `<label>|<offset>`: the offset of the next item in the question's stable
order, and a readable label of the last item returned (its time or key) to ease debugging. Pages
are stable for an unchanged graph; a cursor that does not decode is a `BadInput`, never a crash.
"""

from __future__ import annotations

import base64
import binascii

from queries.errors import BadInput

MAX_OFFSET = 10_000_000


def encode(label: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{label}|{offset}".encode()).decode("ascii")


def decode(cursor: str | None) -> int:
    """The offset to continue from (0 without a cursor)."""
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
        offset = int(text.rsplit("|", 1)[1])
    except (ValueError, IndexError, UnicodeError, binascii.Error):
        raise BadInput(f"{cursor!r} is not a cursor this query returned") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise BadInput(f"{cursor!r} is not a cursor this query returned")
    return offset
