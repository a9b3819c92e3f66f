"""Federated deconfliction in the viewer, in a real browser (Debian's chromium) against two real
instances: alpha's viewer asks its peers about the chart, and the identifiers beta holds too (the
overlap the generator planted) carry a pointer tag; the others carry none. The detail panel shows
whom to call at beta and its opaque reference, and nothing of beta's own identifiers. Refusals,
unreachable peers and an instance without peers are said per peer, never shown as "no hits".

The two instances (each its own Neo4j and app process on 127.0.0.1) are tests/test_federation.py's
fixtures; the oracle is plain Cypher on both graphs, as there.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import FloatRect, Page

from graph_service.app import create_app
from graph_service.auth import Role
from graph_service.federation import keys, peers
from graph_service.federation.peers import Peer
from graph_service.federation.tokens import bucket_of
from graph_service.neo4j_local.server import free_port
from loaders.cybertip import parse_cybertip
from queries import cases
from queries.visibility import Clearance, Scope
from tests.browser import Traffic, clean_viewer, screenshot, wait_ready
from tests.signin import TEST_AGENCY, signed_in, viewer_path
from tests.test_federation import (  # noqa: F401  (beta_neo4j, corpora, instances, synced are fixtures)
    BUCKET_S,
    Instance,
    beta_neo4j,
    corpora,
    identifiers,
    instances,
    ip_uses,
    store_of,
    synced,
)

FEDERATED_KINDS = ("Account", "Email", "Phone", "Device", "File", "IP")
PEER_REF = re.compile(r"^gg-[A-Za-z0-9_-]{16}$")


@dataclass
class Pair:
    alpha: Instance
    beta: Instance
    corpora: tuple[list[Path], list[Path]]


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Pair:
    """The two instances, each synced to answer the other (tests/test_federation.py's fixtures)."""
    alpha, beta = request.getfixturevalue("instances")
    request.getfixturevalue("synced")
    return Pair(alpha, beta, request.getfixturevalue("corpora"))


@pytest.fixture
def viewer(pair: Pair) -> Iterator[tuple[Page, Traffic]]:
    with clean_viewer(pair.alpha.url, viewer_path(pair.alpha.settings, "/")) as opened:
        yield opened


def chart_nodes(page: Page) -> dict[str, str]:
    """Node id -> kind of every node shown on the chart."""
    rows = page.evaluate("gracegraph.nodes.get({filter: n => !n.hidden}).map(n => [n.id, n.kind])")
    return {node_id: kind for node_id, kind in rows}


def held_by_beta(alpha: Instance, beta: Instance, nodes: dict[str, str]) -> set[str]:
    """The oracle: which federating nodes of the chart beta holds too (IP uses within a bucket)."""
    theirs = identifiers(beta.ctx)
    their_ips: dict[str, set[int]] = {}
    for key, kind, moment in ip_uses(beta.ctx):
        if kind != "private":
            their_ips.setdefault(key, set()).add(bucket_of(moment, BUCKET_S))
    my_ips: dict[str, set[int]] = {}
    for key, kind, moment in ip_uses(alpha.ctx):
        if kind != "private":
            my_ips.setdefault(key, set()).add(bucket_of(moment, BUCKET_S))
    expected = set()
    for node_id, kind in nodes.items():
        key = node_id.partition(":")[2]
        if kind == "File":
            [row] = alpha.ctx.read("MATCH (f:File {key: $key}) RETURN f.md5 AS md5, f.sha1 AS sha1, f.sha256 AS sha256",
                                   key=key)
            if {f"{algo}:{row[algo]}" for algo in ("md5", "sha1", "sha256") if row[algo]} & theirs["file"]:
                expected.add(node_id)
        elif kind == "IP":
            near = {b + d for b in their_ips.get(key, set()) for d in (-1, 0, 1)}
            if my_ips.get(key, set()) & near:
                expected.add(node_id)
        elif kind in FEDERATED_KINDS and key in theirs[kind.lower()]:
            expected.add(node_id)
    return expected


def account_keys(path: Path) -> list[str]:
    return sorted({node.key for records in parse_cybertip(path) for node in records.nodes
                   if node.label.value == "Account"})


def draw(page: Page, account: str) -> None:
    """Draw an account's neighbourhood the way an investigator does: search, pick the suggestion."""
    page.fill("#search", account)
    suggestion = page.locator(f'#search-results li[data-id="Account:{account}"]')
    suggestion.wait_for(state="visible")
    suggestion.click()
    wait_ready(page)


def pink_pixels(page: Page, badge: dict[str, float], colour: str) -> int:
    """Pixels of the peer's colour inside a pointer tag as the screen shows it."""
    top_left = page.evaluate("p => gracegraph.network.canvasToDOM(p)", {"x": badge["x"], "y": badge["y"]})
    bottom_right = page.evaluate("p => gracegraph.network.canvasToDOM(p)",
                                 {"x": badge["x"] + badge["w"], "y": badge["y"] + badge["h"]})
    box = page.locator("#chart").bounding_box()
    assert box is not None
    clip: FloatRect = {"x": box["x"] + top_left["x"], "y": box["y"] + top_left["y"],
            "width": max(bottom_right["x"] - top_left["x"], 1), "height": max(bottom_right["y"] - top_left["y"], 1)}
    data = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB").tobytes()
    want = [int(colour[i:i + 2], 16) for i in (1, 3, 5)]
    return sum(1 for at in range(0, len(data), 3)
               if all(abs(data[at + c] - want[c]) <= 24 for c in range(3)))


def test_peer_hits_are_pointers_on_exactly_the_shared_nodes_with_whom_to_call(
        pair: Pair, viewer: tuple[Page, Traffic], tmp_path: Path) -> None:
    alpha, beta, bundles = pair.alpha, pair.beta, pair.corpora
    page, _ = viewer
    shared_accounts = account_keys(bundles[1][0])  # the bundle both sides loaded
    alpha_only = sorted(set().union(*(account_keys(p) for p in bundles[0])) - set(identifiers(beta.ctx)["account"]))
    draw(page, shared_accounts[0])
    draw(page, alpha_only[0])
    nodes = chart_nodes(page)
    expected = held_by_beta(alpha, beta, nodes)
    federating = {n for n, kind in nodes.items() if kind in FEDERATED_KINDS}
    assert f"Account:{shared_accounts[0]}" in expected
    assert f"Account:{alpha_only[0]}" in federating - expected  # the chart holds both sorts
    assert len(federating - expected) >= 3

    # A third peer nobody answers for: its failure is said, beta's answer still drawn.
    path = alpha.settings.federation_path
    known = peers.load(path)
    gamma = keys.create(tmp_path / "gamma", "gamma", "Agency gamma", "gamma-desk@example.org")
    try:  # gamma's port has nobody listening
        peers.save(path, [*known, Peer("gamma", f"http://127.0.0.1:{free_port()}", gamma.public_key,
                                       "Agency gamma", "gamma-desk@example.org")])
        seen_alpha = sum(1 for _ in alpha.audit.entries())
        seen_beta = sum(1 for _ in beta.audit.entries())
        page.locator("#btn-federation-ask").click()
        wait_ready(page)
    finally:
        peers.save(path, known)

    marked = page.evaluate("gracegraph.federation.marked")
    assert set(marked) == expected
    assert all(peers_ == ["beta"] for peers_ in marked.values())
    page.wait_for_function("n => gracegraph.federation.badges.length >= n", arg=len(expected))
    badges = page.evaluate("gracegraph.federation.badges")
    assert {b["node"] for b in badges} == expected  # drawn on exactly those nodes, on none other
    assert page.locator('#federation-peers li[data-peer="beta"]').get_attribute("data-status") == "answered"
    unanswered = page.locator('#federation-peers li[data-peer="gamma"]')
    assert unanswered.get_attribute("data-status") == "unreachable"
    assert "unreachable" in unanswered.inner_text()
    legend = page.locator('#legend [data-mark="federated"]')
    assert legend.count() == 1 and legend.get_attribute("data-peer") == "beta"
    assert int(legend.locator(".legend-count").inner_text()) == len(expected)
    assert "gamma unreachable" in page.inner_text("#status")

    # The tag is on the screen, in beta's colour, where the chart says it is.
    page.evaluate("gracegraph.network.fit({animation: false})")
    page.evaluate("gracegraph.network.moveTo({scale: 1.3, animation: false})")
    target = f"Account:{shared_accounts[0]}"
    page.evaluate("id => gracegraph.network.focus(id, {scale: 1.4, animation: false})", target)
    page.wait_for_timeout(100)
    badge = next(b for b in page.evaluate("gracegraph.federation.badges") if b["node"] == target)
    assert pink_pixels(page, badge, badge["colour"]) > 40

    # Clicking the pointer opens what the protocol reveals: whom to call, their reference; no data of theirs.
    box = page.locator("#chart").bounding_box()
    assert box is not None
    centre = page.evaluate("p => gracegraph.network.canvasToDOM(p)",
                           {"x": badge["x"] + badge["w"] - 3, "y": badge["y"] + badge["h"] / 2})
    page.mouse.click(box["x"] + centre["x"], box["y"] + centre["y"])
    wait_ready(page)
    assert page.evaluate("gracegraph.network.getSelectedNodes()") == [target]
    section = page.locator("#panel .federated")
    hits = section.locator(".federated-hit")
    assert hits.count() >= 1
    for i in range(hits.count()):
        hit = hits.nth(i)
        assert hit.locator(".federated-agency").inner_text() == "Agency beta"
        assert hit.locator(".federated-contact").inner_text() == "beta-desk@example.org"
        assert hit.locator(".federated-kind").inner_text() == "account"
        ref = hit.locator(".federated-ref").inner_text()
        assert PEER_REF.match(ref), ref
        resolved = store_of(beta).resolve(ref)  # beta can say what it handed out: our own account
        assert resolved is not None and resolved[0] == "alpha"
        assert (resolved[1].kind, resolved[1].key) == ("account", shared_accounts[0])
    assert "null" not in page.inner_text("#panel")
    page.locator("#search").press("Escape")
    screenshot(page, "viewer-federated-pointers.png")

    mine = set().union(*identifiers(alpha.ctx).values()) | {k for k, _, _ in ip_uses(alpha.ctx)}
    theirs = set().union(*identifiers(beta.ctx).values()) | {k for k, _, _ in ip_uses(beta.ctx)}
    text = section.inner_text()
    assert not [s for s in mine | theirs if s in text]  # the pointer names no identifier at all
    page_text = page.inner_text("body")
    beta_only = {s for s in theirs - mine if len(s) >= 6}
    assert not [s for s in beta_only if s in page_text]  # nothing of beta's own anywhere on the page

    # The viewer's questions are audited as any GraphQL operation, and the exchange on both sides.
    new = list(alpha.audit.entries())[seen_alpha:]
    asked = [e for e in new if e.operation == "graphql query FederatedDeconflict"]
    assert len(asked) == 2 and {e.actor for e in asked} == {"test-admin"}
    by_peer = {tuple(e.variables["variables"]["peers"]): e for e in asked}
    assert set(by_peer) == {("beta",), ("gamma",)}
    assert set(by_peer[("beta",)].variables["variables"]["entities"]) == federating
    assert by_peer[("beta",)].counts["federatedDeconflict"] >= len(expected)  # an IP's uses may give more
    assert by_peer[("gamma",)].counts["errors"] == 1
    assert any(e.operation == "graphql query FederationPeers" for e in new)
    exchange = [e for e in new if e.operation == "federation.deconflict"]
    assert len(exchange) == 1 and exchange[0].variables["peer"] == "beta"
    assert exchange[0].counts["hits"] == by_peer[("beta",)].counts["federatedDeconflict"]
    answered = [e for e in list(beta.audit.entries())[seen_beta:] if e.operation == "federation.match"]
    assert answered and {e.actor for e in answered} == {"peer:alpha"}
    assert alpha.audit.verify() is None and beta.audit.verify() is None


def test_a_refusing_peer_and_an_instance_without_peers_are_said_not_shown_as_no_hits(
        pair: Pair, viewer: tuple[Page, Traffic]) -> None:
    alpha, beta = pair.alpha, pair.beta
    page, _ = viewer
    draw(page, account_keys(pair.corpora[1][0])[0])
    theirs_path, mine_path = beta.settings.federation_path, alpha.settings.federation_path
    their_peers, my_peers = peers.load(theirs_path), peers.load(mine_path)
    try:
        peers.save(theirs_path, [replace(p, revoked=True) if p.name == "alpha" else p for p in their_peers])
        page.locator("#btn-federation-ask").click()
        wait_ready(page)
        row = page.locator('#federation-peers li[data-peer="beta"]')
        assert row.get_attribute("data-status") == "refused"
        assert "revoked" in (row.get_attribute("title") or "")
        assert page.evaluate("gracegraph.federation.marked") == {}
        assert page.evaluate("gracegraph.federation.badges") == []
        assert page.locator('#legend [data-mark="federated"]').count() == 0
        assert "beta refused" in page.inner_text("#status")

        peers.save(mine_path, [])
        page.locator("#btn-federation-ask").click()
        wait_ready(page)
        assert "No peer agencies are configured" in page.inner_text("#federation-peers")
        assert page.locator('#federation-peers li[data-peer]').count() == 0
    finally:
        peers.save(theirs_path, their_peers)
        peers.save(mine_path, my_peers)


FEDERATED_QUERY = """query($entities: [ID!], $case: String, $peers: [String!]) {
  federatedDeconflict(entities: $entities, caseKey: $case, peers: $peers) { mine kind peer agency contact peerRef } }"""


def test_a_cases_hits_point_at_its_nodes_and_one_off_the_chart_can_be_drawn(
        pair: Pair, viewer: tuple[Page, Traffic]) -> None:
    alpha, beta = pair.alpha, pair.beta
    page, _ = viewer
    shared = sorted({r["key"] for r in alpha.ctx.read("MATCH (r:Report) RETURN r.key AS key")}
                    & {r["key"] for r in beta.ctx.read("MATCH (r:Report) RETURN r.key AS key")})
    cases.create_case(alpha.ctx, Scope(TEST_AGENCY, Clearance.OWN_CASES), "FED-V")
    assert cases.assign_reports(alpha.ctx, Scope(TEST_AGENCY, Clearance.EVERYTHING), "FED-V", shared) == len(shared)
    with signed_in(create_app(alpha.settings)) as client:
        answer = client.post("/graphql", json={"query": FEDERATED_QUERY, "variables": {"case": "FED-V"}}).json()
    assert "errors" not in answer, answer
    labels = {"account": "Account", "email": "Email", "phone": "Phone", "device": "Device", "file": "File", "ip": "IP"}
    wanted = set()
    for hit in answer["data"]["federatedDeconflict"]:
        kind, key = hit["mine"].removeprefix("FED-V:").split(":", 1)
        wanted.add(f"{labels[kind]}:{key.split('@')[0] if kind == 'ip' else key}")
    draw(page, account_keys(pair.corpora[1][0])[0])
    on_chart = wanted & set(chart_nodes(page))
    assert on_chart and wanted - on_chart  # some of the case's hits are drawn, some are not

    page.fill("#federation-case", "FED-V")
    page.locator("#btn-federation-case").click()
    wait_ready(page)
    assert set(page.evaluate("gracegraph.federation.marked")) == wanted
    page.wait_for_function("n => gracegraph.federation.badges.length >= n", arg=len(on_chart))
    assert {b["node"] for b in page.evaluate("gracegraph.federation.badges")} == on_chart
    listed = page.locator("#panel .federated-node")
    assert {listed.nth(i).get_attribute("data-node") for i in range(listed.count())} == wanted
    off = sorted(wanted - on_chart)[0]
    page.locator(f'#panel .federated-node[data-node="{off}"] button', has_text="Draw").click()
    wait_ready(page)
    page.wait_for_function("id => gracegraph.federation.badges.some(b => b.node === id)", arg=off)
    assert page.locator('#federation-peers li[data-peer="beta"]').get_attribute("data-status") == "answered"


def test_the_api_refuses_what_does_not_federate_and_says_who_can_be_asked(pair: Pair, tmp_path: Path) -> None:
    alpha = pair.alpha
    report = alpha.ctx.read("MATCH (r:Report) RETURN r.key AS key LIMIT 1")[0]["key"]
    account = account_keys(pair.corpora[1][0])[0]
    with signed_in(create_app(alpha.settings)) as client:
        def ask(query: str, variables: dict[str, Any] | None = None) -> Any:
            return client.post("/graphql", json={"query": query, "variables": variables or {}}).json()

        listed = ask("{ federationPeers { name agency contact revoked } }")
        assert listed == {"data": {"federationPeers": [
            {"name": "beta", "agency": "Agency beta", "contact": "beta-desk@example.org", "revoked": False}]}}
        questions: list[dict[str, Any]] = [{"entities": [f"Report:{report}"]},
                                           {"entities": [f"Account:{account}"], "case": "X"},
                                           {"entities": ["Email:nobody-here@example.org"]}]
        for variables in questions:
            refused = ask(FEDERATED_QUERY, variables)
            assert refused["data"] is None, refused
            code = refused["errors"][0]["extensions"]["code"]
            assert code == ("NOT_FOUND" if "Email:" in str(variables) else "BAD_INPUT"), refused
    with signed_in(create_app(alpha.settings), "fed-stranger", "OTHER", Role.ANALYST) as client:
        hidden = client.post("/graphql", json={"query": FEDERATED_QUERY,
                                               "variables": {"entities": [f"Account:{account}"]}}).json()
    assert hidden["data"] is None and hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    bare = alpha.settings.model_copy(update={"home": tmp_path, "federation_dir": None})
    with signed_in(create_app(bare)) as client:
        unset = client.post("/graphql", json={"query": "{ federationPeers { name } }"}).json()
    assert unset["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "federation init" in unset["errors"][0]["message"]
