"""Two real instances over loopback, each with its own Neo4j, deconflicting without sharing identifiers.

Alpha (the session's Neo4j) loads one synthetic corpus plus the first bundle of a second; beta (a
second Neo4j started here) loads the whole second corpus. The overlap is planted (that bundle), and
the oracle is computed straight from both graphs with plain Cypher, independent of the federation
code. Every byte on the wire is captured and searched for every identifier of either side.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from neo4j import Driver
from typer.testing import CliRunner

from graph_service.app import create_app
from graph_service.audit import AuditLog
from graph_service.auth import Role
from graph_service.cli import app as cli
from graph_service.database import open_driver
from graph_service.federation import exchange, keys, peers, signing
from graph_service.federation.blinding import hash_to_group, pack
from graph_service.federation.errors import RateLimited, Refused, StaleKeys, UnknownPeer
from graph_service.federation.keys import b64
from graph_service.federation.peers import Peer
from graph_service.federation.sources import file_items
from graph_service.federation.store import STORE_FILE, Store
from graph_service.federation.tokens import bucket_of
from graph_service.neo4j_local import LocalNeo4j
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.model import Label, cypher
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries import cases
from queries.context import GraphContext
from queries.visibility import Clearance, Scope
from tests.browser import serving
from tests.conftest import ROOT, clear_graph
from tests.signin import TEST_AGENCY, signed_in

BUCKET_S = 3600


class Recorder(httpx.BaseTransport):
    """httpx's own transport, keeping every request and response body that crossed the wire."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.read())
        self.bodies.extend(f"{k}: {v}".encode() for k, v in request.headers.items())
        response = self.inner.handle_request(request)
        self.bodies.append(response.read())
        return response


@dataclass
class Instance:
    name: str
    settings: Settings
    ctx: GraphContext
    url: str = ""

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit_path)

    @property
    def identity(self) -> keys.Identity:
        return keys.load(self.settings.federation_path)


@pytest.fixture(scope="module")
def beta_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Driver]]:
    """A second Neo4j server: Community has one user database, so a second instance needs its own."""
    home = tmp_path_factory.mktemp("neo4j-beta")
    server = LocalNeo4j(home=home, port=free_port(), heap="512m", pagecache="256m",
                        lib=ROOT / ".gracegraph" / "neo4j" / "lib")
    server.start(timeout=300)
    try:
        driver = open_driver(Settings(neo4j_uri=server.uri, home=home), start=False)
        yield server.uri, driver
        driver.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def corpora(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], list[Path]]:
    one, two = tmp_path_factory.mktemp("corpus-one"), tmp_path_factory.mktemp("corpus-two")
    first = generate(one, reports=60, seed=101, bundle_size=30)
    second = generate(two, reports=60, seed=202, bundle_size=20)
    return [one / f for f in first.files], [two / f for f in second.files]


def _load(driver: Driver, database: str, files: list[Path]) -> None:
    clear_graph(driver, database)
    ensure_schema(driver, database)
    summary = load_files(GraphWriter(driver, database), files, parse_cybertip, parallel=False)
    assert not summary.failed


@pytest.fixture(scope="module")
def instances(driver: Driver, neo4j_settings: Settings, beta_neo4j: tuple[str, Driver],
              corpora: tuple[list[Path], list[Path]],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Instance, Instance]]:
    one, two = corpora
    _load(driver, neo4j_settings.neo4j_database, [*one, two[0]])  # alpha: its corpus + beta's first bundle
    beta_uri, beta_driver = beta_neo4j
    _load(beta_driver, "neo4j", two)
    made = []
    for name, drv, uri, database in (("alpha", driver, neo4j_settings.bolt_uri, neo4j_settings.neo4j_database),
                                     ("beta", beta_driver, beta_uri, "neo4j")):
        home = tmp_path_factory.mktemp(f"home-{name}")
        settings = Settings(neo4j_uri=uri, neo4j_database=database, home=home, federation_ip_bucket_s=BUCKET_S,
                            federation_max_values=200)
        keys.create(settings.federation_path, name, f"Agency {name}", f"{name}-desk@example.org")
        made.append(Instance(name, settings, GraphContext(drv, database)))
    alpha, beta = made
    with serving(create_app(alpha.settings)) as alpha.url, serving(create_app(beta.settings)) as beta.url:
        for me, other in ((alpha, beta), (beta, alpha)):
            peers.add(me.settings.federation_path, Peer(other.name, other.url, other.identity.public_key,
                                                        f"Agency {other.name}", f"{other.name}-desk@example.org"))
        yield alpha, beta


