"""A self-contained HTML chart: one file that opens on an air-gapped machine, laid out as saved.

pyvis's own template pulls Bootstrap from a CDN (DESIGN.md §8), so the page is ours: vis-network's
script and stylesheet from pyvis's bundled copy go in line, the kind icons as data URIs, the chart
as JSON; the page asks nothing of any host. Positions are the saved ones, physics is off, and a
pinned node stays where the investigator put it. Text from referral data reaches the page only as
escaped text or as JSON read by script (vis-network sets tooltips with innerText), never as markup.

`window.chartReady` turns true once the chart is drawn and fitted (the PNG renderer waits for it).
"""

from __future__ import annotations

import html
import json
from functools import cache
from pathlib import Path
from typing import Any

import pyvis

from ui.exports import RenderOptions
from ui.exports.model import ChartDocument, edge_period, edge_width, format_time, icon_data_uri, kind_style

VIS = Path(pyvis.__file__).resolve().parent / "templates" / "lib" / "vis-9.1.2"
LABEL_MAX = 26


@cache
def _vis() -> tuple[str, str]:
    return ((VIS / "vis-network.min.js").read_text(encoding="utf-8"),
            (VIS / "vis-network.css").read_text(encoding="utf-8"))


def _shorten(text: str, most: int = LABEL_MAX) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: no `</script>`, no `<!--`, whatever the referral data holds."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def chart_data(doc: ChartDocument) -> dict[str, Any]:
    """Nodes, edges and kind styles as vis-network reads them."""
    labels = {n.id: n.entity.label for n in doc.nodes}
    nodes = []
    for n in doc.nodes:
        e = n.entity
        title = [f"{e.kind}: {e.label}"] + ([e.key] if e.key != e.label else [])
        first, last = e.properties.get("first_seen"), e.properties.get("last_seen")
        if first or last:
            title.append(f"Seen {format_time(first)} – {format_time(last)}")
        title.append(f"{e.properties.get('source_count', len(e.sources))} source report(s)")
        nodes.append({"id": e.id, "kind": e.kind, "label": _shorten(e.label), "x": n.x, "y": n.y,
                      "fixed": n.pinned, "title": "\n".join(title)})
    edges = []
    for edge in doc.edges:
        lines = [edge.kind, f"{labels[edge.source]} → {labels[edge.target]}"]
        period = edge_period(edge)
        if period:
            lines.append(period)
        lines.append(f"Reports: {', '.join(edge.sources[:20])}" + (" …" if len(edge.sources) > 20 else ""))
        edges.append({"id": edge.id, "from": edge.source, "to": edge.target, "label": edge.kind,
                      "width": edge_width(edge), "title": "\n".join(lines)})
    kinds = {kind: {"colour": kind_style(kind).colour, "image": icon_data_uri(kind), "plural": kind_style(kind).plural}
             for kind in doc.kinds()}
    return {"nodes": nodes, "edges": edges, "kinds": kinds}


_CSS = """
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; color: #0f172a; background: #ffffff;
       font: 13px/1.4 system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
header { padding: 10px 16px 8px; border-bottom: 1px solid #e2e8f0; }
h1 { margin: 0 0 2px; font-size: 18px; }
.meta { color: #475569; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 6px 0 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 6px; }
.dot { display: inline-block; width: 16px; height: 16px; border-radius: 50%; background-size: cover; }
#chart { flex: 1; min-height: 400px; background: #f8fafc; }
div.vis-tooltip { white-space: pre-line; font: 12px/1.4 system-ui, sans-serif; max-width: 420px; }
"""

_JS = """
(function () {
  const data = JSON.parse(document.getElementById('chart-data').textContent);
  const legend = document.getElementById('legend');
  for (const [kind, style] of Object.entries(data.kinds)) {
    const li = document.createElement('li');
    const dot = document.createElement('span');
    dot.className = 'dot';
    dot.style.backgroundColor = style.colour;
    dot.style.backgroundImage = 'url("' + style.image + '")';
    li.append(dot, document.createTextNode(style.plural + ' (' + data.nodes.filter(n => n.kind === kind).length + ')'));
    legend.append(li);
  }
  const nodes = data.nodes.map(n => Object.assign({}, n, {
    image: data.kinds[n.kind].image,
    color: { background: data.kinds[n.kind].colour, border: '#334155',
             highlight: { background: data.kinds[n.kind].colour, border: '#0f172a' } },
    shapeProperties: { borderDashes: n.fixed ? [5, 3] : false },
  }));
  const options = {
    physics: { enabled: false },
    layout: { improvedLayout: false },
    interaction: { hover: true, tooltipDelay: 150, multiselect: true },
    nodes: { shape: 'circularImage', size: 18, borderWidth: 2,
             font: { size: 12, color: '#1e293b', strokeWidth: 4, strokeColor: '#ffffff', vadjust: -2 } },
    edges: { color: { color: '#94a3b8', highlight: '#2563eb', hover: '#64748b' }, smooth: false,
             arrows: { to: { enabled: true, scaleFactor: 0.45 } }, arrowStrikethrough: false,
             font: { size: 8, color: '#64748b', strokeWidth: 3, strokeColor: '#ffffff', align: 'middle' } },
  };
  const network = new vis.Network(document.getElementById('chart'),
    { nodes: new vis.DataSet(nodes), edges: new vis.DataSet(data.edges) }, options);
  network.once('afterDrawing', () => {
    network.fit({ animation: false });
    requestAnimationFrame(() => requestAnimationFrame(() => { window.chartReady = true; }));
  });
  window.chart = network;
})();
"""


def render(doc: ChartDocument, options: RenderOptions | None = None) -> bytes:
    script, style = _vis()
    chart = doc.chart
    counts = doc.counts()
    meta = (f"Case {chart.case} · chart {chart.id} · saved {format_time(chart.saved_at)}"
            + (f" by {chart.author}" if chart.author else "")
            + f" · exported {format_time(doc.exported_at.isoformat())} by {doc.exported_by} · "
            f"{counts['nodes']} entities, {counts['edges']} links, {counts['reports']} source reports")
    page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="gracegraph">
<title>{html.escape(doc.title)}</title>
<style>{style}</style>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{html.escape(doc.title)}</h1>
<div class="meta">{html.escape(meta)}</div>
<ul class="legend" id="legend"></ul>
</header>
<div id="chart" role="img" aria-label="{html.escape(doc.title, quote=True)}"></div>
<script type="application/json" id="chart-data">{_script_json(chart_data(doc))}</script>
<script>{script}</script>
<script>{_JS}</script>
</body>
</html>
"""
    return page.encode("utf-8")
