"""Retention: purging a closed case removes what only its reports support and strips them from the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_service.audit import AuditLog
from graph_service.cli import app as cli
from graph_service.settings import Settings, get_settings
from loaders.model import Edge, Label, Node, Rel, cypher
from loaders.writer import GraphWriter
from queries.cases import assign_reports, create_case
from queries.context import GraphContext
from queries.errors import BadInput
from queries.purge import close_case, purge_case
from queries.visibility import Clearance, Scope

T0 = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
IP = "192.0.2.44"


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    nodes, edges = [], []
    for n, (acct, when) in enumerate([("old", T0), ("old", T0 + timedelta(hours=1)), ("keep", T0 + timedelta(days=1))],
                                     start=1):
        key = f"p:r{n}"
        nodes += [Node(Label.REPORT, key, {"incident_at": when}, sources=[key]),
                  Node(Label.ACCOUNT, f"acme:{acct}", {"provider": "acme"}, sources=[key]),
                  Node(Label.IP, IP, {"kind": "reserved"}, sources=[key], times=[when])]
        edges += [Edge(Rel.REPORTS, (Label.REPORT, key), (Label.ACCOUNT, f"acme:{acct}"), sources=[key]),
                  Edge(Rel.USED_IP, (Label.ACCOUNT, f"acme:{acct}"), (Label.IP, IP), sources=[key], times=[when])]
    nodes.append(Node(Label.EMAIL, "only@old.example", sources=["p:r1"]))
    edges.append(Edge(Rel.HAS_EMAIL, (Label.ACCOUNT, "acme:old"), (Label.EMAIL, "only@old.example"), sources=["p:r1"]))
    graph.write(nodes, edges)
    context = GraphContext(graph.driver, graph.database, 60.0)
    create_case(context, Scope("A", Clearance.OWN_CASES), "OLD-1")
    assign_reports(context, Scope("A", Clearance.EVERYTHING), "OLD-1", ["p:r1", "p:r2"])
    create_case(context, Scope("A", Clearance.OWN_CASES), "KEEP-1")
    assign_reports(context, Scope("A", Clearance.EVERYTHING), "KEEP-1", ["p:r3"])
    return context


def keys(ctx: GraphContext, label: str) -> set[str]:
    return {row["k"] for row in ctx.read(cypher("MATCH (n:{label}) RETURN n.key AS k", label=Label(label)))}


def test_an_open_case_is_not_purged(ctx: GraphContext) -> None:
    with pytest.raises(BadInput, match="not closed"):
        purge_case(ctx, "KEEP-1")


def test_purge_removes_what_only_the_case_supports_and_strips_shared_nodes(ctx: GraphContext) -> None:
    close_case(ctx, "OLD-1")
    summary = purge_case(ctx, "OLD-1")
    assert summary.reports == 2
    assert keys(ctx, "Report") == {"p:r3"}
    assert keys(ctx, "Account") == {"acme:keep"} and keys(ctx, "Email") == set()
    [ip] = ctx.read("MATCH (n:IP {key: $k}) RETURN n.sources AS s", k=IP)
    assert ip["s"] == ["p:r3"]  # shared with the kept case: stays, with the kept report only
    [use] = ctx.read("MATCH (:Account)-[u:USED_IP]->(:IP) RETURN u.sources AS s, u.uses AS uses, u.first_seen AS f")
    assert use["s"] == ["p:r3"] and all(u.endswith("|p:r3") for u in use["uses"])
    [case] = ctx.read("MATCH (c:Case {key: 'OLD-1'}) RETURN c.status AS status, c.purged_reports AS n")
    assert case == {"status": "purged", "n": 2}


def test_cli_close_and_purge_are_audited(ctx: GraphContext, neo4j_settings: Settings, tmp_path: Path) -> None:
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("GRACEGRAPH_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["case", "purge", "KEEP-1"]).exit_code == 1  # no --yes
        assert runner.invoke(cli, ["case", "purge", "KEEP-1", "--yes"]).exit_code == 1  # still open
        assert runner.invoke(cli, ["case", "close", "KEEP-1"]).exit_code == 0
        result = runner.invoke(cli, ["case", "purge", "KEEP-1", "--yes"])
        assert result.exit_code == 0, result.output
        entries = list(AuditLog(tmp_path / "audit.jsonl").entries())
        assert [e.operation for e in entries] == ["case close", "case purge"]
        assert entries[1].counts["reports"] == 1 and keys(ctx, "Report") == set() and keys(ctx, "IP") == set()
    finally:
        patch.undo()
        get_settings.cache_clear()