# -- the oracle: plain Cypher on both graphs --------------------------------------------------

def identifiers(ctx: GraphContext) -> dict[str, set[str]]:
    found = {kind: {r["key"] for r in ctx.read(cypher("MATCH (n:{label}) RETURN n.key AS key", label=label))}
             for kind, label in (("email", Label.EMAIL), ("phone", Label.PHONE), ("device", Label.DEVICE),
                                 ("account", Label.ACCOUNT))}
    found["file"] = {f"{algo}:{r[algo]}" for r in ctx.read("MATCH (f:File) RETURN f.md5 AS md5, f.sha1 AS sha1, "
                                                           "f.sha256 AS sha256") for algo in ("md5", "sha1", "sha256")
                     if r[algo]}
    return found


def ip_uses(ctx: GraphContext) -> list[tuple[str, str, datetime]]:
    rows = ctx.read("MATCH (:Account)-[u:USED_IP]->(ip:IP) UNWIND u.times AS t RETURN ip.key AS key, "
                    "ip.kind AS kind, t")
    return [(r["key"], r["kind"], r["t"].to_native()) for r in rows]


@pytest.fixture(scope="module")
def asked(instances: tuple[Instance, Instance], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """Alpha's file of every identifier it holds, and the lines beta holds too (by the oracle)."""
    alpha, beta = instances
    mine, theirs = identifiers(alpha.ctx), identifiers(beta.ctx)
    their_ips: dict[str, set[int]] = {}
    for key, kind, moment in ip_uses(beta.ctx):
        if kind != "private":
            their_ips.setdefault(key, set()).add(bucket_of(moment, BUCKET_S))
    lines, expected = [], set()
    path = tmp_path_factory.mktemp("asked") / "alpha.csv"
    for kind in sorted(mine):
        for key in sorted(mine[kind]):
            lines.append(f"{kind},{key}")
            if key in theirs[kind]:
                expected.add(f"{path.name}:{len(lines)}")
    for key, _, moment in sorted(set(ip_uses(alpha.ctx))):
        lines.append(f"ip,{key},{moment.isoformat()}")
        bucket = bucket_of(moment, BUCKET_S)
        if their_ips.get(key, set()) & {bucket - 1, bucket, bucket + 1}:
            expected.add(f"{path.name}:{len(lines)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, expected


def planted_keys(corpora: tuple[list[Path], list[Path]]) -> set[str]:
    """Keys of the bundle both sides loaded, parsed on its own: the planted overlap."""
    keys_: set[str] = set()
    for records in parse_cybertip(corpora[1][0]):
        keys_ |= {node.key for node in records.nodes if node.label.value in ("Email", "Phone", "Device", "Account")}
    return keys_


# -- the tests ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synced(instances: tuple[Instance, Instance]) -> Recorder:
    alpha, beta = instances
    wire = Recorder()
    for me, other in ((alpha, beta), (beta, alpha)):
        result = exchange.sync(me.settings, me.ctx, me.audit, other.name, transport=wire)
        assert result.held >= result.identifiers > 0
    return wire


def test_hits_are_exactly_the_planted_overlap_and_nothing_raw_crosses_the_wire(
        instances: tuple[Instance, Instance], synced: Recorder, asked: tuple[Path, set[str]],
        corpora: tuple[list[Path], list[Path]]) -> None:
    alpha, beta = instances
    path, expected = asked
    wire = Recorder()
    items = file_items(path, BUCKET_S, alpha.settings.default_region)
    result = exchange.deconflict(alpha.settings, alpha.audit, "beta", items, transport=wire)

    found = {hit.mine for hit in result.hits}
    assert found == expected
    assert planted_keys(corpora) <= {hit.key for hit in result.hits}
    assert len(found) < len(items)  # alpha's own corpus is not reported
    assert {hit.kind for hit in result.hits} >= {"account", "ip"}
    assert all(hit.agency == "Agency beta" and hit.contact == "beta-desk@example.org" for hit in result.hits)
    assert len(wire.bodies) > 6  # several batches (200 values per call)

    secrets_ = set().union(*identifiers(alpha.ctx).values(), *identifiers(beta.ctx).values())
    secrets_ |= {key for key, _, _ in ip_uses(alpha.ctx) + ip_uses(beta.ctx)}
    parts = {part for s in secrets_ for part in s.split(":") if len(part) >= 6}  # bare hashes, ids, handles
    for body in wire.bodies + synced.bodies:
        text = body.decode("utf-8", "replace")
        leaked = [s for s in secrets_ | parts if s in text]
        assert not leaked, leaked[:5]

    # Beta can resolve what it handed out; it names beta's identifier, which alpha holds too.
    for hit in result.hits:
        resolved = store_of(beta).resolve(hit.peer_ref)
        assert resolved is not None and resolved[0] == "alpha" and resolved[1].kind == hit.kind


def store_of(instance: Instance) -> Store:
    return Store(instance.settings.federation_path / STORE_FILE)


def test_both_audit_logs_hold_the_exchange_and_verify(instances: tuple[Instance, Instance], synced: Recorder,
                                                      asked: tuple[Path, set[str]]) -> None:
    alpha, beta = instances
    items = file_items(asked[0], BUCKET_S, alpha.settings.default_region)
    seen = sum(1 for _ in beta.audit.entries())
    result = exchange.deconflict(alpha.settings, alpha.audit, "beta", items)
    assert alpha.audit.verify() is None and beta.audit.verify() is None
    mine = [e for e in alpha.audit.entries() if e.operation == "federation.deconflict"][-1]
    theirs = list(beta.audit.entries())[seen:]
    assert {e.operation for e in theirs} == {"federation.match"}
    assert {e.actor for e in theirs} == {"peer:alpha"}
    assert mine.counts["hits"] == len(result.hits) > 0
    refs = {h.peer_ref for h in result.hits}
    assert refs == {h["peer_ref"] for h in mine.variables["hits"]}
    assert refs == {ref for e in theirs for ref in e.variables["refs"]}
    assert sum(e.counts["asked"] for e in theirs) == mine.counts["values"]
    assert any(e.operation == "federation.blind" and e.actor == "peer:beta" for e in alpha.audit.entries())


def _post(instance: Instance, me: keys.Identity, operation: str, body: bytes,
          headers: dict[str, str] | None = None) -> httpx.Response:
    path = f"/federation/{operation}"
    headers = headers or signing.sign_request(me, instance.identity.public_key, "POST", path, body)
    return httpx.post(f"{instance.url}/federation/{operation}", content=body, headers=headers, timeout=60)


def test_tampered_replayed_stale_and_unsigned_calls_are_refused(instances: tuple[Instance, Instance],
                                                                synced: Recorder) -> None:
    alpha, beta = instances
    body = json.dumps({"values": b64(pack([hash_to_group("email\x1fx@example.org")]))}).encode()
    headers = signing.sign_request(alpha.identity, beta.identity.public_key, "POST", "/federation/blind", body)
    assert _post(beta, alpha.identity, "blind", body[:-2] + b" }", headers).status_code == 401  # tampered
    assert _post(beta, alpha.identity, "blind", body, headers).status_code == 200
    replay = _post(beta, alpha.identity, "blind", body, headers)  # the same call again
    assert replay.status_code == 401 and "replayed" in replay.json()["message"]
    assert httpx.post(f"{beta.url}/federation/blind", content=body).status_code == 401  # unsigned
    stale = signing.sign_request(alpha.identity, beta.identity.public_key, "POST", "/federation/blind", body,
                                 at=1_600_000_000)
    assert _post(beta, alpha.identity, "blind", body, stale).status_code == 401
    refused = [e for e in beta.audit.entries() if e.variables.get("refused") == "BadSignature"]
    assert len(refused) >= 4


def test_unknown_and_revoked_peers_are_refused(instances: tuple[Instance, Instance], synced: Recorder,
                                               tmp_path: Path) -> None:
    alpha, beta = instances
    stranger = keys.create(tmp_path / "stranger", "stranger", "S", "s")
    answer = _post(beta, stranger, "hello", b"{}")
    assert answer.status_code == 403 and answer.json()["error"] == UnknownPeer.__name__
    with pytest.raises(UnknownPeer):
        exchange.deconflict(alpha.settings, alpha.audit, "nobody", [])
    path = beta.settings.federation_path
    known = peers.load(path)
    peers.save(path, [replace(p, revoked=True) if p.name == "alpha" else p for p in known])
    try:
        with pytest.raises(Refused, match="revoked"):
            exchange.deconflict(alpha.settings, alpha.audit, "beta",
                                file_items(_one_line(tmp_path), BUCKET_S, "US"))
    finally:
        peers.save(path, known)


def _one_line(tmp_path: Path) -> Path:
    path = tmp_path / "one.csv"
    path.write_text("email,someone@example.org\n", encoding="utf-8")
    return path


def test_a_peer_over_its_rate_limit_is_refused(instances: tuple[Instance, Instance], synced: Recorder,
                                               tmp_path: Path) -> None:
    beta = instances[1]
    caller = keys.create(tmp_path / "small", "small", "Small", "s")
    peers.add(beta.settings.federation_path, Peer("small", "http://127.0.0.1:9", caller.public_key, "Small", "s",
                                                  rate_limit=5))
    values = [hash_to_group(f"email\x1f{i}@example.org") for i in range(6)]
    assert _post(beta, caller, "blind", json.dumps({"values": b64(pack(values[:5]))}).encode()).status_code == 200
    over = _post(beta, caller, "blind", json.dumps({"values": b64(pack(values[5:]))}).encode())
    assert over.status_code == 429 and over.json()["error"] == RateLimited.__name__


def test_rotation_makes_old_values_stale_until_the_peer_syncs_again(
        instances: tuple[Instance, Instance], synced: Recorder, asked: tuple[Path, set[str]]) -> None:
    alpha, beta = instances
    items = file_items(asked[0], BUCKET_S, alpha.settings.default_region)
    before = {(h.mine, h.peer_ref) for h in exchange.deconflict(alpha.settings, alpha.audit, "beta", items).hits}
    keys.rotate(alpha.settings.federation_path)
    store_of(alpha).rekey()  # as `federation rotate` does
    with pytest.raises(StaleKeys):
        exchange.deconflict(alpha.settings, alpha.audit, "beta", items)
    exchange.sync(beta.settings, beta.ctx, beta.audit, "alpha")
    after = {(h.mine, h.peer_ref) for h in exchange.deconflict(alpha.settings, alpha.audit, "beta", items).hits}
    assert after == before  # same hits, same references: a reference names beta's identifier, not a key


def test_hmac_mode_finds_the_same_overlap(instances: tuple[Instance, Instance], asked: tuple[Path, set[str]],
                                          tmp_path: Path) -> None:
    alpha, beta = instances
    shared = tmp_path / "hmac.key"
    keys.create_hmac_key(shared)
    closed = [i.settings.model_copy(update={"federation_mode": "hmac", "federation_hmac_key": shared})
              for i in (alpha, beta)]
    exchange.sync(closed[1], beta.ctx, beta.audit, None)
    with serving(create_app(closed[1])) as url:
        path = closed[0].federation_path
        known = peers.load(path)
        peers.save(path, [replace(p, url=url) if p.name == "beta" else p for p in known])
        try:
            result = exchange.deconflict(closed[0], alpha.audit, "beta",
                                         file_items(asked[0], BUCKET_S, alpha.settings.default_region))
        finally:
            peers.save(path, known)
    assert {hit.mine for hit in result.hits} == asked[1]
    with pytest.raises(Refused, match="mode"):  # oblivious beta refuses hmac values
        exchange.deconflict(closed[0], alpha.audit, "beta", file_items(_one_line(tmp_path), BUCKET_S, "US"))


def test_cli_sets_up_checks_syncs_and_deconflicts(instances: tuple[Instance, Instance], synced: Recorder,
                                                  asked: tuple[Path, set[str]], tmp_path: Path) -> None:
    alpha = instances[0]
    runner = CliRunner()
    patch = pytest.MonkeyPatch()
    try:
        patch.setenv("GRACEGRAPH_HOME", str(tmp_path / "fresh"))
        get_settings.cache_clear()
        made = runner.invoke(cli, ["federation", "init", "--name", "fresh", "--agency", "F", "--contact", "f"])
        assert made.exit_code == 0, made.output
        identity = tmp_path / "fresh" / "federation" / keys.IDENTITY_FILE
        assert identity.stat().st_mode & 0o777 == 0o600
        assert keys.load(identity.parent).public_key in made.output
        again = runner.invoke(cli, ["federation", "init", "--name", "x", "--agency", "F", "--contact", "f"])
        assert again.exit_code == 1 and "exists already" in again.output

        for name, value in (("GRACEGRAPH_HOME", alpha.settings.home), ("NEO4J_URI", alpha.settings.bolt_uri),
                            ("NEO4J_DATABASE", alpha.settings.neo4j_database),
                            ("GRACEGRAPH_FEDERATION_MAX_VALUES", 200), ("GRACEGRAPH_FEDERATION_IP_BUCKET_S", BUCKET_S)):
            patch.setenv(name, str(value))
        get_settings.cache_clear()
        status = runner.invoke(cli, ["federation", "status", "--check"])
        assert status.exit_code == 0 and "check ok: beta" in status.output, status.output
        synced_now = runner.invoke(cli, ["federation", "sync", "--peer", "beta"])
        assert synced_now.exit_code == 0 and "blinded values held" in synced_now.output, synced_now.output
        answer = runner.invoke(cli, ["federation", "deconflict", str(asked[0]), "--peer", "beta", "--json"])
        assert answer.exit_code == 0, answer.output
        hits = [json.loads(line) for line in answer.output.splitlines() if '"peer_ref"' in line]
        assert {hit["mine"] for hit in hits} == asked[1]
        unknown = runner.invoke(cli, ["federation", "deconflict", str(asked[0]), "--peer", "nobody"])
        assert unknown.exit_code == 1 and "no peer named" in unknown.output
    finally:
        patch.undo()
        get_settings.cache_clear()


FEDERATED = """query($ids: [IdentifierInput!], $case: String, $peers: [String!]) {
  federatedDeconflict(identifiers: $ids, caseKey: $case, peers: $peers) { mine kind peer agency contact peerRef } }"""


def test_graphql_field_and_case_path_give_the_cli_and_file_answers(
        instances: tuple[Instance, Instance], synced: Recorder, asked: tuple[Path, set[str]],
        corpora: tuple[list[Path], list[Path]], tmp_path: Path) -> None:
    alpha, beta = instances
    path = asked[0]
    by_file = exchange.deconflict(alpha.settings, alpha.audit, "beta",
                                  file_items(path, BUCKET_S, alpha.settings.default_region))
    expected = {(int(h.mine.rsplit(":", 1)[1]), h.kind, h.peer_ref) for h in by_file.hits}
    shared = sorted({r["key"] for r in alpha.ctx.read("MATCH (r:Report) RETURN r.key AS key")}
                    & {r["key"] for r in beta.ctx.read("MATCH (r:Report) RETURN r.key AS key")})
    owner = Scope(TEST_AGENCY, Clearance.OWN_CASES)
    cases.create_case(alpha.ctx, owner, "FED-1")
    assert cases.assign_reports(alpha.ctx, Scope(TEST_AGENCY, Clearance.EVERYTHING), "FED-1", shared) == len(shared)

    given = []
    for line in path.read_text(encoding="utf-8").splitlines():
        kind, value, *at = line.split(",")
        given.append({"kind": kind, "value": value, "at": at[0] if at else None})
    with signed_in(create_app(alpha.settings), "fed-analyst", TEST_AGENCY, Role.ANALYST) as client:
        listed = client.post("/graphql", json={"query": FEDERATED, "variables": {"ids": given, "peers": ["beta"]}})
        of_case = client.post("/graphql", json={"query": FEDERATED, "variables": {"case": "FED-1", "peers": ["all"]}})
    with signed_in(create_app(alpha.settings), "fed-other", "OTHER", Role.ANALYST) as client:
        stranger = client.post("/graphql", json={"query": FEDERATED, "variables": {"case": "FED-1"}}).json()
    assert "errors" not in listed.json() and "errors" not in of_case.json(), (listed.text, of_case.text)
    hits = listed.json()["data"]["federatedDeconflict"]
    assert {(int(h["mine"][1:]), h["kind"], h["peerRef"]) for h in hits} == expected
    assert {(h["peer"], h["agency"], h["contact"]) for h in hits} == {("beta", "Agency beta", "beta-desk@example.org")}
    case_hits = of_case.json()["data"]["federatedDeconflict"]
    assert {h["mine"].split(":", 2)[2] for h in case_hits if h["kind"] in ("email", "phone", "device", "account")} \
        == planted_keys(corpora)
    assert {h["peerRef"] for h in case_hits} <= {h.peer_ref for h in by_file.hits}
    assert stranger["data"] is None and stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    mine = [e for e in alpha.audit.entries() if e.operation.startswith("graphql")]
    assert any(e.actor == "fed-analyst" and "federatedDeconflict" in str(e.variables) for e in mine)

    runner, patch = CliRunner(), pytest.MonkeyPatch()
    try:
        for env, setting in (("GRACEGRAPH_HOME", alpha.settings.home), ("NEO4J_URI", alpha.settings.bolt_uri),
                            ("NEO4J_DATABASE", alpha.settings.neo4j_database),
                            ("GRACEGRAPH_FEDERATION_MAX_VALUES", 200), ("GRACEGRAPH_FEDERATION_IP_BUCKET_S", BUCKET_S)):
            patch.setenv(env, str(setting))
        get_settings.cache_clear()
        answer = runner.invoke(cli, ["federation", "deconflict", "--case", "FED-1", "--peers", "beta", "--json"])
        assert answer.exit_code == 0, answer.output
        both = runner.invoke(cli, ["federation", "deconflict", str(path), "--case", "FED-1", "--peers", "beta"])
        assert both.exit_code == 1 and "either FILE or --case" in both.output
    finally:
        patch.undo()
        get_settings.cache_clear()
    by_cli = [json.loads(line) for line in answer.output.splitlines() if '"peer_ref"' in line]
    assert {(h["mine"], h["kind"], h["peer_ref"]) for h in by_cli} \
        == {(h["mine"], h["kind"], h["peerRef"]) for h in case_hits}
