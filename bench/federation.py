"""Federated deconfliction's cost: 10k identifiers asked of a peer holding 100k or 1M, against HMAC.

    python -m bench.federation                 # 10,000 asked against 100,000 and 1,000,000 held
    python -m bench.federation --quick         # 1,000 asked against 20,000 held
    python -m bench.federation --asked 10000 --held 1000000

Two instances in this process: the peer ("beta") answers over loopback HTTP through the real
router (uvicorn, signed calls, its SQLite store, its audit log), and we ("alpha") call it through the
real client. Neither needs Neo4j: the identifiers are synthetic strings of every kind (emails,
phones, accounts, file hashes, IP uses with times), not reports loaded into a graph. The peer's
held values are precomputed as `federation sync` would leave them, H(y)^(ab) for each of its
identifiers, but with the product of both secrets in one multiplication instead of a round trip
per batch (the same group element; the sync's own cost per identifier is measured separately on a
sample and reported as `sync_us_per_held`). A tenth of the asked identifiers are planted among the
held ones, and the hits must equal them exactly.

Phases, per asked identifier: `blind` (hash to the group and one multiplication, stored in the
cache: paid once per identifier and key epoch), `exchange` (a warm deconfliction: sign, send,
the peer's multiplication per value, its look-up among the held values, references, both audit
entries, the answer), and bytes on the wire both ways. The HMAC mode runs the same exchange
in the same run (peer holding the same identifiers as HMAC values) as the baseline. Medians of
`--repeat` warm exchanges. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from nacl import bindings

from bench.harness import emit, machine, median
from graph_service.audit import AuditLog
from graph_service.federation import exchange, keys, peers
from graph_service.federation.blinding import blind, blind_token, hash_to_group, hmac_value
from graph_service.federation.peers import Peer
from graph_service.federation.router import federation_router
from graph_service.federation.sources import Asked
from graph_service.federation.store import HMAC_PEER, STORE_FILE, Store
from graph_service.federation.tokens import Token, asked_ip, held_ip
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings

BUCKET_S = 3600
START = datetime(2024, 1, 1, tzinfo=UTC)


def identifier(i: int, seed: int) -> tuple[str, str, datetime | None]:
    """The i-th synthetic identifier: kind, normalised key and, for an IP, the time of its use."""
    kind = ("email", "phone", "account", "file", "ip")[i % 5]
    if kind == "email":
        return kind, f"user{i}.s{seed}@example.org", None
    if kind == "phone":
        return kind, f"+1555{seed % 10}{i:07d}", None
    if kind == "account":
        return kind, f"provider{i % 7}:{seed}-{i}", None
    if kind == "file":
        return kind, f"md5:{random.Random(i * 7919 + seed).getrandbits(128):032x}", None
    address = str(ipaddress.IPv6Address(f"2001:db8:{seed:x}:{i >> 16:x}::{i & 0xFFFF:x}"))
    return kind, address, START + timedelta(seconds=random.Random(i + seed).randrange(365 * 86400))


def held_token(i: int, seed: int) -> Token:
    kind, key, moment = identifier(i, seed)
    return held_ip(key, moment, BUCKET_S) if moment else Token(kind, key)


def _doubled(args: tuple[bytes, int, int, int]) -> list[bytes]:
    """H(y)^(ab) for a range of held identifiers (run in a worker process)."""
    scalar, start, stop, seed = args
    return [blind_token(scalar, held_token(i, seed).text) for i in range(start, stop)]


def precompute(scalar: bytes, count: int, seed: int, workers: int) -> list[bytes]:
    step = 20_000
    jobs = [(scalar, s, min(s + step, count), seed) for s in range(0, count, step)]
    with ProcessPoolExecutor(workers) as pool:
        return [v for part in pool.map(_doubled, jobs) for v in part]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def peer_app(settings: Settings) -> FastAPI:
    """Only the federation router, as create_app mounts it (no Neo4j is needed to answer)."""
    app = FastAPI()
    app.state.settings = settings
    app.state.audit = AuditLog(settings.audit_path)
    app.include_router(federation_router(), prefix="/federation")
    return app


class Counting(httpx.BaseTransport):
    def __init__(self) -> None:
        self.inner, self.up, self.down = httpx.HTTPTransport(), 0, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.up += len(request.read()) + sum(len(k) + len(v) + 4 for k, v in request.headers.raw)
        response = self.inner.handle_request(request)
        self.down += len(response.read()) + sum(len(k) + len(v) + 4 for k, v in response.headers.raw)
        return response


def asked_items(count: int, held: int, seed: int) -> tuple[list[Asked], int]:
    """`count` identifiers of ours; every tenth is one of the peer's held identifiers (planted)."""
    items, planted = [], 0
    for n in range(count):
        i, s = ((n * 10 + n // 10 % 5) % held, seed + 1) if n % 10 == 0 else (n, seed)
        planted += n % 10 == 0
        kind, key, moment = identifier(i, s)
        tokens = tuple(asked_ip(key, moment, BUCKET_S)) if moment else (Token(kind, key),)
        items.append(Asked(f"asked:{n}", kind, key, tokens))
    return items, planted


def run(asked: int, held: int, seed: int, repeat: int, workers: int, root: Path) -> dict[str, Any]:
    root = root / f"held-{held}"
    settings = {name: Settings(home=root / name, federation_ip_bucket_s=BUCKET_S, federation_rate_limit=10**9,
                               federation_max_values=100_000) for name in ("alpha", "beta")}
    alpha = keys.create(settings["alpha"].federation_path, "alpha", "Agency A", "a@example.org")
    beta = keys.create(settings["beta"].federation_path, "beta", "Agency B", "b@example.org")
    hmac_key = root / "hmac.key"
    keys.create_hmac_key(hmac_key)

    began = time.perf_counter()
    combined = bindings.crypto_core_ed25519_scalar_mul(alpha.blinding_secret, beta.blinding_secret)
    doubled = precompute(combined, held, seed + 1, workers)
    store = Store(settings["beta"].federation_path / STORE_FILE)
    tokens = [held_token(i, seed + 1) for i in range(held)]
    store.replace_held("alpha", zip(doubled, tokens, strict=True), alpha.epoch, beta.epoch)
    precompute_s = time.perf_counter() - began
    began = time.perf_counter()
    key = keys.load_hmac_key(hmac_key)
    store.replace_held(HMAC_PEER, ((hmac_value(key, t.text), t) for t in tokens), 0, 0)
    hmac_precompute_s = time.perf_counter() - began
    del doubled, tokens

    items, planted = asked_items(asked, held, seed)
    result: dict[str, Any] = {"held": held, "asked": asked, "planted": planted,
                              "precompute_s": round(precompute_s, 1), "hmac_precompute_s": round(hmac_precompute_s, 1)}
    for mode in ("oblivious", "hmac"):
        mine = settings["alpha"].model_copy(update={"federation_mode": mode, "federation_hmac_key": hmac_key})
        theirs = settings["beta"].model_copy(update={"federation_mode": mode, "federation_hmac_key": hmac_key})
        with serving(peer_app(theirs)) as url:
            peers.add(mine.federation_path, Peer("beta", url, beta.public_key, "Agency B", "b@example.org"))
            peers.add(theirs.federation_path, Peer("alpha", "http://127.0.0.1:9", alpha.public_key, "Agency A", "a"))
            result[mode] = measure(mine, items, planted, repeat)
    oblivious, hmac = result["oblivious"]["exchange_us_per_id"], result["hmac"]["exchange_us_per_id"]
    result["exchange_ratio"] = round(oblivious / hmac, 1)
    result["sync_us_per_held"] = sync_cost(alpha, beta, seed, min(held, 2_000))
    return result


def measure(settings: Settings, items: list[Asked], planted: int, repeat: int) -> dict[str, Any]:
    audit = AuditLog(settings.audit_path)
    tokens = list(dict.fromkeys(t for item in items for t in item.tokens))
    began = time.perf_counter()
    if settings.federation_mode == "oblivious":
        me = keys.load(settings.federation_path)
        Store(settings.federation_path / STORE_FILE).own_values(tokens, me.blinding_secret, me.epoch)
    else:
        key = keys.load_hmac_key(settings.federation_hmac_path)
        [hmac_value(key, t.text) for t in tokens]
    blind_s = time.perf_counter() - began
    times, wire = [], Counting()
    for _ in range(repeat):
        wire = Counting()
        began = time.perf_counter()
        answer = exchange.deconflict(settings, audit, "beta", items, transport=wire)
        times.append(time.perf_counter() - began)
        if len({h.mine for h in answer.hits}) != planted:
            raise SystemExit(f"{settings.federation_mode}: {len(answer.hits)} hits, {planted} planted")
    exchange_s = median(times)
    return {"values": len(tokens), "blind_s": round(blind_s, 3),
            "blind_us_per_id": round(blind_s / len(items) * 1e6, 1),
            "exchange_s": round(exchange_s, 3), "exchange_us_per_id": round(exchange_s / len(items) * 1e6, 1),
            "bytes_up": wire.up, "bytes_down": wire.down, "hits": len(answer.hits)}


def sync_cost(alpha: keys.Identity, beta: keys.Identity, seed: int, sample: int) -> float:
    """Per held identifier, what `federation sync` costs in group operations: the holder's own
    blinding (hash + multiplication) and the other side's multiplication (HTTP and SQLite aside)."""
    began = time.perf_counter()
    for i in range(sample):
        blind(alpha.blinding_secret, blind(beta.blinding_secret, hash_to_group(held_token(i, seed).text)))
    return round((time.perf_counter() - began) / sample * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asked", type=int, default=10_000)
    parser.add_argument("--held", default="100000,1000000", help="peer sizes, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="processes precomputing the peer's values")
    parser.add_argument("--quick", action="store_true", help="1,000 asked against 20,000 held")
    args = parser.parse_args()
    asked, sizes = (1_000, [20_000]) if args.quick else (args.asked, [int(s) for s in args.held.split(",")])
    root = Path(tempfile.mkdtemp(prefix="federation-", dir=Path(".gracegraph/bench").resolve()
                                 if Path(".gracegraph").is_dir() else None))
    try:
        runs = []
        for held in sizes:
            runs.append(run(asked, held, args.seed, args.repeat, args.workers, root))
            print(f"held {held}: oblivious {runs[-1]['oblivious']}, hmac {runs[-1]['hmac']}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    emit({"bench": "federation", "asked": asked, "runs": runs, "units": {
        "*_s": "seconds (medians of warm exchanges)", "*_us_per_id": "microseconds per asked identifier",
        "bytes_*": "bytes on the wire per exchange, headers included", "sync_us_per_held": "microseconds"},
        **machine()})


if __name__ == "__main__":
    main()
