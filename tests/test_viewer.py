"""The investigator's viewer in a real browser (Debian's chromium) against the real app and Neo4j.

An investigator types part of a planted offender's screen name, draws the account's neighbourhood,
expands a shared address, finds the paths to another account of the network and files the chart.
Behind a fence: the page must ask nothing of any host but 127.0.0.1 (air-gapped units) and log no
console error. The screenshot lands in artifacts/viewer.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import networkx as nx
import pytest
from neo4j import Driver
from playwright.sync_api import Page

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.model import Label, cypher
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.prioritisation import priorities
from queries.trends import Bucket, trends
from tests.browser import Traffic, clean_viewer, screenshot, serving, wait_ready
from tests.signin import viewer_path

SEED = 20240917

#: The planted network account with the most neighbours that has a screen name to type.
PICK_ACCOUNT = """
MATCH (a:Account) WHERE a.key IN $keys AND size(coalesce(a.screen_names, [])) > 0
MATCH (a)--(n)
WITH a, count(DISTINCT n) AS degree
RETURN a.key AS key, a.screen_names[0] AS screen_name
ORDER BY degree DESC, key LIMIT 1
"""


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("viewer-referrals")
    planted = generate(out, reports=300, seed=SEED)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed, summary.faults
    return planted


@pytest.fixture(scope="module")
def base_url(truth: Truth, neo4j_settings: Settings) -> Iterator[str]:
    with serving(create_app(neo4j_settings)) as url:
        yield url


@pytest.fixture
def viewer(base_url: str, neo4j_settings: Settings) -> Iterator[tuple[Page, Traffic]]:
    with clean_viewer(base_url, viewer_path(neo4j_settings, "/")) as opened:
        yield opened


# ---- driving the page ----------------------------------------------------------------------------

def drawn(page: Page, kind: str | None = None) -> list[str]:
    """Ids of the nodes on the chart (not hidden), optionally of one kind."""
    return page.evaluate(
        "kind => gracegraph.nodes.get({filter: n => !n.hidden && (!kind || n.kind === kind)}).map(n => n.id)", kind)


def pick_suggestion(page: Page, text: str, entity_id: str) -> None:
    page.fill("#search", text)
    suggestion = page.locator(f'#search-results li[data-id="{entity_id}"]')
    suggestion.wait_for(state="visible")
    suggestion.click()
    wait_ready(page)


def node_point(page: Page, node_id: str) -> tuple[float, float]:
    """Where the node is on screen, after bringing it to the middle of the chart."""
    page.evaluate("id => gracegraph.network.focus(id, {scale: 1.2, animation: false})", node_id)
    box = page.locator("#chart").bounding_box()
    assert box is not None
    at = page.evaluate("id => gracegraph.network.canvasToDOM(gracegraph.network.getPositions([id])[id])", node_id)
    assert page.evaluate("p => gracegraph.network.getNodeAt(p)", at) == node_id, f"{node_id} is covered"
    return box["x"] + at["x"], box["y"] + at["y"]


def selected(page: Page) -> list[str]:
    return page.evaluate("gracegraph.network.getSelectedNodes()")


def highlighted_edges(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("gracegraph.edges.get({filter: e => e.path === true}).map(e => ({from: e.from, to: e.to}))")


# ---- the investigation ---------------------------------------------------------------------------

def test_investigator_goes_from_a_screen_name_to_the_paths_between_network_accounts(
        viewer: tuple[Page, Traffic], truth: Truth, driver: Driver, neo4j_settings: Settings) -> None:
    page, _ = viewer
    network = truth.networks[0]
    with driver.session(database=neo4j_settings.neo4j_database) as session:
        row = session.run(PICK_ACCOUNT, keys=network["accounts"]).single()
    assert row is not None, "no planted network account has a screen name"
    account = f"Account:{row['key']}"
    name: str = row["screen_name"]

    # Part of the screen name, as an investigator would type it, then the suggestion.
    pick_suggestion(page, name[: max(5, len(name) - 2)], account)
    nodes = drawn(page)
    assert account in nodes
    with driver.session(database=neo4j_settings.neo4j_database) as session:
        neighbours = {f"{r['label']}:{r['key']}" for r in session.run(
            "MATCH (:Account {key: $key})--(n) RETURN labels(n)[0] AS label, n.key AS key", key=row["key"])}
    assert neighbours and neighbours <= set(nodes), neighbours - set(nodes)
    assert page.locator("#panel .key").inner_text() == row["key"]  # the side panel shows the pick
    assert page.evaluate("gracegraph.network.physics.options.enabled") is False  # laid out, then still

    # The account's evidence: a source report opens in the panel, and back.
    first_report = page.locator("#panel .sources button").first
    report_key = first_report.inner_text()
    first_report.click()
    wait_ready(page)
    assert page.locator("#panel h2").first.inner_text() == report_key
    page.click("#panel .back")

    # Double-click a shared network address (or file): the chart grows around it.
    shared = [n for n in nodes if n in {f"IP:{ip}" for ip in network["ips"]}]
    shared += [n for n in nodes if n in {f"File:{key}" for key in network["files"]}]
    assert shared, "the account's neighbourhood shows none of the network's addresses or files"
    page.mouse.dblclick(*node_point(page, shared[0]))
    page.wait_for_timeout(100)
    wait_ready(page)
    assert "Expanding" in page.inner_text("#status")
    grown = drawn(page)
    # Its neighbours are all drawn now (the account's scored links may have drawn some already).
    label, _, key = shared[0].partition(":")
    with driver.session(database=neo4j_settings.neo4j_database) as session:
        around = {f"{r['label']}:{r['key']}" for r in session.run(
            cypher("MATCH (s:{label} {key: $key})--(n) RETURN labels(n)[0] AS label, n.key AS key",
                   label=Label(label)), key=key)}
    assert around and around <= set(grown), around - set(grown)
    others = [n for n in grown if n != account and n.removeprefix("Account:") in network["accounts"]]
    assert others, "expanding a network address drew no other account of the network"

    # Select both accounts (click, then Ctrl-click) and find the paths between them.
    page.mouse.click(*node_point(page, account))
    page.keyboard.down("Control")
    page.mouse.click(*node_point(page, others[0]))
    page.keyboard.up("Control")
    assert sorted(selected(page)) == sorted([account, others[0]])
    page.click("#btn-paths")
    page.wait_for_timeout(100)
    wait_ready(page)
    edges = highlighted_edges(page)
    assert edges, page.inner_text("#status")
    chain = nx.Graph([(e["from"], e["to"]) for e in edges])
    assert nx.has_path(chain, account, others[0])
    assert set(chain.nodes) <= set(drawn(page))  # every node of a highlighted path is drawn
    assert "shortest path" in page.inner_text("#status")
    assert page.locator("#panel .path-chain").count() >= 1

    page.evaluate("gracegraph.network.fit({animation: false})")
    box = page.locator("#chart").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 4, box["y"] + 4)  # an empty corner: no tooltip over the chart
    page.wait_for_timeout(300)
    path = screenshot(page, "viewer.png")
    assert path.stat().st_size > 20_000


def test_api_errors_reach_the_status_line_with_their_code(viewer: tuple[Page, Traffic]) -> None:
    page, _ = viewer
    page.fill("#search", "x" * 201)  # the API refuses search texts over 200 characters
    page.wait_for_timeout(100)
    wait_ready(page)
    status = page.locator("#status")
    assert "error" in (status.get_attribute("class") or "")
    assert "200 characters" in status.inner_text()
    assert "[BAD_INPUT]" in status.inner_text()
    assert page.locator("#search-results").is_hidden()


def test_kind_filter_time_range_and_hiding_act_on_the_drawn_chart(viewer: tuple[Page, Traffic], truth: Truth) -> None:
    page, _ = viewer
    ip = truth.networks[0]["ips"][0]
    pick_suggestion(page, ip, f"IP:{ip}")  # an address is found by its exact text
    accounts = drawn(page, "Account")
    assert accounts

    page.uncheck('#legend input[data-kind="Account"]')
    assert drawn(page, "Account") == []
    page.check('#legend input[data-kind="Account"]')
    assert sorted(drawn(page, "Account")) == sorted(accounts)

    # A range after every use of the address: its timed links hide, their accounts fade.
    page.fill("#since", "2100-01-01")
    page.dispatch_event("#since", "change")
    timed = page.evaluate("gracegraph.edges.get({filter: e => e.t0 !== null}).map(e => e.hidden)")
    assert timed and all(timed)
    assert page.evaluate("id => gracegraph.nodes.get(id).faded", accounts[0]) is True
    page.click("#time-reset")
    assert not any(page.evaluate("gracegraph.edges.map(e => e.hidden)"))

    # Delete hides the selection; "Show hidden" brings it back.
    page.mouse.click(*node_point(page, accounts[0]))
    page.keyboard.press("Delete")
    assert accounts[0] not in drawn(page)
    page.click("#btn-unhide")
    assert accounts[0] in drawn(page)

    # A node dragged into place stays pinned there; its panel offers to unpin it.
    x, y = node_point(page, accounts[0])
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 80, y + 50, steps=8)
    page.mouse.up()
    assert page.evaluate("id => gracegraph.nodes.get(id).fixed", accounts[0]) is True
    page.mouse.click(x + 80, y + 50)
    page.get_by_role("button", name="Unpin").click()
    assert page.evaluate("id => gracegraph.nodes.get(id).fixed", accounts[0]) is False


def test_trends_chart_draws_every_period_and_a_bar_sets_the_time_range(
        viewer: tuple[Page, Traffic], graph: GraphWriter) -> None:
    page, _ = viewer
    want = trends(GraphContext(graph.driver, graph.database), bucket=Bucket.QUARTER)
    page.select_option("#trend-bucket", "QUARTER")
    page.wait_for_function("n => document.querySelectorAll('#trend-chart .trend-bar').length === n",
                           arg=len(want.points))
    wait_ready(page)
    bars = page.locator("#trend-chart .trend-bar")
    assert [bars.nth(i).get_attribute("data-start") for i in range(bars.count())] == \
        [p.start.isoformat() for p in want.points]
    busiest = max(range(len(want.points)), key=lambda i: want.points[i].reports)
    assert f"{want.points[busiest].reports} reports" in (bars.nth(busiest).get_attribute("aria-label") or "")
    bars.nth(busiest).click()
    point = want.points[busiest]
    assert page.input_value("#since") == point.start.date().isoformat()
    assert page.input_value("#until") == (point.end - timedelta(days=1)).date().isoformat()


def test_priorities_list_ranks_as_the_api_does_and_opens_an_account(
        viewer: tuple[Page, Traffic], graph: GraphWriter) -> None:
    page, _ = viewer
    want = priorities(GraphContext(graph.driver, graph.database), limit=10)
    rows = page.locator("#priorities .priority-row")
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [p.id for p in want]
    top = max(want[0].parts, key=lambda part: part.contribution)
    assert f"+{top.contribution:.1f}" in (rows.first.get_attribute("title") or "")
    rows.first.click()
    wait_ready(page)
    assert want[0].id in drawn(page)
    assert page.evaluate("gracegraph.network.getSelectedNodes()") == [want[0].id]


def test_a_large_neighbourhood_settles_then_physics_stops(viewer: tuple[Page, Traffic], truth: Truth) -> None:
    page, _ = viewer
    page.select_option("#depth", "3")
    page.select_option("#limit", "2000")
    hub = max(truth.supernode_ips, key=lambda s: s["accounts"])  # the busiest shared address
    pick_suggestion(page, hub["ip"], f"IP:{hub['ip']}")
    assert len(drawn(page)) > 300  # hundreds of nodes: a chart that would never settle under live physics
    assert page.evaluate("gracegraph.network.physics.options.enabled") is False
    draws = page.evaluate("""() => new Promise(done => {
        let n = 0; const count = () => n++;
        gracegraph.network.on('afterDrawing', count);
        setTimeout(() => { gracegraph.network.off('afterDrawing', count); done(n); }, 1000);
    })""")
    assert draws == 0  # at rest: nothing is simulated or redrawn
    screenshot(page, "viewer-large.png")
