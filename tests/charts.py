"""A chart as an investigator would save it: a planted offender network and what surrounds it."""

from __future__ import annotations

from typing import Any

import networkx as nx

from loaders.synthetic import Truth
from queries.context import GraphContext
from queries.link_analysis import neighbourhood
from queries.results import Subgraph

#: Kinds an investigator keeps on a network chart (providers and reports of everyone are noise here).
CHART_KINDS = ["Account", "Person", "Email", "Phone", "IP", "Device", "File", "Report", "Location"]


def network_subgraph(ctx: GraphContext, truth: Truth, network: int = 0, limit: int = 60) -> Subgraph:
    """The planted network's accounts and their neighbours, at most `limit` entities."""
    accounts = [f"Account:{key}" for key in truth.networks[network]["accounts"]]
    return neighbourhood(ctx, accounts[:50], depth=1, kinds=CHART_KINDS, limit=limit)


def chart_state(subgraph: Subgraph, *, hide: list[str] = (), pin: list[str] = (),
                hidden_kinds: list[str] = (), since: str | None = None, until: str | None = None,
                seed: int = 7) -> dict[str, Any]:
    """The viewer's JSON state for `subgraph`, laid out as a spring layout would (seeded)."""
    g = nx.Graph()
    g.add_nodes_from(n.id for n in subgraph.nodes)
    g.add_edges_from((e.source, e.target) for e in subgraph.edges)
    layout = nx.spring_layout(g, seed=seed, scale=600)
    nodes = [{"id": n.id, "x": round(float(layout[n.id][0]), 2), "y": round(float(layout[n.id][1]), 2),
              "pinned": n.id in pin, "hidden": n.id in hide} for n in subgraph.nodes]
    return {"nodes": nodes, "hiddenKinds": list(hidden_kinds), "since": since, "until": until}
