"""Where resolution's records come from: the graph, or parser output that never went to the graph.

Both give the same `SourceRecord`s for the same reports (a test holds them to it): an account with
the names, birth dates and addresses of the persons that USE it, its canonical emails, phones,
devices, addresses used with their times, and the accounts its provider ties to it; a person who
uses no account becomes a record of its own. The graph reader leaves out what cannot be evidence:
CGNAT and private addresses, and any device or address marked `supernode` (or used by more
accounts than the limits allow), so a family tablet or a VPN exit never ties strangers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from loaders.model import Label, Records, Rel
from queries.context import GraphContext
from queries.resolution_records import SourceRecord
from queries.results import entity_id

#: Address kinds that identify nobody (many households behind one CGNAT address; LAN addresses).
SHARED_IP_KINDS = frozenset({"cgnat", "private"})
PAGE = 5000

ACCOUNT_RECORDS = """
MATCH (a:Account) WHERE a.key > $after
WITH a ORDER BY a.key LIMIT $limit
RETURN a.key AS key, a.provider AS provider, a.esp_id AS esp_id,
       coalesce(a.screen_names, []) AS screen_names, coalesce(a.display_names, []) AS display_names,
       [(p:Person)-[:USES]->(a) | {first: p.first_name, last: p.last_name, name: p.name,
                                   dob: toString(p.date_of_birth), address: p.address,
                                   sources: p.sources}] AS persons,
       [(a)-[r:HAS_EMAIL]->(e:Email) | {v: coalesce(e.canonical, e.key), s: r.sources}] AS emails,
       [(a)-[r:HAS_PHONE]->(ph:Phone) | {v: ph.key, s: r.sources}] AS phones,
       [(a)-[r:USED_DEVICE]->(d:Device)
          WHERE NOT coalesce(d.supernode, false) AND COUNT { (d)<-[:USED_DEVICE]-() } <= $device_max
          | {v: d.key, s: r.sources}] AS devices,
       [(a)-[r:USED_IP]->(ip:IP)
          WHERE NOT coalesce(ip.kind, '') IN $shared_kinds AND NOT coalesce(ip.supernode, false)
            AND COUNT { (ip)<-[:USED_IP]-() } <= $ip_max
          | {v: ip.key, t: [x IN coalesce(r.times, []) | x.epochSeconds], s: r.sources}] AS ips,
       [(a)-[:ASSOCIATED_WITH]-(o:Account) | o.key] AS associated
"""

LONE_PERSONS = """
MATCH (p:Person) WHERE p.key > $after AND NOT (p)-[:USES]->(:Account)
WITH p ORDER BY p.key LIMIT $limit
RETURN p.key AS key, p.first_name AS first, p.last_name AS last, p.name AS name,
       toString(p.date_of_birth) AS dob, p.address AS address, p.sources AS sources,
       [(p)-[r:HAS_EMAIL]->(e:Email) | {v: coalesce(e.canonical, e.key), s: r.sources}] AS emails,
       [(p)-[r:HAS_PHONE]->(ph:Phone) | {v: ph.key, s: r.sources}] AS phones
