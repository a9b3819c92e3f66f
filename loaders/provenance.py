"""How what a record says is folded into what the graph already holds, in Python.

One rule set for every node and relationship: scalar properties take the newest value, list
properties and `sources` are ordered unions, `first_seen`/`last_seen` widen to the moments seen,
and a relationship's `times` is the sorted set of every moment. Usage relationships (USED_IP,
USED_DEVICE, SHARED) also keep `uses`, each moment paired with the report that saw it. Folding the same element twice
changes nothing, which is what makes loads idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from loaders.model import PAIRED_TIMES, Edge, Node, use_stamp

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
            if element.type in PAIRED_TIMES:
                # A parser's element comes from one record, so each of its moments has exactly
                # that record as its source: keep the pair, which the two unions above lose.
                stamps = sorted(use_stamp(t, s) for t in times for s in element.sources)
                state["uses"] = sorted(set(state.get("uses") or []) | set(stamps))


def delta(elements: list[Node] | list[Edge]) -> State:
    """Everything a batch says about one element, folded into one state before the graph is read.

    Folding the batch first and then merging the result into what the graph holds (`merge`) gives
    the same state as folding each element into the graph's state in turn, but touches each list
    the graph holds once per batch instead of once per mention (a provider is named by every
    report in a batch).
    """
    if len(elements) > 1:
        state: State = {}
        for element in elements:
            fold(state, element)
        return state
    # One mention (most elements of a batch): the same state as `fold` into {}, built directly.
    element = elements[0]
    state = dict(element.props)
    for name, values in element.lists.items():
        state[name] = list(dict.fromkeys(values))
    state["sources"] = list(dict.fromkeys(element.sources))
    times = element.times
    if times:
        state["first_seen"], state["last_seen"] = min(times), max(times)
        if type(element) is Edge:
            state["times"] = sorted(set(times))
            if element.type in PAIRED_TIMES:
                state["uses"] = sorted({use_stamp(t, s) for t in times for s in element.sources})
    return state


def merge(state: State, more: State) -> bool:
    """Merge a batch's `delta` into `state` (the graph's), in place; whether anything changed.

    The same rules as `fold`: scalars take the batch's value, lists are ordered unions, the seen
    times widen, `times` is a sorted set.
    """
    changed = False
    for name, value in more.items():
        old = state.get(name)
        if isinstance(value, list):
            if name in ("times", "uses"):  # sorted sets, as `fold` keeps them
                new = sorted(set(old or ()) | set(value))
            else:
                new = _union(list(old or ()), value) if old else value
            if new != old:
                state[name] = new
                changed = True
        elif name == "first_seen":
            if old is None or value < old:
                state[name] = value
                changed = True
        elif name == "last_seen":
            if old is None or value > old:
                state[name] = value
                changed = True
        elif old != value or type(old) is not type(value):
            state[name] = value
            changed = True
    return changed


def snapshot(state: State) -> State:
    """A copy deep enough to tell afterwards whether folding changed anything."""
    return {k: list(v) if isinstance(v, list) else v for k, v in state.items()}


def _to_micros(value: datetime) -> int:
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def to_wire(state: State) -> dict[str, Any]:
    """A property map as the writer sends it: plain values in `p`, temporal ones as numbers.

    Datetimes go as microseconds since the epoch (`t`), lists of them likewise (`ts`), dates as ISO
    text (`d`); the writer's Cypher turns them back into Neo4j temporals. The driver's own
    Python-side conversion of datetimes cost more than the database's whole write. Values before
    1970 stay as they are (integer division in Cypher would misplace them).
    """
    plain: dict[str, Any] = {}
    single: dict[str, int] = {}
    many: dict[str, list[int]] = {}
    dates: dict[str, str] = {}
    for name, value in state.items():
        kind = type(value)
        if kind is datetime:
            if value.tzinfo is not None and value >= _EPOCH:
                single[name] = _to_micros(value)
            else:
                plain[name] = value
        elif kind is list:
            if value and type(value[0]) is datetime and all(
                    type(v) is datetime and v.tzinfo is not None and v >= _EPOCH for v in value):
                many[name] = [_to_micros(v) for v in value]
            else:
                plain[name] = value
        elif kind is date:
            dates[name] = value.isoformat()
        elif value is not None:
            plain[name] = value
    return {"p": plain, "t": single, "ts": many, "d": dates}
