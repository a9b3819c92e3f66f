"""What queries return: plain dataclasses with their evidence; the GraphQL layer only converts.

An entity's `id` is `<Label>:<key>` (e.g. `Account:acme:u1`, `IP:2001:db8::1`): stable across
reloads (unlike Neo4j's element ids), readable in a case file, and split at the first colon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
class Skipped:
    """A supernode an analysis did not pass through or count (queries/supernodes.py)."""

    id: str
    reason: str  # provider | exit_list | cgnat | degree | spread
    degree: int  # distinct accounts using it (a provider: reports it submitted)


@dataclass(slots=True)
class Subgraph:
    nodes: list[Entity] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    truncated: bool = False  # a limit cut the answer: say so rather than look complete
    skipped: list[Skipped] = field(default_factory=list)  # hubs next to the answer, not expanded


@dataclass(slots=True)
class Page:
    """A cursor page: `end_cursor` goes back as `after` to get the next one."""

    items: list[Any]
    end_cursor: str | None
    has_next_page: bool


KINDS: tuple[str, ...] = tuple(label.value for label in Label)
REL_KINDS: tuple[str, ...] = tuple(rel.value for rel in Rel)


@dataclass(slots=True)
class SearchHit:
    entity: Entity
    score: float  # 0..1, higher is better; how it is made: queries/search.py
    matched: str  # the name, handle or key of the entity that the text matched best


@dataclass(slots=True)
class Path:
    """One path, nodes in order from the first entity asked to the second; edges[i] joins nodes[i], nodes[i+1]."""

    nodes: list[Entity]
    edges: list[GraphEdge]


@dataclass(slots=True)
class PathSet:
    paths: list[Path] = field(default_factory=list)
    length: int | None = None  # hops of every path here; None when no path within the bound
    truncated: bool = False  # more shortest paths exist than were returned
    skipped: list[Skipped] = field(default_factory=list)  # hubs the paths were not allowed through


@dataclass(slots=True)
class SharedIdentifier:
    entity: Entity
    holders: list[str]  # ids of the entities asked about that have it
    sources: list[str]  # report keys of the relationships that tie it to them


@dataclass(slots=True)
class SharedEvidence:
    """What several entities have in common, and the scored links among the accounts asked about."""

    identifiers: list[SharedIdentifier]
    links: list[Link]
    skipped: list[Skipped]  # shared identifiers that are supernodes: listed above, not counted as links


@dataclass(slots=True)
class CoUseMatch:
    """Two accounts' uses of one address or device, `gap_s` apart; a_* belongs to the link's `a`."""

    a_time: datetime
    b_time: datetime
    a_report: str | None
    b_report: str | None
    gap_s: float


@dataclass(slots=True)
class LinkEvidence:
    """One piece of what ties two accounts, and its share of the link's score.

    `contribution` = `weight` x `rarity` x `proximity` x `support` (docs/analysis.md), and a link's
    score is the sum of its evidence's contributions.
    """

    kind: str  # provider_tie | co_reported | device | phone | email | email_variant | file | ip
    key: str  # the shared identifier's key (a mailbox for email_variant, a report key for co_reported)
    entities: list[str]  # ids of the graph nodes it rests on (the IP, the two Email nodes, the report)
    reports: list[str]  # report keys it rests on
    times: list[datetime]  # the matched moments (co-use evidence), oldest first
    co_uses: list[CoUseMatch]  # closest first, at most MAX_CO_USES (co_use_count has them all)
    co_use_count: int
    holders: int  # distinct accounts sharing the identifier (its degree)
    weight: float
    rarity: float
    proximity: float
    support: float
    contribution: float


@dataclass(slots=True)
class Link:
    a: str  # account ids, a < b
    b: str
    score: float  # sum of the evidence's contributions
    evidence: list[LinkEvidence]  # strongest first


@dataclass(slots=True)
class LinkSet:
    links: list[Link]  # strongest first
    skipped: list[Skipped]  # supernodes the account uses, not counted as evidence
    truncated: bool = False


@dataclass(slots=True)
class TimelineEvent:
    at: datetime
    kind: str  # the relationship type (USED_IP, SHARED...) or REPORTED, INCLUDED, INCIDENT, RECEIVED...
    description: str
    entity: str  # the entity whose timeline this is
    related: str | None  # the other entity of the event, if any
    sources: list[str]


@dataclass(slots=True)
class ReportView:
    entity: Entity
    contents: Subgraph  # the report and what it names: every element whose sources include it


@dataclass(slots=True)
class CaseView:
    entity: Entity
    reports: Page  # of Entity, oldest incident first
