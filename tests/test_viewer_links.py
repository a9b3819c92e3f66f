"""The viewer's link analysis in a real browser (Debian's chromium) against the real app and Neo4j:
an account's network opened from "Look first" draws its scored links as wide as their score, and a
click on one opens "why linked?" with the evidence the API gives; supernodes are drawn apart, in
the legend, and not expanded until asked. Behind the same fence as tests/test_viewer.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.exits import parse_exits
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.links import links
from queries.prioritisation import priorities
from queries.supernodes import SupernodeRules, mark_supernodes
from tests.browser import Traffic, clean_viewer, screenshot, serving, wait_ready
from tests.signin import viewer_path

SEED = 20241105

#: An account with a screen name that used a marked supernode address.
HUB_USER = """
MATCH (a:Account)-[:USED_IP]->(i:IP {supernode: true})
WHERE size(coalesce(a.screen_names, [])) > 0
RETURN a.key AS key, a.screen_names[0] AS screen_name, i.key AS ip, i.degree AS degree
ORDER BY i.degree DESC, a.key LIMIT 1
"""


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("viewer-links")
    planted = generate(out, reports=300, seed=SEED)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed, summary.faults
    assert not load_files(graph, [out / planted.vpn_exits], parse_exits, parallel=False).failed
    mark_supernodes(GraphContext(graph.driver, graph.database), SupernodeRules())  # as every load does
    return planted


@pytest.fixture(scope="module")
def ctx(truth: Truth, graph: GraphWriter) -> GraphContext:
    return GraphContext(graph.driver, graph.database)


@pytest.fixture(scope="module")
def base_url(truth: Truth, neo4j_settings: Settings) -> Iterator[str]:
    with serving(create_app(neo4j_settings)) as url:
        yield url


@pytest.fixture
def viewer(base_url: str, neo4j_settings: Settings) -> Iterator[tuple[Page, Traffic]]:
    with clean_viewer(base_url, viewer_path(neo4j_settings, "/")) as opened:
        yield opened


def link_edges(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("""gracegraph.edges.get({filter: e => e.kind === 'LINKED' && !e.hidden})
        .map(e => ({id: e.id, from: e.from, to: e.to, width: e.width, score: e.score}))""")


def edge_point(page: Page, edge_id: str) -> tuple[float, float] | None:
    """Where to click the edge: its middle, brought to the centre of the chart; None when a node
    or another edge covers it there."""
    at = page.evaluate("""id => {
        const net = gracegraph.network, e = gracegraph.edges.get(id);
        const p = net.getPositions([e.from, e.to]);
        const mid = {x: (p[e.from].x + p[e.to].x) / 2, y: (p[e.from].y + p[e.to].y) / 2};
        net.moveTo({position: mid, scale: 1.0, animation: false});
        const dom = net.canvasToDOM(mid);
        return net.getNodeAt(dom) === undefined && net.getEdgeAt(dom) === id ? dom : null;
    }""", edge_id)
    if at is None:
        return None
    box = page.locator("#chart").bounding_box()
    assert box is not None
    return box["x"] + at["x"], box["y"] + at["y"]


def test_an_accounts_network_from_look_first_shows_why_two_accounts_are_linked(
        viewer: tuple[Page, Traffic], ctx: GraphContext, truth: Truth) -> None:
    page, _ = viewer
    top = priorities(ctx, limit=10)[0]
    planted = {a for network in truth.networks for a in network["accounts"]}
    assert top.key in planted  # the list leads with a planted offender on this data
    want = links(ctx, top.id, limit=50).links
    assert want, "the top account has no scored links"

    page.locator(f'#priorities .priority-row[data-id="{top.id}"]').click()
    wait_ready(page)
    drawn = link_edges(page)
    assert {(e["from"], e["to"]) for e in drawn} == {(x.a, x.b) for x in want}
    score_of = {(x.a, x.b): x.score for x in want}
    assert [e["score"] for e in drawn] == pytest.approx([score_of[(e["from"], e["to"])] for e in drawn])
    by_score = sorted(drawn, key=lambda e: e["score"])
    assert [e["width"] for e in by_score] == sorted(e["width"] for e in by_score)
    if by_score[0]["score"] < by_score[-1]["score"]:
        assert by_score[0]["width"] < by_score[-1]["width"]  # weighted by score
    assert page.locator('#legend [data-mark="link"]').count() == 1

    target = next(((e, p) for e in sorted(drawn, key=lambda e: -e["score"]) if (p := edge_point(page, e["id"]))), None)
    assert target is not None, "no scored link could be clicked clear of nodes"
    edge, point = target
    page.mouse.click(*point)
    wait_ready(page)
    assert page.evaluate("gracegraph.network.getSelectedEdges()") == [edge["id"]]
    panel = page.locator("#panel")
    assert panel.locator(".edge-kind").inner_text() == "Why linked?"
    link = next(x for x in want if (x.a, x.b) == (edge["from"], edge["to"]))
    rows = panel.locator(".evidence")
    assert rows.count() == len(link.evidence)
    for i, evidence in enumerate(link.evidence):
        row = rows.nth(i)
        assert row.get_attribute("data-kind") == evidence.kind
        assert row.locator(".evidence-key").inner_text() == evidence.key
        assert row.locator(".evidence-share").inner_text() == f"+{evidence.contribution:.2f}"
        buttons = row.locator(".sources button")
        assert [buttons.nth(j).inner_text() for j in range(buttons.count())] == evidence.reports[:25]
    assert f"Score {link.score:.2f}" in panel.locator(".link-score").inner_text()
    screenshot(page, "viewer-why-linked.png")


def test_a_supernode_is_drawn_apart_collapsed_and_expands_only_when_asked(
        viewer: tuple[Page, Traffic], ctx: GraphContext) -> None:
    page, _ = viewer
    [row] = ctx.read(HUB_USER)
    account, hub = f"Account:{row['key']}", f"IP:{row['ip']}"
    page.fill("#search", row["screen_name"])
    page.locator(f'#search-results li[data-id="{account}"]').click()
    wait_ready(page)

    node = page.evaluate("id => gracegraph.nodes.get(id)", hub)
    assert node is not None, "the skipped supernode is not drawn"
    assert node["supernode"] is True and node["shape"] == "diamond"
    assert node["entity"]["properties"]["supernode_reason"] in {"cgnat", "exit_list", "degree", "spread"}
    tie = page.evaluate("id => gracegraph.edges.get(id)", f"skipped:{account}|{hub}")
    assert tie is not None and tie["dashes"]
    others = {f"Account:{r['key']}" for r in ctx.read(
        "MATCH (a:Account)-[:USED_IP]->(:IP {key: $ip}) WHERE a.key <> $me RETURN a.key AS key",
        ip=row["ip"], me=row["key"])}
    # Collapsed: of the address's other users only those linked by scored evidence (which never
    # counts a supernode) are drawn, not the strangers behind it.
    linked = {end for x in links(ctx, account).links for end in (x.a, x.b)}
    strangers = others - linked
    assert len(strangers) >= 2
    assert not strangers & set(page.evaluate("gracegraph.nodes.getIds()"))
    assert "not expanded" in page.inner_text("#status")
    legend = page.locator('#legend [data-mark="supernode"]')
    assert legend.count() == 1 and int(legend.locator(".legend-count").inner_text()) >= 1

    page.evaluate("id => { gracegraph.network.selectNodes([id]); }", hub)
    page.evaluate("gracegraph.network.emit('click', {nodes: gracegraph.network.getSelectedNodes(), edges: [], "
                  "pointer: {DOM: {x: -1, y: -1}}, event: {srcEvent: {}}})")
    assert "Supernode" in page.locator("#panel .supernode-note").inner_text()
    page.locator("#panel button", has_text="Expand").first.click()
    wait_ready(page)
    assert strangers & set(page.evaluate("gracegraph.nodes.getIds()"))  # asked for: expanded