"""


def _add(record: SourceRecord, field: str, items: Iterable[dict[str, Any]]) -> None:
    values: list[Any] = getattr(record, field)
    for item in items:
        value = item["v"]
        if value is None:
            continue
        values.append(value)
        record.sources.setdefault(f"{field.rstrip('s')}:{value}", []).extend(item.get("s") or [])


def _add_person(record: SourceRecord, person: dict[str, Any]) -> None:
    record.persons.append((person.get("first"), person.get("last"), person.get("name")))
    if person.get("dob"):
        record.dobs.append(person["dob"])
    address = person.get("address") or person.get("street")
    if address:
        record.addresses.append(address)
    for name, field in (("city", "cities"), ("postcode", "postcodes"), ("national_id", "national_ids")):
        if person.get(name):
            getattr(record, field).append(str(person[name]))
    record.sources.setdefault("person", []).extend(person.get("sources") or [])


def account_record(row: dict[str, Any]) -> SourceRecord:
    record = SourceRecord(entity_id(Label.ACCOUNT, row["key"]), Label.ACCOUNT.value, row["provider"],
                          row["esp_id"], list(row["screen_names"]), list(row["display_names"]))
    for person in row["persons"]:
        _add_person(record, person)
    _add(record, "emails", row["emails"])
    _add(record, "phones", row["phones"])
    _add(record, "devices", row["devices"])
    for use in row["ips"]:
        # An address without times still counts as shared (any time), never as within the window.
        record.ips.extend((use["v"], float(at)) for at in (use["t"] or [float("nan")]))
        record.sources.setdefault(f"ip:{use['v']}", []).extend(use.get("s") or [])
    record.associated = [entity_id(Label.ACCOUNT, key) for key in dict.fromkeys(row["associated"])]
    return record


def records_from_graph(ctx: GraphContext, device_max_accounts: int, ip_max_accounts: int) -> list[SourceRecord]:
    """Every account (persons folded in) and every person without an account, read a page at a time."""
    records: list[SourceRecord] = []
    after = ""
    while True:
        rows = ctx.read(ACCOUNT_RECORDS, after=after, limit=PAGE, device_max=device_max_accounts,
                        ip_max=ip_max_accounts, shared_kinds=sorted(SHARED_IP_KINDS))
        records.extend(account_record(row) for row in rows)
        if len(rows) < PAGE:
            break
        after = rows[-1]["key"]
    after = ""
    while True:
        rows = ctx.read(LONE_PERSONS, after=after, limit=PAGE)
        for row in rows:
            record = SourceRecord(entity_id(Label.PERSON, row["key"]), Label.PERSON.value)
            _add_person(record, row)
            _add(record, "emails", row["emails"])
            _add(record, "phones", row["phones"])
            records.append(record)
        if len(rows) < PAGE:
            break
        after = rows[-1]["key"]
    return records


# -- parser output, without the graph ------------------------------------------------------------------

def _epoch(at: datetime) -> float:
    return at.timestamp()


def records_from_parsed(batches: Iterable[Records], device_max_accounts: int | None = None,
                        ip_max_accounts: int | None = None) -> list[SourceRecord]:
    """Fold parser output as the writer would (one node per key, every source kept) into records.

    With the limits given, devices and addresses used by more accounts are left out, as the graph
    reader leaves them out.
    """
    accounts: dict[str, SourceRecord] = {}
    persons: dict[str, dict[str, Any]] = {}
    uses: dict[str, set[str]] = {}
    canonical: dict[str, str] = {}
    ip_kind: dict[str, str] = {}
    contacts: list[tuple[Label, str, str, str, list[str]]] = []  # owner label, owner key, field, value, sources
    ip_uses: list[tuple[str, str, list[datetime], list[str]]] = []
    associated: list[tuple[str, str]] = []
    for batch in batches:
        for node in batch.nodes:
            if node.label is Label.ACCOUNT:
                record = accounts.setdefault(node.key, SourceRecord(entity_id(Label.ACCOUNT, node.key),
                                                                    Label.ACCOUNT.value))
                record.provider = node.props.get("provider", record.provider)
                record.esp_id = node.props.get("esp_id", record.esp_id)
                for name in node.lists.get("screen_names", []):
                    if name not in record.screen_names:
                        record.screen_names.append(name)
                record.display_names.extend(d for d in node.lists.get("display_names", [])
                                            if d not in record.display_names)
            elif node.label is Label.PERSON:
                persons.setdefault(node.key, {"sources": []}).update(node.props)
                persons[node.key]["sources"] = sorted({*persons[node.key]["sources"], *node.sources})
            elif node.label is Label.EMAIL:
                canonical[node.key] = node.props.get("canonical", node.key)
            elif node.label is Label.IP:
                ip_kind[node.key] = node.props.get("kind", "")
        for edge in batch.edges:
            owner_label, owner = edge.start
            if edge.type is Rel.USES:
                uses.setdefault(owner, set()).add(edge.end[1])
            elif edge.type in (Rel.HAS_EMAIL, Rel.HAS_PHONE, Rel.USED_DEVICE):
                field = {Rel.HAS_EMAIL: "emails", Rel.HAS_PHONE: "phones", Rel.USED_DEVICE: "devices"}[edge.type]
                contacts.append((owner_label, owner, field, edge.end[1], list(edge.sources)))
            elif edge.type is Rel.USED_IP:
                ip_uses.append((owner, edge.end[1], list(edge.times), list(edge.sources)))
            elif edge.type is Rel.ASSOCIATED_WITH:
                associated.append((owner, edge.end[1]))
    if device_max_accounts is not None:
        users: dict[str, set[str]] = {}
        for label, owner, field, value, _ in contacts:
            if field == "devices" and label is Label.ACCOUNT:
                users.setdefault(value, set()).add(owner)
        contacts = [c for c in contacts if c[2] != "devices" or len(users.get(c[3], ())) <= device_max_accounts]
    if ip_max_accounts is not None:
        ip_users: dict[str, set[str]] = {}
        for owner, ip, _, _ in ip_uses:
            ip_users.setdefault(ip, set()).add(owner)
        ip_uses = [u for u in ip_uses if len(ip_users[u[1]]) <= ip_max_accounts]
    return _assemble(accounts, persons, uses, canonical, ip_kind, contacts, ip_uses, associated)


def _assemble(accounts: dict[str, SourceRecord], persons: dict[str, dict[str, Any]], uses: dict[str, set[str]],
              canonical: dict[str, str], ip_kind: dict[str, str],
              contacts: list[tuple[Label, str, str, str, list[str]]],
              ip_uses: list[tuple[str, str, list[datetime], list[str]]],
              associated: list[tuple[str, str]]) -> list[SourceRecord]:
    lone: dict[str, SourceRecord] = {}
    for key, person in sorted(persons.items()):
        row = {"first": person.get("first_name"), "last": person.get("last_name"), "name": person.get("name"),
               "dob": str(person["date_of_birth"]) if person.get("date_of_birth") else None,
               "address": person.get("address"), "street": person.get("street"), "city": person.get("city"),
               "postcode": person.get("postcode"), "national_id": person.get("national_id"),
               "sources": person["sources"]}
        owners = [accounts[k] for k in sorted(uses.get(key, ())) if k in accounts]
        if not owners:
            owners = [lone.setdefault(key, SourceRecord(entity_id(Label.PERSON, key), Label.PERSON.value))]
        for record in owners:
            _add_person(record, row)
    seen: set[tuple[str, str, str]] = set()
    for owner_label, owner, field, value, sources in contacts:
        holder = accounts.get(owner) if owner_label is Label.ACCOUNT else lone.get(owner)
        if holder is None:
            continue
        value = canonical.get(value, value) if field == "emails" else value
        if (holder.id, field, value) not in seen:
            seen.add((holder.id, field, value))
            getattr(holder, field).append(value)
        holder.sources.setdefault(f"{field.rstrip('s')}:{value}", []).extend(sources)
    for owner, ip, times, sources in ip_uses:
        user = accounts.get(owner)
        if user is None or ip_kind.get(ip, "") in SHARED_IP_KINDS:
            continue
        # An address without times still counts as shared (any time), never as within the window.
        user.ips.extend([(ip, _epoch(t)) for t in times] or [(ip, float("nan"))])
        user.sources.setdefault(f"ip:{ip}", []).extend(sources)
    for a, b in associated:  # a tie in either direction, as the graph reader sees it
        if a in accounts and b in accounts:
            for one, other in ((a, b), (b, a)):
                if entity_id(Label.ACCOUNT, other) not in accounts[one].associated:
                    accounts[one].associated.append(entity_id(Label.ACCOUNT, other))
    for record in [*accounts.values(), *lone.values()]:
        record.ips = sorted(set(record.ips), key=lambda use: (use[0], -1.0 if use[1] != use[1] else use[1]))
        record.sources = {k: sorted(set(v)) for k, v in record.sources.items()}
    return [accounts[k] for k in sorted(accounts)] + [lone[k] for k in sorted(lone)]

