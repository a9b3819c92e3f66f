"""Community detection quality and speed: planted networks, LFR graphs, a 1M-report-sized projection.

    python -m bench.communities                      # all parts (20k reports, LFR n=5000 at mu 0.4..0.7)
    python -m bench.communities --quick              # small: 2,000 reports, one LFR graph (mu 0.5), 2 copies
    python -m bench.communities --parts lfr --lfr-seeds 5
    python -m bench.communities --edgelist FILE --truth FILE [--out FILE]

Every part runs our default (Leiden, CPM, resolution and seed from the settings) beside networkx's
Louvain (modularity, resolution 1) on the same graph, and scores NMI (arithmetic normalisation, as
igraph and scikit-learn compute it) and adjusted Rand index against the truth.

- `synthetic`: generate N reports, load them into a fresh Neo4j, pull the projection as a run does,
  and score against truth.json's planted networks (how accounts outside them count: `score_networks`).
  With `--loaded TRUTH_JSON`, the graph already in the server named by NEO4J_URI is used instead
  (nothing is cleared or loaded), to time the pull on a graph that took long to load; `scale`
  then replicates that projection. `--run` then also times the product's own run end to end
  (pull, Leiden, writing the communities into the graph: `gracegraph communities run`).
- `lfr`: LFR benchmark graphs from networkx (n, degree exponent 3, community-size exponent 1.5,
  average degree 20, maximum degree 50, communities of 10-50) for each mixing mu (networkx cannot
  build these below mu 0.4: `lfr_graph`), several seeds, medians; with igraph's Infomap and
  Leiden-modularity, the other candidates the method was chosen from, and (`--sweep`) CPM
  resolutions around the default.
- `scale`: the synthetic projection replicated as disjoint copies until it is the size of the
  projection of 1M reports (the projection is a union of separate networks, persons and households,
  so copies keep its shape), timing Leiden and networkx Louvain on it.

The last line is one JSON object with every figure (seconds are wall-clock on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx

from bench.harness import bench_database, emit, machine
from graph_service.analysis import supernode_rules
from graph_service.database import open_driver
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.communities import options_from, run_communities
from queries.community_detection import Method, detect, leidenalg_partition, shape
from queries.context import GraphContext
from queries.projection import PROJECTORS, Projection, ProjectionOptions, Projector
from queries.supernodes import mark_supernodes

Labels = list[Any]


def scores(truth: Labels, found: Labels) -> dict[str, float]:
    """NMI and ARI of two labellings of the same items (any hashable labels)."""
    def numbered(labels: Labels) -> list[int]:
        ids: dict[Any, int] = {}
        return [ids.setdefault(label, len(ids)) for label in labels]

    t, f = numbered(truth), numbered(found)
    return {"nmi": round(ig.compare_communities(t, f, "nmi"), 4),
            "ari": round(ig.compare_communities(t, f, "adjusted_rand"), 4)}


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - began, 3)


def default_method(settings: Settings, args: argparse.Namespace) -> Method:
    return Method("leiden", args.quality or settings.community_quality,
                  args.resolution if args.resolution is not None else settings.community_resolution,
                  settings.community_seed)


LOUVAIN = Method("louvain", "modularity", 1.0, 42)


# -- planted networks ------------------------------------------------------------------------------

def planted_labels(truth: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Account -> network id (a network member's never-reported second account counts with it: same
    person), and account -> planted structure (networks, other persons, households) for the wider score."""
    network = {a: n["id"] for n in truth["networks"] for a in n["accounts"]}
    for person in truth["persons"]:
        if person["network"]:
            for account in person["accounts"]:
                network.setdefault(account, person["network"])
    structure = dict(network)
    for person in truth["persons"]:
        for account in person["accounts"]:
            structure.setdefault(account, person["id"])
    for household in truth["family_devices"]:
        for account in household["accounts"]:
            structure.setdefault(account, "household " + household["device"])
    return network, structure


