"""Deconfliction: before acting on an identifier, which other cases already touch it, and whom to call.

For each identifier (email, phone, IP with an optional time, device, account, file hash, or a name
with a birth date), normalised by the loaders' own normalisers so that it meets the graph's keys,
the answer lists the cases that contain it:

- `direct`: a report of the case names the identifier itself (an IP with a time: a use of the
  address within `window_s` of that time, from the uses each report recorded, or, on a relationship
  written before uses were kept, from its times when it has a single source);
- `identity`: a report of the case names a record that an investigator CONFIRMED is the same person
  as a holder of the identifier (SAME_AS chains of up to three confirmed links);
- `hops`: a report of the case names an identifier or account within `depth` (1 or 2) hops of it,
  walking only identifier relationships and never through providers or supernodes.

A hit carries the case key, its owning agency, the point of contact (the case's, else the
agency's), the kind matched, how and in how many hops, and when the case's reports first saw it —
and report keys only where the caller may read them (queries/visibility.py). Nothing else of
another agency's case leaves this module.

Batches: all identifiers of one call go to Neo4j as one query of `UNWIND` lists over indexed keys,
whatever the batch size, never one query per identifier; one record comes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
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
#
# One query per call, whatever the batch size. Probes arrive grouped by lookup and deduplicated
# (`is`: the identifiers asking for that key); each finds its nodes by an indexed key, and a
# subquery per node yields `(i, s, cls, hops)`: identifier, a report naming it, how (0 direct,
# 1 identity, 2 hops) and hops. Reports are then joined to their cases and owners, the best `how`
# kept per (identifier, case), and one record leaves the server (the driver's cost is per record),
# an entry per identifier with hits, report keys only for cases the caller may read and moments as
# epoch seconds (driver temporals are slow to decode).

_PLAIN = (Label.EMAIL, Label.PHONE, Label.IP, Label.DEVICE, Label.ACCOUNT)
_MATCH = "CALL () { " + " UNION ALL ".join(
    [cypher("UNWIND coalesce($probes.{label}, []) AS it MATCH (n:{label} {key: it.key}) RETURN it, n",
            label=label) for label in _PLAIN]
    + [cypher("UNWIND coalesce($probes.IP_at, []) AS it MATCH (n:{ip} {key: it.key}) RETURN it, n", ip=Label.IP)]
    + [cypher("UNWIND coalesce($probes." + algo + ", []) AS it MATCH (n:{file} {" + algo + ": it.key}) "
              "RETURN it, n", file=Label.FILE) for algo in ("md5", "sha1", "sha256")]
    + [cypher("UNWIND coalesce($probes.person, []) AS it MATCH (n:{person} {date_of_birth: it.key}) "
              "WHERE toLower(n.name) = it.name RETURN it, n", person=Label.PERSON)]
) + " }\n"

# Direct: the node's own reports; for an address with moments, the reports whose recorded use falls
# in a window (`uses` stamps; a relationship written before stamps were kept has only `times`, tied
# to a report when it has a single source, as in queries/cousage.py). An address's uses are read
# once for all the windows asked of it, each relationship first sifted by its first/last use.
_DIRECT = cypher("""
  WITH n, it WHERE it.windows IS NULL
  UNWIND n.sources AS s UNWIND it.is AS i
  RETURN i, s, 0 AS cls, 0 AS hops
  UNION ALL
  WITH n, it WHERE it.windows IS NOT NULL
  WITH n, [w IN it.windows | {i: w.i, lo: datetime({epochMillis: w.lo}), hi: datetime({epochMillis: w.hi})}] AS windows
  MATCH (n)<-[u:{used_ip}]-()
  WITH u, [w IN windows WHERE u.first_seen <= w.hi AND u.last_seen >= w.lo] AS ws WHERE ws <> []
  UNWIND ws AS w
  UNWIND CASE WHEN u.uses IS NULL
           THEN CASE WHEN size(u.sources) = 1 AND any(t IN u.times WHERE w.lo <= t <= w.hi) THEN u.sources
                     ELSE [] END
           ELSE [p IN [stamp IN u.uses | split(stamp, '|')] WHERE w.lo <= datetime(p[0]) <= w.hi | p[1]]
         END AS s
  RETURN w.i AS i, s, 0 AS cls, 0 AS hops
""", used_ip=Rel.USED_IP)

_HOLDING = "|".join(r.value for r in (Rel.HAS_EMAIL, Rel.HAS_PHONE, Rel.USED_IP, Rel.USED_DEVICE, Rel.SHARED))
_IDENTITY = cypher("""
  UNION ALL
  WITH n, it
  CALL (n) {
    WITH n WHERE n:{account} OR n:{person} RETURN n AS h
    UNION
    MATCH (n)<-[:HOLDING]-(h) WHERE NOT HUB_N RETURN h
  }
  MATCH (h)-[links:{same_as}*1..3]-(m) WHERE m <> h AND all(l IN links WHERE l.status = 'confirmed')
  WITH DISTINCT it, m
  UNWIND m.sources AS s
  WITH DISTINCT it, s
  UNWIND it.is AS i
  RETURN i, s, 1 AS cls, 0 AS hops
