"""How what a record says is folded into what the graph already holds, in Python.

One rule set for every node and relationship: scalar properties take the newest value, list
properties and `sources` are ordered unions, `first_seen`/`last_seen` widen to the moments seen,
and a relationship's `times` is the sorted set of every moment. Folding the same element twice
changes nothing, which is what makes loads idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime

from loaders.model import Edge, Node

State = dict[str, Any]


def native(value: Any) -> Any:
    """Neo4j's temporal values as Python's, so stored and new values compare equal."""
    if isinstance(value, Neo4jDateTime | Neo4jDate):
        return value.to_native()
    if isinstance(value, list):
        return [native(v) for v in value]
    return value


def from_graph(properties: dict[str, Any]) -> State:
    return {name: native(value) for name, value in properties.items()}


def _union(into: list[Any], more: Iterable[Any]) -> list[Any]:
    seen = set(into)
    for value in more:
        if value not in seen:
            into.append(value)
            seen.add(value)
    return into


def fold(state: State, element: Node | Edge) -> None:
    """Add one element's facts to `state` (a property map), in place."""
    for name, value in element.props.items():
        state[name] = value
    for name, values in element.lists.items():
        state[name] = _union(list(state.get(name) or []), values)
    state["sources"] = _union(list(state.get("sources") or []), element.sources)
    times: list[datetime] = element.times
    if times:
        first, last = min(times), max(times)
        if state.get("first_seen") is None or first < state["first_seen"]:
            state["first_seen"] = first
        if state.get("last_seen") is None or last > state["last_seen"]:
            state["last_seen"] = last
        if isinstance(element, Edge):
            state["times"] = sorted(set(state.get("times") or []) | set(times))


def snapshot(state: State) -> State:
    """A copy deep enough to tell afterwards whether folding changed anything."""
    return {k: list(v) if isinstance(v, list) else v for k, v in state.items()}


def storable(state: State) -> State:
    """Drop empty values Neo4j cannot store (None) before writing."""
    return {k: v for k, v in state.items() if v is not None}
