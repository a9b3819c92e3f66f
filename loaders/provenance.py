"""How what a record says is folded into what the graph already holds, in Python.

One rule set for every node and relationship: scalar properties take the newest value, list
properties and `sources` are ordered unions, `first_seen`/`last_seen` widen to the moments seen,
and a relationship's `times` is the sorted set of every moment. Folding the same element twice
changes nothing, which is what makes loads idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loaders.model import Edge, Node

State = dict[str, Any]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def from_wire(properties: list[list[Any]]) -> State:
    """Rebuild a property map from the writer's [name, value, how] rows (see writer._PROPERTY_ROW).

    Datetimes come as microseconds since the epoch and dates as ISO text, so that stored and new
    values compare equal as Python objects without the driver's slow temporal hydration.
    """
    state: State = {}
    for name, value, how in properties:
        if how == "dt":
            value = _micros(value)
        elif how == "dts":
            value = [_micros(v) for v in value]
        elif how == "date":
            value = date.fromisoformat(value)
        state[name] = value
    return state


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
