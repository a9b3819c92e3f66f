"""Entities by id or key, and the one conversion from Neo4j rows to `Entity` and `GraphEdge`.

Every query returns nodes and relationships as plain maps (`node_map`, `edge_map`: labels, key,
properties; the driver's `record.data()` would drop a node's labels) and converts them here, so
an entity looks the same whichever question found it: `id` `<Label>:<key>`, a `label` to show,
properties without `key`/`sources` and with times as ISO text.

The model's time properties travel as text (`toString` in Cypher): the driver's hydration of
temporal values costs tens of microseconds each in Python, which made a 500-node neighbourhood
spend most of its time decoding dates. Other temporal properties still arrive as driver values
and are converted here too, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from neo4j.time import Date, DateTime, Duration, Time

from loaders.model import Label, cypher
from queries.bounds import LIMIT, check_ids, check_kind
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.results import KINDS, Entity, GraphEdge, edge_id, entity_id, parse_entity_id

_VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")
#: Properties the model stores as times or dates (scalars), and as lists of times.
TIME_PROPERTIES = ("first_seen", "last_seen", "incident_at", "received_at", "uploaded_at", "date_of_birth")
TIME_LIST_PROPERTIES = ("times",)
_ZONE_ID = re.compile(r"\[[^\]]*\]$")
_HIDDEN = frozenset({"key", "sources"})
_SOURCES = frozenset({"sources"})
#: At most this many report keys in an entity's `sources`; `properties.source_count` has them all.
MAX_SOURCES = 100
FILE_LABEL_HEX = 12  # a File shows as "sha256:4daa8abb7af1…": enough to tell files apart on a chart


def _var(name: str) -> str:
    if not _VARIABLE.match(name):  # our own variable names only; values always go as parameters
        raise ValueError(f"bad Cypher variable {name!r}")
    return name


def _properties(v: str, *extra: str) -> str:
    """All properties, the model's times as text (an absent one comes back null and is dropped)."""
    scalars = [f"{name}: toString({v}.{name})" for name in TIME_PROPERTIES]
    lists = [f"{name}: [t IN {v}.{name} | toString(t)]" for name in TIME_LIST_PROPERTIES]
    return f"{v} {{.*, {', '.join([*extra, *scalars, *lists])}}}"


def node_map(var: str) -> str:
    """Cypher expression for a node as `to_entity` reads it (`eid` is for follow-up queries only).

    A node's `sources` come capped at MAX_SOURCES (the first reports that named it), with the full
    count as `source_count`: a provider is named by every report it sent, and shipping tens of
    thousands of keys with each appearance of it would dwarf the answer.
    """
    v = _var(var)
    capped = (f"sources: {v}.sources[0..{MAX_SOURCES}]", f"source_count: size({v}.sources)")
    return f"{{eid: elementId({v}), labels: labels({v}), props: {_properties(v, *capped)}}}"


def edge_map(var: str) -> str:
    """Cypher expression for a relationship as `to_edge` reads it."""
    v = _var(var)
    return (f"{{type: type({v}), start_labels: labels(startNode({v})), start_key: startNode({v}).key, "
            f"end_labels: labels(endNode({v})), end_key: endNode({v}).key, props: {_properties(v)}}}")


# -- conversion ---------------------------------------------------------------------------------

_PLAIN = frozenset({str, int, float, bool})


def json_value(value: Any) -> Any:
    """A property value as JSON-friendly data: times and dates as ISO text, lists element-wise."""
    if type(value) in _PLAIN:  # the common case first: this runs for every property of every answer
        return value
    if isinstance(value, DateTime | Date | Time):
        return value.to_native().isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else json_value(v) for v in value]
    return value


def iso_text(text: str) -> str:
    """Neo4j's text of a time (`2024-03-01T08:00Z`) in Python's ISO form (`2024-03-01T08:00:00+00:00`)."""
    if "T" not in text:
        return text  # a date: already ISO
    return datetime.fromisoformat(_ZONE_ID.sub("", text)).isoformat()


