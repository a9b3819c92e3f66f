"""Trends against a real Neo4j: per-period counts checked against the same facts pulled from the
graph with plain queries and counted in Python, periods drawn as Neo4j draws them, "new" judged
against the whole graph, group growth, bounds, and the GraphQL field."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import networkx as nx
import pytest

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.model import Label, Rel, cypher
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.errors import BadInput
from queries.links import project_links
from queries.trends import Bucket, group_growth, period_starts, timed_links, trends, truncate
from tests.signin import signed_in


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("referrals")
    planted = generate(out, reports=400, seed=11)
    assert not load_files(graph, [out / name for name in planted.files], parse_cybertip).failed
    return planted


@pytest.fixture(scope="module")
def ctx(truth: Truth, graph: GraphWriter) -> GraphContext:
    return GraphContext(graph.driver, graph.database)


def native(value: Any) -> datetime:
    return value.to_native().astimezone(UTC)


def expected(ctx: GraphContext, unit: Bucket) -> dict[datetime, dict[str, int]]:
    """The counts per period, from (report time, named thing) pairs counted in Python."""
    per: dict[datetime, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    reports = ctx.read("MATCH (r:Report) WHERE r.incident_at IS NOT NULL "
                       "OPTIONAL MATCH (r)-[:SUBMITTED_BY]->(p:Provider) RETURN r.incident_at AS at, p.key AS p")
    providers: dict[datetime, set[str]] = defaultdict(set)
    for row in reports:
        bucket = truncate(native(row["at"]), unit)
        per[bucket]["reports"] += 1
        if row["p"] is not None:
            providers[bucket].add(row["p"])
    for bucket, names in providers.items():
        per[bucket]["providers"] = len(names)
    for rel, label, name in ((Rel.INCLUDES, Label.FILE, "files"), (Rel.REPORTS, Label.ACCOUNT, "accounts")):
        rows = ctx.read(cypher("MATCH (r:Report)-[:{rel}]->(x:{label}) WHERE r.incident_at IS NOT NULL "
                               "RETURN r.incident_at AS at, x.key AS key, coalesce(x.known, false) AS known",
                               rel=rel, label=label))
        first: dict[str, datetime] = {}
        seen: dict[datetime, set[str]] = defaultdict(set)
        known: set[str] = set()
        for row in rows:
            at = native(row["at"])
            first[row["key"]] = min(at, first.get(row["key"], at))
            seen[truncate(at, unit)].add(row["key"])
            if row["known"]:
                known.add(row["key"])
        for bucket, keys in seen.items():
            per[bucket][name] = len(keys)
            per[bucket]["new_" + name] = sum(1 for k in keys if truncate(first[k], unit) == bucket)
            if name == "files":
                per[bucket]["known_files"] = len(keys & known)
    return per


FIELDS = ("reports", "providers", "files", "new_files", "known_files", "accounts", "new_accounts")


@pytest.mark.parametrize("unit", [Bucket.MONTH, Bucket.WEEK, Bucket.QUARTER])
def test_counts_match_the_graph_counted_by_hand(ctx: GraphContext, unit: Bucket) -> None:
    found = trends(ctx, bucket=unit)
    want = expected(ctx, unit)
    assert found.points, "synthetic reports span several periods"
    assert {p.start for p in found.points} >= set(want)
    for point in found.points:
        assert {f: getattr(point, f) for f in FIELDS} == {f: want.get(point.start, {}).get(f, 0) for f in FIELDS}
        assert point.end > point.start
    assert sum(p.reports for p in found.points) == ctx.read(
        "MATCH (r:Report) WHERE r.incident_at IS NOT NULL RETURN count(r) AS n")[0]["n"]
    # Periods tile the span: each ends where the next starts, with no gap.
    assert all(a.end == b.start for a, b in zip(found.points, found.points[1:], strict=False))


def test_new_is_judged_against_the_whole_graph_not_the_window(ctx: GraphContext) -> None:
    whole = trends(ctx, bucket=Bucket.MONTH)
    later = whole.points[len(whole.points) // 2:]
    window = trends(ctx, since=later[0].start, until=later[-1].end, bucket=Bucket.MONTH)
    assert [(p.start, p.files, p.new_files, p.new_accounts) for p in window.points] == \
           [(p.start, p.files, p.new_files, p.new_accounts) for p in later]
    # Files seen before the window are not new in it, so its first period is not "all new".
    first = window.points[0]
    assert first.new_files < first.files


def test_window_is_whole_periods_with_exclusive_end(ctx: GraphContext) -> None:
    found = trends(ctx, since=utc(2024, 2, 14, 9), until=utc(2024, 4, 1), bucket=Bucket.MONTH)
    assert [p.start for p in found.points] == [utc(2024, 2, 1), utc(2024, 3, 1)]
    assert found.until == utc(2024, 4, 1)


def test_period_boundaries_agree_with_neo4j(ctx: GraphContext) -> None:
    moments = [utc(2024, 1, 1), utc(2024, 2, 29, 23, 59), utc(2023, 12, 31, 12), utc(2024, 7, 7, 0, 0, 1),
               utc(2025, 10, 1)]
    for unit in Bucket:
        rows = ctx.read("UNWIND $moments AS m RETURN datetime.truncate($unit, m) AS b",
                        moments=moments, unit=unit.value)
        assert [native(row["b"]) for row in rows] == [truncate(m, unit) for m in moments], unit


def test_period_starts() -> None:
    assert period_starts(utc(2024, 11, 20), utc(2025, 2, 1), Bucket.MONTH) == \
        [utc(2024, 11, 1), utc(2024, 12, 1), utc(2025, 1, 1), utc(2025, 2, 1)]
    assert period_starts(utc(2024, 1, 3), utc(2024, 1, 9), Bucket.WEEK) == \
        [utc(2024, 1, 1), utc(2024, 1, 8), utc(2024, 1, 15)]  # Mondays
    assert period_starts(utc(2024, 5, 5), utc(2024, 5, 5, 1), Bucket.QUARTER) == [utc(2024, 4, 1), utc(2024, 7, 1)]
    assert period_starts(utc(2024, 12, 31), utc(2025, 1, 1), Bucket.YEAR) == [utc(2024, 1, 1), utc(2025, 1, 1)]


def test_group_growth_follows_links_in_time() -> None:
    t = utc(2024, 1, 1)
    links = [("b", "c", t + timedelta(days=20)), ("a", "b", t), ("d", "e", t + timedelta(days=10)),
             ("a", "c", t + timedelta(days=25))]
    ends = [t - timedelta(days=1), t + timedelta(days=1), t + timedelta(days=11), t + timedelta(days=21),
            t + timedelta(days=30)]
    assert group_growth(links, ends) == [[], [2], [2, 2], [3, 2], [3, 2]]


def test_groups_grow_from_the_links_given(ctx: GraphContext) -> None:
    start = trends(ctx, bucket=Bucket.QUARTER).points
    accounts = [row["key"] for row in ctx.read("MATCH (a:Account) RETURN a.key AS key ORDER BY key LIMIT 5")]
    moment = start[1].start

    def chain(_: GraphContext, until: datetime) -> list[tuple[str, str, datetime]]:
        assert until == start[-1].end
        return [(a, b, moment) for a, b in pairwise(accounts)]

    found = trends(ctx, bucket=Bucket.QUARTER, links=chain).points
    assert found[0].largest_groups == []
    assert all(p.largest_groups == [5] for p in found[1:])


def test_refusals(ctx: GraphContext) -> None:
    with pytest.raises(BadInput, match="after"):
        trends(ctx, since=utc(2024, 3, 1), until=utc(2024, 3, 1))
    with pytest.raises(BadInput, match="at most"):
        trends(ctx, since=utc(2000, 1, 1), until=utc(2024, 1, 1), bucket=Bucket.DAY)
    with pytest.raises(BadInput, match="unknown period"):
        trends(ctx, bucket="fortnight")


def test_graphql_field(ctx: GraphContext, neo4j_settings: Settings) -> None:
    want = trends(ctx, bucket=Bucket.QUARTER)
    query = """query($from: DateTime) { trends(bucket: QUARTER, from: $from) {
        bucket since until points { start end reports providers files newFiles knownFiles accounts
        newAccounts largestGroups } } }"""
    with signed_in(create_app(neo4j_settings)) as client:
        body = client.post("/graphql", json={"query": query}).json()
        assert "errors" not in body, body
        got = body["data"]["trends"]
        assert got["bucket"] == "QUARTER"
        assert [p["reports"] for p in got["points"]] == [p.reports for p in want.points]
        assert [p["newFiles"] for p in got["points"]] == [p.new_files for p in want.points]
        assert datetime.fromisoformat(got["points"][0]["start"]) == want.points[0].start
        bad = client.post("/graphql", json={"query": query, "variables": {"from": "2999-01-01T00:00:00Z"}}).json()
        assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_timed_links_hold_once_their_evidence_is_in(ctx: GraphContext) -> None:
    projected = {(link.a.split(":", 1)[1], link.b.split(":", 1)[1]): link for link in project_links(ctx)}
    timed = timed_links(ctx)
    assert len(timed) == len(projected) > 20  # every synthetic report is dated
    report_at = {row["key"]: native(row["at"]) for row in ctx.read(
        "MATCH (r:Report) WHERE r.incident_at IS NOT NULL RETURN r.key AS key, r.incident_at AS at")}
    for a, b, moment in timed:
        link = projected[(a, b)]
        complete = [(max(report_at[r] for r in e.reports), e.contribution) for e in link.evidence]
        # It holds from the moment a piece of evidence completes (its last report is in) that
        # brings what is complete by then up to the minimum score (0.1), not a moment earlier.
        assert moment in {at for at, _ in complete}
        assert sum(c for at, c in complete if at <= moment) >= 0.1
        assert sum(c for at, c in complete if at < moment) < 0.1
    cut = sorted(m for _, _, m in timed)[len(timed) // 2]
    assert {(a, b) for a, b, _ in timed_links(ctx, until=cut)} == {(a, b) for a, b, m in timed if m < cut}


def test_graphql_trends_grow_the_largest_groups(ctx: GraphContext, neo4j_settings: Settings) -> None:
    timed = timed_links(ctx)
    query = "{ trends(bucket: QUARTER) { points { end largestGroups } } }"
    with signed_in(create_app(neo4j_settings)) as client:
        body = client.post("/graphql", json={"query": query}).json()
    assert "errors" not in body, body
    points = body["data"]["trends"]["points"]
    for point in points:
        end = datetime.fromisoformat(point["end"])
        so_far = nx.Graph([(a, b) for a, b, m in timed if m < end])
        sizes = sorted((len(c) for c in nx.connected_components(so_far)), reverse=True)[:3]
        assert point["largestGroups"] == sizes
    largest = [p["largestGroups"][0] if p["largestGroups"] else 0 for p in points]
    assert largest == sorted(largest) and largest[-1] >= 3  # groups only grow; networks are planted


def test_empty_graph_has_no_points(ctx: GraphContext) -> None:
    # Last in this module (pytest keeps file order): it clears the graph the other tests read.
    ctx.write("MATCH (n) DETACH DELETE n")
    assert trends(ctx).points == []
