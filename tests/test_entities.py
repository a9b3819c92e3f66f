"""Entities by id, by key and in batches, and how nodes look once converted."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from loaders.model import Edge, Label, Node, Rel
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.entities import MAX_SOURCES, get_entities, get_entity, get_entity_by_key
from queries.errors import BadInput, NotFound
from queries.link_analysis import neighbourhood

SHA = "4daa8abb7af1799ad63717d7df995ccfa50f30bfd7a0b70c014483ca54e5c2dd"
SEEN = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    nodes = [
        Node(Label.ACCOUNT, "acme:1", {"service": "chat"}, {"screen_names": ["first_name", "second"],
                                                          "display_names": ["Shown"]}, ["r:1", "r:2"], [SEEN]),
        Node(Label.ACCOUNT, "acme:2", lists={"display_names": ["Only Display"]}, sources=["r:1"]),
        Node(Label.ACCOUNT, "acme:@bare", sources=["r:1"]),
        Node(Label.PERSON, "r:1/person/1", {"name": "Jon Fakename", "date_of_birth": date(1990, 4, 3)},
             sources=["r:1"]),
        Node(Label.FILE, f"sha256:{SHA}", {"sha256": SHA}, sources=["r:1"]),
        Node(Label.IP, "2001:db8::1", {"kind": "reserved"}, sources=["r:1"]),
        Node(Label.PROVIDER, "busy provider", {"name": "Busy Provider"}, sources=[f"r:{n}" for n in range(250)]),
    ]
    edges = [Edge(Rel.USED_IP, (Label.ACCOUNT, "acme:1"), (Label.IP, "2001:db8::1"), lists={"events": ["Login"]},
                  sources=["r:1"], times=[SEEN])]
    graph.write(nodes, edges)
    return GraphContext(graph.driver, graph.database)


def test_entity_by_id_is_converted_for_json(ctx: GraphContext) -> None:
    acc = get_entity(ctx, "Account:acme:1")
    assert (acc.id, acc.kind, acc.key, acc.label) == ("Account:acme:1", "Account", "acme:1", "first_name")
    assert acc.sources == ["r:1", "r:2"]
    assert "key" not in acc.properties and "sources" not in acc.properties
    assert acc.properties["first_seen"] == "2024-03-01T08:00:00+00:00"
    assert acc.properties["screen_names"] == ["first_name", "second"]
    assert acc.properties["source_count"] == 2
    person = get_entity(ctx, "Person:r:1/person/1")
    assert person.label == "Jon Fakename" and person.properties["date_of_birth"] == "1990-04-03"
    json.dumps([acc.properties, person.properties])


@pytest.mark.parametrize(("id", "label"), [
    ("Account:acme:2", "Only Display"),
    ("Account:acme:@bare", "acme:@bare"),
    (f"File:sha256:{SHA}", "sha256:4daa8abb7af1…"),
    ("IP:2001:db8::1", "2001:db8::1"),
])
def test_labels_say_what_to_show(ctx: GraphContext, id: str, label: str) -> None:
    assert get_entity(ctx, id).label == label


def test_a_much_cited_entity_carries_its_first_sources_and_their_count(ctx: GraphContext) -> None:
    provider = get_entity(ctx, "Provider:busy provider")
    assert provider.sources == [f"r:{n}" for n in range(MAX_SOURCES)]
    assert provider.properties["source_count"] == 250


def test_entity_by_kind_and_key(ctx: GraphContext) -> None:
    assert get_entity_by_key(ctx, "IP", "2001:db8::1").id == "IP:2001:db8::1"
    with pytest.raises(NotFound):
        get_entity_by_key(ctx, "IP", "2001:db8::2")
    with pytest.raises(BadInput):
        get_entity_by_key(ctx, "Planet", "earth")
    with pytest.raises(BadInput):
        get_entity_by_key(ctx, "IP", " ")


def test_batch_keeps_order_and_leaves_out_the_missing(ctx: GraphContext) -> None:
    ids = ["IP:2001:db8::1", "Account:acme:nobody", "Account:acme:2", f"File:sha256:{SHA}", "Account:acme:2"]
    got = get_entities(ctx, ids)
    assert [e.id for e in got] == ["IP:2001:db8::1", "Account:acme:2", f"File:sha256:{SHA}", "Account:acme:2"]
    assert get_entities(ctx, []) == []


def test_edges_are_converted_in_the_same_way(ctx: GraphContext) -> None:
    [edge] = neighbourhood(ctx, ["Account:acme:1"]).edges
    assert (edge.id, edge.kind, edge.source, edge.target) == (
        "USED_IP|Account:acme:1|IP:2001:db8::1", "USED_IP", "Account:acme:1", "IP:2001:db8::1")
    assert edge.properties == {"times": ["2024-03-01T08:00:00+00:00"], "first_seen": "2024-03-01T08:00:00+00:00",
                               "last_seen": "2024-03-01T08:00:00+00:00", "events": ["Login"],
                               "uses": ["2024-03-01T08:00:00+00:00|r:1"]}
    assert edge.sources == ["r:1"]


@pytest.mark.parametrize(("id", "error"), [
    ("Account:acme:nobody", NotFound),
    ("acme:1", BadInput),
    ("Account:", BadInput),
    ("Planet:earth", BadInput),
])
def test_bad_ids_fail_with_our_errors(ctx: GraphContext, id: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        get_entity(ctx, id)
