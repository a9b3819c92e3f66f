"""Timelines: every dated event of an entity, oldest first, paged without gaps or repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loaders.model import Edge, Label, Node, Rel
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.cursors import encode
from queries.errors import BadInput, NotFound
from queries.timeline import timeline

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
ACC = "Account:tl:1"


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    acc = (Label.ACCOUNT, "tl:1")
    ip, dev, file = (Label.IP, "192.0.2.7"), (Label.DEVICE, "imei:490154203237518"), (Label.FILE, "md5:" + "a" * 32)
    nodes = [
        Node(*acc, lists={"screen_names": ["tl_one"]}, sources=["r:1"]),
        Node(*ip, {"kind": "reserved"}, sources=["r:1"]),
        Node(*dev, sources=["r:2"]),
        Node(*file, {"md5": "a" * 32}, sources=["r:2"]),
        Node(Label.REPORT, "r:1", {"incident_at": at(10), "incident_type": "Enticement", "received_at": at(30)},
             sources=["r:1"]),
        Node(Label.REPORT, "r:2", {"incident_at": at(-5)}, sources=["r:2"]),
        Node(Label.REPORT, "r:stub", sources=["r:1"]),  # a cited report never received: no date
    ]
    edges = [
        Edge(Rel.USED_IP, acc, ip, lists={"events": ["Login"]}, sources=["r:1"], times=[at(1), at(3)]),
        Edge(Rel.USED_DEVICE, acc, dev, sources=["r:2"], times=[at(2)]),
        Edge(Rel.SHARED, acc, file, sources=["r:2"], times=[at(3)]),
        Edge(Rel.REPORTS, (Label.REPORT, "r:1"), acc, sources=["r:1"]),
        Edge(Rel.REPORTS, (Label.REPORT, "r:2"), acc, sources=["r:2"]),
        Edge(Rel.RELATED_TO, (Label.REPORT, "r:1"), (Label.REPORT, "r:stub"), sources=["r:1"]),
    ]
    # A busy address for paging: 37 accounts, each seen on it at its own two moments.
    busy = (Label.IP, "198.51.100.99")
    nodes.append(Node(*busy, sources=["r:busy"]))
    for n in range(37):
        other = (Label.ACCOUNT, f"tl:busy{n:02d}")
        nodes.append(Node(*other, sources=["r:busy"]))
        edges.append(Edge(Rel.USED_IP, other, busy, sources=["r:busy"], times=[at(n % 5), at(100 + n)]))
    graph.write(nodes, edges)
    return GraphContext(graph.driver, graph.database)


def test_account_timeline_lists_uses_and_reports_oldest_first(ctx: GraphContext) -> None:
    page = timeline(ctx, ACC)
    got = [(e.at, e.kind, e.related) for e in page.items]
    assert got == [
        (at(-5), "REPORTED", "Report:r:2"),
        (at(1), "USED_IP", "IP:192.0.2.7"),
        (at(2), "USED_DEVICE", "Device:imei:490154203237518"),
        (at(3), "SHARED", "File:md5:" + "a" * 32),
        (at(3), "USED_IP", "IP:192.0.2.7"),
        (at(10), "REPORTED", "Report:r:1"),
    ]
    assert not page.has_next_page
    first_use = page.items[1]
    assert first_use.description == "used IP 192.0.2.7 (Login)"
    assert first_use.sources == ["r:1"] and first_use.entity == ACC
    assert page.items[-1].description == "reported in r:1 (Enticement)"


def test_timeline_seen_from_the_identifier(ctx: GraphContext) -> None:
    items = timeline(ctx, "IP:192.0.2.7").items
    assert [(e.at, e.related) for e in items] == [(at(1), ACC), (at(3), ACC)]
    assert items[0].description == "used by account tl_one (Login)"


def test_report_timeline_has_its_incident_and_receipt(ctx: GraphContext) -> None:
    items = timeline(ctx, "Report:r:1").items
    assert [(e.at, e.kind) for e in items] == [(at(10), "INCIDENT"), (at(30), "RECEIVED")]
    assert items[0].description == "incident: Enticement"
    cited = timeline(ctx, "Report:r:stub").items  # undated itself; dated by the report citing it
    assert [(e.at, e.kind, e.related) for e in cited] == [(at(10), "RELATED_REPORT", "Report:r:1")]


@pytest.mark.parametrize("size", [1, 7, 25])
def test_pages_join_without_gaps_or_repeats(ctx: GraphContext, size: int) -> None:
    whole = timeline(ctx, "IP:198.51.100.99", first=500).items
    assert len(whole) == 74
    assert [e.at for e in whole] == sorted(e.at for e in whole)
    paged, after, pages = [], None, 0
    while True:
        page = timeline(ctx, "IP:198.51.100.99", first=size, after=after)
        paged += page.items
        pages += 1
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert paged == whole
    assert pages == -(-74 // size)


def test_a_cursor_past_the_end_gives_an_empty_page(ctx: GraphContext) -> None:
    page = timeline(ctx, ACC, after=encode("x", 999))
    assert page.items == [] and not page.has_next_page


@pytest.mark.parametrize(("args", "error"), [
    ({"id": "Account:tl:none"}, NotFound),
    ({"id": ACC, "first": 0}, BadInput),
    ({"id": ACC, "first": 501}, BadInput),
    ({"id": ACC, "after": "not a cursor"}, BadInput),
    ({"id": "tl:1"}, BadInput),
])
def test_bad_questions_fail_with_our_errors(ctx: GraphContext, args: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        timeline(ctx, **args)
