"""GraphQL types of `federatedDeconflict`: pointers to other agencies' instances (docs/federation.md)."""

from __future__ import annotations

import strawberry

from graph_service.federation.asking import Given
from graph_service.federation.exchange import Hit
from graph_service.federation.peers import Peer
from graph_service.graphql.deconfliction_types import IdentifierInput


@strawberry.type(description="One of our identifiers that a peer instance holds too: whom to call there, "
                             "nothing of its case.")
class FederatedHit:
    mine: str = strawberry.field(description="Our reference: `#n` (the n-th identifier given), "
                                             "`case:kind:key` (a case's) or the entity id `Kind:key` (an "
                                             "entity's); an IP's with `@moment`, the use that matched.")
    kind: str
    peer: str = strawberry.field(description="The peer instance, as our peers.yaml names it.")
    agency: str
    contact: str
    peer_ref: str = strawberry.field(description="Opaque: the peer resolves it on its side "
                                                 "(`gracegraph federation resolve`).")


@strawberry.type(description="A peer instance of peers.yaml: whom `federatedDeconflict` can ask (its URL and "
                             "key stay in the file).")
class FederationPeer:
    name: str
    agency: str
    contact: str
    revoked: bool = strawberry.field(description="Every call from it is refused, and `all` does not ask it.")


def to_peer(peer: Peer) -> FederationPeer:
    return FederationPeer(name=peer.name, agency=peer.agency, contact=peer.contact, revoked=peer.revoked)


def given(item: IdentifierInput) -> Given:
    """As the federation reads it: a device, file or account type becomes the `type:` prefix of the value."""
    value = f"{item.type}:{item.value}" if item.type else item.value
    return item.kind, value, item.at


def to_hit(hit: Hit) -> FederatedHit:
    return FederatedHit(mine=hit.mine, kind=hit.kind, peer=hit.peer, agency=hit.agency, contact=hit.contact,
                        peer_ref=hit.peer_ref)
