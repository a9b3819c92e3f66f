"""A report as received (its own elements only) and a case's reports, paged oldest first."""

from __future__ import annotations

import json

import pytest

from loaders.cybertip import parse_cybertip
from loaders.pipeline import case_transform, load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.reports import case, report
from tests.conftest import FIXTURES

KEY = "cybertip:9000001"
CASE = "CASE-7"


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> GraphContext:
    out = tmp_path_factory.mktemp("synthetic")
    generate(out, reports=30, seed=3)
    truth = json.loads((out / "truth.json").read_text())
    files = [out / name for name in truth["files"]] + [FIXTURES / "cybertip" / "full_report.xml"]
    assert not load_files(graph, files, parse_cybertip, transform=case_transform(CASE, "AG-1")).failed
    # The same account in another report, outside the case: its additions must not leak into KEY's view.
    assert not load_files(graph, [FIXTURES / "cybertip" / "bundle.xml"], parse_cybertip).failed
    return GraphContext(graph.driver, graph.database)


def test_report_view_holds_what_the_report_names(ctx: GraphContext) -> None:
    view = report(ctx, KEY)
    assert view.entity.id == f"Report:{KEY}"
    assert view.contents.nodes[0] == view.entity
    assert {n.id for n in view.contents.nodes} == {
        f"Report:{KEY}", "Provider:example social inc", "Person:cybertip:9000001/person/1",
        "Account:example social inc:u-1001", "Account:example social inc:u-2002",
        "Account:example social inc:@other_user", "Email:j.fake+tag@example.com", "Email:jon.fake@example.org",
        "Phone:+15555550123", "IP:192.0.2.10", "IP:2001:db8::1", "IP:198.51.100.7",
        "Device:imei:490154203237518", "Location:US/illinois/springfield",
        "File:sha1:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1", f"File:sha256:{'c' * 64}",
        "Report:cybertip:8000001", "Report:cybertip:8000002", f"Case:{CASE}", "Agency:AG-1",
    }
    assert all(KEY in e.sources for e in view.contents.edges)
    kinds = {e.kind for e in view.contents.edges}
    assert {"SUBMITTED_BY", "REPORTS", "USES", "HAS_EMAIL", "HAS_PHONE", "USED_IP", "USED_DEVICE", "SHARED",
            "INCLUDES", "RELATED_TO", "ASSOCIATED_WITH", "LOCATED_IN", "PART_OF", "OWNED_BY"} == kinds
    ids = {n.id for n in view.contents.nodes}
    assert all(e.source in ids and e.target in ids for e in view.contents.edges)
    # bundle.xml reports the same account and provider; that report is not part of this one.
    assert "Report:cybertip:9100001" not in ids
    assert not view.contents.truncated


def test_unknown_report_is_not_found(ctx: GraphContext) -> None:
    with pytest.raises(NotFound):
        report(ctx, "cybertip:0")
    with pytest.raises(BadInput):
        report(ctx, "")


def test_case_pages_through_its_reports_oldest_first(ctx: GraphContext) -> None:
    whole = case(ctx, CASE, first=500)
    assert whole.entity.id == f"Case:{CASE}"
    reports = whole.reports.items
    assert len(reports) == 31 and not whole.reports.has_next_page
    assert "Report:cybertip:9100001" not in {r.id for r in reports}
    times = [r.properties["incident_at"] for r in reports if "incident_at" in r.properties]
    assert times == sorted(times)
    paged, after = [], None
    while True:
        page = case(ctx, CASE, first=4, after=after).reports
        paged += page.items
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert [r.id for r in paged] == [r.id for r in reports]


@pytest.mark.parametrize(("args", "error"), [
    ({"key": "CASE-0"}, NotFound),
    ({"key": CASE, "first": 0}, BadInput),
    ({"key": CASE, "after": "!!"}, BadInput),
])
def test_bad_case_questions_fail_with_our_errors(ctx: GraphContext, args: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        case(ctx, **args)
