"""Device identifiers (IMEI, advertising ids, MAC, GUID) keyed as `<type>:<id>`."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from stdnum import imei as stdnum_imei
from stdnum.exceptions import ValidationError as StdnumValidationError

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import MAX_TEXT, check_printable, nfkc_casefold, require_text

DeviceType = Literal["imei", "idfa", "gaid", "mac", "guid", "other"]

_DEVICE_TYPES: dict[str, DeviceType] = {
    "imei": "imei",
    "advertisingid": "idfa",
    "idfa": "idfa",
    "appleadvertisingid": "idfa",
    "googleadvertisingid": "gaid",
    "gaid": "gaid",
    "aaid": "gaid",
    "androidadvertisingid": "gaid",
    "mac": "mac",
    "macaddress": "mac",
    "guid": "guid",
    "uuid": "guid",
}
_UUID = re.compile(
    r"\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?",
    re.ASCII | re.IGNORECASE,
)
_MAC = re.compile(
    r"(?:[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4})"
    r"|(?:[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})|(?:[0-9a-f]{12})",
    re.ASCII | re.IGNORECASE,
)


def _device_type(id_type: str) -> DeviceType:
    folded = "".join(ch for ch in nfkc_casefold(id_type) if ch.isalnum())
    return _DEVICE_TYPES.get(folded, "other")


def _imei(value: str, raw: str) -> str:
    digits = re.sub(r"[\s-]", "", value)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidIdentifier("device", raw, "IMEI must be digits (spaces and dashes allowed)")
    if len(digits) != 15:
        raise InvalidIdentifier("device", raw, f"IMEI must have 15 digits, got {len(digits)}")
    try:
        stdnum_imei.validate(digits)
    except StdnumValidationError as exc:
        raise InvalidIdentifier("device", raw, f"IMEI check digit (Luhn) fails: {exc}") from exc
    if set(digits) == {"0"}:
        raise InvalidIdentifier("device", raw, "all-zero IMEI is a placeholder")
    return digits


def _uuid(value: str, raw: str, what: str) -> str:
    match = _UUID.fullmatch(value)
    if not match:
        raise InvalidIdentifier("device", raw, f"{what} must be a UUID (8-4-4-4-12 hex)")
    if set("".join(match.groups())) == {"0"}:
        # Opted-out iOS/Android devices all report the zero advertising id: it would merge
        # strangers.
        raise InvalidIdentifier("device", raw, f"all-zero {what} is a placeholder")
    return "-".join(match.groups()).lower()


def _mac(value: str, raw: str) -> str:
    if not _MAC.fullmatch(value):
        raise InvalidIdentifier("device", raw, "MAC must be 6 hex bytes (':', '-', '.' or none)")
    hexdigits = re.sub(r"[:.-]", "", value).lower()
    if hexdigits in ("0" * 12, "f" * 12):
        raise InvalidIdentifier("device", raw, "all-zero or broadcast MAC is not a device")
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


def normalise_device(id_type: str, raw: str) -> str:
    """`<type>:<id>`; unknown type spellings become "other", whose ids keep their case.

    >>> normalise_device("MAC Address", "00-1A-2B-3C-4D-5E")
    'mac:00:1a:2b:3c:4d:5e'
    """
    kind = _device_type(require_text("device", id_type))
    text = unicodedata.normalize("NFKC", require_text("device", raw)).strip()
    if not text:
        raise InvalidIdentifier("device", raw, "empty")
    check_printable("device", text, raw)
    if kind == "imei":
        value = _imei(text, raw)
    elif kind in ("idfa", "gaid", "guid"):
        value = _uuid(text, raw, kind.upper())
    elif kind == "mac":
        value = _mac(text, raw)
    else:
        if len(text) > MAX_TEXT:
            raise InvalidIdentifier("device", raw, f"longer than {MAX_TEXT} characters")
        value = text
    return f"{kind}:{value}"
