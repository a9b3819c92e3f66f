"""Identifiers to federate: every one in our graph (what we hold), or what we ask: the lines of a file,
a case's identifiers, or a list given through the API.

Both go through the loaders' normalisers, so a key asked is spelt exactly as a key held. A file has
one identifier a line, `kind,value[,time]` (`#` starts a comment): kinds email, phone, device
(`type:id`, e.g. `imei:356938035643809`), account (`provider:id` as the graph keys it), file
(`md5:…`, `sha1:…`, `sha256:…`) and ip (with the ISO time of its use, required).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from graph_service.federation.errors import FederationError
from graph_service.federation.tokens import Token, asked_ip, held_ip
from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    normalise_device,
    normalise_email,
    normalise_hash,
    normalise_ip,
    normalise_phone,
    normalise_timestamp,
)
from loaders.model import USE_SEPARATOR, Label, Rel, cypher
from queries.bounds import check_ids
from queries.context import GraphContext
from queries.deconfliction import case_identifiers
from queries.errors import BadInput, NotFound
from queries.visibility import Scope, require, visible_reports

HASHES = ("md5", "sha1", "sha256")

KEYS_OF = """MATCH (n:{label}) RETURN n.key AS key"""
FILE_HASHES = """MATCH (f:{label}) RETURN f.md5 AS md5, f.sha1 AS sha1, f.sha256 AS sha256"""
FILE_HASHES_OF = """MATCH (f:{label}) WHERE f.key IN $keys RETURN f.key AS key, f.md5 AS md5, f.sha1 AS sha1,
f.sha256 AS sha256"""
CASE_IP_USES = """
MATCH (:{case_} {key: $case})<-[:{part_of}]-(r:{report})
WITH collect(r.key) AS reports
MATCH (:{account})-[u:{used_ip}]->(ip:{ip})
WHERE NOT coalesce(ip.kind, '') IN $excluded AND any(s IN u.sources WHERE s IN reports)
UNWIND u.uses AS use
WITH ip, split(use, $sep) AS parts, reports
WHERE parts[1] IN reports
RETURN DISTINCT ip.key AS key, parts[0] AS moment
"""
ENTITY_IP_USES = """
MATCH (:{account})-[u:{used_ip}]->(ip:{ip})
WHERE ip.key IN $keys AND NOT coalesce(ip.kind, '') IN $excluded
UNWIND u.uses AS use
WITH ip, split(use, $sep) AS parts
RETURN DISTINCT ip.key AS key, parts[0] AS moment, parts[1] AS report
"""
KEYS_AMONG = """MATCH (n:{label}) WHERE n.key IN $keys RETURN n.key AS key"""
#: The labels whose entities federate, and the kind each is asked as.
FEDERATED_LABELS = {Label.EMAIL: "email", Label.PHONE: "phone", Label.DEVICE: "device", Label.ACCOUNT: "account",
                    Label.FILE: "file", Label.IP: "ip"}
#: Entities one question may name: a full chart of the viewer (2,000 nodes) with room to spare.
MAX_ENTITIES = 5000
IP_USES = """
MATCH (:{account})-[u:{used_ip}]->(ip:{ip})
WHERE NOT coalesce(ip.kind, '') IN $excluded
UNWIND u.times AS moment
RETURN DISTINCT ip.key AS key, moment
"""


@dataclass(frozen=True, slots=True)
class Asked:
    """One identifier we ask about: our own reference for it (file and line) and the tokens it blinds to."""

    ref: str
    kind: str
    key: str
    tokens: tuple[Token, ...]


def graph_tokens(ctx: GraphContext, bucket_s: int, excluded_ip_kinds: list[str]) -> list[Token]:
    """Every identifier the graph holds, as the tokens a peer may match (IPs: one per use bucket)."""
    tokens: list[Token] = []
    for kind, label in (("email", Label.EMAIL), ("phone", Label.PHONE), ("device", Label.DEVICE),
                        ("account", Label.ACCOUNT)):
        tokens += [Token(kind, row["key"]) for row in ctx.read(cypher(KEYS_OF, label=label)) if row["key"]]
    for row in ctx.read(cypher(FILE_HASHES, label=Label.FILE)):
        tokens += [Token("file", f"{algo}:{row[algo]}") for algo in HASHES if row.get(algo)]
    uses = ctx.read(cypher(IP_USES, account=Label.ACCOUNT, used_ip=Rel.USED_IP, ip=Label.IP),
                    excluded=excluded_ip_kinds)
    tokens += sorted({held_ip(row["key"], row["moment"].to_native(), bucket_s) for row in uses},
                     key=lambda t: (t.key, t.bucket or 0))
    return list(dict.fromkeys(tokens))


def normalise(kind: str, value: str, default_region: str) -> str:
    """The key the loaders would give this identifier; InvalidIdentifier if they would reject it."""
    if kind == "email":
        return normalise_email(value).key
    if kind == "phone":
        return normalise_phone(value, default_region)
    if kind == "device":
        id_type, _, raw = value.partition(":")
        return normalise_device(id_type, raw)
    if kind == "file":
        algo, _, raw = value.partition(":")
        name, digest = normalise_hash(algo, raw)
        return f"{name}:{digest}"
    if kind == "account":
        if ":" not in value:
            raise InvalidIdentifier("account", value, "an account is `provider:id`")
        return value.strip()
    if kind == "ip":
        return normalise_ip(value).key
    raise FederationError(f"unknown identifier kind {kind!r} (one of email, phone, device, account, file, ip)")


def asked_item(ref: str, kind: str, value: str, at: str | datetime | None, bucket_s: int,
               default_region: str) -> Asked:
    """One identifier to ask about, normalised as the loaders would; an IP needs the time of its use."""
    kind = kind.strip().lower()
    key = normalise(kind, value.strip(), default_region)
    if kind != "ip":
        return Asked(ref, kind, key, (Token(kind, key),))
    if at is None or (isinstance(at, str) and not at.strip()):
        raise InvalidIdentifier("ip", key, "an IP address needs the time of its use")
    moment = at if isinstance(at, datetime) else normalise_timestamp(at.strip())[0]
    return Asked(ref, kind, key, tuple(asked_ip(key, moment, bucket_s)))


def file_items(path: Path, bucket_s: int, default_region: str) -> list[Asked]:
    """The identifiers of a deconfliction file; one error naming every line that does not hold."""
    items: list[Asked] = []
    problems: list[str] = []
    for number, row in _rows(path):
        ref = f"{path.name}:{number}"
        try:
            items.append(asked_item(ref, row[0], row[1], row[2] if len(row) > 2 else None, bucket_s, default_region))
        except (InvalidIdentifier, FederationError, IndexError) as exc:
            problems.append(f"{ref}: {exc or 'kind,value expected'}")
    if problems:
        raise FederationError(f"{len(problems)} line(s) refused: " + "; ".join(problems[:20]))
    return items


def case_items(ctx: GraphContext, scope: Scope, case: str, bucket_s: int,
               excluded_ip_kinds: list[str]) -> list[Asked]:
    """What the reports of `case` name, as identifiers to ask about (the case must be the caller's).

    The case's identifiers are those local deconfliction checks (queries/deconfliction.py), persons
    aside (no federated kind); a file is asked by each hash it has, and an IP by each use one of the
    case's reports saw, at its moment. Our reference is `case:kind:key` (never sent).
    """
    items: list[Asked] = []
    files: list[str] = []
    for found in case_identifiers(ctx, scope, case):
        if found.kind == "file":
            files.append(found.value)
        elif found.kind in ("email", "phone", "device", "account"):
            items.append(Asked(f"{case}:{found.kind}:{found.value}", found.kind, found.value,
                               (Token(found.kind, found.value),)))
    for row in ctx.read(cypher(FILE_HASHES_OF, label=Label.FILE), keys=files):
        tokens = tuple(Token("file", f"{algo}:{row[algo]}") for algo in HASHES if row.get(algo))
        items.append(Asked(f"{case}:file:{row['key']}", "file", str(row["key"]), tokens))
    uses = ctx.read(cypher(CASE_IP_USES, case_=Label.CASE, part_of=Rel.PART_OF, report=Label.REPORT,
                           account=Label.ACCOUNT, used_ip=Rel.USED_IP, ip=Label.IP),
                    case=case, excluded=excluded_ip_kinds, sep=USE_SEPARATOR)
    for row in sorted(uses, key=lambda r: (r["key"], r["moment"])):
        moment = datetime.fromisoformat(row["moment"])
        items.append(Asked(f"{case}:ip:{row['key']}@{row['moment']}", "ip", row["key"],
                           tuple(asked_ip(row["key"], moment, bucket_s))))
    return items


def entity_items(ctx: GraphContext, scope: Scope, ids: list[str], bucket_s: int,
                 excluded_ip_kinds: list[str]) -> list[Asked]:
    """The entities of a chart (`Kind:key` ids), as identifiers to ask about; our reference is the id.

    An entity hidden from the caller reads as absent (NOT_FOUND), as everywhere. A file is asked by
    each hash it has; an IP address by each use of it the caller may see, at its moment (reference
    `IP:key@moment`), and not at all when its kind is excluded (private ranges) or no use is visible.
    """
    chosen = check_ids(ids, most=MAX_ENTITIES)
    by_label: dict[Label, list[str]] = {}
    for value in chosen:
        label, _, key = value.partition(":")
        federated = next((lab for lab in FEDERATED_LABELS if lab.value == label), None)
        if federated is None:
            raise BadInput(f"{value}: only {', '.join(lab.value for lab in FEDERATED_LABELS)} entities federate")
        by_label.setdefault(federated, []).append(key)
    require(ctx, scope, chosen)
    items: list[Asked] = []
    for label, keys in by_label.items():
        found = {row["key"] for row in ctx.read(cypher(KEYS_AMONG, label=label), keys=keys)}
        absent = [f"{label.value}:{key}" for key in keys if key not in found]
        if absent:
            raise NotFound("no such entity: " + ", ".join(absent[:5]) + (" …" if len(absent) > 5 else ""))
        kind = FEDERATED_LABELS[label]
        if label is Label.FILE:
            for row in ctx.read(cypher(FILE_HASHES_OF, label=Label.FILE), keys=keys):
                tokens = tuple(Token("file", f"{algo}:{row[algo]}") for algo in HASHES if row.get(algo))
                items.append(Asked(f"File:{row['key']}", "file", str(row["key"]), tokens))
        elif label is Label.IP:
            items += _ip_items(ctx, scope, keys, bucket_s, excluded_ip_kinds)
        else:
            items += [Asked(f"{label.value}:{key}", kind, key, (Token(kind, key),)) for key in keys]
    return items


def _ip_items(ctx: GraphContext, scope: Scope, keys: list[str], bucket_s: int,
              excluded_ip_kinds: list[str]) -> list[Asked]:
    rows = ctx.read(cypher(ENTITY_IP_USES, account=Label.ACCOUNT, used_ip=Rel.USED_IP, ip=Label.IP),
                    keys=keys, excluded=excluded_ip_kinds, sep=USE_SEPARATOR)
    seen = visible_reports(ctx, scope, {row["report"] for row in rows})
    uses = sorted({(row["key"], row["moment"]) for row in rows if row["report"] in seen})
    return [Asked(f"IP:{key}@{moment}", "ip", key, tuple(asked_ip(key, datetime.fromisoformat(moment), bucket_s)))
            for key, moment in uses]


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            for number, row in enumerate(csv.reader(f), start=1):
                if row and row[0].strip() and not row[0].lstrip().startswith("#"):
                    yield number, row
    except OSError as exc:
        raise FederationError(f"cannot read {path}: {exc}") from exc
