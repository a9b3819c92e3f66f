"""Event timestamps (to UTC) and birth dates, with placeholder years rejected."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import require_text

_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
    r"\s*(?P<tz>[Zz]|UTC|GMT|[+-][0-9]{2}(?::?[0-9]{2})?)?)?",
    re.ASCII,
)
_MIN_YEAR, _MAX_YEAR = 1970, 2100


def _offset(tz: str | None, raw: str) -> timezone | None:
    if tz is None:
        return None
    if tz in ("Z", "z", "UTC", "GMT"):
        return UTC
    digits = tz[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise InvalidIdentifier("timestamp", raw, f"UTC offset {tz} out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if tz[0] == "-" else delta)


def normalise_timestamp(raw: str) -> tuple[datetime, bool]:
    """UTC datetime and whether UTC was assumed (the text had no offset, or was a bare date).

    ISO 8601 with "T" or a space, optional seconds and fraction, offset "Z", "±hh:mm", "±hhmm",
    "±hh" or " UTC". Years outside 1970-2100 are rejected: they come from placeholders such as
    0000-00-00 or 9999-12-31, and would put an event at the ends of every timeline.

    >>> normalise_timestamp("2024-03-05T12:15:00+02:00")
    (datetime.datetime(2024, 3, 5, 10, 15, tzinfo=datetime.timezone.utc), False)
    """
    text = require_text("timestamp", raw, limit=64).strip()
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        raise InvalidIdentifier("timestamp", raw, "not an ISO 8601 date-time")
    g = match.groupdict()
    if not _MIN_YEAR - 1 <= int(g["y"]) <= _MAX_YEAR + 1:
        raise InvalidIdentifier(
            "timestamp", raw, f"year {g['y']} out of plausible range {_MIN_YEAR}-{_MAX_YEAR}"
        )
    tz = _offset(g["tz"], raw)
    fraction = int((g["f"] or "0").ljust(6, "0")[:6])
    try:
        value = datetime(
            int(g["y"]), int(g["mo"]), int(g["d"]), int(g["h"] or 0), int(g["mi"] or 0),
            int(g["s"] or 0), fraction, tzinfo=tz or UTC,
        )
    except ValueError as exc:
        raise InvalidIdentifier("timestamp", raw, f"no such date or time: {exc}") from exc
    value = value.astimezone(UTC)
    if not _MIN_YEAR <= value.year <= _MAX_YEAR:
        raise InvalidIdentifier(
            "timestamp", raw, f"{value.isoformat()} out of plausible range {_MIN_YEAR}-{_MAX_YEAR}"
        )
    return value, tz is None


_DATE_FORMS = (
    re.compile(r"(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?:Z|[+-][0-9]{2}:[0-9]{2})?",
               re.ASCII),
    re.compile(r"(?P<y>[0-9]{4})/(?P<m>[0-9]{2})/(?P<d>[0-9]{2})", re.ASCII),
    re.compile(r"(?P<m>[0-9]{1,2})/(?P<d>[0-9]{1,2})/(?P<y>[0-9]{4})", re.ASCII),
)


def normalise_date(raw: str) -> date:
    """A birth date from YYYY-MM-DD, YYYY/MM/DD or US MM/DD/YYYY; 1900 to today.

    Day-first forms are not accepted: 03/04/1990 would be read as 4 March by a US provider and
    3 April by a European one, and a wrong birth date misleads resolution. An xs:date offset
    ("1990-04-03Z") is ignored, since a birth date is a calendar day, not an instant.

    >>> normalise_date("4/3/1990")
    datetime.date(1990, 4, 3)
    """
    text = require_text("date", raw, limit=64).strip()
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            break
    else:
        raise InvalidIdentifier("date", raw, "expected YYYY-MM-DD, YYYY/MM/DD or MM/DD/YYYY")
    try:
        value = date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError as exc:
        raise InvalidIdentifier("date", raw, f"no such date: {exc}") from exc
    today = date.today()
    if value.year < 1900 or value > today:
        raise InvalidIdentifier("date", raw, f"outside 1900-01-01 to {today.isoformat()}")
    return value