def score_networks(projection: Projection, membership: list[int], truth: dict[str, Any]) -> dict[str, Any]:
    """Three readings of one partition against the planted networks.

    - `networks` (the figure we hold against the target): the accounts of planted networks plus every
      account the method put in a community with one of them. Outsiders among them are singletons in
      the truth, so a network swallowing strangers loses score, and a network split or two merged do
      too; accounts far from any network (persons, households, one-report accounts) are not scored,
      since grouping them well or badly says nothing about finding networks, and thousands of
      correctly isolated singletons would inflate NMI.
    - `members_only`: network accounts alone (splits and merges, blind to strangers absorbed).
    - `all_structures`: every account of the projection against every planted structure (networks,
      other people's several accounts, households; the rest singletons).
    """
    network, structure = planted_labels(truth)
    where = {key: community for key, community in zip(projection.keys, membership, strict=True)}

    def found(account: str) -> Any:
        return where.get(account, ("alone", account))

    holding = {found(a) for a in network}
    scored = sorted(set(network) | {k for k, c in where.items() if c in holding})
    strangers = sum(1 for k in scored if k not in network)
    return {
        "networks": {**scores([network.get(a, ("alone", a)) for a in scored], [found(a) for a in scored]),
                     "accounts": len(scored), "strangers_absorbed": strangers},
        "members_only": scores([network[a] for a in sorted(network)], [found(a) for a in sorted(network)]),
        "all_structures": scores([structure.get(k, ("alone", k)) for k in projection.keys], membership),
        "planted_networks": len(truth["networks"]),
        "communities": len(set(membership)),
    }


def pull(ctx: GraphContext, projector: Projector, options: ProjectionOptions) -> tuple[Projection, float]:
    """The projection and the seconds its pull took, after one warm-up pull (as a run after a load finds it)."""
    projector(ctx, options)
    result: tuple[Projection, float] = timed(lambda: projector(ctx, options))
    return result


def synthetic_part(args: argparse.Namespace, settings: Settings) -> tuple[dict[str, Any], Projection]:
    """The first of `--projection`'s projections is scored in full; the others get Leiden's scores."""
    method = default_method(settings, args)
    options = ProjectionOptions.from_settings(settings)
    names: list[str] = args.projection
    pulled: dict[str, tuple[Projection, float]] = {}
    product: dict[str, Any] | None = None
    if args.loaded:
        truth = json.loads(Path(args.loaded).read_text())
        driver = open_driver(Settings(), start=False)
        try:
            ctx = GraphContext(driver, Settings().neo4j_database, settings.community_timeout_s)
            pulled = {name: pull(ctx, PROJECTORS[name], options) for name in names}
            if args.run:
                run = run_communities(ctx, options_from(settings, projector=names[0]))
                product = {"run": run.run, "seconds": run.seconds, "total_s": round(sum(run.seconds.values()), 2),
                           "communities": run.communities, "placed": run.placed}
        finally:
            driver.close()
        reports, load_s = truth["params"]["reports"], None
    else:
        with tempfile.TemporaryDirectory(prefix="gg-communities-") as tmp:
            planted = generate(Path(tmp), reports=args.reports, seed=args.seed)
            truth = json.loads((Path(tmp) / "truth.json").read_text())
            with bench_database() as (driver, db_settings, _):
                db = db_settings.neo4j_database
                ensure_schema(driver, db)
                summary, load_s = timed(lambda: load_files(GraphWriter(driver, db),
                                                           [Path(tmp) / f for f in planted.files], parse_cybertip))
                assert not summary.failed
                ctx = GraphContext(driver, db, settings.community_timeout_s)
                mark_supernodes(ctx, supernode_rules(settings))  # as `gracegraph load` does after every load
                pulled = {name: pull(ctx, PROJECTORS[name], options) for name in names}
        reports = args.reports
    projection, pull_s = pulled[names[0]]
    leiden, leiden_s = timed(lambda: detect(projection.graph, method))
    louvain, louvain_s = timed(lambda: detect(projection.graph, LOUVAIN))
    components = detect(projection.graph, Method("components"))
    others = {}
    for name in names[1:]:
        other, other_pull_s = pulled[name]
        found, found_s = timed(partial(detect, other.graph, method))
        others[name] = {"pull_s": other_pull_s, "accounts": len(other.keys), "edges": other.graph.ecount(),
                        "leiden": {**score_networks(other, found, truth), "seconds": found_s}}
    return {
        "reports": reports, "seed": args.seed, "load_s": load_s, "pull_s": pull_s,
        "projection": {"name": projection.name, "accounts": len(projection.keys),
                       "edges": projection.graph.ecount(), "excluded": projection.excluded},
        "leiden": {**score_networks(projection, leiden, truth), "seconds": leiden_s, "method": method.describe()},
        "louvain": {**score_networks(projection, louvain, truth), "seconds": louvain_s},
        "components": score_networks(projection, components, truth),
        "other_projections": others,
        **({"communities_run": product} if product else {}),
    }, projection


# -- LFR graphs ------------------------------------------------------------------------------------

