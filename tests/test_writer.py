"""The writer against a real Neo4j: idempotent merges, provenance unions, files by any hash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loaders.model import Edge, Label, Node, Rel
from loaders.writer import EdgeWithoutEndpoint, GraphWriter

T1 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)
T2 = datetime(2024, 3, 1, 10, 30, tzinfo=UTC)
T3 = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
MD5 = "0" * 31 + "a"
SHA1 = "1" * 39 + "b"
SHA256 = "2" * 63 + "c"


def account_ip(report: str, when: datetime, account: str = "acme:u1") -> tuple[list[Node], list[Edge]]:
    nodes = [
        Node(Label.ACCOUNT, account, {"service": "chat"}, {"screen_names": [f"name-{report}"]},
             [report], [when]),
        Node(Label.IP, "192.0.2.7", {"kind": "reserved"}, sources=[report], times=[when]),
    ]
    edges = [Edge(Rel.USED_IP, (Label.ACCOUNT, account), (Label.IP, "192.0.2.7"),
                  lists={"events": ["Login"]}, sources=[report], times=[when])]
    return nodes, edges


def props(graph: GraphWriter, query: str, **params: object) -> list[dict]:
    records, _, _ = graph.driver.execute_query(query, params, database_=graph.database)
    return [r.data() for r in records]


def test_first_write_creates_and_second_changes_nothing(graph: GraphWriter) -> None:
    nodes, edges = account_ip("cybertip:1", T1)
    first = graph.write(nodes, edges)
    assert first.created == {"Account": 1, "IP": 1, "USED_IP": 1}
    again = graph.write(*account_ip("cybertip:1", T1))
    assert again.elements_created == 0
    assert sum(again.updated.values()) == 0


def test_provenance_grows_as_union(graph: GraphWriter) -> None:
    counts = graph.write(*account_ip("cybertip:2", T2))
    assert counts.elements_created == 0
    assert counts.updated == {"Account": 1, "IP": 1, "USED_IP": 1}
    graph.write(*account_ip("cybertip:3", T3))
    [acc] = props(graph, "MATCH (a:Account {key: 'acme:u1'}) RETURN a.sources AS s, a.screen_names AS n, "
                         "a.first_seen AS f, a.last_seen AS l")
    assert acc["s"] == ["cybertip:1", "cybertip:2", "cybertip:3"]
    assert acc["n"] == ["name-cybertip:1", "name-cybertip:2", "name-cybertip:3"]
    assert acc["f"].to_native() == T3 and acc["l"].to_native() == T2
    [rel] = props(graph, "MATCH ()-[r:USED_IP]->() RETURN r.times AS t, r.events AS e, r.sources AS s")
    assert [t.to_native() for t in rel["t"]] == [T3, T1, T2]  # sorted, distinct
    assert rel["e"] == ["Login"]
    assert len(rel["s"]) == 3


def file_node(report: str, **hashes: str) -> Node:
    key = next(f"{a}:{hashes[a]}" for a in ("sha256", "sha1", "md5") if a in hashes)
    return Node(Label.FILE, key, dict(hashes), sources=[report])


def test_file_known_by_fewer_hashes_joins_and_is_rekeyed(graph: GraphWriter) -> None:
    graph.write([file_node("cybertip:10", md5=MD5)], [])
    counts = graph.write([file_node("cybertip:11", md5=MD5, sha1=SHA1)], [])
    assert counts.created.get("File", 0) == 0
    graph.write([file_node("cybertip:12", sha256=SHA256, sha1=SHA1)], [])
    graph.write([file_node("cybertip:13", md5=MD5)], [])
    files = props(graph, "MATCH (f:File) RETURN f.key AS key, f.md5 AS md5, f.sha1 AS sha1, "
                         "f.sha256 AS sha256, f.sources AS s")
    assert files == [{"key": f"sha256:{SHA256}", "md5": MD5, "sha1": SHA1, "sha256": SHA256,
                      "s": ["cybertip:10", "cybertip:11", "cybertip:12", "cybertip:13"]}]


def test_edges_to_rekeyed_file_follow_it(graph: GraphWriter) -> None:
    report = Node(Label.REPORT, "cybertip:14", sources=["cybertip:14"])
    edge = Edge(Rel.INCLUDES, (Label.REPORT, "cybertip:14"), (Label.FILE, f"md5:{MD5}"),
                sources=["cybertip:14"])
    graph.write([report, file_node("cybertip:14", md5=MD5)], [edge])
    [row] = props(graph, "MATCH (:Report {key: 'cybertip:14'})-[:INCLUDES]->(f:File) RETURN f.key AS key")
    assert row["key"] == f"sha256:{SHA256}"


def test_edge_without_endpoint_is_an_error_not_a_silent_drop(graph: GraphWriter) -> None:
    edge = Edge(Rel.USED_IP, (Label.ACCOUNT, "acme:nobody"), (Label.IP, "192.0.2.7"), sources=["x"])
    with pytest.raises(EdgeWithoutEndpoint):
        graph.write([], [edge])


def test_relationship_shape_outside_the_model_is_refused(graph: GraphWriter) -> None:
    edge = Edge(Rel.USED_IP, (Label.FILE, f"md5:{MD5}"), (Label.IP, "192.0.2.7"), sources=["x"])
    with pytest.raises(ValueError, match="cannot join"):
        graph.write([], [edge])
