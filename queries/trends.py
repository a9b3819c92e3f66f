"""What changes over time: reports, files and accounts per period, and how the networks grow.

A supervisor asks "are we seeing more of this, and is it new?": per period (day … year, by the
report's incident time, UTC) the number of reports and of providers reporting, the files and
accounts those reports name split into first appearances and ones already seen in an earlier
period, the hash-listed (known) files among them, and the sizes of the largest connected groups of
accounts as they stood at the end of the period.

"New" is judged against the whole graph, not the window asked for: a file first reported in 2024
is not new in a 2025 window. Groups grow from the scored account links of `queries.links` (the
same evidence the link panel shows, supernodes excluded), each link counted from the moment its
evidence first holds, so a period's sizes never depend on later reports.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise

from loaders.model import Label, Rel, cypher
from queries.bounds import as_utc
from queries.context import GraphContext
from queries.errors import BadInput
from queries.links import LinkRules, project_links
from queries.results import Link, parse_entity_id

MAX_POINTS = 1000
TOP_COMPONENTS = 3


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(slots=True)
class TrendPoint:
    start: datetime
    end: datetime  # exclusive
    reports: int = 0
    providers: int = 0
    files: int = 0
    new_files: int = 0
    known_files: int = 0
    accounts: int = 0
    new_accounts: int = 0
    #: Sizes of the largest account groups at `end`, largest first (at most TOP_COMPONENTS).
    largest_groups: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Trends:
    bucket: Bucket
    since: datetime | None  # None: the graph holds no dated report
    until: datetime | None
    points: list[TrendPoint]


#: A moment at which two accounts became linked; `queries.links` supplies them.
TimedLink = tuple[str, str, datetime]

_SPAN = cypher("""
MATCH (r:{report}) WHERE r.incident_at IS NOT NULL
RETURN min(r.incident_at) AS first, max(r.incident_at) AS last
""", report=Label.REPORT)

_REPORTS = cypher("""
MATCH (r:{report}) WHERE r.incident_at >= $since AND r.incident_at < $until
OPTIONAL MATCH (r)-[:{submitted}]->(p:{provider})
WITH datetime.truncate($unit, r.incident_at) AS bucket, r, p
RETURN bucket, count(DISTINCT r) AS reports, count(DISTINCT p) AS providers
""", report=Label.REPORT, provider=Label.PROVIDER, submitted=Rel.SUBMITTED_BY)

# A file's (an account's) first appearance is its earliest report anywhere in the graph, so it is
# computed once per file over all its reports, then counted in each period of the window it
# appears in.
_NAMED = """
MATCH (r:{report})-[:{rel}]->(x:{label}) WHERE r.incident_at >= $since AND r.incident_at < $until
WITH x, collect(DISTINCT datetime.truncate($unit, r.incident_at)) AS buckets
CALL (x) {
  MATCH (x)<-[:{rel}]-(r0:{report}) WHERE r0.incident_at IS NOT NULL
  RETURN min(r0.incident_at) AS first
}
UNWIND buckets AS bucket
RETURN bucket, count(*) AS seen, sum(CASE WHEN first >= bucket THEN 1 ELSE 0 END) AS new,
       sum(CASE WHEN x.known = true THEN 1 ELSE 0 END) AS known