def lfr_graph(n: int, mu: float, seed: int, attempts: int = 5) -> tuple[ig.Graph, list[int], int]:
    """An LFR graph, retrying the next seeds when networkx cannot fit the degrees or the communities.

    networkx's generator cannot place communities of 10-50 with degrees up to 50 below mu 0.4 (it
    failed for every seed tried at 0.1, 0.2 and 0.3: a node of degree 50 needs 35-45 neighbours in
    its own community, and few communities are that large); `lfr_part` records such a mu as not
    generated rather than change the parameters for it.
    """
    for attempt in range(seed, seed + attempts):
        try:
            graph = nx.LFR_benchmark_graph(n, 3, 1.5, mu, average_degree=20, max_degree=50, min_community=10,
                                           max_community=50, seed=attempt)
        except nx.ExceededMaxIterations:
            continue
        community: dict[int, int] = {}
        for number, members in enumerate({frozenset(graph.nodes[v]["community"]) for v in graph}):
            for v in members:
                community[v] = number
        edges = [(a, b) for a, b in graph.edges() if a != b]
        return ig.Graph(n=n, edges=edges), [community[v] for v in range(n)], attempt
    raise RuntimeError(f"networkx found no LFR graph for n={n}, mu={mu} from seed {seed}")


def lfr_part(args: argparse.Namespace, method: Method) -> dict[str, Any]:
    candidates: dict[str, Callable[[ig.Graph], list[int]]] = {
        "leiden": lambda g: detect(g, method),
        "louvain": lambda g: detect(g, LOUVAIN),
        "leiden_modularity": lambda g: detect(g, Method("leiden", "modularity", 1.0, method.seed)),
        "infomap": lambda g: g.community_infomap(trials=5).membership,
    }
    if args.cross_check:
        candidates["leidenalg_cpm"] = lambda g: leidenalg_partition(g, method.quality, method.resolution, method.seed)
    sweep = [0.02, 0.03, 0.08, 0.12] if args.sweep else []
    rows = []
    for mu in args.lfr_mu:
        runs: dict[str, list[dict[str, float]]] = {}
        seeds: list[int | None] = []
        for i in range(args.lfr_seeds):
            try:
                graph, truth, used = lfr_graph(args.lfr_n, mu, 1000 * i + 1)
            except RuntimeError as exc:
                seeds.append(None)
                print(f"mu {mu}: {exc}", file=sys.stderr, flush=True)
                continue
            seeds.append(used)
            for name, run in candidates.items():
                found, seconds = timed(lambda run=run, graph=graph: run(graph))  # type: ignore[misc]
                runs.setdefault(name, []).append({**scores(truth, found), "seconds": seconds,
                                                  "communities": len(set(found)), "planted": len(set(truth))})
            for resolution in sweep:
                found = detect(graph, Method("leiden", "cpm", resolution, method.seed))
                runs.setdefault(f"cpm_{resolution}", []).append(scores(truth, found))
        if not runs:
            rows.append({"mu": mu, "seeds": seeds, "generated": False})
            continue
        rows.append({"mu": mu, "seeds": seeds, **{name: {key: round(statistics.median(r[key] for r in results), 4)
                                                         for key in results[0]}
                                                  for name, results in runs.items()}})
    return {"n": args.lfr_n, "graphs_per_mu": args.lfr_seeds, "by_mu": rows}


# -- a 1M-report-sized projection ------------------------------------------------------------------

def scale_part(projection: Projection, copies: int, method: Method, louvain: bool) -> dict[str, Any]:
    big = ig.disjoint_union([projection.graph] * copies)
    leiden, leiden_s = timed(lambda: detect(big, method))
    _, shape_s = timed(lambda: shape(big, leiden))
    result: dict[str, Any] = {"copies": copies, "accounts": big.vcount(), "edges": big.ecount(),
                              "leiden_s": leiden_s, "shape_s": shape_s, "leiden_communities": len(set(leiden))}
    if louvain:
        found, louvain_s = timed(lambda: detect(big, LOUVAIN))
        result.update(louvain_s=louvain_s, louvain_communities=len(set(found)),
                      louvain_over_leiden=round(louvain_s / leiden_s, 1))
    return result


# -- any graph given as files ----------------------------------------------------------------------

