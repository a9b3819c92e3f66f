"""Email addresses and phone numbers: the contact points a provider knows an account by."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import check_printable, nfkc_lower, require_text


@dataclass(frozen=True, slots=True)
class EmailId:
    """`key` is the address as written (lower-cased); `canonical` is where the mail really lands.

    The key stays as written so that two different spellings remain two nodes (evidence is not
    rewritten); `canonical` lets resolution see that j.doe+x@gmail.com and jdoe@gmail.com are one
    mailbox.
    """

    key: str
    canonical: str


_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
_LOCAL_FORBIDDEN = frozenset('()<>[]\\,;:"')


def _check_domain(domain: str, raw: str) -> None:
    if "." not in domain:
        raise InvalidIdentifier("email", raw, "domain has no dot")
    if len(domain) > 253:
        raise InvalidIdentifier("email", raw, "domain longer than 253 characters")
    for label in domain.split("."):
        if not label:
            raise InvalidIdentifier("email", raw, "domain has an empty label")
        try:
            ascii_label = label.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise InvalidIdentifier("email", raw, f"domain label {label!r} is not IDNA") from exc
        if not _LDH_LABEL.fullmatch(ascii_label):
            raise InvalidIdentifier("email", raw, f"domain label {label!r} has invalid characters")


def normalise_email(raw: str) -> EmailId:
    """Lower-cased address plus its provider-canonical form (gmail dots and `+tag` dropped).

    >>> normalise_email(" J.Doe+kik@GoogleMail.com ")
    EmailId(key='j.doe+kik@googlemail.com', canonical='jdoe@gmail.com')
    """
    text = require_text("email", raw)
    addr = nfkc_lower(text)
    if not addr:
        raise InvalidIdentifier("email", raw, "empty")
    if len(addr) > 254:
        raise InvalidIdentifier("email", raw, "longer than 254 characters")
    if addr.count("@") != 1:
        raise InvalidIdentifier("email", raw, "must contain exactly one @")
    local, domain = addr.split("@")
    if not local:
        raise InvalidIdentifier("email", raw, "empty local part")
    for ch in local:
        if ch.isspace() or ch in _LOCAL_FORBIDDEN or unicodedata.category(ch).startswith("C"):
            raise InvalidIdentifier("email", raw, f"local part contains {ch!r}")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidIdentifier("email", raw, "local part has an empty dot-separated segment")
    _check_domain(domain, raw)
    canonical_local = local.split("+", 1)[0] or local
    if domain in _GMAIL_DOMAINS:
        domain = "gmail.com"
        canonical_local = canonical_local.replace(".", "") or canonical_local
    return EmailId(key=addr, canonical=f"{canonical_local}@{domain}")


# --- phone ----------------------------------------------------------------------------------


def _calling_code(code: str, raw: str) -> int:
    digits = code.strip().removeprefix("+")
    if not (digits.isascii() and digits.isdigit() and 1 <= len(digits) <= 3):
        raise InvalidIdentifier("phone", raw, f"calling code {code!r} is not 1-3 digits")
    return int(digits)


def normalise_phone(raw: str, default_region: str = "US", calling_code: str | None = None) -> str:
    """E.164 form of a phone number.

    `calling_code` (NCMEC's `countryCallingCode`, "1" or "+44") applies when the number has no
    leading "+"; it picks the region, so national trunk prefixes ("07700 …" in the UK) are handled.
    A blank calling code counts as none (XML gives "" for an empty attribute).
    We require `is_possible_number` (right length for the country), not `is_valid_number`: the
    latter also checks allocated number ranges, which rejects fictional 555 numbers in synthetic
    data and newly allocated real ranges before the phonenumbers metadata knows them.

    >>> normalise_phone("(555) 555-0123")
    '+15555550123'
    """
    text = require_text("phone", raw, limit=64).strip()
    if not text:
        raise InvalidIdentifier("phone", raw, "empty")
    check_printable("phone", text, raw)
    region = default_region.upper() if isinstance(default_region, str) else ""
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidIdentifier("phone", raw, f"unknown default region {default_region!r}")
    to_parse = text
    code_text = require_text("phone", calling_code, limit=8) if calling_code is not None else ""
    if code_text.strip() and not text.startswith("+"):
        code = _calling_code(code_text, raw)
        code_region = phonenumbers.region_code_for_country_code(code)
        if code_region in phonenumbers.SUPPORTED_REGIONS:
            region = code_region
        else:  # non-geographic codes (e.g. +882) have no region to parse against
            to_parse = f"+{code} {text}"
    try:
        number = phonenumbers.parse(to_parse, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("phone", raw, f"does not parse: {exc}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier("phone", raw, "not a possible number (wrong length for country)")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    # A key must name one number: if the E.164 text reads back as another number (a national
    # prefix dropped from a number too short to keep it, e.g. "+31000000"), refuse to guess.
    again = phonenumbers.parse(e164, None)
    if not phonenumbers.is_possible_number(again) or phonenumbers.format_number(
            again, phonenumbers.PhoneNumberFormat.E164) != e164:
        raise InvalidIdentifier("phone", raw, "ambiguous: its E.164 form reads back as another number")
    return e164
