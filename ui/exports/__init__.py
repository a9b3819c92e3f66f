"""Link-chart exports: one module per format, all drawing the one `ChartDocument` (model.py).

`FORMATS` names each format with its media type and file extension; `render(doc, name, options)`
makes the bytes. Renderers import their libraries (ReportLab, followthemoney, Playwright) only
when asked, so the API and the CLI start without them. `service.export_chart` is the operation
the CLI and GraphQL call: fetch the chart fresh, render, write the audit entry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from queries.errors import BadInput
from ui.exports.model import ChartDocument


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    media_type: str
    extension: str
    renderer: str  # "module:function" under ui.exports
    binary: bool


@dataclass(frozen=True, slots=True)
class RenderOptions:
    chromium: Path = Path("/usr/bin/chromium")  # the browser that draws PNGs (Debian's)


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("html", "text/html; charset=utf-8", ".html", "html:render", False),
    ExportFormat("png", "image/png", ".png", "image:render_png", True),
    ExportFormat("svg", "image/svg+xml", ".svg", "image:render_svg", False),
    ExportFormat("graphml", "application/graphml+xml", ".graphml", "graphml:render", False),
    ExportFormat("gexf", "application/gexf+xml", ".gexf", "gexf:render", False),
    ExportFormat("anx", "application/xml", ".anx", "anx:render", False),
    ExportFormat("ftm", "application/x-ndjson", ".ftm.json", "ftm:render", False),
    ExportFormat("pdf", "application/pdf", ".pdf", "pdf:render", True),
)}


def export_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name.lower()]
    except (KeyError, AttributeError):
        raise BadInput(f"unknown export format {name!r}; known: {', '.join(FORMATS)}") from None


def render(doc: ChartDocument, name: str, options: RenderOptions | None = None) -> bytes:
    module, _, function = export_format(name).renderer.partition(":")
    renderer = getattr(importlib.import_module(f"ui.exports.{module}"), function)
    data: bytes = renderer(doc, options or RenderOptions())
    return data