def _shown(props: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name, value in props.items():
        if value is None or name in hidden:
            continue  # null: a time property the element does not have (Neo4j stores no nulls)
        if type(value) is str and name in TIME_PROPERTIES:
            shown[name] = iso_text(value)
        elif name in TIME_LIST_PROPERTIES and isinstance(value, list):
            shown[name] = [iso_text(v) if isinstance(v, str) else json_value(v) for v in value]
        else:
            shown[name] = json_value(value)
    return shown


def kind_of(labels: Sequence[str]) -> str:
    """The model label among a node's labels (analysis may add others beside it later)."""
    for label in labels:
        if label in KINDS:
            return label
    raise ValueError(f"node with labels {list(labels)} is not part of the graph model")


def display_label(kind: str, key: str, props: dict[str, Any]) -> str:
    if kind == Label.ACCOUNT:
        for name in ("screen_names", "display_names"):
            values = props.get(name) or []
            if values:
                return str(values[0])
        return key
    if kind == Label.PERSON:
        return str(props.get("name") or key)
    if kind == Label.PROVIDER:
        return str(props.get("name") or key)
    if kind == Label.FILE:
        algo, _, digest = key.partition(":")
        return f"{algo}:{digest[:FILE_LABEL_HEX]}…" if len(digest) > FILE_LABEL_HEX else key
    return key


def to_entity(row: dict[str, Any]) -> Entity:
    """An `Entity` from a `node_map` row."""
    props = row["props"]
    kind = kind_of(row["labels"])
    key = str(props["key"])
    return Entity(id=entity_id(kind, key), kind=kind, key=key, label=display_label(kind, key, props),
                  properties=_shown(props, _HIDDEN), sources=list(props.get("sources") or []))


def to_edge(row: dict[str, Any]) -> GraphEdge:
    """A `GraphEdge` from an `edge_map` row; direction kept as stored (source = start node)."""
    props = row["props"]
    source = entity_id(kind_of(row["start_labels"]), str(row["start_key"]))
    target = entity_id(kind_of(row["end_labels"]), str(row["end_key"]))
    return GraphEdge(id=edge_id(row["type"], source, target), kind=row["type"], source=source,
                     target=target, properties=_shown(props, _SOURCES), sources=list(props.get("sources") or []))


# -- lookup -------------------------------------------------------------------------------------

# One branch per label (the unique `key` constraint's index serves each), all in one query: a batch
# of ids of mixed kinds is one round trip. `$keys` maps a label to the keys asked for it.
_BRANCH = "UNWIND coalesce($keys.{label}, []) AS k MATCH (n:{label} {key: k}) RETURN n"
_BY_KEYS = ("CALL () { " + " UNION ALL ".join(cypher(_BRANCH, label=label) for label in Label)
            + " } RETURN " + node_map("n") + " AS node")


def fetch_nodes(ctx: GraphContext, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """`node_map` rows by entity id for the ids that exist (ids must be well-formed)."""
    keys: dict[str, list[str]] = {}
    for value in ids:
        label, key = parse_entity_id(value)
        keys.setdefault(label.value, []).append(key)
    if not keys:
        return {}
    rows = ctx.read(_BY_KEYS, keys=keys)
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        node = row["node"]
        found[entity_id(kind_of(node["labels"]), str(node["props"]["key"]))] = node
    return found


def resolve(ctx: GraphContext, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Like `fetch_nodes` but every id must exist: NotFound names the missing ones."""
    found = fetch_nodes(ctx, ids)
    missing = [value for value in ids if value not in found]
    if missing:
        shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        raise NotFound(f"no such entity: {shown}")
    return found


def get_entity(ctx: GraphContext, id: str) -> Entity:
    [value] = check_ids([id])
    return to_entity(resolve(ctx, [value])[value])


def get_entity_by_key(ctx: GraphContext, kind: str, key: str) -> Entity:
    label = check_kind(kind)
    if not isinstance(key, str) or not key.strip():
        raise BadInput("key must be a non-empty text")
    return get_entity(ctx, entity_id(label.value, key))


def get_entities(ctx: GraphContext, ids: list[str]) -> list[Entity]:
    """Entities in the order asked (repeats answered once each time asked); missing ids left out.

    For DataLoaders: one query whatever the mix of kinds.
    """
    chosen = check_ids(ids, least=0, most=LIMIT[1])
    found = fetch_nodes(ctx, chosen)
    return [to_entity(found[value]) for value in ids if value in found]