def read_edgelist(edges: Path, truth: Path) -> tuple[ig.Graph, list[str], dict[str, str]]:
    """`a b [weight]` per line and `node community` per line; '#' lines are comments."""
    def rows(path: Path) -> list[list[str]]:
        return [line.split() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]

    labels = {row[0]: row[1] for row in rows(truth)}
    names: dict[str, int] = {}
    pairs, weights = [], []
    for row in rows(edges):
        a, b = (names.setdefault(x, len(names)) for x in row[:2])
        pairs.append((a, b))
        weights.append(float(row[2]) if len(row) > 2 else 1.0)
    for node in labels:  # nodes of the truth without edges are part of the graph, alone
        names.setdefault(node, len(names))
    graph = ig.Graph(n=len(names), edges=pairs, edge_attrs={"weight": weights})
    graph.simplify(combine_edges={"weight": "sum"})
    return graph, list(names), labels


def edgelist_part(args: argparse.Namespace, method: Method) -> dict[str, Any]:
    graph, names, labels = read_edgelist(Path(args.edgelist), Path(args.truth))
    scored = [i for i, name in enumerate(names) if name in labels]
    truth = [labels[names[i]] for i in scored]
    result: dict[str, Any] = {"nodes": graph.vcount(), "edges": graph.ecount(), "scored_nodes": len(scored),
                              "truth_communities": len(set(truth))}
    for name, chosen in (("leiden", method), ("louvain", LOUVAIN)):
        found, seconds = timed(lambda chosen=chosen: detect(graph, chosen))  # type: ignore[misc]
        result[name] = {**scores(truth, [found[i] for i in scored]), "communities": len(set(found)),
                        "seconds": seconds}
        if name == "leiden" and args.out:
            Path(args.out).write_text("".join(f"{names[i]} {c}\n" for i, c in enumerate(found)))
    result["leiden"]["method"] = method.describe()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="synthetic,lfr,scale")
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--loaded", metavar="TRUTH_JSON", help="use the graph already in NEO4J_URI's server")
    parser.add_argument("--run", action="store_true",
                        help="with --loaded: also time the product's whole run (pull, detect, write), as "
                             "`gracegraph communities run` does it, and keep that run in the graph")
    parser.add_argument("--lfr-n", type=int, default=5000)
    parser.add_argument("--lfr-mu", type=lambda s: [float(x) for x in s.split(",")],
                        default=[0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--lfr-seeds", type=int, default=3)
    parser.add_argument("--sweep", action="store_true", help="also score CPM at other resolutions on LFR graphs")
    parser.add_argument("--cross-check", action="store_true", help="also run the leidenalg package on LFR graphs")
    parser.add_argument("--scale-reports", type=int, default=1_000_000,
                        help="the size the synthetic projection is replicated to (in reports)")
    parser.add_argument("--no-scale-louvain", action="store_true")
    parser.add_argument("--quality", choices=("cpm", "modularity"))
    parser.add_argument("--resolution", type=float)
    parser.add_argument("--edgelist")
    parser.add_argument("--truth")
    parser.add_argument("--out")
    parser.add_argument("--projection", type=lambda s: s.split(","), default=["shared-identifiers"],
                        help=f"projections to pull and score, the first in full ({', '.join(PROJECTORS)})")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.lfr_mu, args.lfr_seeds = 2000, [0.5], 1  # LFR below n=5000 rarely fits sizes 10-50
        args.scale_reports = 4000
    settings = get_settings()
    method = default_method(settings, args)
    result: dict[str, Any] = {"bench": "communities", **machine(), "date": time.strftime("%Y-%m-%d")}
    if args.edgelist or args.truth:
        if not (args.edgelist and args.truth):
            parser.error("--edgelist and --truth go together")
        result["edgelist"] = edgelist_part(args, method)
        emit(result)
        return
    parts = set(args.parts.split(","))
    projection = None
    if parts & {"synthetic", "scale"}:
        result["synthetic"], projection = synthetic_part(args, settings)
        print(json.dumps({"synthetic": result["synthetic"]}), flush=True)
    if "lfr" in parts:
        result["lfr"] = lfr_part(args, method)
        print(json.dumps({"lfr": result["lfr"]}), flush=True)
    if "scale" in parts and projection is not None:
        reports = result["synthetic"]["reports"]
        copies = max(1, round(args.scale_reports / reports))
        result["scale"] = {"as_if_reports": copies * reports,
                           **scale_part(projection, copies, method, not args.no_scale_louvain)}
        pull = result["synthetic"]["pull_s"]
        result["scale"]["pull_s_extrapolated"] = round(pull * copies, 1)
        result["scale"]["end_to_end_s_estimated"] = round(pull * copies + result["scale"]["leiden_s"], 1)
    emit(result)


if __name__ == "__main__":
    os.environ.setdefault("GRACEGRAPH_LOG_LEVEL", "WARNING")
    main()
