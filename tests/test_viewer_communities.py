"""The viewer's communities in a real browser: the newest run's list, a community opened as its own
chart with its card, and accounts ringed in their community's colour. Same fence as test_viewer:
nothing leaves 127.0.0.1 and the console stays clean."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest
from playwright.sync_api import Page

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries import communities as q
from queries.community_detection import Method
from queries.context import GraphContext
from tests.browser import Traffic, clean_viewer, fenced_page, screenshot, serving, wait_ready
from tests.signin import viewer_path


@pytest.fixture(scope="module")
def run(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> q.CommunityRun:
    out = tmp_path_factory.mktemp("viewer-communities")
    planted = generate(out, reports=300, seed=8)
    assert not load_files(graph, [out / name for name in planted.files], parse_cybertip).failed
    return q.run_communities(GraphContext(graph.driver, graph.database, timeout_s=120), q.RunOptions())


@pytest.fixture(scope="module")
def base_url(run: q.CommunityRun, neo4j_settings: Settings) -> Iterator[str]:
    with serving(create_app(neo4j_settings)) as url:
        yield url


@pytest.fixture
def viewer(base_url: str, neo4j_settings: Settings) -> Iterator[tuple[Page, Traffic]]:
    with clean_viewer(base_url, viewer_path(neo4j_settings, "/")) as opened:
        yield opened


def test_a_community_opens_as_its_own_chart_with_its_card(viewer: tuple[Page, Traffic], run: q.CommunityRun,
                                                          graph: GraphWriter) -> None:
    page, _ = viewer
    ctx = GraphContext(graph.driver, graph.database)
    [largest] = q.communities(ctx, run.run, limit=1)
    rows = page.locator("#communities .community-row")
    assert rows.count() == min(15, run.communities)
    rows.first.click()
    wait_ready(page)
    accounts = page.evaluate("gracegraph.nodes.get({filter: n => n.kind === 'Account'}).map(n => n.id)")
    members = {m.entity.id for m in q.community(ctx, largest.id, members=100).members}
    assert set(accounts) == members
    assert page.locator("#panel h2").first.inner_text() == "Community #0"
    page.get_by_role("button", name="Summary for the case file").click()
    assert largest.id in page.locator("#panel .card-text").inner_text()

    page.check("#colour-communities")
    wait_ready(page)
    ringed = page.evaluate("gracegraph.nodes.get({filter: n => n.kind === 'Account' && n.borderWidth === 5}).length")
    assert ringed == len(members)
    screenshot(page, "viewer-community.png")
    page.uncheck("#colour-communities")
    wait_ready(page)
    assert page.evaluate("gracegraph.nodes.get({filter: n => n.borderWidth === 5}).length") == 0


def test_the_list_says_what_changed_since_the_run_before(base_url: str, run: q.CommunityRun,
                                                        graph: GraphWriter, neo4j_settings: Settings) -> None:
    """Last in the module: it makes a newer run (denser groups only), compared with `run`."""
    ctx = GraphContext(graph.driver, graph.database, timeout_s=120)
    dense = q.run_communities(ctx, replace(q.RunOptions(), method=Method(resolution=0.6)))
    try:
        changes = q.compare_runs(ctx, run.run, dense.run)
        counts = Counter(change.kind for change in changes)
        assert counts["SPLIT"] or counts["SHRANK"] or counts["VANISHED"], counts  # denser: something broke up
        with fenced_page(base_url) as (page, traffic):
            page.goto(viewer_path(neo4j_settings, "/"))
            wait_ready(page)
            line = page.locator("#community-changes").inner_text()
            assert line.startswith(f"Since run {run.run}:")
            for kind, word in (("GREW", "grew"), ("SHRANK", "shrank"), ("MERGED", "merged"), ("SPLIT", "split"),
                               ("APPEARED", "appeared"), ("VANISHED", "vanished")):
                assert (f"{counts[kind]} {word}" in line) == bool(counts[kind]), (kind, line)
            shown = page.evaluate("""[...document.querySelectorAll('#communities .community-row')].map(r => {
                const badge = r.querySelector('.change-badge');
                return [r.dataset.id, badge.hidden ? null : badge.dataset.kind];
            })""")
            kind_of = {b: change.kind for change in changes for b in change.after}
            for community, kind in shown:
                expected = kind_of.get(community)
                assert kind == (None if expected in (None, "STABLE") else expected), community
            screenshot(page, "viewer-community-changes.png")
            assert traffic.outside() == [] and traffic.console_errors == [] and traffic.page_errors == []
    finally:
        q.delete_run(ctx, dense.run)
