"""Text handling every normaliser shares: type and size guards, Unicode folding to a fixed point."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from loaders.errors import InvalidIdentifier

#: Longest free text (screen name, provider, device id, location part) we accept as a key part.
MAX_TEXT = 256
#: Anything much longer than the longest valid value is rejected before any Unicode work on it.
MAX_RAW = 4096


def require_text(kind: str, raw: object, limit: int = MAX_RAW) -> str:
    """Reject non-text and absurdly long input up front, so callers only ever see our error."""
    if not isinstance(raw, str):
        raise InvalidIdentifier(kind, raw, f"expected text, got {type(raw).__name__}")
    if len(raw) > limit:
        raise InvalidIdentifier(kind, raw, f"longer than {limit} characters")
    return raw


def check_printable(kind: str, value: str, raw: str) -> None:
    """Control characters and lone surrogates never belong in an identifier; they mark damage."""
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise InvalidIdentifier(kind, raw, f"contains control character U+{ord(ch):04X}")


def fixpoint(value: str, step: Callable[[str], str]) -> str:
    """Apply `step` until stable: NFKC and case mapping can each undo the other's normal form."""
    for _ in range(4):
        nxt = step(value)
        if nxt == value:
            return value
        value = nxt
    return value


def nfkc_casefold(value: str) -> str:
    """Caseless comparison form (for handles and names, where "ß" and "ss" are one spelling)."""
    return fixpoint(value, lambda s: unicodedata.normalize("NFKC", s).casefold().strip())


def nfkc_lower(value: str) -> str:
    """Lower-case form that keeps "ß" distinct, as mail servers do."""
    return fixpoint(value, lambda s: unicodedata.normalize("NFKC", s).lower().strip())


def folded_words(kind: str, raw: object) -> str:
    """NFKC, casefold and collapse whitespace: the comparable form of a name typed by a person."""
    text = require_text(kind, raw)
    folded = fixpoint(
        text, lambda s: " ".join(unicodedata.normalize("NFKC", s).casefold().split())
    )
    check_printable(kind, folded, text)
    return folded
