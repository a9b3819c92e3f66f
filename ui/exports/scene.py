"""The chart as shapes to draw (circles, lines, texts) in one frame, for the renderers that draw it
themselves: SVG (image.py) and the PDF's chart page (pdf.py).

The frame is the chart's own units (vis-network's, as saved), shifted so everything sits in
`[0, width] x [0, height]` with y pointing down; a renderer only scales it. A link runs from the
rim of its start circle to the rim of its end circle, where its arrowhead goes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ui.exports.model import ChartDocument, edge_width, kind_style

NODE_RADIUS = 18.0
MARGIN = 70.0  # room for labels under the outermost nodes
LABEL_MAX = 26


@dataclass(frozen=True, slots=True)
class SceneNode:
    id: str
    kind: str
    x: float
    y: float
    r: float
    fill: str
    stroke: str
    label: str
    pinned: bool


@dataclass(frozen=True, slots=True)
class SceneEdge:
    id: str
    x1: float
    y1: float
    x2: float
    y2: float
    width: float
    label: str


@dataclass(frozen=True, slots=True)
class Scene:
    width: float
    height: float
    nodes: list[SceneNode]
    edges: list[SceneEdge]


def shorten(text: str, most: int = LABEL_MAX) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def darker(colour: str, amount: float = 0.28) -> str:
    value = int(colour.lstrip("#"), 16)
    channels = [(value >> shift) & 255 for shift in (16, 8, 0)]
    return "#" + "".join(f"{round(c * (1 - amount)):02x}" for c in channels)


def build_scene(doc: ChartDocument, radius: float = NODE_RADIUS, margin: float = MARGIN) -> Scene:
    x0, y0, x1, y1 = doc.bounds()
    nodes = []
    where: dict[str, tuple[float, float]] = {}
    for n in doc.nodes:
        x, y = n.x - x0 + margin, n.y - y0 + margin
        where[n.id] = (x, y)
        style = kind_style(n.entity.kind)
        nodes.append(SceneNode(n.id, n.entity.kind, x, y, radius, style.colour, darker(style.colour),
                               shorten(n.entity.label), n.pinned))
    edges = []
    for e in doc.edges:
        (ax, ay), (bx, by) = where[e.source], where[e.target]
        length = math.hypot(bx - ax, by - ay)
        if length <= 2 * radius:  # overlapping circles: nothing to draw between them
            continue
        ux, uy = (bx - ax) / length, (by - ay) / length
        edges.append(SceneEdge(e.id, ax + ux * radius, ay + uy * radius, bx - ux * radius, by - uy * radius,
                               edge_width(e), e.kind))
    return Scene(width=x1 - x0 + 2 * margin, height=y1 - y0 + 2 * margin, nodes=nodes, edges=edges)


def arrowhead(edge: SceneEdge, size: float) -> list[tuple[float, float]]:
    """The three corners of the arrowhead at the end of `edge`."""
    dx, dy = edge.x2 - edge.x1, edge.y2 - edge.y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    bx, by = edge.x2 - ux * size, edge.y2 - uy * size
    px, py = -uy * size * 0.5, ux * size * 0.5
    return [(edge.x2, edge.y2), (bx + px, by + py), (bx - px, by - py)]
