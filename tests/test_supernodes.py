"""Supernodes against a real Neo4j: each reason marked, marking idempotent, hubs skipped and shown.

A small hand-made graph with one hub of each kind, and small thresholds so that six accounts are
"wide"; the exit list goes through the same loader and CLI as a user's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.settings import Settings, get_settings
from loaders.exits import parse_exits
from loaders.model import Edge, Label, Node, Rel
from loaders.pipeline import load_files
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.link_analysis import neighbourhood, paths
from queries.results import Skipped
from queries.supernodes import SupernodeRules, list_supernodes, mark_supernodes

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
RULES = SupernodeRules(min_degree=5, spread_min_degree=3, spread_min_providers=3, spread_min_days=180)
CGNAT_IP, EXIT_IP, PLAIN_IP = "100.64.0.7", "2001:db8:ffff::1", "192.0.2.9"
WIDE, SPREAD, SMALL = (f"md5:{c * 32}" for c in "abc")
CITY = "US/texas/austin"


class Build:
    """Reports naming accounts, each with the addresses and files the report gives it."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.n = 0

    def report(self, account: str, provider: str, when: datetime, ips: tuple[str, ...] = (),
               files: tuple[str, ...] = ()) -> str:
        self.n += 1
        key = f"cybertip:{self.n}"
        acc = (Label.ACCOUNT, f"{provider}:{account}")
        self.nodes += [Node(Label.REPORT, key, sources=[key], times=[when]),
                       Node(Label.PROVIDER, provider, {"name": provider}, sources=[key]),
                       Node(Label.ACCOUNT, acc[1], {"provider": provider}, sources=[key], times=[when])]
        self.edges += [Edge(Rel.SUBMITTED_BY, (Label.REPORT, key), (Label.PROVIDER, provider), sources=[key]),
                       Edge(Rel.REPORTS, (Label.REPORT, key), acc, sources=[key])]
        for ip in ips:
            kind = "cgnat" if ip.startswith("100.64.") else "reserved"
            self.nodes.append(Node(Label.IP, ip, {"kind": kind}, sources=[key], times=[when]))
            self.edges.append(Edge(Rel.USED_IP, acc, (Label.IP, ip), sources=[key], times=[when]))
        for file in files:
            self.nodes.append(Node(Label.FILE, file, {"md5": file[4:]}, sources=[key], times=[when]))
            self.edges.append(Edge(Rel.INCLUDES, (Label.REPORT, key), (Label.FILE, file), sources=[key]))
        return key


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> GraphContext:
    b = Build()
    for i in range(3):
        b.report(f"c{i}", "alpha", T0 + timedelta(hours=i), ips=(CGNAT_IP,))
    for i in range(2):
        b.report(f"e{i}", "alpha", T0 + timedelta(days=i), ips=(EXIT_IP,))
    city = (Label.LOCATION, CITY)
    b.nodes.append(Node(Label.LOCATION, CITY, {"country": "US"}, sources=["geo"]))
    for i in range(6):
        b.report(f"w{i}", "alpha", T0 + timedelta(days=i), files=(WIDE,))
        b.edges.append(Edge(Rel.LOCATED_IN, (Label.ACCOUNT, f"alpha:w{i}"), city, sources=["geo"]))
    for i, provider in enumerate(("alpha", "beta", "gamma", "beta")):
        b.report(f"s{i}", provider, T0 + timedelta(days=70 * i), files=(SPREAD,))
    b.report("n0", "alpha", T0, files=(SMALL,), ips=(PLAIN_IP,))
    b.report("n1", "alpha", T0 + timedelta(days=3), files=(SMALL,), ips=(PLAIN_IP,))
    graph.write(b.nodes, b.edges)
    exits = tmp_path_factory.mktemp("exits") / "exits.csv"
    exits.write_text(f"ip,provider\n{EXIT_IP},ExampleVPN\n203.0.113.77,MockTunnel\n")
    assert not load_files(graph, [exits], parse_exits, parallel=False).rejections
    context = GraphContext(graph.driver, graph.database)
    mark_supernodes(context, RULES)
    return context


