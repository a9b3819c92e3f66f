"""Community runs against a real Neo4j loaded with synthetic referrals: stored results, their details,
reproducibility, run comparison, the GDS fallback, the GraphQL fields and the CLI.

The generator plants offender networks whose only ties to the rest are supernodes (CGNAT and VPN
addresses, popular files), so the default run must find each network whole and never two together.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.app import create_app
from graph_service.cli import app as cli
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.hashsets import parse_hashset
from loaders.pipeline import case_transform, load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries import communities as q
from queries.community_chart import community_chart, community_memberships
from queries.community_detection import Method
from queries.context import GraphContext
from queries.errors import BadInput, NotFound, Unavailable
from queries.gds import choose_engine, gds_leiden, has_gds
from queries.projection import PROJECTORS, ProjectionOptions
from queries.supernodes import SupernodeRules, mark_supernodes
from tests.signin import signed_in
from tests.test_api import LEAKS

CASE, AGENCY = "case-comm-1", "agency-comm"
DEFAULT = q.RunOptions()


@pytest.fixture(scope="module")
def world(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> tuple[GraphContext, dict[str, Any]]:
    out = tmp_path_factory.mktemp("referrals")
    planted = generate(out, reports=400, seed=5)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip,
                         transform=case_transform(CASE, AGENCY))
    assert not summary.failed
    assert not load_files(graph, [out / planted.hashset], parse_hashset).failed
    truth = json.loads((out / "truth.json").read_text())
    return GraphContext(graph.driver, graph.database, timeout_s=120), truth


@pytest.fixture(scope="module")
def first(world: tuple[GraphContext, dict[str, Any]]) -> q.CommunityRun:
    ctx, _ = world
    return q.run_communities(ctx, DEFAULT)


def memberships(ctx: GraphContext, run: str) -> dict[str, int]:
    rows = ctx.read("MATCH (a:Account)-[m:MEMBER_OF {run: $run}]->(c:Community) RETURN a.key AS a, c.number AS n",
                    run=run)
    return {row["a"]: row["n"] for row in rows}


def test_a_run_finds_each_planted_network_whole_and_apart(world, first: q.CommunityRun) -> None:
    ctx, truth = world
    placed = memberships(ctx, first.run)
    assert first.status == "done" and first.engine == "local" and first.algorithm == "leiden"
    assert len(placed) == first.placed and first.communities == len(set(placed.values()))
    assert truth["networks"], "the generator planted no network at this size"
    seen: dict[int, str] = {}
    for network in truth["networks"]:
        numbers = {placed.get(account) for account in network["accounts"]}
        assert len(numbers) == 1 and None not in numbers, network["id"]
        number = numbers.pop()
        assert seen.setdefault(number, network["id"]) == network["id"], "two networks in one community"


def test_the_run_is_recorded_with_its_method_and_projection(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    stored = q.get_run(ctx, first.run)
    assert stored.parameters == {"algorithm": "leiden", "quality": "cpm", "resolution": 0.05, "seed": 42}
    assert stored.projection["name"] == "shared-identifiers"
    assert stored.projection["options"]["window_s"] == 3600
    assert stored.projection["excluded"].get("ip kind cgnat", 0) > 0  # the generator's CGNAT addresses
    assert set(stored.seconds) == {"project", "detect", "write"}
    sizes = ctx.read("MATCH (c:Community {run: $run}) RETURN sum(c.size) AS s, count(c) AS n", run=first.run)[0]
    assert (sizes["s"], sizes["n"]) == (first.placed, first.communities)


def test_the_same_seed_gives_the_same_communities(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    again = q.run_communities(ctx, DEFAULT)
    try:
        assert again.run != first.run
        assert memberships(ctx, again.run) == memberships(ctx, first.run)
    finally:
        q.delete_run(ctx, again.run)


def test_deleting_a_run_removes_its_communities_and_nothing_else(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    census = ("MATCH (n) WHERE NOT n:Community AND NOT n:CommunityRun RETURN count(n) AS n "
              "UNION ALL MATCH ()-[r]->() WHERE type(r) <> 'MEMBER_OF' RETURN count(r) AS n")
    before = [row["n"] for row in ctx.read(census)]
    other = q.run_communities(ctx, replace(DEFAULT, method=Method("components")))
    assert q.get_run(ctx, None).run == other.run  # the newest run is the default one
    assert q.delete_run(ctx, other.run) == other.communities
    assert [row["n"] for row in ctx.read(census)] == before
    assert q.get_run(ctx, None).run == first.run  # earlier runs are kept
    with pytest.raises(NotFound):
        q.get_run(ctx, other.run)


def test_communities_are_listed_by_the_order_asked(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    by_size = q.communities(ctx, first.run, limit=500)
    assert len(by_size) == first.communities
    assert [c.size for c in by_size] == sorted((c.size for c in by_size), reverse=True)
    by_reports = q.communities(ctx, first.run, order_by="REPORTS", limit=500)
    assert [c.reports for c in by_reports] == sorted((c.reports for c in by_reports), reverse=True)
    big = q.communities(ctx, first.run, min_size=5, limit=3)
    assert len(big) <= 3 and all(c.size >= 5 for c in big)
    with pytest.raises(BadInput):
        q.communities(ctx, first.run, order_by="NAME")


def test_a_community_is_described_with_its_evidence(world, first: q.CommunityRun) -> None:
    ctx, truth = world
    top = q.communities(ctx, first.run, limit=1)[0]
    detail = q.community(ctx, top.id, members=500, reports=500, binding=500)
    keys = {m.entity.key for m in detail.members}
    assert len(keys) == top.size and sum(m.rank for m in detail.members) == pytest.approx(1.0, abs=1e-3)
    assert [m.rank for m in detail.members] == sorted((m.rank for m in detail.members), reverse=True)
    assert detail.central == detail.members[:5]
    expected_reports = {row["r"] for row in ctx.read(
        "UNWIND $keys AS k MATCH (:Account {key: k})<-[:REPORTS]-(r:Report) RETURN DISTINCT r.key AS r",
        keys=sorted(keys))}
    assert {r.key for r in detail.reports} == expected_reports and top.reports == len(expected_reports)
    assert sum(p.count for p in detail.providers) == len(expected_reports)  # one provider per report
    assert [(c.case.key, c.agency, c.reports) for c in detail.cases] == [(CASE, AGENCY, len(expected_reports))]
    network = next(n for n in truth["networks"] if set(n["accounts"]) & keys)
    counted = [b for b in detail.binding if b.excluded is None]
    assert set(network["files"]) & {b.entity.key for b in counted if b.entity.kind == "File"}
    assert all(b.holders >= 2 and b.sources and b.weight and b.weight > 0 for b in counted)
    assert all(b.weight is None for b in detail.binding if b.excluded)
    known_hashes = set(truth["file_hashes"])
    assert {f.entity.key for f in detail.known_files} <= known_hashes | set(truth["popular_files"])
    assert sum(c.count for c in detail.categories) >= len(detail.known_files)


def test_a_community_chart_connects_every_member_through_its_evidence(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    for summary in q.communities(ctx, first.run, limit=5):
        chart = community_chart(ctx, summary.id)
        members = {m.entity.id for m in q.community(ctx, summary.id, members=100).members}
        drawn = {n.id for n in chart.nodes}
        touched = {e.source for e in chart.edges} | {e.target for e in chart.edges}
        assert members <= drawn and members <= touched, summary.id
        assert {e.source for e in chart.edges} | {e.target for e in chart.edges} <= drawn
        assert all(e.sources for e in chart.edges)  # every drawn tie names its reports


def test_memberships_name_the_newest_runs_community_of_each_account(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    placed = memberships(ctx, first.run)
    some = sorted(placed)[:5]
    found = community_memberships(ctx, [f"Account:{key}" for key in some] + ["IP:198.51.100.1"], first.run)
    assert {(m.entity, m.number) for m in found} == {(f"Account:{key}", placed[key]) for key in some}


def test_comparing_runs_finds_stability_and_splits(world, first: q.CommunityRun) -> None:
    ctx, _ = world
    same = q.run_communities(ctx, DEFAULT)
    fine = q.run_communities(ctx, replace(DEFAULT, method=Method("leiden", "cpm", 0.9, 42)))
    try:
        unchanged = q.compare_runs(ctx, first.run, same.run)
        assert {c.kind for c in unchanged} == {"STABLE"} and len(unchanged) == first.communities
        changes = q.compare_runs(ctx, first.run, fine.run)
        assert "SPLIT" in {c.kind for c in changes}  # a density of 0.9 breaks the sparser networks apart
        before = memberships(ctx, first.run)
        after = memberships(ctx, fine.run)
        for change in changes:
            if change.kind == "SPLIT":
                [old] = change.before
                pieces = {a for a, n in after.items() if f"{fine.run}:{n}" in change.after}
                owners = {before.get(a) for a in pieces}
                assert len(change.after) >= 2 and owners == {int(old.rsplit(":", 1)[1])}
    finally:
        q.delete_run(ctx, same.run)
        q.delete_run(ctx, fine.run)


@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="checks the test suite's own Community server")
def test_without_the_gds_plugin_runs_stay_local(world) -> None:
    ctx, _ = world
    assert has_gds(ctx) is False  # Neo4j Community from Maven jars: no Graph Data Science
    modularity = Method("leiden", "modularity", 1.0, 42)
    assert choose_engine(ctx, "auto", modularity) == "local"
    with pytest.raises(Unavailable):
        choose_engine(ctx, "gds", modularity)
    with pytest.raises(BadInput):
        choose_engine(ctx, "gds", Method())  # GDS has no CPM
    with pytest.raises(BadInput):
        choose_engine(ctx, "cluster", modularity)


@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="checks the test suite's own Community server")
def test_a_gds_run_that_reaches_a_server_without_gds_is_unavailable(world) -> None:
    """As on a cluster with GDS on some members only, when the run's transaction reaches another."""
    ctx, _ = world
    projection = PROJECTORS["shared-identifiers"](ctx, ProjectionOptions())
    with pytest.raises(Unavailable):
        gds_leiden(ctx, projection, Method("leiden", "modularity", 1.0, 42))


