"""Names people type: screen names and provider names, and the Account and Location keys."""

from __future__ import annotations

import re
import unicodedata

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import (
    MAX_TEXT,
    check_printable,
    fixpoint,
    folded_words,
    nfkc_casefold,
    require_text,
)

_LEADING_AT = re.compile(r"^[\s@]+")


def normalise_screen_name(raw: str) -> str:
    """NFKC, casefolded, trimmed, leading "@" dropped: how a person would look a handle up.

    All leading "@" go (not only one), so the result is a fixed point: "@@x" and "@x" are one
    handle, and normalising a key again never changes it.

    >>> normalise_screen_name(" @Ｄark_Ｐrince ")
    'dark_prince'
    """
    text = require_text("screen name", raw)
    name = fixpoint(nfkc_casefold(text), lambda s: nfkc_casefold(_LEADING_AT.sub("", s)))
    if not name:
        raise InvalidIdentifier("screen name", raw, "empty")
    if len(name) > MAX_TEXT:
        raise InvalidIdentifier("screen name", raw, f"longer than {MAX_TEXT} characters")
    check_printable("screen name", name, raw)
    return name


def _strip_punctuation(word: str) -> str:
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start]).startswith("P"):
        start += 1
    while end > start and unicodedata.category(word[end - 1]).startswith("P"):
        end -= 1
    return word[start:end]


def normalise_provider(raw: str) -> str:
    """Provider key: casefolded words with punctuation cut from each word's ends.

    Punctuation inside a word stays ("x.com", "at&t"), so distinct brands do not collapse; commas
    and full stops of company suffixes go.

    >>> normalise_provider("Example Social, Inc.")
    'example social inc'
    """
    folded = folded_words("provider", raw)
    words = [w for w in (_strip_punctuation(w) for w in folded.split(" ")) if w]
    name = " ".join(words)
    if not name:
        raise InvalidIdentifier("provider", raw, "empty")
    if len(name) > MAX_TEXT:
        raise InvalidIdentifier("provider", raw, f"longer than {MAX_TEXT} characters")
    return name


def account_key(provider: str, esp_id: str | None, screen_name: str | None) -> str:
    """`<provider>:<esp id>`, else `<provider>:@<screen name>`.

    The provider's user id wins because screen names change and are reused; the id is only
    trimmed, never case-folded, since providers' ids may be case-sensitive.

    >>> account_key("Example Social, Inc.", None, "@Dark_Prince")
    'example social inc:@dark_prince'
    """
    prov = normalise_provider(provider)
    if esp_id is not None:
        ident = require_text("account", esp_id).strip()
        if ident:
            if len(ident) > MAX_TEXT:
                raise InvalidIdentifier("account", esp_id, f"longer than {MAX_TEXT} characters")
            check_printable("account", ident, esp_id)
            return f"{prov}:{ident}"
    if screen_name is not None and require_text("account", screen_name).strip():
        return f"{prov}:@{normalise_screen_name(screen_name)}"
    raise InvalidIdentifier("account", (esp_id, screen_name), "neither user id nor screen name")


def location_key(country: str | None, region: str | None, city: str | None) -> str:
    """`country/region/city`, two-letter country codes upper-cased, the rest casefolded.

    Missing trailing parts are left off ("US/california"); a missing middle part stays as an empty
    slot ("US//springfield") so the positions never shift.

    >>> location_key("us", "California", " Los  Angeles ")
    'US/california/los angeles'
    """
    parts: list[str] = []
    for part in (country, region, city):
        if part is None:
            parts.append("")
            continue
        folded = folded_words("location", part)
        if "/" in folded:
            raise InvalidIdentifier("location", part, "contains '/'")
        if len(folded) > MAX_TEXT:
            raise InvalidIdentifier("location", part, f"longer than {MAX_TEXT} characters")
        parts.append(folded)
    if len(parts[0]) == 2 and parts[0].isascii() and parts[0].isalpha():
        parts[0] = parts[0].upper()
    key = "/".join(parts).rstrip("/")
    if not key:
        raise InvalidIdentifier("location", (country, region, city), "all parts empty")
    return key
