"""GraphML for yEd, Cytoscape and Gephi: the chart graph (`networkx_graph`) with its attributes."""

from __future__ import annotations

import io

import networkx as nx

from ui.exports.cells import inert_document
from ui.exports.model import ChartDocument
from ui.exports.networkx_graph import chart_graph


def render(doc: ChartDocument, options: object = None) -> bytes:
    buffer = io.BytesIO()
    graph = chart_graph(inert_document(doc))  # yEd's and Gephi's tables export to Excel
    nx.write_graphml_xml(graph, buffer, encoding="utf-8", prettyprint=True, named_key_ids=True)
    return buffer.getvalue()
