"""The community benchmark's file path and its scoring, on graphs small enough to check by hand."""

from __future__ import annotations

import argparse
from pathlib import Path

import igraph as ig

from bench.communities import edgelist_part, score_networks, scores
from queries.community_detection import Method
from queries.projection import Projection


def test_an_edgelist_is_scored_for_both_algorithms_and_the_partition_written(tmp_path: Path) -> None:
    """Three 6-cliques in a line, one edge between neighbours; node z is in the truth but has no edge."""
    lines = []
    for c in range(3):
        members = [f"v{c}{i}" for i in range(6)]
        lines += [f"{a} {b} 1.0" for i, a in enumerate(members) for b in members[i + 1:]]
    lines += ["v05 v10 0.5", "v15 v20"]
    (tmp_path / "g.txt").write_text("# three cliques\n" + "\n".join(lines) + "\n")
    (tmp_path / "t.txt").write_text("".join(f"v{c}{i} c{c}\n" for c in range(3) for i in range(6)) + "z alone\n")
    args = argparse.Namespace(edgelist=str(tmp_path / "g.txt"), truth=str(tmp_path / "t.txt"),
                              out=str(tmp_path / "found.txt"))
    result = edgelist_part(args, Method())
    assert (result["nodes"], result["edges"], result["scored_nodes"]) == (19, 47, 19)
    assert result["leiden"]["nmi"] == 1.0 and result["leiden"]["communities"] == 4
    assert result["louvain"]["nmi"] == 1.0
    written = dict(line.split() for line in (tmp_path / "found.txt").read_text().splitlines())
    assert set(written) == {f"v{c}{i}" for c in range(3) for i in range(6)} | {"z"}
    assert len({written[f"v1{i}"] for i in range(6)}) == 1


def test_network_scores_count_absorbed_strangers_and_ignore_far_accounts() -> None:
    truth = {"networks": [{"id": "n1", "accounts": ["a", "b", "c"]}, {"id": "n2", "accounts": ["d", "e"]}],
             "persons": [{"id": "h9", "network": None, "accounts": ["p", "q"]}], "family_devices": []}
    keys = ["a", "b", "c", "d", "e", "p", "q", "s"]
    projection = Projection(name="t", keys=keys, graph=ig.Graph(n=len(keys)), options={})
    perfect = score_networks(projection, [0, 0, 0, 1, 1, 2, 2, 3], truth)
    assert perfect["networks"]["nmi"] == 1.0 and perfect["networks"]["strangers_absorbed"] == 0
    assert perfect["networks"]["accounts"] == 5  # p, q and s are far from any network: not scored
    absorbed = score_networks(projection, [0, 0, 0, 1, 1, 2, 2, 0], truth)  # s joins n1
    assert absorbed["networks"]["strangers_absorbed"] == 1 and absorbed["networks"]["nmi"] < 1.0
    assert absorbed["members_only"]["nmi"] == 1.0  # blind to strangers, by design
    merged = score_networks(projection, [0, 0, 0, 0, 0, 2, 2, 3], truth)
    assert merged["networks"]["nmi"] < 1.0
    assert scores([1, 1, 2], ["x", "x", "y"]) == {"nmi": 1.0, "ari": 1.0}
