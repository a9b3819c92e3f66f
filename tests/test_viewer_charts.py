"""Saving and reopening a chart in the viewer (real chromium, behind the fence), then exporting it.

The investigator arranges a chart (hides a node, pins one where they dragged it, hides a kind, sets
a time range), saves it in a case, clears the screen, reopens it from the case's list, and finds it
exactly as saved; then exports the saved version as a PDF. Screenshot: artifacts/viewer-chart.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from tests.browser import Traffic, clean_viewer, screenshot, serving, wait_ready
from tests.signin import viewer_path
from tests.test_viewer import drawn, node_point, pick_suggestion

SNAPSHOT = """() => ({
  nodes: gracegraph.nodes.get().map(n => ({id: n.id, hidden: !!n.hidden, fixed: !!n.fixed}))
           .sort((a, b) => a.id < b.id ? -1 : 1),
  positions: gracegraph.network.getPositions(),
  edges: gracegraph.edges.getIds().sort(),
  hiddenEdges: gracegraph.edges.get({filter: e => e.hidden}).map(e => e.id).sort(),
  since: document.querySelector('#since').value,
  kinds: [...document.querySelectorAll('#legend input')].map(i => [i.dataset.kind, i.checked]),
})"""


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("viewer-chart-referrals")
    planted = generate(out, reports=150, seed=777)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed, summary.faults
    return planted


@pytest.fixture(scope="module")
def base_url(truth: Truth, neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = neo4j_settings.model_copy(update={"audit_log": tmp_path_factory.mktemp("audit") / "audit.jsonl"})
    with serving(create_app(settings)) as url:
        yield url


@pytest.fixture
def viewer(base_url: str, neo4j_settings: Settings) -> Iterator[tuple[Page, Traffic]]:
    with clean_viewer(base_url, viewer_path(neo4j_settings, "/")) as opened:
        yield opened


def settle(page: Page) -> None:
    page.wait_for_timeout(100)
    wait_ready(page)


def test_a_saved_chart_reopens_exactly_and_exports(viewer: tuple[Page, Traffic], truth: Truth) -> None:
    page, _ = viewer
    ip = truth.networks[0]["ips"][0]
    pick_suggestion(page, ip, f"IP:{ip}")
    accounts = drawn(page, "Account")
    assert len(accounts) >= 2

    page.mouse.click(*node_point(page, accounts[0]))  # hide one account
    page.keyboard.press("Delete")
    x, y = node_point(page, accounts[1])  # drag another: it stays pinned where it was put
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=6)
    page.mouse.up()
    if page.locator('#legend input[data-kind="Report"]').count():
        page.uncheck('#legend input[data-kind="Report"]')
    page.fill("#since", "2020-01-01")
    page.dispatch_event("#since", "change")
    before: dict[str, Any] = page.evaluate(SNAPSHOT)
    assert any(n["hidden"] for n in before["nodes"]) and any(n["fixed"] for n in before["nodes"])

    page.click("#btn-save-chart")
    page.fill("#chart-dialog input[name=case]", "CASE-UI-1")
    page.fill("#chart-dialog input[name=name]", "IP network")
    page.click("#chart-save-submit")
    settle(page)
    assert "Saved chart CASE-UI-1/ip-network@1" in page.inner_text("#status")

    page.click("#btn-clear")
    assert page.evaluate("gracegraph.nodes.length") == 0
    page.click("#btn-open-chart")
    page.fill("#chart-dialog input[name=case]", "CASE-UI-1")
    page.click("#chart-list-submit")
    settle(page)
    page.click('#chart-list button[data-id="CASE-UI-1/ip-network@1"]')
    settle(page)
    assert "Opened chart CASE-UI-1/ip-network@1" in page.inner_text("#status")
    after: dict[str, Any] = page.evaluate(SNAPSHOT)
    assert after["nodes"] == before["nodes"]  # the same entities, hidden and pinned as they were
    assert after["edges"] == before["edges"] and after["hiddenEdges"] == before["hiddenEdges"]
    assert (after["since"], after["kinds"]) == (before["since"], before["kinds"])
    for node_id, at in before["positions"].items():
        assert after["positions"][node_id]["x"] == pytest.approx(at["x"], abs=1)
        assert after["positions"][node_id]["y"] == pytest.approx(at["y"], abs=1)
    page.mouse.move(5, 300)  # the sidebar: no tooltip over the chart
    page.wait_for_timeout(300)
    screenshot(page, "viewer-chart.png")

    page.click("#btn-export-chart")
    page.select_option("#chart-export-format", "pdf")
    with page.expect_download() as download:
        page.click("#chart-export-submit")
    settle(page)
    path = download.value.path()
    assert download.value.suggested_filename == "case-ui-1-ip-network-v1.pdf"
    with open(path, "rb") as f:
        assert f.read(5) == b"%PDF-"