"""
_FILES = cypher(_NAMED, report=Label.REPORT, rel=Rel.INCLUDES, label=Label.FILE)
_ACCOUNTS = cypher(_NAMED, report=Label.REPORT, rel=Rel.REPORTS, label=Label.ACCOUNT)
_REPORT_TIMES = cypher("""
UNWIND $keys AS key MATCH (r:{report} {key: key}) WHERE r.incident_at IS NOT NULL
RETURN r.key AS key, r.incident_at AS at
""", report=Label.REPORT)


def trends(ctx: GraphContext, since: datetime | None = None, until: datetime | None = None,
           bucket: Bucket | str = Bucket.MONTH,
           links: Callable[[GraphContext, datetime], Iterable[TimedLink]] | None = None) -> Trends:
    """Per-period counts from `since` (inclusive) to `until` (exclusive), whole periods.

    Without `since`/`until`, the span of the graph's dated reports. `links`, when given, yields
    timed account links up to a moment; the groups they form are measured at each period's end.
    """
    unit = _bucket(bucket)
    start, stop = as_utc(since, "from"), as_utc(until, "to")
    if start is None or stop is None:
        span = ctx.read(_SPAN)[0]
        if span["first"] is None:
            return Trends(unit, start, stop, [])
        start = start or span["first"].to_native()
        stop = stop or span["last"].to_native() + timedelta(microseconds=1)
    assert start is not None and stop is not None
    if stop <= start:
        raise BadInput(f"`to` ({stop.isoformat()}) must be after `from` ({start.isoformat()})")
    edges = period_starts(start, stop, unit)
    if len(edges) - 1 > MAX_POINTS:
        raise BadInput(f"{len(edges) - 1} {unit.value}s asked for, at most {MAX_POINTS}: "
                       "choose a longer period or a shorter range")
    points = [TrendPoint(a, b) for a, b in pairwise(edges)]
    index = {p.start: p for p in points}
    params = {"since": edges[0], "until": edges[-1], "unit": unit.value}
    for row in ctx.read(_REPORTS, **params):
        point = index[_native(row["bucket"])]
        point.reports, point.providers = row["reports"], row["providers"]
    for row in ctx.read(_FILES, **params):
        point = index[_native(row["bucket"])]
        point.files, point.new_files, point.known_files = row["seen"], row["new"], row["known"]
    for row in ctx.read(_ACCOUNTS, **params):
        point = index[_native(row["bucket"])]
        point.accounts, point.new_accounts = row["seen"], row["new"]
    if links is not None:
        for point, sizes in zip(points, group_growth(links(ctx, edges[-1]), [p.end for p in points]),
                                strict=True):
            point.largest_groups = sizes
    return Trends(unit, edges[0], edges[-1], points)


def timed_links(ctx: GraphContext, until: datetime | None = None,
                rules: LinkRules | None = None) -> list[TimedLink]:
    """The whole graph's scored account links (`queries.links.project_links`), each with the moment
    it first held: what `trends` grows its groups from.

    A piece of evidence holds from the incident time of the last report it rests on (a shared
    file counts once both accounts' reports are in); evidence citing no dated report holds from
    its latest matched use. A link holds from the first moment the evidence holding by then
    reaches `min_score`; links with no such moment before `until` are left out.
    """
    rules = rules or LinkRules()
    found = project_links(ctx, rules)
    cited = sorted({r for link in found for e in link.evidence for r in e.reports})
    at = {row["key"]: _native(row["at"]) for row in ctx.read(_REPORT_TIMES, keys=cited)}
    out = []
    for link in found:
        moment = _link_moment(link, at, rules.min_score)
        if moment is not None and (until is None or moment < until):
            out.append((parse_entity_id(link.a)[1], parse_entity_id(link.b)[1], moment))
    return out


def _link_moment(link: Link, report_at: dict[str, datetime], min_score: float) -> datetime | None:
    held = []
    for e in link.evidence:
        dated = [report_at[r] for r in e.reports if r in report_at]
        if dated and len(dated) == len(e.reports):
            moment: datetime | None = max(dated)
        else:
            moment = max(e.times, default=max(dated, default=None))
        if moment is not None:
            held.append((moment, e.contribution))
    total = 0.0
    for moment, contribution in sorted(held):
        total += contribution
        if total >= min_score:
            return moment
    return None


def period_starts(start: datetime, stop: datetime, unit: Bucket) -> list[datetime]:
    """The period boundaries covering [start, stop): the first at or before `start`, the last at
    or after `stop`, as Neo4j's `datetime.truncate` draws them (weeks start on Monday)."""
    edges = [truncate(start, unit)]
    while edges[-1] < stop:
        edges.append(_next(edges[-1], unit))
    if len(edges) == 1:
        edges.append(_next(edges[0], unit))
    return edges


def truncate(moment: datetime, unit: Bucket) -> datetime:
    moment = moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit is Bucket.DAY:
        return day
    if unit is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if unit is Bucket.MONTH:
        return day.replace(day=1)
    if unit is Bucket.QUARTER:
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def group_growth(links: Iterable[TimedLink], ends: list[datetime]) -> list[list[int]]:
    """For each moment of `ends` (ascending), the largest group sizes formed by links before it.

    Union-find over the links in time order: the whole history costs one pass, not one
    component computation per period.
    """
    parent: dict[str, str] = {}
    size: dict[str, int] = {}

    def find(x: str) -> str:
        if x not in parent:
            parent[x], size[x] = x, 1
            return x
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    ordered = sorted(links, key=lambda link: link[2])
    out: list[list[int]] = []
    i = 0
    for end in ends:
        while i < len(ordered) and ordered[i][2] < end:
            a, b, _ = ordered[i]
            ra, rb = find(a), find(b)
            if ra != rb:
                if size[ra] < size[rb]:
                    ra, rb = rb, ra
                parent[rb] = ra
                size[ra] += size.pop(rb)
            i += 1
        out.append([s for s in heapq.nlargest(TOP_COMPONENTS, size.values()) if s > 1])
    return out


def _next(moment: datetime, unit: Bucket) -> datetime:
    if unit is Bucket.DAY:
        return moment + timedelta(days=1)
    if unit is Bucket.WEEK:
        return moment + timedelta(weeks=1)
    months = {Bucket.MONTH: 1, Bucket.QUARTER: 3, Bucket.YEAR: 12}[unit]
    total = moment.month - 1 + months
    return moment.replace(year=moment.year + total // 12, month=total % 12 + 1)


def _bucket(value: Bucket | str) -> Bucket:
    try:
        return Bucket(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise BadInput(f"unknown period {value!r}; known: {', '.join(b.value for b in Bucket)}") from None


def _native(value: object) -> datetime:
    moment = value.to_native() if hasattr(value, "to_native") else value
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC)
