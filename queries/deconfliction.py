"""Deconfliction: before acting on an identifier, which other cases already touch it, and whom to call.

For each identifier (email, phone, IP with an optional time, device, account, file hash, or a name
with a birth date), normalised by the loaders' own normalisers so that it meets the graph's keys,
the answer lists the cases that contain it:

- `direct`: a report of the case names the identifier itself (an IP with a time: a use of the
  address within `window_s` of that time, from the uses each report recorded);
- `identity`: a report of the case names a record that an investigator CONFIRMED is the same person
  as a holder of the identifier (SAME_AS chains of up to three confirmed links);
- `hops`: a report of the case names an identifier or account within `depth` (1 or 2) hops of it,
  walking only identifier relationships and never through providers or supernodes.

A hit carries the case key, its owning agency, the point of contact (the case's, else the
agency's), the kind matched, how and in how many hops, and when the case's reports first saw it —
and report keys only where the caller may read them (queries/visibility.py). Nothing else of
another agency's case leaves this module.

Batches: all identifiers of one call go to Neo4j as a few `UNWIND` lists over indexed keys (one
query per stage, whatever the batch size), never one query per identifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    account_key,
    normalise_date,
    normalise_device,
    normalise_email,
    normalise_hash,
    normalise_ip,
    normalise_phone,
)
from loaders.model import Label, Rel, cypher
from queries.bounds import as_utc
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.supernodes import hub
from queries.visibility import Scope

MAX_IDENTIFIERS = 10_000
DEPTH = (0, 2)
KINDS = ("email", "phone", "ip", "device", "account", "file", "person")
#: At most this many report keys per hit (the ones the caller may read).
MAX_REPORTS = 50
_HEX_ALGO = {32: "md5", 40: "sha1", 64: "sha256"}


@dataclass(slots=True)
class Identifier:
    """One thing to check, as an investigator has it (raw text: it is normalised here)."""

    kind: str
    value: str
    type: str | None = None  # device type, hash algorithm, or the provider of an account id
    at: datetime | None = None  # an IP's moment of use
    birth_date: str | None = None  # with kind "person": value is the name


@dataclass(slots=True)
class Hit:
    case: str
    agency: str | None
    contact: str | None
    kind: str
    how: str  # direct | identity | hops
    hops: int  # 0 direct, 1..2 for hops; identity counts as 0
    first_seen: datetime | None
    reports: list[str] = field(default_factory=list)  # only those the caller may read


@dataclass(slots=True)
class Answer:
    kind: str
    value: str
    key: str | None  # the normalised key looked up; None when the identifier was refused
    error: str | None
    hits: list[Hit] = field(default_factory=list)


@dataclass(slots=True)
class _Probe:
    index: int
    branch: str  # which lookup: a Label value, a hash algorithm, or "person"
    key: Any
    at: datetime | None = None
    name: str | None = None


def _probe(index: int, item: Identifier, region: str) -> _Probe:
    kind, value = item.kind.strip().lower(), item.value
    if kind == "email":
        return _Probe(index, Label.EMAIL.value, normalise_email(value).key)
    if kind == "phone":
        return _Probe(index, Label.PHONE.value, normalise_phone(value, region))
    if kind == "ip":
        return _Probe(index, Label.IP.value, normalise_ip(value).key, at=as_utc(item.at, "at"))
    if kind == "device":
        kind_, _, rest = value.partition(":")
        given = item.type or (kind_ if rest else None)
        if not given:
            raise BadInput("a device needs its type (imei, idfa, gaid, mac, guid, other)")
        return _Probe(index, Label.DEVICE.value, normalise_device(given, rest if not item.type and rest else value))
    if kind == "account":
        key = account_key(item.type, value if not value.startswith("@") else None,
                          value if value.startswith("@") else None) if item.type else value.strip()
        if not key:
            raise BadInput("an account needs a key (provider:id) or a provider as type")
        return _Probe(index, Label.ACCOUNT.value, key)
    if kind == "file":
        algo, _, hexpart = value.partition(":")
        algo, text = (algo, hexpart) if hexpart else (item.type or _HEX_ALGO.get(len(value.strip()), "md5"), value)
        name, digest = normalise_hash(algo, text)
        if name not in ("md5", "sha1", "sha256"):
            raise BadInput(f"{name} hashes are perceptual and match no file exactly")
        return _Probe(index, name, digest)
    if kind == "person":
        if not item.birth_date:
            raise BadInput("a person is checked by name and birth date: give birthDate")
        name = " ".join(value.split()).lower()
        if not name:
            raise BadInput("a person needs a name")
        return _Probe(index, "person", normalise_date(item.birth_date), name=name)
    raise BadInput(f"unknown identifier kind {item.kind!r}; known: {', '.join(KINDS)}")


# -- Cypher -------------------------------------------------------------------------------------

_PLAIN = (Label.EMAIL, Label.PHONE, Label.IP, Label.DEVICE, Label.ACCOUNT)
_MATCH = "CALL () { " + " UNION ALL ".join(
    [cypher("UNWIND coalesce($probes.{label}, []) AS it MATCH (n:{label} {key: it.key}) "
            "RETURN it.i AS i, it.at AS at, n", label=label) for label in _PLAIN]
    + [cypher("UNWIND coalesce($probes." + algo + ", []) AS it MATCH (n:{file} {" + algo + ": it.key}) "
              "RETURN it.i AS i, null AS at, n", file=Label.FILE) for algo in ("md5", "sha1", "sha256")]
    + [cypher("UNWIND coalesce($probes.person, []) AS it MATCH (n:{person} {date_of_birth: it.key}) "
              "WHERE toLower(n.name) = it.name RETURN it.i AS i, null AS at, n", person=Label.PERSON)]
) + " }\n"

_CASES = cypher("""
MATCH (r:{report} {key: s})-[:{part_of}]->(c:{case})
WHERE $exclude IS NULL OR c.key <> $exclude
RETURN i, c.key AS case, min(r.incident_at) AS first_seen, collect(DISTINCT r.key)[0..$most] AS reports
""", report=Label.REPORT, part_of=Rel.PART_OF, case=Label.CASE)

_DIRECT = _MATCH + cypher("""
CALL (n, at) {
  WITH n WHERE at IS NULL OR NOT n:{ip}
  UNWIND n.sources AS s RETURN s
  UNION
  WITH n, at WHERE at IS NOT NULL AND n:{ip}
  MATCH (n)<-[u:{used_ip}]-()
  WHERE u.first_seen <= at + duration({seconds: $window}) AND u.last_seen >= at - duration({seconds: $window})
  UNWIND u.uses AS stamp
  WITH split(stamp, '|') AS part
  WHERE abs(duration.inSeconds(datetime(part[0]), at).seconds) <= $window
  RETURN part[1] AS s
}
WITH DISTINCT i, s
""", ip=Label.IP, used_ip=Rel.USED_IP) + _CASES

_HOLDING = "|".join(r.value for r in (Rel.HAS_EMAIL, Rel.HAS_PHONE, Rel.USED_IP, Rel.USED_DEVICE, Rel.SHARED))
_IDENTITY = _MATCH + cypher("""
CALL (n) {
  WITH n WHERE n:{account} OR n:{person} RETURN n AS h
  UNION
  MATCH (n)<-[:HOLDING]-(h) WHERE NOT HUB_N RETURN h
}
MATCH (h)-[links:{same_as}*1..3]-(m) WHERE m <> h AND all(l IN links WHERE l.status = 'confirmed')
WITH DISTINCT i, m
UNWIND m.sources AS s
WITH DISTINCT i, s
""", account=Label.ACCOUNT, person=Label.PERSON, same_as=Rel.SAME_AS).replace(
    "HOLDING", _HOLDING).replace("HUB_N", hub("n")) + _CASES

_WALKED = "|".join(r.value for r in (Rel.USES, Rel.HAS_EMAIL, Rel.HAS_PHONE, Rel.USED_IP, Rel.USED_DEVICE,
                                     Rel.SHARED, Rel.ASSOCIATED_WITH))
_HOPS = _MATCH + """
MATCH path = (n)-[:WALKED*1..DEPTH]-(x)
WHERE NOT HUB_N AND none(v IN nodes(path)[1..] WHERE HUB_V)
WITH i, x, min(length(path)) AS hops
UNWIND x.sources AS s
WITH i, s, min(hops) AS hops
""".replace("WALKED", _WALKED).replace("HUB_N", hub("n")).replace("HUB_V", hub("v")) + cypher("""
MATCH (r:{report} {key: s})-[:{part_of}]->(c:{case})
WHERE $exclude IS NULL OR c.key <> $exclude
RETURN i, c.key AS case, min(hops) AS hops, min(r.incident_at) AS first_seen,
       collect(DISTINCT r.key)[0..$most] AS reports
