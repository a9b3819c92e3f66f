"""Identifiers to federate: every one in our graph (what we hold), or the lines of a file (what we ask).

Both go through the loaders' normalisers, so a key asked is spelt exactly as a key held. A file has
one identifier a line, `kind,value[,time]` (`#` starts a comment): kinds email, phone, device
(`type:id`, e.g. `imei:356938035643809`), account (`provider:id` as the graph keys it), file
(`md5:…`, `sha1:…`, `sha256:…`) and ip (with the ISO time of its use, required).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
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
from loaders.model import Label, Rel, cypher
from queries.context import GraphContext

HASHES = ("md5", "sha1", "sha256")

KEYS_OF = """MATCH (n:{label}) RETURN n.key AS key"""
FILE_HASHES = """MATCH (f:{label}) RETURN f.md5 AS md5, f.sha1 AS sha1, f.sha256 AS sha256"""
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


def file_items(path: Path, bucket_s: int, default_region: str) -> list[Asked]:
    """The identifiers of a deconfliction file; one error naming every line that does not hold."""
    items: list[Asked] = []
    problems: list[str] = []
    for number, row in _rows(path):
        ref = f"{path.name}:{number}"
        try:
            kind = row[0].strip().lower()
            key = normalise(kind, row[1].strip(), default_region)
            if kind == "ip":
                if len(row) < 3 or not row[2].strip():
                    raise InvalidIdentifier("ip", key, "an IP address needs the time of its use (third column)")
                moment, _ = normalise_timestamp(row[2].strip())
                tokens = tuple(asked_ip(key, moment, bucket_s))
            else:
                tokens = (Token(kind, key),)
            items.append(Asked(ref, kind, key, tokens))
        except (InvalidIdentifier, FederationError, IndexError) as exc:
            problems.append(f"{ref}: {exc or 'kind,value expected'}")
    if problems:
        raise FederationError(f"{len(problems)} line(s) refused: " + "; ".join(problems[:20]))
    return items


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            for number, row in enumerate(csv.reader(f), start=1):
                if row and row[0].strip() and not row[0].lstrip().startswith("#"):
                    yield number, row
    except OSError as exc:
        raise FederationError(f"cannot read {path}: {exc}") from exc
