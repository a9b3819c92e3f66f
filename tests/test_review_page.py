"""The review queue in a real browser (Debian's chromium): pairs side by side with evidence, decided by
keyboard and by buttons, each verdict stored in the graph under the reviewer's name. Behind the fence:
nothing may leave 127.0.0.1 and the console stays clean. Screenshot: artifacts/review.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from neo4j import Driver
from playwright.sync_api import Page

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.resolution import ResolutionParams
from queries.resolution_judgements import get_link
from queries.resolution_runs import run_resolution
from tests.browser import Traffic, fenced_page, screenshot, serving, wait_ready
from tests.signin import viewer_path


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter, driver: Driver, neo4j_settings: Settings,
        tmp_path_factory: pytest.TempPathFactory) -> GraphContext:
    out = tmp_path_factory.mktemp("review-referrals")
    planted = generate(out, reports=300, seed=4242)
    assert not load_files(graph, [out / name for name in planted.files], parse_cybertip).failed
    context = GraphContext(driver, neo4j_settings.neo4j_database, 60.0)
    run_resolution(context, ResolutionParams(u_sample=50_000), by="setup")
    return context


@pytest.fixture(scope="module")
def base_url(ctx: GraphContext, neo4j_settings: Settings) -> Iterator[str]:
    with serving(create_app(neo4j_settings)) as url:
        yield url


@pytest.fixture
def review(base_url: str, neo4j_settings: Settings) -> Iterator[tuple[Page, Traffic]]:
    with fenced_page(base_url) as (page, traffic):
        page.goto(viewer_path(neo4j_settings, "/review", user="helen"))  # verdicts go under the token's user
        page.wait_for_function("() => window.review && window.review.ready === true")
        yield page, traffic
        assert traffic.outside() == [] and traffic.blocked == [], traffic.outside()
        assert traffic.console_errors == [], traffic.console_errors
        assert traffic.page_errors == [], traffic.page_errors


def idle(page: Page) -> None:
    page.wait_for_function("() => window.review.ready === true")


def key(page: Page, name: str) -> None:
    """A shortcut as a reviewer types it, with no text field focused."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(name)


def shown_pair(page: Page) -> tuple[str, str]:
    pair = page.evaluate("() => { const s = window.review.state, i = s.items[s.index]; return [i.a.id, i.b.id]; }")
    return pair[0], pair[1]


def test_review_pairs_by_keyboard_and_buttons(review: tuple[Page, Traffic], ctx: GraphContext) -> None:
    page, _ = review
    page.fill("#reviewer", "helen")
    page.press("#reviewer", "Tab")  # the change event stores the reviewer's name
    assert page.locator("#pair").is_visible()
    rows = page.locator("#evidence tr")
    assert rows.count() >= 2
    assert page.locator("#record-a h2").inner_text() and page.locator("#record-b .key").inner_text().startswith(
        ("Account:", "Person:"))
    assert float(page.locator("#score").inner_text()) >= 0.9
    screenshot(page, "review.png")

    first = shown_pair(page)
    key(page, "c")
    idle(page)
    second = shown_pair(page)
    assert second != first
    page.locator("#note").fill("brothers: one device, two birth dates")
    key(page, "r")
    idle(page)
    third = shown_pair(page)
    page.click("#btn-unsure")
    idle(page)
    before = page.evaluate("() => window.review.state.index")
    key(page, "ArrowRight")  # skip one: nothing stored for it
    assert page.evaluate("() => window.review.state.index") == before + 1
    key(page, "k")
    assert page.evaluate("() => window.review.state.index") == before

    confirmed = get_link(ctx, *first)
    rejected = get_link(ctx, *second)
    unsure = get_link(ctx, *third)
    assert confirmed is not None and (confirmed.status, confirmed.by) == ("confirmed", "helen")
    assert rejected is not None and rejected.status == "rejected"
    assert rejected.note == "brothers: one device, two birth dates"
    assert unsure is not None and unsure.status == "unsure"
    assert "unsure" in page.locator("#message").inner_text()


def test_unsure_pairs_come_back_in_their_own_queue(review: tuple[Page, Traffic]) -> None:
    page, _ = review
    page.select_option("#status", "unsure")
    idle(page)
    assert page.locator("#position").inner_text().endswith("· unsure")
    page.select_option("#min-score", "0.999")
    idle(page)
    assert page.locator("#pair").is_visible() or page.locator("#empty").is_visible()


def test_confirmed_identities_are_ringed_on_the_chart(base_url: str, ctx: GraphContext,
                                                     neo4j_settings: Settings) -> None:
    """After a confirmation (the test above), drawing one of its accounts rings both as one identity."""
    confirmed = ctx.read("MATCH (a:Account)-[r:SAME_AS {status: 'confirmed'}]->(b:Account) "
                         "RETURN a.key AS a, b.key AS b LIMIT 1")
    assert confirmed, "the review test confirms a pair first"
    a, b = (f"Account:{confirmed[0][k]}" for k in ("a", "b"))
    with fenced_page(base_url) as (page, traffic):
        page.goto(viewer_path(neo4j_settings, "/"))
        wait_ready(page)
        page.fill("#search", confirmed[0]["a"])
        page.locator(f'#search-results li[data-id="{a}"]').click()
        wait_ready(page)
        if not page.evaluate("id => Boolean(window.gracegraph.nodes.get(id))", b):
            page.fill("#search", confirmed[0]["b"])
            page.locator(f'#search-results li[data-id="{b}"]').click()
            wait_ready(page)
        rings = page.evaluate("() => window.gracegraph.identities.map(i => i.members)")
        assert any(a in members and b in members for members in rings), rings
        screenshot(page, "identities.png")
        assert traffic.outside() == [] and traffic.console_errors == [] and traffic.page_errors == []