# -- the API and the CLI ---------------------------------------------------------------------------

COMMUNITY = """id run number size edges weight density reportCount providerCount knownFileCount
members(limit: 3) { rank entity { id kind key } } central { rank entity { key } }
reports(limit: 2) { id kind } providers { name count } knownFiles { entity { key } categories holders }
categories { name count } cases { case { key } agency reports }
binding(limit: 5) { entity { id kind } holders degree weight excluded sources }"""


@pytest.fixture(scope="module")
def client(world, neo4j_settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(neo4j_settings)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200 and not LEAKS.search(response.text), response.text
    return response.json()


def test_graphql_runs_lists_describes_compares_and_deletes(client: TestClient, first: q.CommunityRun) -> None:
    body = gql(client, "mutation { runCommunities(seed: 42) { run algorithm engine parameters projection "
                       "accounts edges communities placed minSize seconds status createdAt } }")
    assert "errors" not in body, body
    run = body["data"]["runCommunities"]
    assert (run["status"], run["engine"], run["parameters"]["quality"]) == ("done", "local", "cpm")
    listed = gql(client, "query($run: String) { communities(run: $run, minSize: 3, limit: 2, orderBy: SIZE) { "
                         + COMMUNITY + " } }", run=run["run"])
    assert "errors" not in listed, listed
    communities = listed["data"]["communities"]
    assert 1 <= len(communities) <= 2 and all(c["size"] >= 3 for c in communities)
    top = communities[0]
    assert top["id"] == f"{run['run']}:0" and len(top["members"]) == min(3, top["size"])
    assert top["cases"] == [{"case": {"key": CASE}, "agency": AGENCY, "reports": top["reportCount"]}]
    assert top["binding"] and all(b["holders"] >= 2 for b in top["binding"])
    one = gql(client, "query($id: ID!) { community(id: $id) { id size density central { rank } } }", id=top["id"])
    assert one["data"]["community"]["size"] == top["size"]
    runs = gql(client, "{ communityRuns { run status } }")["data"]["communityRuns"]
    assert runs[0]["run"] == run["run"] and first.run in {r["run"] for r in runs}
    changes = gql(client, "query($a: String!, $b: String!) { communityChanges(before: $a, after: $b) { kind before "
                          "after sizeBefore sizeAfter jaccard joined left } }", a=first.run, b=run["run"])
    assert {c["kind"] for c in changes["data"]["communityChanges"]} == {"STABLE"}
    deleted = gql(client, "mutation($run: String!) { deleteCommunityRun(run: $run) }", run=run["run"])
    assert deleted["data"]["deleteCommunityRun"] == run["communities"]


def test_graphql_errors_carry_codes(client: TestClient, first: q.CommunityRun) -> None:
    def code(query: str, **variables: Any) -> str:
        return gql(client, query, **variables)["errors"][0]["extensions"]["code"]

    assert code("mutation { runCommunities(algorithm: \"spectral\") { run } }") == "BAD_INPUT"
    assert code("mutation { runCommunities(engine: \"gds\", quality: \"modularity\") { run } }") in {
        "UNAVAILABLE", "BAD_INPUT"}
    assert code("{ community(id: \"nope:0\") { id } }") == "NOT_FOUND"
    assert code("{ community(id: \"nope\") { id } }") == "BAD_INPUT"
    assert code("{ communities(run: \"nope\") { id } }") == "NOT_FOUND"
    assert code("query($id: ID!) { community(id: $id) { members(limit: 900) { rank } } }",
                id=f"{first.run}:0") == "BAD_INPUT"


@pytest.fixture
def cli_env(neo4j_settings: Settings) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("NEO4J_DATABASE", neo4j_settings.neo4j_database)
    get_settings.cache_clear()
    yield
    patch.undo()
    get_settings.cache_clear()


def test_cli_runs_shows_compares_and_deletes(world, first: q.CommunityRun, cli_env: None) -> None:
    ctx, _ = world
    runner = CliRunner()
    made = runner.invoke(cli, ["communities", "--algorithm", "components"])
    assert made.exit_code == 0, made.output
    run = q.get_run(ctx, None)
    assert run.algorithm == "components" and f"run {run.run}" in made.output
    for args in (["communities", "runs"], ["communities", "list", run.run], ["communities", "show", f"{run.run}:0"],
                 ["communities", "compare", first.run, run.run]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
    listed = runner.invoke(cli, ["communities", "list", run.run]).output
    assert f"communities of run {run.run}" in listed
    gone = runner.invoke(cli, ["communities", "delete", run.run])
    assert gone.exit_code == 0 and f"deleted run {run.run}" in gone.output
    bad = runner.invoke(cli, ["communities", "--algorithm", "spectral"])
    assert bad.exit_code == 1 and "error:" in bad.output and "spectral" in bad.output


def test_a_run_on_the_links_projection_finds_the_same_networks(world, first: q.CommunityRun) -> None:
    """Last in the module: it marks supernodes (as every `gracegraph load` does), which link analysis reads."""
    ctx, truth = world
    mark_supernodes(ctx, SupernodeRules())
    run = q.run_communities(ctx, replace(DEFAULT, projector="links"))
    try:
        assert q.get_run(ctx, run.run).projection["name"] == "links"
        placed = memberships(ctx, run.run)
        for network in truth["networks"]:
            numbers = {placed.get(account) for account in network["accounts"]}
            assert len(numbers) == 1 and None not in numbers, network["id"]
        found = [placed[network["accounts"][0]] for network in truth["networks"]]
        assert len(found) == len(set(found)), "two networks in one community"
    finally:
        q.delete_run(ctx, run.run)
    with pytest.raises(BadInput, match="unknown projection"):
        q.run_communities(ctx, replace(DEFAULT, projector="nearest"))
