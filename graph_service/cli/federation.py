"""`gracegraph federation …`: set up this instance as a peer, know the others, sync, deconflict.

init makes the identity (signing key, blinding secret; 0600); add-peer / revoke edit peers.yaml;
status shows both and, with --check, asks each peer who it is (a signed call); sync prepares us to
answer a peer; deconflict asks a peer about a file of identifiers; rotate replaces the blinding
secret; resolve says what one of the references we handed out stands for.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import typer
from rich.console import Console

from graph_service.audit import AuditLog
from graph_service.cli.communities import graph
from graph_service.cli.errors import reported
from graph_service.federation import exchange, keys, peers
from graph_service.federation.client import PeerClient
from graph_service.federation.errors import FederationError
from graph_service.federation.peers import Peer
from graph_service.federation.sources import file_items
from graph_service.federation.store import STORE_FILE, Store
from graph_service.settings import get_settings

out = Console(highlight=False, soft_wrap=True)
app = typer.Typer(help="Deconflict with other gracegraph instances without sharing identifiers.",
                  no_args_is_help=True)


@app.command("init")
@reported
def init(
    name: str = typer.Option(..., help="This instance's name, as peers will know it."),
    agency: str = typer.Option(..., help="The agency this instance belongs to."),
    contact: str = typer.Option(..., help="Whom a peer calls about a hit (desk, phone, mail)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing identity (peers must re-pin the key)."),
    hmac_key: bool = typer.Option(False, "--hmac-key", help="Also make a shared HMAC key for a closed network."),
) -> None:
    """Make this instance's Ed25519 key pair and blinding secret (files mode 0600)."""
    settings = get_settings()
    identity = keys.create(settings.federation_path, name, agency, contact, overwrite=force)
    Store(settings.federation_path / STORE_FILE).rekey()
    if hmac_key:
        keys.create_hmac_key(settings.federation_hmac_path)
        out.print(f"shared HMAC key: {settings.federation_hmac_path} (give it to members out of band)")
    out.print(f"federation identity {identity.name} in {settings.federation_path}")
    out.print(f"public key (give it to peers): {identity.public_key}")


@app.command("add-peer")
@reported
def add_peer(
    name: str = typer.Argument(..., help="Our name for the peer."),
    url: str = typer.Option(..., help="The peer's base URL, e.g. https://gracegraph.example.org"),
    public_key: str = typer.Option(..., "--public-key", help="The key its `federation init` printed."),
    agency: str = typer.Option(..., help="The peer's agency."),
    contact: str = typer.Option(..., help="Whom to call there."),
    rate_limit: int | None = typer.Option(None, "--rate-limit", help="Identifiers it may send us per window."),
) -> None:
    """Add (or replace) a peer in peers.yaml."""
    settings = get_settings()
    peers.add(settings.federation_path, Peer(name, url, public_key, agency, contact, rate_limit))
    out.print(f"peer {name} added ({url})")


@app.command("revoke")
@reported
def revoke(name: str = typer.Argument(..., help="The peer to refuse from now on.")) -> None:
    """Refuse every call from a peer (kept in peers.yaml, marked revoked)."""
    settings = get_settings()
    known = peers.load(settings.federation_path)
    peer = peers.by_name(known, name)
    peers.save(settings.federation_path, [replace(p, revoked=True) if p is peer else p for p in known])
    out.print(f"peer {name} revoked")


