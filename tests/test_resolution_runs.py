"""Resolution on the real graph: runs, proposals with evidence, judgements that survive, rollback, identities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from neo4j import Driver

from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.resolution import ResolutionParams
from queries.resolution_identities import identities
from queries.resolution_judgements import get_link, judge, read_links, resolution_candidates
from queries.resolution_runs import get_run, rollback_run, run_resolution
from queries.resolution_sources import records_from_graph, records_from_parsed

PARAMS = ResolutionParams(u_sample=50_000)


@pytest.fixture(scope="module")
def planted(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> tuple[Truth, Path]:
    """600 reports in six bundles; the first four are loaded here, the rest by a test ("new reports")."""
    out = tmp_path_factory.mktemp("resolution")
    truth = generate(out, reports=600, seed=20241104, bundle_size=100)
    summary = load_files(graph, [out / name for name in truth.files[:4]], parse_cybertip)
    assert not summary.failed
    return truth, out


@pytest.fixture(scope="module")
def ctx(driver: Driver, neo4j_settings: Settings) -> GraphContext:
    return GraphContext(driver, neo4j_settings.neo4j_database, 60.0)


@pytest.fixture(scope="module")
def first_run(planted: tuple[Truth, Path], ctx: GraphContext) -> str:
    return run_resolution(ctx, PARAMS, by="tester").run


def person_pairs(truth: Truth) -> set[tuple[str, str]]:
    pairs = set()
    for person in truth.persons:
        ids = sorted(f"Account:{a}" for a in person["accounts"])
        pairs |= {(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]}
    return pairs


def test_graph_records_equal_parsed_records(planted: tuple[Truth, Path], ctx: GraphContext) -> None:
    truth, out = planted
    parsed = records_from_parsed((r for name in truth.files[:4] for r in parse_cybertip(out / name)),
                                 PARAMS.device_max_accounts, PARAMS.ip_max_accounts)
    stored = records_from_graph(ctx, PARAMS.device_max_accounts, PARAMS.ip_max_accounts)

    def shape(records: list) -> dict[str, tuple]:
        return {r.id: (sorted(r.screen_names), sorted(map(str, r.persons)), sorted(r.dobs), sorted(set(r.emails)),
                       sorted(set(r.phones)), sorted(set(r.devices)), sorted(r.associated),
                       sorted({ip for ip, _ in r.ips})) for r in records}

    stored_shape, parsed_shape = shape(stored), shape(parsed)
    assert set(stored_shape) == set(parsed_shape)
    differ = {k: [(i, x, y) for i, (x, y) in enumerate(zip(stored_shape[k], parsed_shape[k], strict=True)) if x != y]
              for k in stored_shape if stored_shape[k] != parsed_shape[k]}
    assert not differ, list(differ.items())[:3]
    assert len(stored) > 300


def test_a_run_records_its_parameters_counts_and_proposals_with_evidence(first_run: str, planted: tuple[Truth, Path],
                                                                         ctx: GraphContext) -> None:
    summary = get_run(ctx, first_run)
    assert summary.status == "done" and summary.by == "tester"
    assert summary.params["threshold"] == PARAMS.threshold
    assert summary.counts["new"] == summary.counts["proposals"] > 0
    assert summary.counts["comparisons"] < 0.05 * summary.counts["all_pairs"]  # 1% is for 20k reports: bench
    page = resolution_candidates(ctx, first=500)
    assert page.items and all(link.status == "proposed" and link.run == first_run for link in page.items)
    scores = [link.score for link in page.items]
    assert scores == sorted(scores, reverse=True) and min(scores) >= PARAMS.threshold
    truth_pairs = person_pairs(planted[0])
    right = sum((link.a.id, link.b.id) in truth_pairs for link in page.items)
    assert right >= 0.9 * len(page.items)
    link = page.items[0]
    compared = {e["comparison"] for e in link.evidence}
    assert compared and all({"label", "weight", "a", "b"} <= set(e) for e in link.evidence)
    with_reports = [e for e in link.evidence if e.get("sources")]
    assert with_reports and all(s.startswith("cybertip:") for e in with_reports for s in e["sources"])


def test_candidates_page_through_every_proposal_once(first_run: str, ctx: GraphContext) -> None:
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = resolution_candidates(ctx, first=7, after=after)
        seen += [(link.a.id, link.b.id) for link in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    proposed = [p for p, row in read_links(ctx).items() if row["status"] == "proposed"]
    assert sorted(seen) == sorted(proposed) and len(set(seen)) == len(seen)
    member = seen[0][1]
    mine = resolution_candidates(ctx, first=100, member=member).items
    assert mine and all(member in (link.a.id, link.b.id) for link in mine)
    assert len(mine) == sum(member in pair for pair in proposed)


def test_judging_checks_its_input(first_run: str, ctx: GraphContext) -> None:
    link = resolution_candidates(ctx, first=1).items[0]
    with pytest.raises(BadInput):
        judge(ctx, link.a.id, link.a.id, "CONFIRMED")
    with pytest.raises(BadInput):
        judge(ctx, link.a.id, link.b.id, "MAYBE")
    with pytest.raises(BadInput):
        judge(ctx, link.a.id, "IP:198.18.0.1", "REJECTED")
    with pytest.raises(NotFound):
        judge(ctx, link.a.id, "Account:nowhere:0", "REJECTED")


def test_judgements_survive_a_rerun_after_new_reports(first_run: str, planted: tuple[Truth, Path],
                                                       ctx: GraphContext, graph: GraphWriter) -> None:
    truth, out = planted
    proposals = resolution_candidates(ctx, first=100).items
    confirmed, rejected = proposals[0], proposals[1]
    judge(ctx, confirmed.a.id, confirmed.b.id, "CONFIRMED", note="same phone", by="alice")
    judge(ctx, rejected.a.id, rejected.b.id, "REJECTED", note="brothers", by="bob")
    assert load_files(graph, [out / name for name in truth.files[4:]], parse_cybertip).failed is False
    second = run_resolution(ctx, PARAMS, by="tester")
    assert second.counts["kept_judged"] >= 1
    still_rejected = get_link(ctx, rejected.a.id, rejected.b.id)
    assert still_rejected is not None and still_rejected.status == "rejected" and still_rejected.by == "bob"
    assert still_rejected.run == first_run  # the second run did not touch it
    assert (rejected.a.id, rejected.b.id) not in {(link.a.id, link.b.id)
                                                  for link in resolution_candidates(ctx, first=500).items}
    kept = get_link(ctx, confirmed.a.id, confirmed.b.id)
    assert kept is not None and kept.status == "confirmed" and kept.note == "same phone"
    [(identity, members)] = identities(ctx, ids=[confirmed.a.id]).items
    assert identity.kind == "Identity" and identity.properties["size"] >= 2
    assert {confirmed.a.id, confirmed.b.id} <= {m.id for m in members}
    assert any(m.kind == "Person" for m in members)  # the persons who use its accounts come along


def test_rejecting_a_link_splits_an_identity(first_run: str, ctx: GraphContext) -> None:
    a, b, c = (f"Account:split-test:{i}" for i in range(3))
    ctx.write("UNWIND $keys AS k MERGE (:Account {key: k, sources: []})", keys=[x.split(":", 1)[1] for x in (a, b, c)])
    judge(ctx, a, b, "CONFIRMED", by="carol")
    judge(ctx, b, c, "CONFIRMED", by="carol")
    [(whole, members)] = identities(ctx, ids=[c]).items
    assert whole.key == f"identity:{a}" and {m.id for m in members} == {a, b, c}
    judge(ctx, b, c, "REJECTED", by="dave", note="different people")
    assert [m.id for _, ms in identities(ctx, ids=[a]).items for m in ms] == [a, b]
    assert identities(ctx, ids=[c]).items == []
    history = get_link(ctx, b, c)
    assert history is not None and [h["set"] for h in history.history] == ["confirmed", "rejected"]


def test_rollback_undoes_one_run_and_keeps_judgements(first_run: str, ctx: GraphContext) -> None:
    before = read_links(ctx)
    third = run_resolution(ctx, PARAMS, by="tester").run
    after = read_links(ctx)
    assert {p for p, row in after.items() if row["created_run"] == third} == set(after) - set(before)
    rolled = rollback_run(ctx, third)
    assert rolled.status == "rolled_back"
    restored = read_links(ctx)
    assert set(restored) == set(before)
    for pair, row in before.items():
        assert (restored[pair]["status"], restored[pair]["run"]) == (row["status"], row["run"]), pair
    with pytest.raises(BadInput):
        rollback_run(ctx, third)
    with pytest.raises(NotFound):
        rollback_run(ctx, "res-none")


def test_source_data_is_untouched_by_runs(first_run: str, ctx: GraphContext) -> None:
    counts = ctx.read("MATCH (n) WHERE NOT n:Identity AND NOT n:ResolutionRun RETURN count(n) AS n")[0]["n"]
    run = run_resolution(ctx, PARAMS, by="tester").run
    rollback_run(ctx, run)
    assert ctx.read("MATCH (n) WHERE NOT n:Identity AND NOT n:ResolutionRun RETURN count(n) AS n")[0]["n"] == counts
    model = json.loads(ctx.read("MATCH (r:ResolutionRun {key: $k}) RETURN r.model AS m", k=run)[0]["m"])
    assert set(model["comparisons"]) >= {"name", "email", "phone", "device"}
