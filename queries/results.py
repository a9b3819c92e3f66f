"""What queries return: plain dataclasses with their evidence; the GraphQL layer only converts.

An entity's `id` is `<Label>:<key>` (e.g. `Account:acme:u1`, `IP:2001:db8::1`): stable across
reloads (unlike Neo4j's element ids), readable in a case file, and split at the first colon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loaders.model import Label, Rel
from queries.errors import BadInput


def entity_id(label: str, key: str) -> str:
    return f"{label}:{key}"


def parse_entity_id(value: str) -> tuple[Label, str]:
    label, sep, key = value.partition(":")
    if not sep or not key:
        raise BadInput(f"{value!r} is not an entity id (expected Kind:key, e.g. Account:acme:123)")
    try:
        return Label(label), key
    except ValueError:
        raise BadInput(f"unknown kind {label!r} in id {value!r}") from None


def edge_id(kind: str, source: str, target: str) -> str:
    return f"{kind}|{source}|{target}"


@dataclass(slots=True)
class Entity:
    id: str
    kind: str
    key: str
    label: str  # what to show: a screen name, a name, the address itself
    properties: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class GraphEdge:
    id: str
    kind: str
    source: str  # entity id
    target: str  # entity id
    properties: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Subgraph:
    nodes: list[Entity] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    truncated: bool = False  # a limit cut the answer: say so rather than look complete


@dataclass(slots=True)
class Page:
    """A cursor page: `end_cursor` goes back as `after` to get the next one."""

    items: list[Any]
    end_cursor: str | None
    has_next_page: bool


KINDS: tuple[str, ...] = tuple(label.value for label in Label)
REL_KINDS: tuple[str, ...] = tuple(rel.value for rel in Rel)
