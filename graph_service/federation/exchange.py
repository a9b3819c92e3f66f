"""The two flows between us and a peer: `sync` (prepare to answer it) and `deconflict` (ask it).

sync, oblivious mode: read every identifier our graph holds, blind each under our secret (cached in
the store: computed once per identifier and epoch), send them in batches to the peer's `blind`
endpoint, and keep the doubly blinded answers with what each stands for. From then on we can answer
the peer's `match` calls by one multiplication and one look-up per value it asks about. HMAC mode:
the store keeps the HMAC of each identifier instead, and no peer is called.

deconflict: blind each asked identifier's tokens (IPs: three buckets; cached), send them in batches
to the peer's `match`, and turn each hit back into the line of ours it came from. What comes back is
a pointer: the kind, the peer's agency and contact, and an opaque reference the peer can resolve.

Both flows write an audit entry on our side (the peer writes its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from graph_service.audit import AuditLog
from graph_service.federation import keys, peers
from graph_service.federation.blinding import hmac_value, pack, unpack
from graph_service.federation.client import PeerClient
from graph_service.federation.errors import BadExchange, FederationError
from graph_service.federation.keys import Identity, b64, unb64
from graph_service.federation.peers import Peer
from graph_service.federation.sources import Asked, graph_tokens
from graph_service.federation.store import HMAC_PEER, STORE_FILE, Store
from graph_service.federation.tokens import Token
from graph_service.settings import Settings
from queries.context import GraphContext


@dataclass(frozen=True, slots=True)
class SyncResult:
    peer: str
    identifiers: int
    held: int
    peer_epoch: int


@dataclass(frozen=True, slots=True)
class Hit:
    """One of our identifiers that the peer holds too: a pointer, nothing of the peer's case."""

    mine: str  # our own reference (file:line)
    kind: str
    key: str  # ours; never sent
    peer: str
    agency: str
    contact: str
    peer_ref: str  # opaque: the peer resolves it on its side


@dataclass(frozen=True, slots=True)
class Deconfliction:
    peer: str
    asked: int
    values_sent: int
    hits: list[Hit]


def _batches(items: list[bytes], size: int) -> Iterator[tuple[int, list[bytes]]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def _context(settings: Settings) -> tuple[Identity, Store]:
    return keys.load(settings.federation_path), Store(settings.federation_path / STORE_FILE)


def sync(settings: Settings, ctx: GraphContext, audit: AuditLog, peer_name: str | None,
         transport: httpx.BaseTransport | None = None) -> SyncResult:
    """Make what we hold answerable to `peer_name` (oblivious mode), or to every member (HMAC mode)."""
    me, store = _context(settings)
    tokens = graph_tokens(ctx, settings.federation_ip_bucket_s, settings.federation_excluded_ip_kinds)
    if settings.federation_mode == "hmac":
        key = keys.load_hmac_key(settings.federation_hmac_path)
        held = store.replace_held(HMAC_PEER, ((hmac_value(key, t.text), t) for t in tokens), 0, 0)
        audit.append(None, me.agency, "federation.sync", {"peer": HMAC_PEER, "mode": "hmac"},
                     {"identifiers": len(tokens), "held": held})
        return SyncResult(HMAC_PEER, len(tokens), held, 0)
    if peer_name is None:
        raise FederationError("oblivious mode syncs with one peer at a time: name it")
    peer = peers.by_name(peers.load(settings.federation_path), peer_name)
    own = store.own_values(tokens, me.blinding_secret, me.epoch)
    doubled: list[bytes] = []
    epochs: set[int] = set()
    with PeerClient(me, peer, settings.federation_timeout_s, transport) as client:
        for _, batch in _batches(own, settings.federation_max_values):
            answer = client.call("blind", {"values": b64(pack(batch))})
            values = unpack(unb64(str(answer["values"])))
            if len(values) != len(batch):
                raise BadExchange(f"peer {peer.name} blinded {len(values)} values of {len(batch)}")
            doubled += values
            epochs.add(int(answer["epoch"]))
    if len(epochs) > 1:
        raise FederationError(f"peer {peer.name} rotated its keys during the sync: run it again")
    peer_epoch = epochs.pop() if epochs else 0
    held = store.replace_held(peer.name, zip(doubled, tokens, strict=True), peer_epoch, me.epoch)
    audit.append(None, me.agency, "federation.sync", {"peer": peer.name, "mode": "oblivious",
                                                      "peer_epoch": peer_epoch, "epoch": me.epoch},
                 {"identifiers": len(tokens), "held": held})
    return SyncResult(peer.name, len(tokens), held, peer_epoch)


def _asked_values(settings: Settings, me: Identity, store: Store, tokens: list[Token]) -> list[bytes]:
    if settings.federation_mode == "hmac":
        key = keys.load_hmac_key(settings.federation_hmac_path)
        return [hmac_value(key, t.text) for t in tokens]
    return store.own_values(tokens, me.blinding_secret, me.epoch)


def deconflict(settings: Settings, audit: AuditLog, peer_name: str, items: list[Asked],
               transport: httpx.BaseTransport | None = None) -> Deconfliction:
    """Which of `items` the peer holds too, as pointers. One call per `federation_max_values` values."""
    me, store = _context(settings)
    peer = peers.by_name(peers.load(settings.federation_path), peer_name)
    tokens = list(dict.fromkeys(t for item in items for t in item.tokens))
    values = _asked_values(settings, me, store, tokens)
    matched: dict[Token, tuple[str, str]] = {}  # token -> (peer ref, kind)
    whoami: dict[str, object] = {}
    with PeerClient(me, peer, settings.federation_timeout_s, transport) as client:
        for start, batch in _batches(values, settings.federation_max_values):
            answer = client.call("match", {"mode": settings.federation_mode, "epoch": me.epoch,
                                           "values": b64(pack(batch))})
            whoami = answer
            for hit in answer.get("hits", []):
                index = int(hit["index"])
                if not 0 <= index < len(batch):
                    raise BadExchange(f"peer {peer.name} named a value we did not send")
                matched[tokens[start + index]] = (str(hit["ref"]), str(hit["kind"]))
    hits = _pointers(items, matched, peer, whoami)
    audit.append(None, me.agency, "federation.deconflict",
                 {"peer": peer.name, "mode": settings.federation_mode,
                  "hits": [{"mine": h.mine, "kind": h.kind, "peer_ref": h.peer_ref} for h in hits]},
                 {"asked": len(items), "values": len(values), "hits": len(hits)})
    return Deconfliction(peer.name, len(items), len(values), hits)


def _pointers(items: list[Asked], matched: dict[Token, tuple[str, str]], peer: Peer,
              whoami: dict[str, object]) -> list[Hit]:
    """One hit per (our identifier, peer reference): an IP use that meets two of the peer's buckets
    gives two references, both worth a call."""
    agency = str(whoami.get("agency") or peer.agency)
    contact = str(whoami.get("contact") or peer.contact)
    hits: dict[tuple[str, str], Hit] = {}
    for item in items:
        for token in item.tokens:
            if token in matched:
                ref, kind = matched[token]
                hits.setdefault((item.ref, ref), Hit(item.ref, kind, item.key, peer.name, agency, contact, ref))
    return list(hits.values())
