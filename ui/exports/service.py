"""Export a saved chart: the one operation behind `gracegraph export chart` and `exportChart`.

The chart's entities and links are fetched afresh (a source report added since the chart was
saved shows in its evidence), rendered, and the export is written to the audit log before its
bytes are handed over: an export that cannot be audited does not leave.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from queries.charts import chart_graph, get_chart, slug
from queries.context import GraphContext
from ui.exports import RenderOptions, export_format, render
from ui.exports.model import build_document

OPERATION = "exportChart"


class Auditor(Protocol):
    def append(self, actor: str | None, agency: str | None, operation: str,
               variables: dict[str, Any] | None = ..., counts: dict[str, int] | None = ...) -> Any: ...


@dataclass(frozen=True, slots=True)
class ExportResult:
    chart_id: str
    format: str
    filename: str
    media_type: str
    content: bytes
    counts: dict[str, int]
    sha256: str


def export_chart(ctx: GraphContext, chart_id: str, format: str, *, audit: Auditor, actor: str | None = None,
                 agency: str | None = None, options: RenderOptions | None = None) -> ExportResult:
    fmt = export_format(format)
    chart = get_chart(ctx, chart_id)
    doc = build_document(chart_graph(ctx, chart), exported_by=actor)
    content = render(doc, fmt.name, options)
    counts = {**doc.counts(), "missing": len(doc.missing), "bytes": len(content)}
    digest = hashlib.sha256(content).hexdigest()
    audit.append(actor, agency, OPERATION, {"chartId": chart.id, "format": fmt.name, "sha256": digest}, counts)
    filename = f"{slug(chart.case)}-{slug(chart.name)}-v{chart.version}{fmt.extension}"
    return ExportResult(chart_id=chart.id, format=fmt.name, filename=filename, media_type=fmt.media_type,
                        content=content, counts=counts, sha256=digest)