@app.command("status")
@reported
def status(check: bool = typer.Option(False, "--check", help="Call each peer (signed) and show its answer.")) -> None:
    """This instance's identity, its peers, and what is synced with each."""
    settings = get_settings()
    me = keys.load(settings.federation_path)
    store = Store(settings.federation_path / STORE_FILE)
    out.print(f"{me.name} ({me.agency}), mode {settings.federation_mode}, key epoch {me.epoch}")
    out.print(f"public key {me.public_key}; {store.cached_count(me.epoch)} blinded values cached")
    for peer in peers.load(settings.federation_path):
        synced = store.synced(peer.name)
        shown = ("never synced" if synced is None
                 else f"synced {synced[2]} values at {synced[3]} (their epoch {synced[0]})")
        state = "revoked" if peer.revoked else "active"
        out.print(f"{peer.name}: {peer.agency} <{peer.contact}> at {peer.url}, {state}, {shown}")
        if check and not peer.revoked:
            try:
                with PeerClient(me, peer, settings.federation_timeout_s) as client:
                    hello = client.call("hello", {})
                out.print(f"  check ok: {hello['name']}, {hello['mode']} mode, epoch {hello['epoch']}")
            except FederationError as exc:
                out.print(f"  [red]check failed:[/red] {exc}")


@app.command("sync")
@reported
def sync(peer: str | None = typer.Option(None, "--peer", help="The peer to prepare for ('all': every one).")) -> None:
    """Blind every identifier of our graph so that a peer's questions can be answered (re-run after loads)."""
    settings = get_settings()
    audit = AuditLog(settings.audit_path)
    names = [p.name for p in peers.load(settings.federation_path) if not p.revoked] if peer == "all" else [peer]
    with graph() as ctx:
        for name in names:
            result = exchange.sync(settings, ctx, audit, name)
            out.print(f"{result.peer}: {result.identifiers} identifiers, {result.held} blinded values held")


@app.command("deconflict")
@reported
def deconflict(
    file: Path = typer.Argument(..., help="One identifier a line: kind,value[,time] (docs/federation.md)."),
    peer: str = typer.Option(..., "--peer", help="The peer to ask ('all': every active peer)."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON lines."),
) -> None:
    """Ask a peer which of these identifiers it holds too; answers are pointers (agency, contact, reference)."""
    settings = get_settings()
    audit = AuditLog(settings.audit_path)
    items = file_items(file, settings.federation_ip_bucket_s, settings.default_region)
    names = [p.name for p in peers.load(settings.federation_path) if not p.revoked] if peer == "all" else [peer]
    for name in names:
        result = exchange.deconflict(settings, audit, name, items)
        for hit in result.hits:
            if as_json:
                out.print(json.dumps({"mine": hit.mine, "kind": hit.kind, "key": hit.key, "peer": hit.peer,
                                      "agency": hit.agency, "contact": hit.contact, "peer_ref": hit.peer_ref}))
            else:
                out.print(f"{hit.mine} {hit.kind} {hit.key}: held by {hit.agency} ({hit.contact}), "
                          f"their reference {hit.peer_ref}")
        out.print(f"{name}: {result.asked} identifiers asked ({result.values_sent} blinded values), "
                  f"{len(result.hits)} hits")


@app.command("rotate")
@reported
def rotate() -> None:
    """A new blinding secret: every cached value is dropped; peers and we must sync again."""
    settings = get_settings()
    me = keys.rotate(settings.federation_path)
    Store(settings.federation_path / STORE_FILE).rekey()
    AuditLog(settings.audit_path).append(None, me.agency, "federation.rotate", {"epoch": me.epoch}, {})
    out.print(f"blinding secret rotated: epoch {me.epoch}; run `federation sync --peer all`, and ask peers to")


@app.command("resolve")
@reported
def resolve(ref: str = typer.Argument(..., help="A reference we gave a peer (gg-…).")) -> None:
    """What one of our references stands for (a peer calls about it)."""
    settings = get_settings()
    found = Store(settings.federation_path / STORE_FILE).resolve(ref)
    if found is None:
        raise FederationError(f"{ref} is not a reference this instance issued")
    peer, held = found
    when = "" if held.bucket is None else f" (time bucket {held.bucket} of {settings.federation_ip_bucket_s}s)"
    out.print(f"{ref}: {held.kind} {held.key}{when}, given to peer {peer}")
