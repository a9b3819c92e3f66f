"""Chart exports read back by the tools' own parsers: networkx for GraphML and GEXF, followthemoney's
model for FtM, lxml for ANX, poppler for the PDF, chromium (network blocked) for the HTML page.

One planted offender network, saved as a chart of about fifty entities, is exported once per
format; the files land in artifacts/exports/ (gitignored) for a person to open.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest
from followthemoney import model
from lxml import etree
from neo4j import Driver
from PIL import Image
from typer.testing import CliRunner

from graph_service.audit import AuditLog
from graph_service.cli import app
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.charts import SavedChart, chart_graph, save_chart
from queries.context import GraphContext
from tests.browser import ARTIFACTS, fenced_page
from tests.charts import chart_state, network_subgraph
from ui.exports import FORMATS, RenderOptions, render
from ui.exports.model import KIND_STYLES, ChartDocument, build_document
from ui.exports.service import export_chart

OUT = ARTIFACTS / "exports"
KINDS_JS = Path(__file__).resolve().parent.parent / "ui" / "static" / "js" / "kinds.js"


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("export-referrals")
    planted = generate(out, reports=300, seed=20240917)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed, summary.faults
    return planted


@pytest.fixture(scope="module")
def ctx(driver: Driver, neo4j_settings: Settings) -> GraphContext:
    return GraphContext(driver, neo4j_settings.neo4j_database)


@pytest.fixture(scope="module")
def chart(ctx: GraphContext, truth: Truth) -> SavedChart:
    subgraph = network_subgraph(ctx, truth, limit=50)
    pinned = [n.id for n in subgraph.nodes[:3]]
    return save_chart(ctx, "ICAC-2024-0042", "Planted network A", chart_state(subgraph, pin=pinned),
                      author="det.analyst")


@pytest.fixture(scope="module")
def doc(ctx: GraphContext, chart: SavedChart) -> ChartDocument:
    return build_document(chart_graph(ctx, chart), exported_by="det.analyst")


@pytest.fixture(scope="module")
def files(doc: ChartDocument) -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, fmt in FORMATS.items():
        path = OUT / f"chart{fmt.extension}"
        path.write_bytes(render(doc, name, RenderOptions()))
        written[name] = path
    return written



def test_kind_styles_match_the_viewer() -> None:
    text = KINDS_JS.read_text()
    for kind, style in KIND_STYLES.items():
        match = re.search(rf"\b{kind}: {{ colour: '(#[0-9a-f]{{6}})', icon: '([a-z]+)'", text)
        assert match is not None, kind
        assert (match[1], match[2]) == (style.colour, style.icon), kind


def test_the_chart_document_draws_what_the_viewer_drew(doc: ChartDocument, chart: SavedChart) -> None:
    assert 40 <= len(doc.nodes) <= 50 and doc.edges
    assert [n.id for n in doc.nodes] == [n.id for n in chart.state.nodes]
    saved = {n.id: (n.x, n.y, n.pinned) for n in chart.state.nodes}
    assert all(saved[n.id] == (n.x, n.y, n.pinned) for n in doc.nodes)
    ids = {n.id for n in doc.nodes}
    assert all(e.source in ids and e.target in ids and e.sources for e in doc.edges)


def graph_of(doc: ChartDocument) -> set[tuple[str, str, str]]:
    return {(e.source, e.target, e.kind) for e in doc.edges}


@pytest.mark.parametrize("name", ["graphml", "gexf"])
def test_graphml_and_gexf_read_back_in_networkx(files: dict[str, Path], doc: ChartDocument, name: str) -> None:
    g = nx.read_graphml(files[name]) if name == "graphml" else nx.read_gexf(files[name])
    assert set(g.nodes) == {n.id for n in doc.nodes}
    for n in doc.nodes:
        data = g.nodes[n.id]
        assert (data["kind"], data["entity_key"], data["label"]) == (n.entity.kind, n.entity.key, n.entity.label)
        assert (float(data["x"]), float(data["y"])) == (n.x, n.y)
        assert json.loads(data["sources"]) == n.entity.sources
        if name == "gexf":
            assert data["viz"]["position"]["x"] == pytest.approx(n.x)
            assert data["viz"]["position"]["y"] == pytest.approx(-n.y)  # Gephi's y points up
    read = {(a, b, d["kind"]): d for a, b, d in g.edges(data=True)}
    assert set(read) == graph_of(doc)
    for e in doc.edges:
        data = read[e.source, e.target, e.kind]
        assert json.loads(data["sources"]) == e.sources  # the evidence, report by report
        assert int(data["source_count"]) == len(e.sources)
        assert data["first_seen"] == (e.properties.get("first_seen") or "")
        assert json.loads(data["times"]) == (e.properties.get("times") or [])


def ftm_entities(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ftm_entities_are_valid_for_the_followthemoney_model(files: dict[str, Path], doc: ChartDocument) -> None:
    entities = ftm_entities(files["ftm"])
    by_id = {e["id"]: e for e in entities}
    assert len(by_id) == len(entities)  # ids are unique
    for data in entities:
        schema = model.get(data["schema"])
        assert schema is not None and not schema.abstract, data["schema"]
        assert schema.validate(data) is None, (data["schema"], schema.validate(data))
        for prop_name, values in data["properties"].items():
            prop = schema.get(prop_name)
            assert prop is not None, f"{data['schema']} has no property {prop_name}"
            for value in values:
                assert prop.type.validate(value), (data["schema"], prop_name, value)
                if prop.type.name == "entity":  # every reference resolves, to a schema the range allows
                    assert value in by_id, (prop_name, value)
                    assert model.get(by_id[value]["schema"]).is_a(prop.range), (prop_name, by_id[value]["schema"])
        model.get_proxy(data, cleaned=False)


def test_ftm_has_every_node_and_an_interval_with_proof_for_every_link(files: dict[str, Path],
                                                                       doc: ChartDocument) -> None:
    entities = ftm_entities(files["ftm"])
    schemata = {e["schema"] for e in entities}
    assert {"UserAccount", "Person", "Document", "UnknownLink", "Documentation"} <= schemata
    intervals = [e for e in entities if model.get(e["schema"]).is_a("Interval")]
    assert len(intervals) == len(doc.edges)
    titles = {e["id"]: e["properties"].get("title", [""])[0] for e in entities if e["schema"] == "Document"}
    for link in intervals:
        proofs = [titles[p] for p in link["properties"]["proof"]]
        assert proofs and all(t.startswith("Report cybertip:") for t in proofs)
        assert link["properties"]["role"][0] in {e.kind for e in doc.edges}
    accounts = [e for e in entities if e["schema"] == "UserAccount" and e["properties"].get("ipAddress")]
    assert accounts, "no account carries the IP addresses the chart ties to it (Aleph pivots on them)"


def test_anx_has_the_structure_analysts_notebook_reads(files: dict[str, Path], doc: ChartDocument) -> None:
    root = etree.parse(str(files["anx"]), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    assert root.tag == "Chart" and root.get("IdReferenceLinking") == "false"
    children = [c.tag for c in root if isinstance(c.tag, str)]
    assert children == ["StrengthCollection", "AttributeClassCollection", "EntityTypeCollection",
                        "LinkTypeCollection", "ChartItemCollection"]
    items = root.findall("ChartItemCollection/ChartItem")
    entities = [i for i in items if i.find("End/Entity") is not None]
    links = [i for i in items if i.find("Link") is not None]
    assert len(entities) == len(doc.nodes) and len(links) == len(doc.edges)
    entity_ids = {i.find("End/Entity").get("EntityId"): i.find("End/Entity").get("Identity") for i in entities}
    types = {t.get("Name") for t in root.iter("EntityType")}
    link_types = {t.get("Name") for t in root.iter("LinkType")}
    classes = {c.get("Name") for c in root.iter("AttributeClass")}
    strengths = {s.get("Id") for s in root.iter("Strength")}
    for item in entities:
        end = item.find("End")
        int(end.get("X")), int(end.get("Y"))  # i2 positions are integers
        assert item.find("End/Entity/Icon/IconStyle").get("Type") in types
    drawn = set()
    for item in links:
        link = item.find("Link")
        ends = (entity_ids[link.get("End1Id")], entity_ids[link.get("End2Id")])  # both ends resolve
        style = link.find("LinkStyle")
        assert style.get("Type") in link_types and style.get("Strength") in strengths
        drawn.add((*ends, item.get("Label")))
        assert item.get("SourceReference")
        if item.get("DateSet") == "true":
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000", item.get("DateTime"))
    assert drawn == graph_of(doc)
    for attribute in root.iter("Attribute"):
        assert attribute.get("AttributeClass") in classes
    # Positions keep the chart's arrangement (shifted, rounded).
    first, second = doc.nodes[0], doc.nodes[1]
    ends = {i.find("End/Entity").get("Identity"): i.find("End") for i in entities}
    dx = int(ends[second.id].get("X")) - int(ends[first.id].get("X"))
    assert abs(dx - (second.x - first.x)) <= 1


def test_pdf_pages_render_and_hold_every_key_and_every_source_report(files: dict[str, Path], doc: ChartDocument,
                                                                     tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-r", "110", "-png", str(files["pdf"]), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 4
    first = Image.open(pages[0]).convert("RGB")
    colours = {c for _, c in first.getcolors(1 << 20)}
    assert len(colours) > 50  # a drawn chart, not a blank page
    (OUT / "chart-page-1.png").write_bytes(pages[0].read_bytes())
    text = subprocess.run(["pdftotext", "-layout", str(files["pdf"]), "-"], check=True, capture_output=True,
                          text=True).stdout
    for n in doc.nodes:
        assert n.entity.key in text, n.entity.key
    assert doc.chart.case in text and doc.chart.id in text and "det.analyst" in text
    appendix = text[text.index("Appendix: provenance"):]
    reports = doc.source_reports()
    assert reports and all(key in appendix for key in reports)
    assert f"on: {len(reports)} report(s)" in appendix


def test_html_opens_with_the_network_blocked_and_draws_the_saved_layout(files: dict[str, Path],
                                                                        doc: ChartDocument) -> None:
    with fenced_page("http://127.0.0.1:9") as (page, traffic):
        page.set_content(files["html"].read_text(encoding="utf-8"), wait_until="load")
        page.wait_for_function("() => window.chartReady === true", timeout=30_000)
        positions = page.evaluate("() => window.chart.getPositions()")
        blank = page.evaluate("""() => {
            const canvas = document.querySelector('#chart canvas');
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const colours = new Set();
            for (let i = 0; i < data.length; i += 4 * 97) colours.add(data[i] << 16 | data[i + 1] << 8 | data[i + 2]);
            return colours.size;
        }""")
        OUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUT / "chart-html.png"))
    assert traffic.requests == [] and traffic.blocked == []  # nothing fetched: everything is in the file
    assert traffic.console_errors == [] and traffic.page_errors == []
    assert blank > 20  # icons, colours, lines: the chart was drawn
    for n in doc.nodes:
        assert positions[n.id]["x"] == pytest.approx(n.x, abs=1)  # vis-network reports whole units
        assert positions[n.id]["y"] == pytest.approx(n.y, abs=1)


def test_png_is_print_resolution_and_svg_draws_every_entity(files: dict[str, Path], doc: ChartDocument) -> None:
    image = Image.open(files["png"])
    assert image.format == "PNG" and image.size[0] >= 4800
    small = image.convert("RGB").resize((image.size[0] // 8, image.size[1] // 8))
    assert len(small.getcolors(1 << 20)) > 100
    svg = etree.parse(str(files["svg"]), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    drawn = {g.get("data-id") for g in svg.findall(".//s:g[@class='entities']/s:g", ns)}
    assert drawn == {n.id for n in doc.nodes}
    assert len(svg.findall(".//s:g[@class='links']/s:g", ns)) <= len(doc.edges)
    assert len(svg.findall(".//s:g[@class='links']/s:g", ns)) >= len(doc.edges) * 0.9


def test_the_time_range_leaves_out_links_outside_it(ctx: GraphContext, chart: SavedChart) -> None:
    state = chart.state.as_json() | {"since": "2100-01-01T00:00:00+00:00"}
    later = save_chart(ctx, chart.case, "Later only", state)
    doc = build_document(chart_graph(ctx, later))
    timed = [e for e in chart_graph(ctx, later).edges if e.properties.get("first_seen")]
    assert timed and doc.outside_range == len(timed)
    assert all(not e.properties.get("first_seen") for e in doc.edges)


def test_every_export_is_audited(ctx: GraphContext, chart: SavedChart, tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.jsonl")
    result = export_chart(ctx, chart.series, "graphml", audit=audit, actor="det.analyst", agency="ICAC")
    [entry] = list(audit.entries())
    assert (entry.actor, entry.agency, entry.operation) == ("det.analyst", "ICAC", "exportChart")
    assert entry.variables == {"chartId": chart.id, "format": "graphml", "sha256": result.sha256}
    assert entry.counts["nodes"] == result.counts["nodes"] > 0
    assert result.filename == "icac-2024-0042-planted-network-a-v1.graphml"
    assert audit.verify() is None


@pytest.fixture
def cli_env(neo4j_settings: Settings, tmp_path: Path) -> Iterator[Path]:
    audit = tmp_path / "audit.jsonl"
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("NEO4J_DATABASE", neo4j_settings.neo4j_database)
    patch.setenv("GRACEGRAPH_AUDIT_LOG", str(audit))
    get_settings.cache_clear()
    yield audit
    patch.undo()
    get_settings.cache_clear()


def test_one_command_per_format_from_the_cli(chart: SavedChart, cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for name, fmt in FORMATS.items():
        out = tmp_path / f"chart{fmt.extension}"
        result = runner.invoke(app, ["export", "chart", "--chart", chart.id, "--format", name, "--out", str(out),
                                     "--actor", "det.analyst"])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    audit = AuditLog(cli_env)
    assert [e.variables["format"] for e in audit.entries()] == list(FORMATS)
    assert audit.verify() is None
    result = runner.invoke(app, ["export", "chart", "--chart", chart.id, "--format", "docx", "--out",
                                 str(tmp_path / "x")])
    assert result.exit_code == 1 and "unknown export format" in result.output
