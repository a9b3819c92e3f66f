"""followthemoney entities as JSON lines, for Aleph and the other tools of that ecosystem.

The mapping follows what followthemoney models, not our labels one for one:

- Account -> `UserAccount` (username, service = provider); Person and Identity -> `Person`;
  Provider -> `Organization`; Agency -> `PublicBody`; Case -> `Project`; Location -> `Address`;
  Report, File and HashSet -> `Document` (a file by its name and hashes, `contentHash` its SHA-1).
- followthemoney has no entity for an email address or a phone number: they are values (types
  `email`, `phone`) that Aleph pivots and cross-references on. So an Email or Phone node becomes a
  `UserAccount` of the mail or telephone service carrying that value, and the value is also
  copied onto every account and person the chart ties to it; IP addresses likewise travel as
  `ipAddress` values on the accounts, and as `Asset` entities (with devices) so that each tie
  keeps its own evidence.
- Every link is an interval entity: `Documentation` from a report to what it names, includes or
  belongs to, `ProjectParticipant` from a case to its agency, `UnknownLink` (subject, object)
  otherwise; `role` is our relationship kind, `startDate`/`endDate` the first and last time seen,
  `date` every recorded time, and `proof` the report documents it rests on (each source report is
  a `Document`, so the evidence can be followed in Aleph).

A value followthemoney's types refuse (a fictional 555 phone number, say) is not lost: it stays
in the entity's `username`/`name`/`summary` text. Ids are SHA-1s of our ids, so exporting the
same chart twice gives the same entities.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from followthemoney import model
from followthemoney.proxy import EntityProxy

from queries.results import Entity, GraphEdge
from ui.exports.cells import inert_document
from ui.exports.model import ChartDocument

NAMESPACE = "gracegraph"
SCHEMA_OF: dict[str, str] = {
    "Account": "UserAccount", "Person": "Person", "Identity": "Person", "Email": "UserAccount",
    "Phone": "UserAccount", "IP": "Asset", "Device": "Asset", "File": "Document", "Report": "Document",
    "HashSet": "Document", "Provider": "Organization", "Agency": "PublicBody", "Case": "Project",
    "Location": "Address",
}
FALLBACK_SCHEMA = "Asset"
#: Values copied onto the holders of an identifier: the identifier's kind -> the holder's property.
PIVOTS = {"Email": "email", "Phone": "phone", "IP": "ipAddress"}
HOLDER_SCHEMATA = frozenset({"UserAccount", "Person"})


def ftm_id(our_id: str) -> str:
    proxy = model.make_entity(FALLBACK_SCHEMA)
    proxy.make_id(NAMESPACE, our_id)
    assert proxy.id is not None
    return proxy.id


def _entity(e: Entity) -> EntityProxy:
    schema = SCHEMA_OF.get(e.kind, FALLBACK_SCHEMA)
    proxy = model.make_entity(schema)
    proxy.id = ftm_id(e.id)
    p = e.properties
    name = e.label
    if e.kind == "Account":
        proxy.add("username", p.get("screen_names") or [])
        proxy.add("name", p.get("display_names") or [])
        proxy.add("service", p.get("provider") or e.key.partition(":")[0])
        proxy.add("sourceUrl", p.get("profile_urls") or [])
        if not p.get("screen_names"):
            proxy.add("username", e.key)
    elif e.kind in ("Email", "Phone"):
        proxy.add("username", e.key)
        proxy.add("service", "email" if e.kind == "Email" else "telephone")
        proxy.add(PIVOTS[e.kind], e.key)
    elif schema == "Person":
        proxy.add("name", name)
        proxy.add("firstName", p.get("first_name"))
        proxy.add("lastName", p.get("last_name"))
        proxy.add("birthDate", p.get("date_of_birth"))
        proxy.add("address", p.get("address"))
    elif schema == "Document":
        proxy.add("title", name if e.kind != "Report" else f"Report {e.key}")
        proxy.add("date", p.get("incident_at"))
        proxy.add("publisher", p.get("provider"))
        proxy.add("contentHash", p.get("sha1"))
        proxy.add("fileName", p.get("original_file_names") or [])
    elif schema == "Address":
        proxy.add("full", ", ".join(str(p[k]) for k in ("city", "region", "country") if p.get(k)) or e.key)
        proxy.add("city", p.get("city"))
        proxy.add("region", p.get("region"))
        proxy.add("country", p.get("country"))
    elif schema == "Project":
        proxy.add("name", name)
        proxy.add("projectId", e.key)
    else:
        proxy.add("name", name)
    proxy.add("summary", _summary(e))
    proxy.add("modifiedAt", p.get("last_seen"))
    proxy.add("createdAt", p.get("first_seen"))
    return proxy


def _summary(e: Entity) -> str:
    shown = {k: v for k, v in e.properties.items() if k not in ("first_seen", "last_seen", "source_count")}
    facts = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in sorted(shown.items()))
    return f"{e.kind} {e.key}" + (f" ({facts})" if facts else "")


def _report_document(key: str) -> EntityProxy:
    proxy = model.make_entity("Document")
    proxy.id = ftm_id(f"Report:{key}")
    proxy.add("title", f"Report {key}")
    return proxy


def _link(edge: GraphEdge, kinds: dict[str, str]) -> EntityProxy:
    source, target = ftm_id(edge.source), ftm_id(edge.target)
    if kinds[edge.source] == "Report":
        proxy = model.make_entity("Documentation")
        proxy.add("document", source)
        proxy.add("entity", target)
    elif kinds[edge.source] == "Case" and kinds[edge.target] == "Agency":
        proxy = model.make_entity("ProjectParticipant")
        proxy.add("project", source)
        proxy.add("participant", target)
    else:
        proxy = model.make_entity("UnknownLink")
        proxy.add("subject", source)
        proxy.add("object", target)
    proxy.id = ftm_id(edge.id)
    p = edge.properties
    proxy.add("role", edge.kind)
    proxy.add("startDate", p.get("first_seen"))
    proxy.add("endDate", p.get("last_seen"))
    proxy.add("date", p.get("times") or [])
    proxy.add("proof", [ftm_id(f"Report:{key}") for key in edge.sources])
    rest = {k: v for k, v in p.items() if k not in ("first_seen", "last_seen", "times")}
    summary = f"{edge.kind} {edge.source} -> {edge.target}; reports: {', '.join(edge.sources)}"
    proxy.add("summary", summary)
    if rest:
        proxy.add("description", json.dumps(rest, ensure_ascii=False, sort_keys=True))
    return proxy


def entities(doc: ChartDocument) -> Iterator[EntityProxy]:
    """Entities for the drawn nodes, a Document per source report not drawn, then the links."""
    kinds = {n.id: n.entity.kind for n in doc.nodes}
    proxies = {n.id: _entity(n.entity) for n in doc.nodes}
    for edge in doc.edges:  # identifiers' values onto their holders, for Aleph's pivots
        for holder, other in ((edge.source, edge.target), (edge.target, edge.source)):
            prop = PIVOTS.get(kinds[other])
            if prop and proxies[holder].schema.name in HOLDER_SCHEMATA and prop in proxies[holder].schema.properties:
                proxies[holder].add(prop, other.partition(":")[2])
    yield from proxies.values()
    drawn_reports = {n.entity.key for n in doc.nodes if n.entity.kind == "Report"}
    for key in doc.source_reports():
        if key not in drawn_reports:
            yield _report_document(key)
    for edge in doc.edges:
        yield _link(edge, kinds)


def render(doc: ChartDocument, options: object = None) -> bytes:
    doc = inert_document(doc)  # Aleph's tables export to Excel
    lines = [json.dumps(proxy.to_dict(), ensure_ascii=False, sort_keys=True) for proxy in entities(doc)]
    return ("\n".join(lines) + "\n").encode("utf-8")