def marks(ctx: GraphContext) -> dict[str, tuple[str, int]]:
    rows = ctx.read("MATCH (x) WHERE x.supernode = true RETURN x.key AS key, x.supernode_reason AS reason, "
                    "x.degree AS degree")
    return {row["key"]: (row["reason"], row["degree"]) for row in rows}


def props(ctx: GraphContext) -> dict[str, Any]:
    rows = ctx.read("MATCH (x) RETURN x.key AS key, properties(x) AS p")
    return {row["key"]: row["p"] for row in rows}


def test_each_kind_of_supernode_is_marked_with_its_reason_and_degree(ctx: GraphContext) -> None:
    assert marks(ctx) == {
        CGNAT_IP: ("cgnat", 3), EXIT_IP: ("exit_list", 2), "203.0.113.77": ("exit_list", 0),
        WIDE: ("degree", 6), SPREAD: ("spread", 4), CITY: ("degree", 6),
        "alpha": ("provider", 14), "beta": ("provider", 2), "gamma": ("provider", 1),
    }


def test_marking_again_changes_nothing(ctx: GraphContext) -> None:
    before = props(ctx)
    again = mark_supernodes(ctx, RULES)
    assert (again.marked, again.unmarked) == (0, 0)
    assert sum(again.by_reason.values()) == 9
    assert props(ctx) == before


def test_raised_thresholds_unmark_and_restoring_them_marks_again(ctx: GraphContext) -> None:
    wider = SupernodeRules(min_degree=7, spread_min_degree=3, spread_min_providers=3, spread_min_days=180)
    summary = mark_supernodes(ctx, wider)
    assert summary.unmarked == 2 and not {WIDE, CITY} & set(marks(ctx))
    assert "supernode" not in props(ctx)[WIDE] and "degree" not in props(ctx)[WIDE]
    assert mark_supernodes(ctx, RULES).marked == 2 and marks(ctx)[WIDE] == marks(ctx)[CITY] == ("degree", 6)


def test_neighbourhood_skips_a_supernode_and_reports_it(ctx: GraphContext) -> None:
    got = neighbourhood(ctx, ["Account:alpha:c0"], depth=2)
    ids = {n.id for n in got.nodes}
    assert f"IP:{CGNAT_IP}" not in ids and "Account:alpha:c1" not in ids and "Provider:alpha" not in ids
    assert got.skipped == [Skipped("Provider:alpha", "provider", 14), Skipped(f"IP:{CGNAT_IP}", "cgnat", 3)]
    wide = neighbourhood(ctx, ["Account:alpha:c0"], depth=2, include_supernodes=True)
    assert {f"IP:{CGNAT_IP}", "Account:alpha:c1", "Account:alpha:c2"} <= {n.id for n in wide.nodes}
    assert wide.skipped == []


def test_a_city_of_many_accounts_is_skipped(ctx: GraphContext) -> None:
    got = neighbourhood(ctx, ["Account:alpha:w0"], depth=1)
    assert Skipped(f"Location:{CITY}", "degree", 6) in got.skipped
    assert f"Location:{CITY}" not in {n.id for n in got.nodes}


def test_an_ipv6_exit_is_skipped_as_an_exit(ctx: GraphContext) -> None:
    got = neighbourhood(ctx, ["Account:alpha:e0"], depth=1)
    assert [n.kind for n in got.nodes] == ["Account", "Report"]
    assert got.skipped == [Skipped(f"IP:{EXIT_IP}", "exit_list", 2)]