""", account=Label.ACCOUNT, person=Label.PERSON, same_as=Rel.SAME_AS).replace(
    "HOLDING", _HOLDING).replace("HUB_N", hub("n"))

_WALKED = "|".join(r.value for r in (Rel.USES, Rel.HAS_EMAIL, Rel.HAS_PHONE, Rel.USED_IP, Rel.USED_DEVICE,
                                     Rel.SHARED, Rel.ASSOCIATED_WITH))
_HOPS = """
  UNION ALL
  WITH n, it WHERE NOT HUB_N
  MATCH path = (n)-[:WALKED*1..DEPTH]-(x)
  WHERE none(v IN nodes(path)[1..] WHERE HUB_V)
  WITH it, x, min(length(path)) AS hops
  UNWIND x.sources AS s
  WITH it, s, min(hops) AS hops
  UNWIND it.is AS i
  RETURN i, s, 2 AS cls, hops
""".replace("WALKED", _WALKED).replace("HUB_N", hub("n")).replace("HUB_V", hub("v"))

_ANSWER = cypher("""
}
WITH s, i, cls, min(hops) AS hops
WITH s, collect([i, cls, hops]) AS asks
MATCH (r:{report} {key: s})-[:{part_of}]->(c:{case})
WHERE $exclude IS NULL OR c.key <> $exclude
UNWIND asks AS ask
WITH ask[0] AS i, c, ask[1] AS cls, min(ask[2]) AS hops, min(r.incident_at) AS first, collect(DISTINCT r.key) AS reports
WITH i, c, min(cls) AS best, collect([cls, hops, first, reports]) AS found
WITH c, collect([i, [f IN found WHERE f[0] = best][0]]) AS asked
OPTIONAL MATCH (c)-[:{owned_by}]->(a:{agency})
WITH c, asked, coalesce(c.agency, a.key) AS agency, coalesce(c.contact, a.contact) AS contact
WITH c, asked, agency, contact, $everything OR agency = $agency AS readable
UNWIND asked AS ask
WITH ask[0] AS i, ask[1] AS f, c, agency, contact, readable
WITH i, collect([c.key, agency, contact, f[0], f[1], [f[2].epochSeconds, f[2].nanosecond],
                 CASE WHEN readable THEN f[3][0..$most] ELSE [] END]) AS hits
RETURN collect([i, hits]) AS answers
""", report=Label.REPORT, part_of=Rel.PART_OF, case=Label.CASE, owned_by=Rel.OWNED_BY, agency=Label.AGENCY)

_HOW = ("direct", "identity", "hops")


@cache
def _question(via_identities: bool, depth: int) -> str:
    return (_MATCH + "CALL (n, it) {" + _DIRECT + (_IDENTITY if via_identities else "")
            + (_HOPS.replace("DEPTH", str(int(depth))) if depth else "") + _ANSWER)


# -- the question -------------------------------------------------------------------------------


def deconflict(ctx: GraphContext, scope: Scope, identifiers: Sequence[Identifier], *, depth: int = 0,
               via_identities: bool = True, exclude_case: str | None = None, window_s: float = 3600.0,
               region: str = "US", contacts: Mapping[str, str | None] | None = None) -> list[Answer]:
    """One answer per identifier, in the order given (see the module docstring)."""
    if not identifiers or len(identifiers) > MAX_IDENTIFIERS:
        raise BadInput(f"give 1 to {MAX_IDENTIFIERS} identifiers per call")
    if isinstance(depth, bool) or not DEPTH[0] <= depth <= DEPTH[1]:
        raise BadInput(f"depth must be a whole number from {DEPTH[0]} to {DEPTH[1]}, not {depth!r}")
    window_ms = round(float(window_s) * 1000)
    answers: list[Answer] = []
    probes: dict[tuple[str, Any, str | None], dict[str, Any]] = {}
    for index, item in enumerate(identifiers):
        answer = Answer(kind=item.kind, value=item.value, key=None, error=None)
        answers.append(answer)
        try:
            probe = _probe(index, item, region)
        except (InvalidIdentifier, BadInput) as exc:
            answer.error = str(exc)
            continue
        answer.key = str(probe.key) if probe.branch != "person" else f"{probe.name}|{probe.key}"
        branch = "IP_at" if probe.at is not None else probe.branch
        # Absent fields stay out of the parameters (a missing map key reads as null): 10k maps cost.
        entry = probes.setdefault((branch, probe.key, probe.name), {"key": probe.key, "is": []})
        entry["is"].append(index)  # identities and hops ignore the moment
        if probe.name is not None:
            entry["name"] = probe.name
        if probe.at is not None:
            # Epoch milliseconds: the driver encodes thousands of datetimes slowly.
            moment = round(probe.at.timestamp() * 1000)
            entry.setdefault("windows", []).append({"i": index, "lo": moment - window_ms, "hi": moment + window_ms})
    if not probes:
        return answers
    grouped: dict[str, list[dict[str, Any]]] = {}
    for (branch, _, _), entry in probes.items():
        grouped.setdefault(branch, []).append(entry)
    rows = ctx.read(_question(via_identities, int(depth)), probes=grouped, exclude=exclude_case,
                    most=MAX_REPORTS, agency=scope.agency, everything=scope.everything)
    fallback = contacts or {}
    for index, found in rows[0]["answers"]:
        answer = answers[index]
        for case, agency, contact, cls, hops, (seconds, nanos), reports in sorted(found, key=_by_case):
            answer.hits.append(Hit(
                case=case, agency=agency, contact=contact or (fallback.get(agency) if agency else None),
                kind=answer.kind, how=_HOW[cls], hops=hops if cls == 2 else 0,
                first_seen=_moment(seconds, nanos), reports=sorted(reports)))
    return answers


def _by_case(hit: list[Any]) -> str:
    return str(hit[0])


def _moment(seconds: int | None, nanos: int | None) -> datetime | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=(nanos or 0) // 1000)


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
