"""Time-windowed co-use: two accounts on one address (or device) within a window of each other.

DESIGN.md §6: two accounts on one IP address are linked only when their uses fall within a
window (default one hour), never merely because the address appears in both. A household's
router or a café's Wi-Fi is shared by people who never meet; two accounts logging in from one
address minutes apart is what ties them.

A use is a moment and the report that saw it. The loader keeps that pairing on USED_IP,
USED_DEVICE and SHARED relationships as `uses` (`"<ISO time>|<report key>"`, loaders/model.py);
relationships written before it have only `times` and `sources`, and their moments are tied to a
report only when the relationship has a single source.

>>> from datetime import UTC, datetime
>>> t = datetime(2024, 3, 1, 8, 0, tzinfo=UTC).timestamp()
>>> uses = [Use("a", t, "r1"), Use("b", t + 59 * 60, "r2"), Use("c", t + 120 * 60, "r3")]
>>> sorted(co_uses(uses, 3600))
[('a', 'b')]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loaders.model import parse_use_stamp


@dataclass(frozen=True, slots=True)
class Use:
    account: str  # account key
    at: float  # seconds since the epoch, UTC
    report: str | None  # the report that saw this use (None: not known, see the module docstring)


@dataclass(frozen=True, slots=True)
class CoUse:
    """One matching pair of uses: account a's and account b's, `gap_s` apart (a < b by key)."""

    a_time: datetime
    b_time: datetime
    a_report: str | None
    b_report: str | None
    gap_s: float


def uses_from(account: str, stamps: list[str] | None, times: list[float] | None,
              sources: list[str] | None) -> list[Use]:
    """The uses on one relationship, from its `uses` stamps or, failing those, its times.

    `times` are seconds since the epoch (the query sends `t.epochSeconds`, not driver temporals,
    which are slow to decode).
    """
    if stamps:
        out = []
        for stamp in stamps:
            moment, report = parse_use_stamp(stamp)
            out.append(Use(account, moment.timestamp(), report or None))
        return out
    only = sources[0] if sources and len(sources) == 1 else None
    return [Use(account, float(t), only) for t in (times or [])]


def co_uses(uses: Iterable[Use], window_s: float) -> dict[tuple[str, str], list[CoUse]]:
    """Every pair of uses by two different accounts at most `window_s` apart, by account pair.

    The window is closed: a gap of exactly `window_s` matches. Pairs are keyed (a, b) with a < b.
    Cost: a sort, then a sweep that looks only at uses inside the window, O(n log n + matches).
    """
    ordered = sorted(uses, key=lambda u: (u.at, u.account, u.report or ""))
    found: dict[tuple[str, str], list[CoUse]] = {}
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:]:
            gap = second.at - first.at
            if gap > window_s:
                break
            if first.account == second.account:
                continue
            a, b = (first, second) if first.account < second.account else (second, first)
            found.setdefault((a.account, b.account), []).append(
                CoUse(_moment(a.at), _moment(b.at), a.report, b.report, gap))
    return found


def closest(matches: list[CoUse]) -> CoUse:
    return min(matches, key=lambda m: (m.gap_s, m.a_time))


def _moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def rows_to_uses(rows: list[list[Any]]) -> list[Use]:
    """[account key, uses stamps, times (epoch s), sources] rows, as the link queries return them."""
    out: list[Use] = []
    for account, stamps, times, sources in rows:
        out += uses_from(account, stamps, times, sources)
    return out
