"""The API under many users: simulated analysts on loopback sending a mix of queries for a while.

    python -m bench.api_load                     # 50 users, 120 s, 2,000 reports
    python -m bench.api_load --quick             # 10 users, 15 s, 300 reports

A fresh Neo4j (bench/harness.py) gets synthetic referrals; `gracegraph serve` runs in its own
process; each user is an asyncio task with its own httpx connection that sends, back to back, one
of: search, entity, neighbourhood (depth 1 or 2), paths, shared identifiers, links, timeline,
report. After an uncounted warm-up, first one user alone for a sixth of the time (the baseline),
then all users together.
Counted: requests, HTTP 5xx (must be 0), GraphQL errors by code, latency p50/p95/p99 overall and
per operation. Every request carries a bearer token: `--token` (or GRACEGRAPH_API_TOKEN), else
that of an admin the bench makes in an auth store of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bench.harness import ROOT, bench_database, emit, machine
from bench.queries import percentile
from graph_service.auth import AuthStore, Role
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter

ENTITY = "id kind key label sources"
OPERATIONS: dict[str, str] = {
    "search": 'query($t: String!) { search(text: $t, limit: 10) { score entity { id kind key } } }',
    "entity": f"query($id: ID!) {{ entity(id: $id) {{ {ENTITY} properties }} }}",
    "neighbourhood": f"query($ids: [ID!]!, $d: Int!) {{ neighbourhood(ids: $ids, depth: $d, limit: 300) "
                     f"{{ truncated nodes {{ {ENTITY} }} edges {{ id kind source target }} }} }}",
    "paths": "query($a: ID!, $b: ID!) { paths(from: $a, to: $b, maxHops: 4) { length paths { nodes { id } } } }",
    "shared": "query($ids: [ID!]!) { sharedIdentifiers(ids: $ids) { identifiers { holders } links { a b score } } }",
    "links": "query($id: ID!) { links(id: $id, limit: 20) { links { a b score } } }",
    "timeline": "query($id: ID!) { timeline(id: $id, first: 20) { events { at kind } } }",
    "report": "query($k: String!) { report(key: $k) { entity { id } contents { nodes { id } } } }",
}


def variables(op: str, truth: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    network = rng.choice(truth["networks"])
    accounts = network["accounts"]
    me = f"Account:{rng.choice(accounts)}"
    if op == "search":
        return {"t": rng.choice(accounts).rpartition(":")[2]}
    if op == "neighbourhood":
        return {"ids": [me], "d": rng.choice([1, 2])}
    if op == "paths":
        a, b = (rng.sample(accounts, 2) if len(accounts) > 1 else (accounts[0], accounts[0]))
        return {"a": f"Account:{a}", "b": f"Account:{b}"}
    if op == "shared":
        return {"ids": [f"Account:{k}" for k in accounts[:5]]}
    if op == "report":
        return {"k": rng.choice(truth["reports"])}
    return {"id": me}


async def user(base: str, truth: dict[str, Any], until: float, seed: int, headers: dict[str, str],
               results: list[tuple[str, float, int, str | None]]) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120.0) as client:
        while time.monotonic() < until:
            op = rng.choice(list(OPERATIONS))
            body = {"query": OPERATIONS[op], "variables": variables(op, truth, rng)}
            began = time.perf_counter()
            try:
                response = await client.post("/graphql", json=body)
                status = response.status_code
                errors = response.json().get("errors") if status < 500 else None
            except httpx.HTTPError as exc:
                results.append((op, (time.perf_counter() - began) * 1000, 599, type(exc).__name__))
                continue
            code = (errors[0].get("extensions") or {}).get("code", "NONE") if errors else None
            results.append((op, (time.perf_counter() - began) * 1000, status, code))


def run_phase(base: str, truth: dict[str, Any], users: int, seconds: float,
              headers: dict[str, str]) -> list[tuple[str, float, int, str | None]]:
    results: list[tuple[str, float, int, str | None]] = []
    until = time.monotonic() + seconds

    async def everyone() -> None:
        await asyncio.gather(*(user(base, truth, until, n, headers, results) for n in range(users)))

    asyncio.run(everyone())
    return results


def summarise(results: list[tuple[str, float, int, str | None]], seconds: float) -> dict[str, Any]:
    times = [r[1] for r in results]
    by_op: dict[str, list[float]] = defaultdict(list)
    for op, ms, _, _ in results:
        by_op[op].append(ms)
    return {
        "requests": len(results), "requests_per_s": round(len(results) / seconds, 1),
        "http_5xx": sum(1 for r in results if r[2] >= 500),
        "graphql_errors": dict(Counter(r[3] for r in results if r[3])),
        "p50_ms": round(percentile(times, 0.5), 1), "p95_ms": round(percentile(times, 0.95), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "per_operation_p50_p95_ms": {op: [round(percentile(v, 0.5), 1), round(percentile(v, 0.95), 1)]
                                     for op, v in sorted(by_op.items())},
    }


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the API server exited before answering")
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the API server did not answer /healthz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--token", default=os.environ.get("GRACEGRAPH_API_TOKEN"))
    parser.add_argument("--quick", action="store_true", help="10 users, 15 s, 300 reports")
    args = parser.parse_args()
    if args.quick:
        args.users, args.seconds, args.reports = 10, 15.0, 300
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    with bench_database(heap="2g", pagecache="1g") as (driver, settings, _), \
            tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        planted = generate(folder, reports=args.reports, seed=args.seed)
        ensure_schema(driver, settings.neo4j_database)
        load_files(GraphWriter(driver, settings.neo4j_database), [folder / f for f in planted.files], parse_cybertip)
        truth = json.loads((folder / "truth.json").read_text())
        records, _, _ = driver.execute_query("MATCH (r:Report) RETURN r.key AS k LIMIT 500",
                                             database_=settings.neo4j_database)
        truth["reports"] = [r["k"] for r in records]
        port = free_port()
        env = {**os.environ, "NEO4J_URI": settings.bolt_uri, "NEO4J_DATABASE": settings.neo4j_database,
               "GRACEGRAPH_LOG_LEVEL": "WARNING", "GRACEGRAPH_AUTH_DB": str(folder / "auth.sqlite3"),
               "GRACEGRAPH_SECRET_KEY": secrets.token_hex(32)}
        if not headers:  # a bench admin of its own, in an auth store of its own
            auth = Settings(auth_db=folder / "auth.sqlite3", secret_key=SecretStr(env["GRACEGRAPH_SECRET_KEY"]))
            store = AuthStore.of(auth)
            store.ensure_user("bench-admin", "BENCH", Role.ADMIN)
            headers = {"Authorization": f"Bearer {store.issue_token('bench-admin')}"}
        server = subprocess.Popen([sys.executable, "-m", "graph_service.cli", "serve", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, server)
            # Warm-up, not counted: a fresh server plans and compiles each query once.
            run_phase(base, truth, len(OPERATIONS), min(args.seconds / 6, 30.0), headers)
            alone_s = args.seconds / 6
            alone = summarise(run_phase(base, truth, 1, alone_s, headers), alone_s)
            crowd = summarise(run_phase(base, truth, args.users, args.seconds, headers), args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=60)
    emit({"benchmark": "api_load", **machine(), "reports": args.reports, "users": args.users,
          "seconds": args.seconds, "one_user": alone, "all_users": crowd,
          "p95_all_over_p50_alone": round(crowd["p95_ms"] / alone["p50_ms"], 1) if alone["p50_ms"] else None,
          "throughput_all_over_alone": round(crowd["requests_per_s"] / alone["requests_per_s"], 2)
          if alone["requests_per_s"] else None})


if __name__ == "__main__":
    main()
