"""Community detection on Neo4j's Graph Data Science, on a real server that has it.

`gracegraph db start --with-gds` gives a local server of this test's own OpenGDS (fetched by
`graph_service/neo4j_local/gds-pom.xml` from Maven Central once, kept beside the Neo4j jars); the same
planted referrals are loaded and one Leiden run with the modularity quality goes to GDS, one stays in
process. Both must be stored in the same shape and find the planted networks about equally well.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import igraph as ig
import pytest
from typer.testing import CliRunner

from graph_service.cli import app as cli
from graph_service.database import open_driver
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.hashsets import parse_hashset
from loaders.pipeline import case_transform, load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries import communities as q
from queries.community_detection import Method
from queries.context import GraphContext
from queries.errors import BadInput
from queries.gds import choose_engine, has_gds

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()
MODULARITY = Method("leiden", "modularity", 1.0, 42)


@pytest.fixture(scope="module")
def gds_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A local server started by `gracegraph db start --with-gds`, sharing the project's jar caches."""
    home = tmp_path_factory.mktemp("gds-home")
    cache = ROOT / ".gracegraph" / "neo4j"
    (cache / "plugins").mkdir(parents=True, exist_ok=True)
    (home / "neo4j").mkdir()
    (home / "neo4j" / "lib").symlink_to(cache / "lib")
    (home / "neo4j" / "plugins").symlink_to(cache / "plugins")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("NEO4J_URI", raising=False)
        env.setenv("GRACEGRAPH_HOME", str(home))
        env.setenv("GRACEGRAPH_NEO4J_PORT", str(free_port()))
        env.setenv("GRACEGRAPH_NEO4J_HEAP", "1g")
        env.setenv("GRACEGRAPH_NEO4J_PAGECACHE", "256m")
        get_settings.cache_clear()
        try:
            started = runner.invoke(cli, ["db", "start", "--with-gds"])
            assert started.exit_code == 0, started.output
            yield get_settings()
        finally:
            runner.invoke(cli, ["db", "stop"])
            get_settings.cache_clear()


@pytest.fixture(scope="module")
def world(gds_server: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GraphContext, dict]]:
    driver = open_driver(gds_server, start=False)
    try:
        ensure_schema(driver, gds_server.neo4j_database)
        writer = GraphWriter(driver, gds_server.neo4j_database)
        out = tmp_path_factory.mktemp("referrals")
        planted = generate(out, reports=400, seed=5)
        assert not load_files(writer, [out / name for name in planted.files], parse_cybertip,
                              transform=case_transform("case-gds", "agency-gds")).failed
        assert not load_files(writer, [out / planted.hashset], parse_hashset).failed
        truth = json.loads((out / "truth.json").read_text())
        yield GraphContext(driver, gds_server.neo4j_database, timeout_s=120), truth
    finally:
        driver.close()


@pytest.fixture(scope="module")
def runs(world: tuple[GraphContext, dict]) -> dict[str, q.CommunityRun]:
    ctx, _ = world
    return {engine: q.run_communities(ctx, q.RunOptions(method=MODULARITY, engine=engine))
            for engine in ("gds", "local")}


def memberships(ctx: GraphContext, run: str) -> dict[str, int]:
    rows = ctx.read("MATCH (a:Account)-[m:MEMBER_OF {run: $run}]->(c:Community) RETURN a.key AS a, c.number AS n",
                    run=run)
    return {row["a"]: row["n"] for row in rows}


def nmi_with_the_planted_networks(placed: dict[str, int], truth: dict[str, Any]) -> float:
    """NMI over the planted networks' accounts: each network one class; an unplaced account alone."""
    accounts = [(a, net["id"]) for net in truth["networks"] for a in net["accounts"]]
    classes = {name: i for i, name in enumerate(sorted({net for _, net in accounts}))}
    spare = iter(range(10**6, 2 * 10**6))
    found = [placed[a] if a in placed else next(spare) for a, _ in accounts]
    return float(ig.compare_communities([classes[net] for _, net in accounts], found, "nmi"))


def test_the_server_offers_gds_and_auto_chooses_it_for_modularity(world: tuple[GraphContext, dict]) -> None:
    ctx, _ = world
    assert has_gds(ctx)
    assert ctx.read("RETURN gds.version() AS v")[0]["v"].startswith("2.13.")
    assert choose_engine(ctx, "auto", MODULARITY) == "gds"
    assert choose_engine(ctx, "auto", Method()) == "local"  # CPM: GDS has none
    with pytest.raises(BadInput):
        choose_engine(ctx, "gds", Method())


def test_a_gds_run_is_stored_in_the_shape_of_a_local_one(world: tuple[GraphContext, dict],
                                                         runs: dict[str, q.CommunityRun]) -> None:
    ctx, _ = world
    gds, local = runs["gds"], runs["local"]
    assert (gds.engine, gds.algorithm, local.engine, local.algorithm) == ("gds", "gds.leiden", "local", "leiden")
    assert gds.status == local.status == "done"
    assert (gds.accounts, gds.edges) == (local.accounts, local.edges)  # the same projection went to both
    assert gds.parameters == local.parameters == MODULARITY.describe()
    stored = q.get_run(ctx, gds.run)
    assert (stored.engine, stored.communities, stored.placed) == ("gds", gds.communities, gds.placed)
    placed = memberships(ctx, gds.run)
    assert len(placed) == gds.placed and len(set(placed.values())) == gds.communities > 0
    listed = q.communities(ctx, gds.run, limit=500)
    assert sum(c.size for c in listed) == gds.placed
    assert [c.size for c in listed] == sorted((c.size for c in listed), reverse=True)
    # Nothing of GDS's is left on the server: the in-memory graph was dropped in its transaction.
    assert ctx.read("CALL gds.graph.list() YIELD graphName RETURN count(*) AS n")[0]["n"] == 0


def test_gds_and_local_leiden_find_the_planted_networks_about_equally(world: tuple[GraphContext, dict],
                                                                      runs: dict[str, q.CommunityRun]) -> None:
    ctx, truth = world
    assert truth["networks"], "the generator planted no network at this size"
    on_gds = nmi_with_the_planted_networks(memberships(ctx, runs["gds"].run), truth)
    in_process = nmi_with_the_planted_networks(memberships(ctx, runs["local"].run), truth)
    print(f"NMI with the planted networks: GDS {on_gds:.4f}, in process {in_process:.4f}; communities "
          f"{runs['gds'].communities} / {runs['local'].communities}")  # shown with `pytest -rP`
    assert on_gds >= 0.8 and in_process >= 0.8, (on_gds, in_process)
    assert abs(on_gds - in_process) <= 0.1, (on_gds, in_process)


def test_the_same_seed_on_gds_gives_the_same_communities(world: tuple[GraphContext, dict],
                                                         runs: dict[str, q.CommunityRun]) -> None:
    ctx, _ = world
    again = q.run_communities(ctx, q.RunOptions(method=MODULARITY, engine="gds"))
    try:
        assert memberships(ctx, again.run) == memberships(ctx, runs["gds"].run)
    finally:
        q.delete_run(ctx, again.run)
