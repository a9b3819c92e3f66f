"""Federated deconfliction as the API asks it: identifiers given, a case's, or the entities of a chart,
against named peers.

The GraphQL field `federatedDeconflict` calls `ask`, as the caller: a case must be one the caller may
read (queries/deconfliction.py decides), an entity one the caller may see. Our federation errors
become the API's error codes: a peer we do not know or a malformed identifier is the caller's mistake
(BAD_INPUT); a peer that fails or refuses is UNAVAILABLE. `peer_list` tells the viewer whom it can
ask, so that "no peer answered" and "no peer is configured" never read as the same empty answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from graph_service.audit import AuditLog
from graph_service.federation import exchange, keys, peers
from graph_service.federation.errors import FederationError, UnknownPeer
from graph_service.federation.exchange import Hit
from graph_service.federation.peers import Peer
from graph_service.federation.sources import Asked, asked_item, case_items, entity_items
from graph_service.settings import Settings
from loaders.errors import InvalidIdentifier
from queries.context import GraphContext
from queries.errors import BadInput, Unavailable
from queries.visibility import Scope

#: One identifier as the API takes it: kind, value (with its type prefix if any), moment of use.
Given = tuple[str, str, datetime | None]


def given_items(given: Sequence[Given], bucket_s: int, region: str) -> list[Asked]:
    """The identifiers given, referred to by position (`#1`, `#2`, …); one error naming each refused."""
    items: list[Asked] = []
    problems: list[str] = []
    for number, (kind, value, at) in enumerate(given, start=1):
        try:
            items.append(asked_item(f"#{number}", kind, value, at, bucket_s, region))
        except (InvalidIdentifier, FederationError) as exc:
            problems.append(f"#{number}: {exc}")
    if problems:
        raise BadInput(f"{len(problems)} identifier(s) refused: " + "; ".join(problems[:20]))
    return items


def ask(ctx: GraphContext, scope: Scope, settings: Settings, audit: AuditLog, given: Sequence[Given] | None,
        case: str | None, peer_names: Sequence[str], entities: Sequence[str] | None = None) -> list[Hit]:
    """Every hit of every peer named (`all`: each active one), as pointers."""
    if sum(x is not None for x in (given, case, entities)) != 1:
        raise BadInput("give one of identifiers, caseKey or entities")
    if not peer_names:
        raise BadInput("name at least one peer, or 'all'")
    bucket_s = settings.federation_ip_bucket_s
    excluded = settings.federation_excluded_ip_kinds
    if given is not None:
        items = given_items(given, bucket_s, settings.default_region)
    elif entities is not None:
        items = entity_items(ctx, scope, list(entities), bucket_s, excluded)
    else:
        items = case_items(ctx, scope, str(case), bucket_s, excluded)
    try:
        results = exchange.deconflict_peers(settings, audit, list(peer_names), items)
    except UnknownPeer as exc:
        raise BadInput(str(exc)) from exc
    except FederationError as exc:
        raise Unavailable(str(exc)) from exc
    return [hit for result in results for hit in result.hits]


def peer_list(settings: Settings) -> list[Peer]:
    """The peers of peers.yaml, revoked ones too (marked); UNAVAILABLE when federation is not set up here."""
    try:
        keys.load(settings.federation_path)
        return peers.load(settings.federation_path)
    except FederationError as exc:
        raise Unavailable(str(exc)) from exc