""", report=Label.REPORT, part_of=Rel.PART_OF, case=Label.CASE)

_OWNERS = cypher("""
UNWIND $cases AS k
MATCH (c:{case} {key: k})
OPTIONAL MATCH (c)-[:{owned_by}]->(a:{agency})
RETURN k AS case, coalesce(c.agency, a.key) AS agency, coalesce(c.contact, a.contact) AS contact
""", case=Label.CASE, owned_by=Rel.OWNED_BY, agency=Label.AGENCY)


# -- the question -------------------------------------------------------------------------------


def deconflict(ctx: GraphContext, scope: Scope, identifiers: Sequence[Identifier], *, depth: int = 0,
               via_identities: bool = True, exclude_case: str | None = None, window_s: float = 3600.0,
               region: str = "US", contacts: Mapping[str, str | None] | None = None) -> list[Answer]:
    """One answer per identifier, in the order given (see the module docstring)."""
    if not identifiers or len(identifiers) > MAX_IDENTIFIERS:
        raise BadInput(f"give 1 to {MAX_IDENTIFIERS} identifiers per call")
    if isinstance(depth, bool) or not DEPTH[0] <= depth <= DEPTH[1]:
        raise BadInput(f"depth must be a whole number from {DEPTH[0]} to {DEPTH[1]}, not {depth!r}")
    answers: list[Answer] = []
    probes: dict[str, list[dict[str, Any]]] = {}
    for index, item in enumerate(identifiers):
        answer = Answer(kind=item.kind, value=item.value, key=None, error=None)
        answers.append(answer)
        try:
            probe = _probe(index, item, region)
        except (InvalidIdentifier, BadInput) as exc:
            answer.error = str(exc)
            continue
        answer.key = str(probe.key) if probe.branch != "person" else f"{probe.name}|{probe.key}"
        probes.setdefault(probe.branch, []).append({"i": index, "key": probe.key, "at": probe.at, "name": probe.name})
    if not probes:
        return answers
    found: dict[tuple[int, str], tuple[str, int, dict[str, Any]]] = {}

    def keep(rows: list[dict[str, Any]], how: str) -> None:
        for row in rows:
            hops = int(row.get("hops") or 0)
            rank = {"direct": 0, "identity": 1}.get(how, 1 + hops)
            slot = (int(row["i"]), str(row["case"]))
            if slot not in found or rank < _rank(found[slot]):
                found[slot] = (how, hops, row)

    params = {"probes": probes, "exclude": exclude_case, "most": MAX_REPORTS}
    keep(ctx.read(_DIRECT, window=float(window_s), **params), "direct")
    if via_identities:
        keep(ctx.read(_IDENTITY, **params), "identity")
    if depth:
        keep(ctx.read(_HOPS.replace("DEPTH", str(int(depth))), **params), "hops")
    _attach(ctx, scope, answers, found, contacts or {})
    return answers


def _rank(entry: tuple[str, int, dict[str, Any]]) -> int:
    how, hops, _ = entry
    return {"direct": 0, "identity": 1}.get(how, 1 + hops)


def _attach(ctx: GraphContext, scope: Scope, answers: list[Answer],
            found: dict[tuple[int, str], tuple[str, int, dict[str, Any]]], contacts: Mapping[str, str | None]) -> None:
    cases = sorted({case for _, case in found})
    owners = {row["case"]: row for row in ctx.read(_OWNERS, cases=cases)} if cases else {}
    for (index, case), (how, hops, row) in sorted(found.items()):
        owner = owners.get(case, {})
        agency = owner.get("agency")
        # A report filed in a case of the caller's agency is one it may read (queries/visibility.py);
        # another agency's case shows none of its reports, whatever else they are filed in.
        readable = scope.everything or agency == scope.agency
        answers[index].hits.append(Hit(
            case=case, agency=agency, contact=owner.get("contact") or (contacts.get(agency) if agency else None),
            kind=answers[index].kind, how=how, hops=hops if how == "hops" else 0,
            first_seen=_moment(row.get("first_seen")),
            reports=sorted(row["reports"]) if readable else []))


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if hasattr(value, "to_native"):
        value = value.to_native()
    return value if isinstance(value, datetime) else None


_CASE_IDENTIFIERS = cypher("""
MATCH (:{case} {key: $case})<-[:{part_of}]-(r:{report})
CALL (r) {
  MATCH (r)-[:{reports}]->(h)
  RETURN labels(h) AS labels, h.key AS key, h.name AS name, h.date_of_birth AS dob
  UNION
  MATCH (r)-[:{reports}]->(h)-[rel]->(x) WHERE r.key IN rel.sources AND NOT x:{location} AND NOT x:{provider}
  RETURN labels(x) AS labels, x.key AS key, null AS name, null AS dob
  UNION
  MATCH (r)-[:{reports}]->(:{person})-[:{uses}]->(a)-[rel]->(x) WHERE r.key IN rel.sources AND NOT x:{location}
  RETURN labels(x) AS labels, x.key AS key, null AS name, null AS dob
  UNION
  MATCH (r)-[:{includes}]->(f:{file}) RETURN labels(f) AS labels, f.key AS key, null AS name, null AS dob
}
RETURN DISTINCT labels, key, name, dob
""", case=Label.CASE, part_of=Rel.PART_OF, report=Label.REPORT, reports=Rel.REPORTS, location=Label.LOCATION,
    provider=Label.PROVIDER, person=Label.PERSON, uses=Rel.USES, includes=Rel.INCLUDES, file=Label.FILE)

_KIND_OF_LABEL = {Label.EMAIL.value: "email", Label.PHONE.value: "phone", Label.IP.value: "ip",
                  Label.DEVICE.value: "device", Label.ACCOUNT.value: "account", Label.FILE.value: "file"}


def case_identifiers(ctx: GraphContext, scope: Scope, case: str) -> list[Identifier]:
    """What the reports of `case` name, as identifiers; the case must be one the caller may read."""
    from queries.cases import case_owner

    owner = case_owner(ctx, case)
    if owner is None or not (scope.everything or owner == scope.agency):
        raise NotFound(f"no case {case!r}")
    found: list[Identifier] = []
    for row in ctx.read(_CASE_IDENTIFIERS, case=case):
        label = next((lab for lab in row["labels"] if lab in _KIND_OF_LABEL or lab == Label.PERSON.value), None)
        if label == Label.PERSON.value:
            if row["name"] and row["dob"] is not None:
                dob = row["dob"].to_native() if hasattr(row["dob"], "to_native") else row["dob"]
                found.append(Identifier("person", str(row["name"]), birth_date=_iso(dob)))
        elif label == Label.FILE.value:
            found.append(Identifier("file", str(row["key"])))
        elif label == Label.DEVICE.value:
            found.append(Identifier("device", str(row["key"])))
        elif label is not None:
            found.append(Identifier(_KIND_OF_LABEL[label], str(row["key"])))
    return found


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def run(ctx: GraphContext, scope: Scope, identifiers: Sequence[Identifier] | None, case: str | None,
        **options: Any) -> list[Answer]:
    """Deconflict either a list of identifiers or everything case `case` names (against other cases)."""
    if (identifiers is None) == (case is None):
        raise BadInput("give either identifiers or caseKey")
    if case is not None:
        found = case_identifiers(ctx, scope, case)
        return deconflict(ctx, scope, found, exclude_case=case, **options) if found else []
    return deconflict(ctx, scope, identifiers or [], **options)
