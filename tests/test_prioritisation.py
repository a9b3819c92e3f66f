"""Priorities against a real Neo4j: every score is the sum of its parts, the parts name their
evidence, known material and linked offenders raise an account, weights are the investigator's,
and reports inherit the worst account they name."""

from __future__ import annotations

import math

import pytest

from graph_service.app import create_app
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.hashsets import parse_hashset
from loaders.pipeline import case_transform, load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.errors import BadInput
from queries.prioritisation import (
    DEFAULT_WEIGHTS,
    EVIDENCE_CAP,
    Scope,
    Weights,
    account_links,
    priorities,
    score_accounts,
)
from tests.signin import signed_in


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("referrals")
    planted = generate(out, reports=500, seed=23)
    files = [out / name for name in planted.files]
    # The first bundle is filed under a case, so the `cases` part has something to count.
    assert not load_files(graph, files[:1], parse_cybertip, transform=case_transform("case-prio", "agency-p")).failed
    assert not load_files(graph, files[1:], parse_cybertip).failed
    assert not load_files(graph, [out / planted.hashset], parse_hashset).failed
    return planted


@pytest.fixture(scope="module")
def ctx(truth: Truth, graph: GraphWriter) -> GraphContext:
    return GraphContext(graph.driver, graph.database)


def network_accounts(truth: Truth) -> set[str]:
    return {a for net in truth.networks for a in net["accounts"]}


def test_every_score_is_the_sum_of_its_parts(ctx: GraphContext) -> None:
    for scope in Scope:
        for p in priorities(ctx, scope, limit=200):
            assert p.score == pytest.approx(sum(part.contribution for part in p.parts))
            for part in p.parts:
                assert part.weight == (DEFAULT_WEIGHTS.get(part.name, part.weight))


def test_known_files_part_names_the_hash_listed_files(ctx: GraphContext) -> None:
    known = {row["key"] for row in ctx.read("MATCH (f:File {known: true}) RETURN f.key AS key")}
    top = priorities(ctx, limit=10)[0]
    part = next(p for p in top.parts if p.name == "known_files")
    assert part.value >= 1
    assert set(part.evidence) <= known
    assert part.contribution == pytest.approx(DEFAULT_WEIGHTS["known_files"] * math.log1p(part.value))
    # The same files, counted in the graph by another road: the account's reports and its uploads.
    found = ctx.read("""
        MATCH (a:Account {key: $key})
        CALL (a) { MATCH (a)<-[:REPORTS]-(:Report)-[:INCLUDES]->(f:File) RETURN f
                   UNION MATCH (a)-[:SHARED]->(f:File) RETURN f }
        WITH f WHERE f.known RETURN count(DISTINCT f) AS n""", key=top.key)[0]["n"]
    assert part.value == found


def test_planted_offenders_come_first(ctx: GraphContext, truth: Truth) -> None:
    top = priorities(ctx, limit=20)
    assert sum(p.key in network_accounts(truth) for p in top) >= 15


def test_links_to_flagged_accounts_and_centrality(ctx: GraphContext, truth: Truth) -> None:
    members = sorted(truth.networks[0]["accounts"])
    hub, spokes = members[0], members[1:]
    star = [(hub, s, 1.0) for s in spokes]
    scored = score_accounts(ctx, star, Weights())
    parts = {p.name: p for p in scored[hub].parts}
    assert parts["centrality"].value == pytest.approx(1.0)
    assert all({p.name: p for p in scored[s].parts}["centrality"].value < 1.0 for s in spokes)
    holders = {k for k, p in scored.items() if any(x.name == "known_files" and x.value for x in p.parts)}
    assert parts["flagged_links"].value == len(set(spokes) & holders)
    flagged = sorted(set(spokes) & holders)
    assert parts["flagged_links"].evidence == flagged[:EVIDENCE_CAP]  # the count above is exact
    alone = score_accounts(ctx, [], Weights())[hub]
    assert scored[hub].score > alone.score


def test_weights_are_the_investigators(ctx: GraphContext) -> None:
    only_reports = Weights.of({name: 0.0 for name in DEFAULT_WEIGHTS} | {"reports": 1.0})
    top = priorities(ctx, limit=5, weights=only_reports)
    most = ctx.read("MATCH (a:Account)<-[:REPORTS]-(r:Report) WITH a, count(r) AS n "
                    "RETURN max(n) AS n")[0]["n"]
    assert top[0].score == pytest.approx(math.log1p(most))
    with pytest.raises(BadInput, match="unknown priority part"):
        Weights.of({"charisma": 2.0})


def test_cases_part_counts_case_filing(ctx: GraphContext) -> None:
    filed = {row["key"] for row in ctx.read(
        "MATCH (:Case {key: 'case-prio'})<-[:PART_OF]-(:Report)-[:REPORTS]->(a:Account) RETURN DISTINCT a.key AS key")}
    scored = score_accounts(ctx, [], Weights())
    for key, p in scored.items():
        cases = next(x for x in p.parts if x.name == "cases")
        assert (cases.evidence == ["case-prio"]) == (key in filed)


def test_reports_inherit_their_worst_account(ctx: GraphContext) -> None:
    accounts = score_accounts(ctx, account_links(ctx), Weights())
    for report in priorities(ctx, Scope.REPORTS, limit=30):
        worst = next(p for p in report.parts if p.name == "worst_account")
        named = [row["key"] for row in ctx.read(
            "MATCH (:Report {key: $key})-[:REPORTS]->(a:Account) RETURN a.key AS key", key=report.key)]
        assert worst.value == pytest.approx(max(accounts[k].score for k in named))


def test_refusals(ctx: GraphContext) -> None:
    with pytest.raises(BadInput, match="scope"):
        priorities(ctx, "planets")
    with pytest.raises(BadInput, match="limit"):
        priorities(ctx, limit=0)


def test_graphql_priorities_use_the_configured_weights(ctx: GraphContext, neo4j_settings: Settings) -> None:
    query = ("query($limit: Int!) { priorities(scope: ACCOUNTS, limit: $limit) "
             "{ id key score parts { name weight contribution } } }")
    tuned = neo4j_settings.model_copy(update={"priority_weights": {"recency": 0.0, "reports": 2.0}})
    want = priorities(ctx, limit=5, weights=Weights.of({"recency": 0.0, "reports": 2.0}))
    with signed_in(create_app(tuned)) as client:
        body = client.post("/graphql", json={"query": query, "variables": {"limit": 5}}).json()
        assert "errors" not in body, body
        got = body["data"]["priorities"]
        assert [p["key"] for p in got] == [p.key for p in want]
        assert {part["name"]: part["weight"] for part in got[0]["parts"]}["reports"] == 2.0
        assert got[0]["score"] == pytest.approx(sum(part["contribution"] for part in got[0]["parts"]))
        bad = client.post("/graphql", json={"query": query, "variables": {"limit": 0}}).json()
        assert bad["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    with pytest.raises(BadInput, match="unknown priority part"):
        create_app(neo4j_settings.model_copy(update={"priority_weights": {"charisma": 1.0}}))
