"""GEXF for Gephi: the chart graph with positions, sizes and kind colours as GEXF `viz` data.

Gephi's y axis points up and the chart's points down, so `viz:position` has y negated; the
`x`/`y` attributes keep the chart's own coordinates.
"""

from __future__ import annotations

import io

import networkx as nx

from ui.exports.cells import inert_document
from ui.exports.model import ChartDocument, kind_style
from ui.exports.networkx_graph import chart_graph


def _rgb(colour: str) -> dict[str, int | float]:
    value = int(colour.lstrip("#"), 16)
    return {"r": value >> 16, "g": (value >> 8) & 255, "b": value & 255, "a": 1.0}


def render(doc: ChartDocument, options: object = None) -> bytes:
    g = chart_graph(inert_document(doc))
    for _, data in g.nodes(data=True):
        data["viz"] = {"position": {"x": data["x"], "y": -data["y"], "z": 0.0},
                       "color": _rgb(kind_style(data["kind"]).colour), "size": 10.0}
    buffer = io.BytesIO()
    nx.write_gexf(g, buffer, encoding="utf-8", prettyprint=True, version="1.2draft")
    return buffer.getvalue()
