"""The one chart every export draws: entities at their saved positions, the links the time range
keeps, with their evidence, and how each kind looks.

Built once per export from a saved chart and the graph as it is now (`queries.charts.chart_graph`),
so the seven formats cannot disagree about what the chart holds. Nodes are those drawn in the
viewer (kept, not hidden, of a kind not hidden); a link is drawn unless the chart's time range rules
it out the way the viewer does (last seen before `since` or first seen after `until`; links
without times are timeless and always drawn).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from queries.charts import ChartGraph, SavedChart
from queries.results import Entity, GraphEdge

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"


@dataclass(frozen=True, slots=True)
class KindStyle:
    colour: str  # #rrggbb, as in ui/static/js/kinds.js (a test keeps the two in step)
    icon: str  # file stem under ui/static/icons
    plural: str
    code: str  # one or two letters, for renderers that draw no icons


#: How each kind looks, the same in the viewer and every export.
KIND_STYLES: dict[str, KindStyle] = {
    "Account": KindStyle("#2563eb", "account", "Accounts", "A"),
    "Person": KindStyle("#7c3aed", "person", "Persons", "P"),
    "Email": KindStyle("#0891b2", "email", "Emails", "@"),
    "Phone": KindStyle("#16a34a", "phone", "Phones", "T"),
    "IP": KindStyle("#ea580c", "ip", "IP addresses", "IP"),
    "Device": KindStyle("#a16207", "device", "Devices", "D"),
    "File": KindStyle("#dc2626", "file", "Files", "F"),
    "Report": KindStyle("#475569", "report", "Reports", "R"),
    "Provider": KindStyle("#0f766e", "provider", "Providers", "Pr"),
    "Location": KindStyle("#65a30d", "location", "Locations", "L"),
    "Case": KindStyle("#be185d", "case", "Cases", "C"),
    "Agency": KindStyle("#1e3a8a", "agency", "Agencies", "Ag"),
    "Identity": KindStyle("#9333ea", "identity", "Identities", "Id"),
    "HashSet": KindStyle("#78716c", "hashset", "Hash sets", "H"),
    "Community": KindStyle("#0d9488", "community", "Communities", "Co"),
}
UNKNOWN_STYLE = KindStyle("#6b7280", "unknown", "Other", "?")


def kind_style(kind: str) -> KindStyle:
    return KIND_STYLES.get(kind, UNKNOWN_STYLE)


@cache
def icon_svg(kind: str) -> str:
    """The kind's icon (a white glyph on a transparent 40x40 square) as SVG text."""
    return (ICONS / f"{kind_style(kind).icon}.svg").read_text(encoding="utf-8")


def icon_data_uri(kind: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(icon_svg(kind).encode("utf-8")).decode("ascii")


@dataclass(slots=True)
class DrawnNode:
    entity: Entity
    x: float
    y: float
    pinned: bool = False

    @property
    def id(self) -> str:
        return self.entity.id


@dataclass(slots=True)
class ChartDocument:
    chart: SavedChart
    nodes: list[DrawnNode]
    edges: list[GraphEdge]
    missing: list[str] = field(default_factory=list)  # kept on the chart, gone from the graph
    reports: dict[str, Entity] = field(default_factory=dict)  # source reports by key (those found)
    outside_range: int = 0  # links among the drawn nodes that the time range hides
    exported_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    exported_by: str = "local"

    @property
    def title(self) -> str:
        return f"{self.chart.name} (version {self.chart.version})"

    def by_id(self) -> dict[str, DrawnNode]:
        return {n.id: n for n in self.nodes}

    def source_reports(self) -> list[str]:
        """Every report key behind a drawn link, sorted: the provenance of the chart."""
        return sorted({key for edge in self.edges for key in edge.sources})

    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of the node centres; a single point for a one-node chart."""
        xs = [n.x for n in self.nodes] or [0.0]
        ys = [n.y for n in self.nodes] or [0.0]
        return min(xs), min(ys), max(xs), max(ys)

    def kinds(self) -> list[str]:
        """Kinds on the chart, in the model's order."""
        order = list(KIND_STYLES)
        present = {n.entity.kind for n in self.nodes}
        return sorted(present, key=lambda k: (order.index(k) if k in order else len(order), k))

    def counts(self) -> dict[str, int]:
        return {"nodes": len(self.nodes), "edges": len(self.edges), "reports": len(self.source_reports())}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def in_range(edge: GraphEdge, since: str | None, until: str | None) -> bool:
    """The viewer's rule: out when last seen before `since` or first seen after `until`."""
    first = _moment(edge.properties.get("first_seen"))
    last = _moment(edge.properties.get("last_seen")) or first
    start, end = _moment(since), _moment(until)
    if start is not None and last is not None and last < start:
        return False
    return not (end is not None and first is not None and first > end)


def build_document(graph: ChartGraph, exported_by: str | None = None,
                   exported_at: datetime | None = None) -> ChartDocument:
    """The chart to draw: drawn nodes at their saved positions, links kept by the time range."""
    state = graph.chart.state
    placed = {n.id: n for n in state.nodes}
    nodes = [DrawnNode(entity, placed[entity.id].x, placed[entity.id].y, placed[entity.id].pinned)
             for entity in graph.nodes]
    kept = [e for e in graph.edges if in_range(e, state.since, state.until)]
    return ChartDocument(chart=graph.chart, nodes=nodes, edges=kept, missing=list(graph.missing),
                         reports={r.key: r for r in graph.reports},
                         outside_range=len(graph.edges) - len(kept),
                         exported_at=exported_at or datetime.now(UTC), exported_by=exported_by or "local")


def edge_width(edge: GraphEdge) -> float:
    """More reports behind a link, a thicker line (as the viewer draws it)."""
    return min(1.2 + math.log2(max(len(edge.sources), 1)) * 0.8, 5.0)


def format_time(value: Any) -> str:
    """`2024-01-05 01:18:43 UTC`: one zone for every reader, whatever their machine's."""
    moment = _moment(value)
    if moment is None:
        return "" if value is None else str(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def edge_period(edge: GraphEdge) -> str:
    """`first – last` (or the one time) of a link, empty when it has no times."""
    first = edge.properties.get("first_seen")
    last = edge.properties.get("last_seen")
    if not first and not last:
        return ""
    if not last or first == last:
        return format_time(first or last)
    return f"{format_time(first)} – {format_time(last)}"
