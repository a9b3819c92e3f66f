"""The chart as a networkx graph with flat, typed attributes: what GraphML and GEXF both write.

Attributes are scalars (both formats want them so): lists (sources, times) and the remaining
properties travel as JSON text, which every reader can split without guessing at separators.
Nodes: `kind`, `entity_key` (our key: `key` means something else to networkx and GEXF), `label`,
`x`, `y` (chart units, y pointing down as on screen), `pinned`, `sources`, `source_count`,
`first_seen`, `last_seen`, `properties`. Edges: `kind`, `label`, `sources`, `source_count`,
`first_seen`, `last_seen`, `times`, `properties`. Absent times are empty text, so every node (and
every edge) has every attribute with one type.
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from ui.exports.model import ChartDocument

_NODE_TIMES = ("first_seen", "last_seen")
_EDGE_OWN = ("first_seen", "last_seen", "times")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def chart_graph(doc: ChartDocument) -> nx.MultiDiGraph:
    """One node per drawn entity, one edge per drawn link keyed by its id (two kinds of link may
    join the same pair, so the graph is a multigraph)."""
    g = nx.MultiDiGraph(name=doc.title, case=doc.chart.case, chart=doc.chart.id,
                        exported_at=doc.exported_at.isoformat(), exported_by=doc.exported_by)
    for node in doc.nodes:
        e = node.entity
        rest = {k: v for k, v in e.properties.items() if k not in _NODE_TIMES}
        g.add_node(e.id, kind=e.kind, entity_key=e.key, label=e.label, x=float(node.x), y=float(node.y),
                   pinned=bool(node.pinned), sources=_json(e.sources),
                   source_count=int(e.properties.get("source_count", len(e.sources))),
                   first_seen=str(e.properties.get("first_seen") or ""),
                   last_seen=str(e.properties.get("last_seen") or ""), properties=_json(rest))
    for edge in doc.edges:
        p = edge.properties
        rest = {k: v for k, v in p.items() if k not in _EDGE_OWN}
        g.add_edge(edge.source, edge.target, key=edge.id, id=edge.id, kind=edge.kind, label=edge.kind,
                   sources=_json(edge.sources), source_count=len(edge.sources),
                   first_seen=str(p.get("first_seen") or ""), last_seen=str(p.get("last_seen") or ""),
                   times=_json(p.get("times") or []), properties=_json(rest))
    return g
