"""The peers this instance talks to, from `peers.yaml` in the federation directory.

Each entry: `name` (ours for it), `url` (its base URL, the app root; endpoints are under
`/federation`), `public_key` (base64 raw Ed25519, from its `federation init`), `agency`, `contact`,
and optionally `rate_limit` (identifiers it may send us per window; default the
`federation_rate_limit` setting) and `revoked: true` (every call from it is refused). A file an
administrator reads and edits: YAML, one list, no cleverness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from graph_service.federation.errors import FederationError, UnknownPeer
from graph_service.federation.keys import public_key_from

PEERS_FILE = "peers.yaml"


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    url: str
    public_key: str
    agency: str
    contact: str
    rate_limit: int | None = None
    revoked: bool = False

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


def load(directory: Path) -> list[Peer]:
    path = directory / PEERS_FILE
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        peers = [Peer(**entry) for entry in data.get("peers", [])]
    except (yaml.YAMLError, TypeError, AttributeError) as exc:
        raise FederationError(f"{path} is not a peers file: {exc}") from exc
    for peer in peers:
        public_key_from(peer.public_key)  # a typo in a key must stop us, not refuse every call later
    return peers


def save(directory: Path, peers: list[Peer]) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = yaml.safe_dump({"peers": [p.as_dict() for p in peers]}, sort_keys=False, allow_unicode=True)
    (directory / PEERS_FILE).write_text(text, encoding="utf-8")


def add(directory: Path, peer: Peer) -> None:
    """Add or replace (by name) one peer."""
    public_key_from(peer.public_key)
    if not peer.url.startswith(("http://", "https://")):
        raise FederationError(f"a peer's URL starts with http:// or https://, not {peer.url!r}")
    others = [p for p in load(directory) if p.name != peer.name]
    if any(p.public_key == peer.public_key for p in others):
        raise FederationError("another peer already has that public key")
    save(directory, [*others, peer])


def by_name(peers: list[Peer], name: str) -> Peer:
    for peer in peers:
        if peer.name == name:
            return peer
    raise UnknownPeer(f"no peer named {name!r} in {PEERS_FILE}")


def by_key(peers: list[Peer], public_key: str) -> Peer:
    for peer in peers:
        if peer.public_key == public_key:
            return peer
    raise UnknownPeer("the caller's key is not one of our peers")
