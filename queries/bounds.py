"""What a caller may ask: sizes, depths, kinds and ids checked before any Cypher runs.

The API bounds its queries too, but these checks sit in the query layer so a notebook or the CLI
cannot ask for a depth-9 expansion either; every refusal is a `BadInput` naming the argument.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from loaders.model import Label
from queries.errors import BadInput
from queries.results import KINDS, parse_entity_id

MAX_IDS = 100
DEPTH = (1, 3)
MAX_HOPS = (1, 6)
LIMIT = (1, 2000)
FIRST = (1, 500)


def check_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return value


def check_kinds(kinds: Iterable[str] | None) -> list[str] | None:
    """The kinds as Label values (None: every kind); an unknown kind is refused, not ignored."""
    if kinds is None:
        return None
    chosen = list(dict.fromkeys(kinds))
    unknown = [k for k in chosen if k not in KINDS]
    if unknown:
        raise BadInput(f"unknown kind(s) {', '.join(map(repr, unknown))}; known: {', '.join(KINDS)}")
    if not chosen:
        raise BadInput("kinds, when given, must name at least one kind")
    return chosen


def check_kind(kind: str) -> Label:
    try:
        return Label(kind)
    except ValueError:
        raise BadInput(f"unknown kind {kind!r}; known: {', '.join(KINDS)}") from None


def check_ids(ids: Iterable[str], *, least: int = 1, most: int = MAX_IDS) -> list[str]:
    """Distinct, well-formed entity ids in the order given."""
    if isinstance(ids, str):
        raise BadInput("ids must be a list of entity ids, not one text")
    chosen = list(dict.fromkeys(ids))
    if len(chosen) > most:
        raise BadInput(f"at most {most} ids per question, not {len(chosen)}")
    if len(chosen) < least:
        raise BadInput(f"give at least {least} distinct id(s)")
    for value in chosen:
        parse_entity_id(value)
    return chosen


def as_utc(value: datetime | None, name: str) -> datetime | None:
    """A moment comparable with the graph's UTC times; a time without an offset is taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise BadInput(f"{name} must be a date and time, not {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
