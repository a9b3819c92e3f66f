"""Saved charts: versioned Chart nodes tied to their case, reopened exactly, evidence fetched fresh."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from neo4j import Driver

from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.charts import chart_graph, chart_versions, get_chart, list_charts, save_chart, slug
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.results import Subgraph
from tests.charts import chart_state, network_subgraph


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out: Path = tmp_path_factory.mktemp("chart-referrals")
    planted = generate(out, reports=200, seed=4242)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed, summary.faults
    return planted


@pytest.fixture(scope="module")
def ctx(driver: Driver, neo4j_settings: Settings) -> GraphContext:
    return GraphContext(driver, neo4j_settings.neo4j_database)


@pytest.fixture(scope="module")
def subgraph(ctx: GraphContext, truth: Truth) -> Subgraph:
    return network_subgraph(ctx, truth, limit=40)


def run(driver: Driver, settings: Settings, cypher: str, **params: object) -> list[dict]:
    records, _, _ = driver.execute_query(cypher, params, database_=settings.neo4j_database)
    return [dict(r) for r in records]


def test_a_chart_saves_to_a_new_case_and_reopens_exactly(ctx: GraphContext, subgraph: Subgraph,
                                                          driver: Driver, neo4j_settings: Settings) -> None:
    ids = [n.id for n in subgraph.nodes]
    state = chart_state(subgraph, hide=ids[3:5], pin=ids[:2], hidden_kinds=["Report"],
                        since="2023-02-01T00:00:00+00:00", until="2025-12-31T23:59:59.999000+00:00")
    saved = save_chart(ctx, "CASE-NEW-1", "Network Alpha (planted)", state, author="det.smith")
    assert saved.id == "CASE-NEW-1/network-alpha-planted@1"
    assert (saved.version, saved.case, saved.author) == (1, "CASE-NEW-1", "det.smith")
    assert run(driver, neo4j_settings, "MATCH (:Chart {key: $k})-[:FILED_IN]->(c:Case {key: 'CASE-NEW-1'}) "
                                       "RETURN c.key AS key", k=saved.id) == [{"key": "CASE-NEW-1"}]
    reopened = get_chart(ctx, saved.id)
    assert reopened.state.as_json() == state  # positions, pins, hidden nodes, kinds and range, as saved
    assert reopened.state == saved.state


def test_saving_again_adds_a_version_and_keeps_the_earlier_one(ctx: GraphContext, subgraph: Subgraph,
                                                               driver: Driver, neo4j_settings: Settings) -> None:
    first = chart_state(subgraph, seed=1)
    second = chart_state(subgraph, seed=2, hide=[subgraph.nodes[0].id])
    v1 = save_chart(ctx, "CASE-V", "Versions", first)
    v2 = save_chart(ctx, "CASE-V", "versions", second)  # same slug: the same chart
    assert (v1.version, v2.version) == (1, 2)
    assert v2.series == v1.series == "CASE-V/versions"
    assert get_chart(ctx, "CASE-V/versions").id == v2.id  # no version: the latest
    assert get_chart(ctx, v1.id).state.as_json() == first  # the earlier version is unchanged
    assert [c.version for c in chart_versions(ctx, v2.id)] == [1, 2]
    assert run(driver, neo4j_settings, "MATCH (a:Chart {key: $a})-[:REVISES]->(b:Chart) RETURN b.key AS key",
               a=v2.id) == [{"key": v1.id}]


def test_a_case_lists_the_latest_version_of_each_chart(ctx: GraphContext, subgraph: Subgraph) -> None:
    state = chart_state(subgraph)
    save_chart(ctx, "CASE-L", "Beta", state)
    save_chart(ctx, "CASE-L", "Alpha", state)
    save_chart(ctx, "CASE-L", "Alpha", state)
    listed = list_charts(ctx, "CASE-L")
    assert [(c.name, c.version) for c in listed] == [("Alpha", 2), ("Beta", 1)]
    assert list_charts(ctx, "CASE-NONE") == []


def test_an_existing_case_is_used_not_duplicated(ctx: GraphContext, subgraph: Subgraph, driver: Driver,
                                                 neo4j_settings: Settings) -> None:
    run(driver, neo4j_settings, "CREATE (:Case {key: 'CASE-LOADED', sources: ['cybertip:1']})")
    save_chart(ctx, "CASE-LOADED", "x", chart_state(subgraph))
    rows = run(driver, neo4j_settings, "MATCH (c:Case {key: 'CASE-LOADED'}) RETURN c.sources AS s")
    assert rows == [{"s": ["cybertip:1"]}]


def test_the_chart_graph_is_fetched_fresh_with_its_evidence(ctx: GraphContext, subgraph: Subgraph,
                                                            driver: Driver, neo4j_settings: Settings) -> None:
    ids = [n.id for n in subgraph.nodes]
    hidden = ids[-3:]
    saved = save_chart(ctx, "CASE-G", "graph", chart_state(subgraph, hide=hidden, hidden_kinds=["Report"]))
    drawn = [i for i in ids if i not in hidden and not i.startswith("Report:")]
    view = chart_graph(ctx, saved)
    assert [n.id for n in view.nodes] == drawn and view.missing == []
    expected = run(driver, neo4j_settings, """
        MATCH (a)-[r]->(b) WHERE labels(a)[0] + ':' + a.key IN $ids AND labels(b)[0] + ':' + b.key IN $ids
        RETURN type(r) + '|' + labels(a)[0] + ':' + a.key + '|' + labels(b)[0] + ':' + b.key AS id, r.sources AS sources
        """, ids=drawn)
    assert sorted(e.id for e in view.edges) == sorted(r["id"] for r in expected)
    sources = {r["id"]: r["sources"] for r in expected}
    assert all(e.sources == sources[e.id] and e.sources for e in view.edges)


def test_entities_gone_from_the_graph_are_reported_missing(ctx: GraphContext, subgraph: Subgraph) -> None:
    state = chart_state(subgraph)
    state["nodes"].append({"id": "Email:gone@example.org", "x": 0, "y": 0})
    view = chart_graph(ctx, save_chart(ctx, "CASE-M", "missing", state))
    assert view.missing == ["Email:gone@example.org"]
    assert len(view.nodes) == len(subgraph.nodes)


@pytest.mark.parametrize(("state", "message"), [
    ({"nodes": []}, "at least one node"),
    ({"nodes": [{"id": "Nope:1", "x": 0, "y": 0}]}, "unknown kind"),
    ({"nodes": [{"id": "Account:a", "x": math.nan, "y": 0}]}, "finite number"),
    ({"nodes": [{"id": "Account:a", "x": 0, "y": 0}, {"id": "Account:a", "x": 1, "y": 1}]}, "twice"),
    ({"nodes": [{"id": "Account:a", "x": 0, "y": 0}], "hiddenKinds": ["Wizard"]}, "unknown kind"),
    ({"nodes": [{"id": "Account:a", "x": 0, "y": 0}], "since": "2024-02-01", "until": "2024-01-01"}, "ends before"),
    ({"nodes": [{"id": "Account:a", "x": 0, "y": 0}], "since": "last tuesday"}, "ISO"),
])
def test_malformed_states_are_refused(ctx: GraphContext, state: dict, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        save_chart(ctx, "CASE-BAD", "bad", state)


def test_names_ids_and_absent_charts(ctx: GraphContext) -> None:
    assert slug("  Network ALPHA / 2024 ") == "network-alpha-2024"
    with pytest.raises(BadInput):
        slug("!!!")
    with pytest.raises(NotFound):
        get_chart(ctx, "CASE-X/none@3")
    with pytest.raises(NotFound):
        get_chart(ctx, "CASE-X/none")
