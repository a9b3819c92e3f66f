"""Entity resolution without the graph: normalisation, blocking, comparisons, EM, clusters, scoring."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.synthetic_records import scenario_records
from queries.resolution import ResolutionParams, resolve
from queries.resolution_blocking import BlockingLimits, block, key_rows, pairs_in_groups
from queries.resolution_clusters import components, pairwise_scores
from queries.resolution_comparison import compare, compare_names
from queries.resolution_records import SourceRecord, build_table, fold, name_part, soundex, strip_handle
from queries.resolution_weights import expectation_maximisation, level_frequencies

HOSTILE = ["", " ", "\u200b", "@", "@@@", "1234", "🙂🙂", "ＡＢＣ", "ǅemal", "a\u0301", "\x00x", "x" * 5000,
           "名前", "Ölçü-Şahin", "<script>", "''\"\"", "../../etc"]


def account(key: str, **fields: object) -> SourceRecord:
    record = SourceRecord(f"Account:{key}", "Account", provider=str(fields.pop("provider", "acme")))
    for name, value in fields.items():
        setattr(record, name, value)
    return record


# -- normalisation -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("@4l3x_54mpl3t0n1990", "alexsampleton"), ("Alex.Sampleton", "alexsampleton"),
    ("alex-sampleton-77", "alexsampleton"), ("ＡＬＥＸ＿ＳＡＭＰＬＥＴＯＮ", "alexsampleton"),
    ("j0hn$m1th", "johnsmith"), ("blue.fox12345", "bluefox"), ("f4c51m1l3", "facsimile"), ("", ""),
    ("1234", ""), ("🙂🙂", ""), ("Öpecimane", "opecimane"),
])
def test_strip_handle_removes_separators_leetspeak_and_added_numbers(raw: str, expected: str) -> None:
    assert strip_handle(raw) == expected


@given(st.text(max_size=60))
@settings(max_examples=300)
def test_normalisers_accept_any_text_and_are_idempotent(text: str) -> None:
    for normalise in (fold, name_part, strip_handle):
        once = normalise(text)
        assert isinstance(once, str)
        assert normalise(once) == once
    assert soundex(text) == "" or (len(soundex(text)) == 4 and soundex(text)[0].isalpha())


def test_soundex_groups_names_that_sound_alike() -> None:
    assert soundex("Robert") == soundex("Rupert") == "r163"
    assert soundex("Smith") == soundex("Smyth") == soundex("SMITH ")
    assert soundex("Tymczak") == "t522"
    assert soundex("Ashcraft") == "a261"  # h and w do not separate letters of one code
    assert soundex("") == soundex(None) == soundex("123") == ""


def test_build_table_folds_persons_into_their_account_and_tolerates_hostile_values() -> None:
    records = [account("a", persons=[("ALEX", "Sampleton", None), ("alex", "sampleton", None)],
                       screen_names=["4l3x_s4mpl3ton"], dobs=["1990-01-02", "1990-01-02T00:00:00"])]
    records += [account(f"h{i}", persons=[(v, v, v)], screen_names=[v], dobs=[v], emails=[v] if v else [],
                        addresses=[v]) for i, v in enumerate(HOSTILE)]
    table = build_table(records)
    assert (table.first.text(0), table.last.text(0), table.dob.text(0)) == ("alex", "sampleton", "1990-01-02")
    assert table.handle_texts(0) == ["alexsampleton"]
    assert len(table) == len(HOSTILE) + 1
    res = resolve(table, ResolutionParams(use_em=False, u_sample=1000))  # nothing raises on any of it
    assert res.blocking.comparisons >= 0


# -- blocking --------------------------------------------------------------------------------------------

def test_pairs_in_groups_makes_every_pair_once_and_skips_oversized_groups() -> None:
    rows = np.array([0, 1, 2, 3, 4, 5, 6, 0, 0], dtype=np.int64)
    keys = np.array([7, 7, 7, 9, 9, 1, 2, 7, 1], dtype=np.int64)  # row 0 twice under key 7
    left, right, skipped = pairs_in_groups(rows, keys, max_block=3)
    assert sorted(zip(left.tolist(), right.tolist(), strict=True)) == [(0, 1), (0, 2), (0, 5), (1, 2), (3, 4)]
    left, right, skipped = pairs_in_groups(rows, keys, max_block=2)
    assert skipped == 1 and (0, 1) not in set(zip(left.tolist(), right.tolist(), strict=True))


def test_blocking_keys_join_handle_variants_phones_and_dates() -> None:
    table = build_table([
        account("a", screen_names=["j0hn_d03"], phones=["+15555550101"]),
        account("b", screen_names=["John.Doe1987"]),
        account("c", screen_names=["someone_else"], phones=["+15555550101"]),
        account("d", persons=[("Mary", "Major", None)], dobs=["1980-02-03"]),
        account("e", persons=[("Marie", "Major", None)], dobs=["1980-02-03"]),
        account("f", persons=[("Mary", "Major", None)], dobs=["1981-02-03"]),
    ])
    keys = key_rows(table)
    assert {"handle", "phone", "name_dob", "surname_dob"} <= set(keys)
    blocking = block(table, BlockingLimits())
    pairs = set(zip(blocking.left.tolist(), blocking.right.tolist(), strict=True))
    assert {(0, 1), (0, 2), (3, 4)} <= pairs
    assert (3, 5) not in pairs  # namesakes born a year apart share no key
    assert all(a < b for a, b in pairs)


def test_rare_addresses_pair_within_the_window_and_shared_ones_are_skipped() -> None:
    hour = 3600.0
    records = [account("a", ips=[("198.18.0.1", 0.0)]), account("b", ips=[("198.18.0.1", 0.5 * hour)]),
               account("c", ips=[("198.18.0.1", 5 * hour)])]
    records += [account(f"v{i}", ips=[("203.0.113.9", float(i))]) for i in range(25)]  # a VPN exit
    table = build_table(records)
    blocking = block(table, BlockingLimits(ip_max_accounts=20, ip_window_s=hour))
    n = len(table)
    assert blocking.shared["ip_window"].tolist() == [0 * n + 1]
    assert sorted(blocking.shared["ip_any"].tolist()) == [1, 2, n + 2]
    assert blocking.skipped_blocks["ip"] == 1
    assert not any(a >= 3 and b >= 3 for a, b in zip(blocking.left, blocking.right, strict=True))


# -- comparisons -----------------------------------------------------------------------------------------

def test_name_comparison_levels() -> None:
    table = build_table([
        account("a", persons=[("Alex", "Sampleton", None)], screen_names=["alex.sampleton"]),
        account("b", persons=[("ALEX", "SAMPLETON", None)], screen_names=["4l3x_54mpl3t0n"]),
        account("c", persons=[("Alex", "Sampleton", None)], screen_names=["bluefox"]),
        account("d", persons=[("Jordan", "Sampleton", None)]),
        account("e", screen_names=["alex_sampleton99"]),
        account("f", persons=[("Alx", "Sampletn", None)]),
        account("g"),
        account("h", persons=[("", "", "")], screen_names=["", "🙂"]),
    ])
    pairs = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (0, 6), (6, 7), (2, 4), (3, 4)]
    left, right = (np.array(x) for x in zip(*pairs, strict=True))
    levels, _ = compare_names(table, left, right)
    assert levels.tolist() == [6, 5, 1, 4, 3, -1, -1, 0, -1]


def test_shared_identifiers_are_rule_levels_and_absent_ones_compare_nothing() -> None:
    table = build_table([account("a", emails=["jdoe@gmail.com"], devices=["imei:1"]),
                         account("b", emails=["jdoe@gmail.com"]), account("c")])
    blocking = block(table, BlockingLimits())
    compared = compare(table, blocking, np.array([0, 0]), np.array([1, 2]))
    assert compared.levels["email"].tolist() == [1, -1]
    assert compared.levels["device"].tolist() == [-1, -1]


# -- EM and weights ----------------------------------------------------------------------------------------

def test_em_recovers_known_m_u_and_share_on_a_toy_set() -> None:
    rng = np.random.default_rng(3)
    m = [np.array([0.05, 0.15, 0.8]), np.array([0.1, 0.9]), np.array([0.2, 0.8])]
    u = [np.array([0.9, 0.08, 0.02]), np.array([0.85, 0.15]), np.array([0.95, 0.05])]
    share, n = 0.2, 60_000
    is_match = rng.random(n) < share
    gamma = np.stack([np.where(is_match, rng.choice(len(mk), n, p=mk), rng.choice(len(uk), n, p=uk))
                      for mk, uk in zip(m, u, strict=True)], axis=1)
    gamma[rng.random(n) < 0.1, 2] = -1  # some pairs have nothing to compare on the last field
    counts = [3, 2, 2]
    start_m = [np.full(c, 1 / c) + np.linspace(-0.1, 0.1, c) for c in counts]
    result = expectation_maximisation(gamma, counts, start_m, level_frequencies(gamma, counts), share0=0.5)
    assert result.converged
    assert abs(result.share - share) < 0.01
    for got, want in zip(result.m, m, strict=True):
        assert np.abs(got - want).max() < 0.03
    assert np.all(np.diff(result.history) >= -1e-6)  # EM never lowers the likelihood


def test_resolution_on_generated_records_finds_people_not_households_or_namesakes() -> None:
    records, owner = scenario_records(3000, seed=11)
    res = resolve(build_table(records), ResolutionParams(u_sample=100_000))
    left, right = res.links()
    truth = np.array([hash(owner[i]) for i in res.table.ids])
    scores = pairwise_scores(components(len(res.table), left, right), truth)
    assert scores.precision > 0.95 and scores.recall > 0.95, scores
    assert res.model.converged
    assert res.counts()["comparison_share"] < 0.01
    proposal = res.proposal(int(res.over(0.9)[0]))
    assert proposal.evidence and {"comparison", "level", "label", "weight", "a", "b"} <= set(proposal.evidence[0])
    assert math.isclose(proposal.score, 1 / (1 + 2 ** -proposal.weight), rel_tol=1e-3)


# -- clusters and scoring -------------------------------------------------------------------------------------

@given(st.lists(st.tuples(st.integers(0, 29), st.integers(0, 29)), max_size=60))
@settings(max_examples=100)
def test_components_agree_with_networkx(edges: list[tuple[int, int]]) -> None:
    n = 30
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    labels = components(n, left, right)
    oracle = nx.Graph()
    oracle.add_nodes_from(range(n))
    oracle.add_edges_from(edges)
    for comp in nx.connected_components(oracle):
        assert {int(labels[i]) for i in comp} == {min(comp)}


def test_pairwise_scores_count_pairs_from_cluster_sizes() -> None:
    predicted = np.array([0, 0, 0, 1, 1, 5])
    truth = np.array([0, 0, 1, 1, 1, 5])
    scores = pairwise_scores(predicted, truth)
    # predicted pairs: 3 + 1 = 4; true pairs: 1 + 3 = 4; correct: (0,1) and (3,4)
    assert (scores.predicted_pairs, scores.true_pairs, scores.correct_pairs) == (4, 4, 2)
    assert scores.precision == scores.recall == scores.f1 == 0.5