def test_a_file_every_service_has_is_skipped_but_a_small_one_is_followed(ctx: GraphContext) -> None:
    got = neighbourhood(ctx, ["Account:alpha:n0"], depth=3)
    assert "Account:alpha:n1" in {n.id for n in got.nodes}
    spread = neighbourhood(ctx, ["Account:beta:s1"], depth=3)
    assert not any(n.id.startswith("Account:") and n.id != "Account:beta:s1" for n in spread.nodes)
    assert Skipped(f"File:{SPREAD}", "spread", 4) in spread.skipped


def test_paths_do_not_pass_a_supernode_but_name_it(ctx: GraphContext) -> None:
    got = paths(ctx, "Account:alpha:c0", "Account:alpha:c1", max_hops=6)
    assert got.paths == [] and got.length is None
    assert Skipped(f"IP:{CGNAT_IP}", "cgnat", 3) in got.skipped
    through = paths(ctx, "Account:alpha:c0", "Account:alpha:c1", max_hops=6, include_supernodes=True)
    assert through.length == 2 and [n.id for n in through.paths[0].nodes][1] == f"IP:{CGNAT_IP}"
    small = paths(ctx, "Account:alpha:n0", "Account:alpha:n1", max_hops=4)
    assert small.length == 2 and f"IP:{PLAIN_IP}" in {n.id for p in small.paths for n in p.nodes}


def test_list_supernodes_widest_first(ctx: GraphContext) -> None:
    listed = list_supernodes(ctx, kinds=["IP", "File"])
    assert [s.id for s in listed] == [f"File:{WIDE}", f"File:{SPREAD}", f"IP:{CGNAT_IP}", f"IP:{EXIT_IP}",
                                      "IP:203.0.113.77"]


# -- the exit list loader ---------------------------------------------------------------------------

def test_bad_exit_rows_are_rejected_with_file_line_and_reason(tmp_path: Path) -> None:
    listing = tmp_path / "tor.csv"
    listing.write_text("provider,IP\nTor,198.51.100.4\nTor,not-an-ip\nTor,\n\nTor,192.0.2.1:443\n"
                       "Tor,2001:DB8:0:0::9\n")
    records = list(parse_exits(listing))
    bad = [str(r) for rec in records for r in rec.rejections]
    assert bad == [f"{listing}: record line 3 at ip: invalid ip: not an IP address: "
                   "'not-an-ip' does not appear to be an IPv4 or IPv6 address ('not-an-ip')",
                   f"{listing}: record line 4 at ip: no address in this row ('Tor,')",
                   f"{listing}: record line 6 at ip: invalid ip: contains a port or brackets; "
                   "give the address alone ('192.0.2.1:443')"]
    nodes = [(n.key, n.props["exit_provider"], n.lists["exit_lists"], n.sources) for rec in records for n in rec.nodes]
    assert nodes == [("198.51.100.4", "Tor", ["tor"], ["exits:tor"]), ("2001:db8::9", "Tor", ["tor"], ["exits:tor"])]


@pytest.fixture
def cli_env(neo4j_settings: Settings) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("NEO4J_DATABASE", neo4j_settings.neo4j_database)
    get_settings.cache_clear()
    yield
    patch.undo()
    get_settings.cache_clear()


def test_load_exits_command_reports_bad_rows_and_marks(ctx: GraphContext, cli_env: None, tmp_path: Path) -> None:
    listing = tmp_path / "vpn.csv"
    listing.write_text(f"ip,provider\n{PLAIN_IP},MockTunnel\n300.1.2.3,MockTunnel\n")
    result = CliRunner().invoke(app, ["load", "exits", str(listing)])
    assert result.exit_code == 0, result.output
    assert f"rejected: {listing}: record line 3 at ip: invalid ip" in result.output
    assert "supernodes:" in result.output
    assert marks(ctx)[PLAIN_IP] == ("exit_list", 2)
    again = CliRunner().invoke(app, ["supernodes", "--show", "3"])
    assert again.exit_code == 0 and "0 newly marked or changed, 0 unmarked" in again.output
