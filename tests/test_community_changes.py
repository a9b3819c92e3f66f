"""Run comparison on member sets: one case per kind of change, and the thresholds' edges."""

from __future__ import annotations

import pytest

from queries.community_changes import compare
from queries.errors import BadInput


def members(prefix: str, n: int, start: int = 0) -> set[str]:
    return {f"{prefix}{i}" for i in range(start, start + n)}


def kinds(changes: list) -> list[tuple[str, list[str], list[str]]]:
    return [(c.kind, c.before, c.after) for c in changes]


def test_a_community_that_kept_its_members_is_stable() -> None:
    [change] = compare({"r1:0": members("a", 8)}, {"r2:3": members("a", 8)})
    assert (change.kind, change.before, change.after, change.jaccard) == ("STABLE", ["r1:0"], ["r2:3"], 1.0)


def test_grew_and_shrank() -> None:
    grew = compare({"r1:0": members("a", 10)}, {"r2:0": members("a", 40)})  # Jaccard 0.25, but all of A stayed
    assert kinds(grew) == [("GREW", ["r1:0"], ["r2:0"])]
    assert (grew[0].joined, grew[0].left, grew[0].jaccard) == (30, 0, 0.25)
    shrank = compare({"r1:0": members("a", 40)}, {"r2:0": members("a", 10)})
    assert kinds(shrank) == [("SHRANK", ["r1:0"], ["r2:0"])]
    assert (shrank[0].joined, shrank[0].left) == (0, 30)


def test_two_communities_joined_are_merged() -> None:
    before = {"r1:0": members("a", 10), "r1:1": members("b", 6)}
    after = {"r2:0": members("a", 10) | members("b", 6) | {"new"}}
    [change] = compare(before, after)
    assert (change.kind, change.before, change.after) == ("MERGED", ["r1:0", "r1:1"], ["r2:0"])
    assert (change.size_before, change.size_after, change.joined) == (16, 17, 1)


def test_one_community_broken_in_three_is_split() -> None:
    before = {"r1:0": members("a", 30)}
    after = {"r2:0": members("a", 12), "r2:1": members("a", 10, 12), "r2:2": members("a", 8, 22)}
    [change] = compare(before, after)
    assert (change.kind, change.before, change.after) == ("SPLIT", ["r1:0"], ["r2:0", "r2:1", "r2:2"])


def test_new_accounts_appear_and_dispersed_ones_vanish() -> None:
    before = {"r1:0": members("a", 10), "r1:1": members("gone", 6)}
    after = {"r2:0": members("a", 10), "r2:1": members("fresh", 5)}
    assert kinds(compare(before, after)) == [
        ("STABLE", ["r1:0"], ["r2:0"]), ("APPEARED", [], ["r2:1"]), ("VANISHED", ["r1:1"], [])]


def test_a_few_members_drifting_into_another_group_is_not_a_match() -> None:
    """2 of 20 members joining 8 newcomers: the newcomers' group appeared; the 20 shrank."""
    before = {"r1:0": members("a", 20)}
    after = {"r2:0": members("a", 18), "r2:1": members("a", 2, 18) | members("n", 8)}
    assert kinds(compare(before, after)) == [("SHRANK", ["r1:0"], ["r2:0"]), ("APPEARED", [], ["r2:1"])]


def test_the_jaccard_threshold_decides_a_loose_match() -> None:
    """4 of A's 10 in a B of 12: no majority either way, Jaccard 4/18 = 0.22."""
    before = {"r1:0": members("a", 10)}
    after = {"r2:0": members("a", 4) | members("n", 8)}
    assert [c.kind for c in compare(before, after, threshold=0.3)] == ["APPEARED", "VANISHED"]
    assert [c.kind for c in compare(before, after, threshold=0.2)] == ["GREW"]


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(BadInput):
        compare({}, {}, threshold=0)
    with pytest.raises(BadInput):
        compare({}, {}, share=0.4)
