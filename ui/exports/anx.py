"""i2 Analyst's Notebook chart XML (`.anx`): entities with types and icons, links with labels,
dates and evidence, at the chart's positions.

Structure (what ANB reads, as its import of `.anx` files expects it):

    Chart (Rigorous, IdReferenceLinking="false")
      StrengthCollection / Strength          solid line: every link rests on reports
      AttributeClassCollection / AttributeClass   Key, Kind, Source reports, Report count, First/Last seen
      EntityTypeCollection / EntityType      one per kind of ours, with an i2 standard icon name
      LinkTypeCollection / LinkType          one per relationship kind, with a colour
      ChartItemCollection / ChartItem        entities: End(X, Y)/Entity(EntityId, Identity)/Icon/IconStyle(Type)
                                             links: Link(End1Id, End2Id)/LinkStyle(ArrowStyle, Type, Strength)
                                             each with its AttributeCollection / Attribute(AttributeClass, Value)

With `IdReferenceLinking="false"`, a link's `End1Id`/`End2Id` are the `EntityId`s of its ends. A
link's `DateTime` is the first time it was seen (`DateSet`/`TimeSet`), its `Description` says
first-last and its `SourceReference` lists the report keys. Colours are Windows COLORREF integers
(0x00BBGGRR). Positions are i2 integer units, shifted so the chart starts at (MARGIN, MARGIN).
The icon names are i2's standard library names; ANB shows its default icon for a name it lacks.
"""

from __future__ import annotations

from lxml import etree

from ui.exports.cells import inert_document
from ui.exports.model import ChartDocument, format_time, kind_style

MARGIN = 100
#: i2 standard icon per kind of ours.
I2_ICONS: dict[str, str] = {
    "Account": "Internet Account", "Person": "Person", "Identity": "Person", "Email": "E-Mail",
    "Phone": "Telephone", "IP": "IP Address", "Device": "Mobile Phone", "File": "Document",
    "Report": "Report", "Provider": "Organisation", "Location": "Location", "Case": "Case",
    "Agency": "Police", "HashSet": "Database", "Community": "Group",
}
DEFAULT_ICON = "Question"
ATTRIBUTES = (("Key", "AttText"), ("Kind", "AttText"), ("Source reports", "AttText"),
              ("Report count", "AttNumber"), ("First seen", "AttText"), ("Last seen", "AttText"))


def colorref(colour: str) -> str:
    """#rrggbb -> the decimal COLORREF (blue in the high byte) i2 expects."""
    value = int(colour.lstrip("#"), 16)
    r, g, b = value >> 16, (value >> 8) & 255, value & 255
    return str(b << 16 | g << 8 | r)


def _sub(parent: etree._Element, tag: str, **attrs: str | None) -> etree._Element:
    return etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})


def _attributes(parent: etree._Element, values: dict[str, str | int]) -> None:
    collection = _sub(parent, "AttributeCollection")
    for name, value in values.items():
        if value != "":
            _sub(collection, "Attribute", AttributeClass=name, Value=str(value))


def _i2_time(iso: str) -> str:
    """i2's DateTime form: `2024-01-05T01:18:43.000` (UTC, the chart says UseLocalTimeZone=false)."""
    return format_time(iso).replace(" UTC", "").replace(" ", "T") + ".000"


def _header(root: etree._Element, doc: ChartDocument) -> None:
    strengths = _sub(root, "StrengthCollection")
    _sub(strengths, "Strength", Id="Confirmed", Name="Confirmed", DotStyle="DotStyleSolid")
    classes = _sub(root, "AttributeClassCollection")
    for name, kind in ATTRIBUTES:
        _sub(classes, "AttributeClass", Name=name, Type=kind, ShowValue="false", Visible="true")
    types = _sub(root, "EntityTypeCollection")
    for kind in doc.kinds():
        _sub(types, "EntityType", Name=kind, IconFile=I2_ICONS.get(kind, DEFAULT_ICON),
             Colour=colorref(kind_style(kind).colour), PreferredRepresentation="RepresentAsIcon")
    links = _sub(root, "LinkTypeCollection")
    for kind in sorted({e.kind for e in doc.edges}):
        _sub(links, "LinkType", Name=kind, Colour="8421504")  # grey: the line's label names it


def render(doc: ChartDocument, options: object = None) -> bytes:
    doc = inert_document(doc)  # ANB's tables export to Excel
    root = etree.Element("Chart", Rigorous="true", IdReferenceLinking="false", UseLocalTimeZone="false",
                         BlankLinkLabels="false", ShowPages="false")
    root.append(etree.Comment(f" gracegraph chart {doc.chart.id}, case {doc.chart.case}, exported "
                              f"{format_time(doc.exported_at.isoformat())} by {doc.exported_by} "))
    _header(root, doc)
    items = _sub(root, "ChartItemCollection")
    x0, y0, _, _ = doc.bounds()
    entity_ids = {node.id: f"E{i}" for i, node in enumerate(doc.nodes, start=1)}
    for node in doc.nodes:
        e = node.entity
        x, y = str(round(node.x - x0) + MARGIN), str(round(node.y - y0) + MARGIN)
        item = _sub(items, "ChartItem", Label=e.label, Description=f"{e.kind} {e.key}", DateSet="false",
                    TimeSet="false", XPosition=x)
        end = _sub(item, "End", X=x, Y=y, Z="0")
        entity = _sub(end, "Entity", EntityId=entity_ids[node.id], Identity=e.id, LabelIsIdentity="false")
        _sub(_sub(entity, "Icon"), "IconStyle", Type=e.kind, Enlargement="ICEnlargeSingle")
        _attributes(item, {"Key": e.key, "Kind": e.kind, "Source reports": ", ".join(e.sources),
                           "Report count": int(e.properties.get("source_count", len(e.sources))),
                           "First seen": format_time(e.properties.get("first_seen")),
                           "Last seen": format_time(e.properties.get("last_seen"))})
    for edge in doc.edges:
        first = edge.properties.get("first_seen")
        last = edge.properties.get("last_seen")
        dated = isinstance(first, str) and bool(first)
        when = _i2_time(first) if isinstance(first, str) and first else None
        period = f"{format_time(first)} – {format_time(last)}" if dated else "no recorded time"
        item = _sub(items, "ChartItem", Label=edge.kind, Description=f"{edge.kind}: {period}; "
                    f"{len(edge.sources)} report(s)", DateSet="true" if dated else "false",
                    TimeSet="true" if dated else "false", DateTime=when,
                    SourceReference=", ".join(edge.sources), SourceType="CyberTipline report", XPosition="0")
        link = _sub(item, "Link", End1Id=entity_ids[edge.source], End2Id=entity_ids[edge.target])
        _sub(link, "LinkStyle", ArrowStyle="ArrowOnHead", Type=edge.kind, Strength="Confirmed", LineWidth="1")
        _attributes(item, {"Key": edge.id, "Kind": edge.kind, "Source reports": ", ".join(edge.sources),
                           "Report count": len(edge.sources), "First seen": format_time(first),
                           "Last seen": format_time(last)})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
