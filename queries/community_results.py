"""What the community questions return: plain dataclasses, the GraphQL layer converts them.

A community's `id` is its key, `<run>:<number>` (number 0 is the run's largest community); as an
entity it is `Community:<run>:<number>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from queries.results import Entity


@dataclass(slots=True)
class CommunityRun:
    """One run: what ran on what, and what came out; kept until deleted."""

    run: str
    algorithm: str
    engine: str  # local (igraph/leidenalg, networkx) or gds (the server's Graph Data Science)
    parameters: dict[str, Any]  # the method: quality, resolution, seed
    projection: dict[str, Any]  # how the account graph was made, what it held and what it left out
    created_at: str  # ISO time, UTC
    accounts: int  # vertices of the projection (accounts with at least one tie)
    edges: int
    communities: int  # communities written (of at least min_size members)
    placed: int  # accounts written as members
    min_size: int
    seconds: dict[str, float] = field(default_factory=dict)  # project, detect, write
    status: str = "done"  # "writing" while results are being written (or if that failed)


@dataclass(slots=True)
class CommunitySummary:
    id: str
    run: str
    number: int
    size: int
    edges: int  # ties between members
    weight: float  # summed weight of those ties
    density: float  # ties over possible pairs of members
    reports: int  # reports naming a member
    providers: int
    known_files: int  # files marked known by a hash set, held by a member


@dataclass(slots=True)
class Member:
    entity: Entity
    rank: float  # PageRank within the community (the members' ranks sum to 1)


@dataclass(slots=True)
class NamedCount:
    name: str
    count: int


@dataclass(slots=True)
class KnownFile:
    entity: Entity
    categories: list[str]
    holders: int  # members who hold it


@dataclass(slots=True)
class CaseTouch:
    case: Entity
    agency: str | None
    reports: int  # of the community's reports filed under it


@dataclass(slots=True)
class BindingIdentifier:
    """An identifier two or more members share: the evidence that holds the community together."""

    entity: Entity
    holders: int  # members holding it
    degree: int  # accounts holding it in the whole graph
    weight: float | None  # what each pair of holders gets from it; None when the projection left it out
    excluded: str | None  # why the projection left it out (supernode, degree, ip kind …), if it did
    sources: list[str]  # report keys of the ties between it and the members


@dataclass(slots=True)
class CommunityDetail:
    summary: CommunitySummary
    members: list[Member]  # by rank, highest first, at most the asked limit
    central: list[Member]  # the highest ranks
    reports: list[Entity]  # newest first, at most the asked limit (summary.reports has the count)
    providers: list[NamedCount]
    known_files: list[KnownFile]
    categories: list[NamedCount]
    cases: list[CaseTouch]
    binding: list[BindingIdentifier]


@dataclass(slots=True)
class CommunityChange:
    """How communities of one run became those of a later run (queries/community_changes.py)."""

    kind: str  # APPEARED, VANISHED, GREW, SHRANK, STABLE, MERGED, SPLIT
    before: list[str]  # community ids in the earlier run
    after: list[str]  # community ids in the later run
    size_before: int
    size_after: int
    jaccard: float  # of the members of `before` and `after` taken together
    joined: int  # members of `after` in none of `before`
    left: int  # members of `before` in none of `after`
