"""Chart images: PNG as Debian's chromium draws the self-contained HTML page, SVG drawn here.

PNG: the HTML export opened in headless chromium (Playwright driving /usr/bin/chromium, never a
downloaded browser) with every request refused (the page needs none), rendered at three device
pixels per CSS pixel: 4800 x 3000 pixels, about 40 x 25 cm at 300 dpi. It is what the viewer shows.

SVG: vis-network draws on a canvas and has no vector output, so the SVG is drawn from the chart's
scene (scene.py): kind-coloured circles with the viewer's icon glyphs, arrowed links, labels.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from queries.errors import QueryError
from ui.exports import RenderOptions
from ui.exports.model import ChartDocument, format_time, icon_svg
from ui.exports.scene import arrowhead, build_scene

VIEWPORT_WIDTH, VIEWPORT_HEIGHT = 1600, 1000
SCALE = 3
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
READY_TIMEOUT_MS = 60_000


class RenderError(QueryError):
    """The browser could not draw the chart (missing, or it failed): the export is unavailable."""

    code = "UNAVAILABLE"


def render_png(doc: ChartDocument, options: RenderOptions | None = None) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Route, sync_playwright

    from ui.exports.html import render as render_html

    page_html = render_html(doc).decode("utf-8")
    chromium = Path((options or RenderOptions()).chromium)
    if not chromium.exists():
        raise RenderError(f"no browser at {chromium} to draw the PNG (install Debian's chromium)")

    def refuse(route: Route) -> None:
        route.abort("blockedbyclient")

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
                                        device_scale_factor=SCALE, service_workers="block")
                page.route("**/*", refuse)
                page.set_content(page_html, wait_until="load")
                page.wait_for_function("() => window.chartReady === true", timeout=READY_TIMEOUT_MS)
                return page.screenshot(full_page=True, type="png")
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise RenderError(f"chromium could not draw the chart: {exc}") from exc


def _icon(kind: str, x: float, y: float, size: float) -> str:
    """The kind's icon as a nested <svg> at (x, y): portable to Inkscape, yEd and browsers alike."""
    root = etree.fromstring(icon_svg(kind).encode("utf-8"))
    root.set("x", f"{x:.2f}")
    root.set("y", f"{y:.2f}")
    root.set("width", f"{size:.2f}")
    root.set("height", f"{size:.2f}")
    return etree.tostring(root, encoding="unicode")


def render_svg(doc: ChartDocument, options: RenderOptions | None = None) -> bytes:
    scene = build_scene(doc)
    description = (f"Case {doc.chart.case}, chart {doc.chart.id}, exported "
                   f"{format_time(doc.exported_at.isoformat())} by {doc.exported_by}")
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" '
           f'viewBox="0 0 {scene.width:.1f} {scene.height + 40:.1f}" width="{scene.width:.0f}" '
           f'height="{scene.height + 40:.0f}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">',
           f"<title>{escape(doc.title)}</title>",
           f"<desc>{escape(description)}</desc>",
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="12" y="24" font-size="16" font-weight="bold" fill="#0f172a">{escape(doc.title)}</text>',
           f'<text x="12" y="42" font-size="11" fill="#475569">{escape("Case " + doc.chart.case)}</text>',
           '<g transform="translate(0 40)">', '<g class="links" stroke="#94a3b8" fill="#94a3b8">']
    for e in scene.edges:
        head = " ".join(f"{x:.2f},{y:.2f}" for x, y in arrowhead(e, 8))
        mx, my = (e.x1 + e.x2) / 2, (e.y1 + e.y2) / 2
        out.append(f'<g data-id={quoteattr(e.id)}><line x1="{e.x1:.2f}" y1="{e.y1:.2f}" x2="{e.x2:.2f}" '
                   f'y2="{e.y2:.2f}" stroke-width="{e.width:.2f}"/><polygon points="{head}" stroke="none"/>'
                   f'<text x="{mx:.2f}" y="{my:.2f}" font-size="7" fill="#64748b" stroke="#ffffff" '
                   f'stroke-width="2.5" paint-order="stroke" text-anchor="middle">{escape(e.label)}</text></g>')
    out.append("</g>")
    out.append('<g class="entities">')
    for n in scene.nodes:
        dash = ' stroke-dasharray="5 3"' if n.pinned else ""
        out.append(f'<g data-id={quoteattr(n.id)} data-kind={quoteattr(n.kind)}>'
                   f'<circle cx="{n.x:.2f}" cy="{n.y:.2f}" r="{n.r:.2f}" fill="{n.fill}" stroke="{n.stroke}" '
                   f'stroke-width="2"{dash}/>'
                   + _icon(n.kind, n.x - n.r, n.y - n.r, 2 * n.r)
                   + f'<text x="{n.x:.2f}" y="{n.y + n.r + 13:.2f}" font-size="11" fill="#1e293b" '
                   f'stroke="#ffffff" stroke-width="3.5" paint-order="stroke" text-anchor="middle">'
                   f"{escape(n.label)}</text></g>")
    out.append("</g></g></svg>\n")
    return "\n".join(out).encode("utf-8")
