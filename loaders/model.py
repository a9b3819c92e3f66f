"""The graph model as data: labels, relationship types and the records parsers hand to the writer.

Every other module reads labels and relationship types from here instead of spelling them out, so
the model can be checked (and later migrated) in one place. Parsers produce `Records`; the writer
is the only code that turns them into Cypher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Label(StrEnum):
    REPORT = "Report"
    PROVIDER = "Provider"
    ACCOUNT = "Account"
    EMAIL = "Email"
    PHONE = "Phone"
    IP = "IP"
    DEVICE = "Device"
    FILE = "File"
    PERSON = "Person"
    IDENTITY = "Identity"
    RESOLUTION_RUN = "ResolutionRun"
    CASE = "Case"
    AGENCY = "Agency"
    LOCATION = "Location"
    HASHSET = "HashSet"
    COMMUNITY = "Community"
    COMMUNITY_RUN = "CommunityRun"
    CHART = "Chart"  # a saved link chart of a case (queries/charts.py), versioned
    LOAD_RUN = "LoadRun"  # one `gracegraph load` and the hashes of the files it finished (loaders/load_runs.py)


class Rel(StrEnum):
    SUBMITTED_BY = "SUBMITTED_BY"
    REPORTS = "REPORTS"
    USES = "USES"
    HAS_EMAIL = "HAS_EMAIL"
    HAS_PHONE = "HAS_PHONE"
    USED_IP = "USED_IP"
    USED_DEVICE = "USED_DEVICE"
    SHARED = "SHARED"
    INCLUDES = "INCLUDES"
    LISTED_IN = "LISTED_IN"
    LOCATED_IN = "LOCATED_IN"
    PART_OF = "PART_OF"
    OWNED_BY = "OWNED_BY"
    SAME_AS = "SAME_AS"
    MEMBER_OF = "MEMBER_OF"
    ASSOCIATED_WITH = "ASSOCIATED_WITH"
    RELATED_TO = "RELATED_TO"
    FILED_IN = "FILED_IN"  # (Chart)-[:FILED_IN]->(Case)
    REVISES = "REVISES"  # (Chart version n)-[:REVISES]->(Chart version n-1)


L = Label
#: Which labels each relationship type may join (start labels, end labels). The writer refuses
#: anything else, so a parser bug cannot invent a new shape of graph.
ENDPOINTS: dict[Rel, tuple[frozenset[Label], frozenset[Label]]] = {
    Rel.SUBMITTED_BY: (frozenset({L.REPORT}), frozenset({L.PROVIDER})),
    Rel.REPORTS: (frozenset({L.REPORT}), frozenset({L.ACCOUNT, L.PERSON})),
    Rel.USES: (frozenset({L.PERSON}), frozenset({L.ACCOUNT})),
    Rel.HAS_EMAIL: (frozenset({L.ACCOUNT, L.PERSON}), frozenset({L.EMAIL})),
    Rel.HAS_PHONE: (frozenset({L.ACCOUNT, L.PERSON}), frozenset({L.PHONE})),
    Rel.USED_IP: (frozenset({L.ACCOUNT}), frozenset({L.IP})),
    Rel.USED_DEVICE: (frozenset({L.ACCOUNT}), frozenset({L.DEVICE})),
    Rel.SHARED: (frozenset({L.ACCOUNT}), frozenset({L.FILE})),
    Rel.INCLUDES: (frozenset({L.REPORT, L.IDENTITY}), frozenset({L.FILE, L.ACCOUNT, L.PERSON})),
    Rel.LISTED_IN: (frozenset({L.FILE}), frozenset({L.HASHSET})),
    Rel.LOCATED_IN: (frozenset({L.IP, L.ACCOUNT, L.PERSON}), frozenset({L.LOCATION})),
    Rel.PART_OF: (frozenset({L.REPORT}), frozenset({L.CASE})),
    Rel.OWNED_BY: (frozenset({L.CASE}), frozenset({L.AGENCY})),
    Rel.SAME_AS: (frozenset({L.ACCOUNT, L.PERSON}), frozenset({L.ACCOUNT, L.PERSON})),
    Rel.MEMBER_OF: (frozenset({L.ACCOUNT, L.IDENTITY}), frozenset({L.COMMUNITY})),
    Rel.ASSOCIATED_WITH: (frozenset({L.ACCOUNT}), frozenset({L.ACCOUNT})),
    Rel.RELATED_TO: (frozenset({L.REPORT}), frozenset({L.REPORT})),
    Rel.FILED_IN: (frozenset({L.CHART}), frozenset({L.CASE})),
    Rel.REVISES: (frozenset({L.CHART}), frozenset({L.CHART})),
}

#: Labels the loaders write (Identity, Community and the like are made by analysis, not loaded).
LOADED_LABELS: tuple[Label, ...] = (
    L.REPORT, L.PROVIDER, L.ACCOUNT, L.EMAIL, L.PHONE, L.IP, L.DEVICE, L.FILE, L.PERSON,
    L.CASE, L.AGENCY, L.LOCATION, L.HASHSET,
)

#: Relationships whose moments are kept paired with the record that saw each one, as `uses`
#: (`"<ISO time>|<record key>"`): `times` and `sources` alone are two unions that lose which report
#: saw which moment, and time-windowed co-use (queries/cousage.py) must name the reports of a match.
PAIRED_TIMES: frozenset[Rel] = frozenset({Rel.USED_IP, Rel.USED_DEVICE, Rel.SHARED})
USE_SEPARATOR = "|"


def use_stamp(moment: datetime, source: str) -> str:
    """One use as stored in a relationship's `uses` list: the moment (UTC, ISO) and its record."""
    return f"{moment.isoformat()}{USE_SEPARATOR}{source}"


def parse_use_stamp(stamp: str) -> tuple[datetime, str]:
    """The moment and record key of a `uses` entry (the time never holds the separator)."""
    moment, _, source = stamp.partition(USE_SEPARATOR)
    return datetime.fromisoformat(moment), source


#: Hash algorithms in order of strength: a File's key uses the strongest it has.
HASH_STRENGTH: tuple[str, ...] = ("sha256", "sha1", "md5")

Value = Any  # str | int | float | bool | datetime | date, or a list of one of these


@dataclass(slots=True)
class Node:
    """One node as a parser saw it in one record.

    `props` are scalars (a later record overwrites an earlier one's value); `lists` keep every value
    ever seen (screen names, display names, URLs...). `sources` are the keys of the records the node
    rests on (report keys such as ``cybertip:123``); `times` are the moments it was seen, from which
    the writer keeps ``first_seen`` and ``last_seen``.
    """

    label: Label
    key: str
    props: dict[str, Value] = field(default_factory=dict)
    lists: dict[str, list[Value]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)


@dataclass(slots=True)
class Edge:
    """One relationship as seen in one record; the writer keeps one per (type, start, end).

    `times` become the relationship's ``times`` list (every distinct moment, sorted) plus
    ``first_seen``/``last_seen``; `lists` are unioned like a node's (``events`` of an IP capture).
    """

    type: Rel
    start: tuple[Label, str]
    end: tuple[Label, str]
    props: dict[str, Value] = field(default_factory=dict)
    lists: dict[str, list[Value]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)


@dataclass(slots=True)
class Rejection:
    """Something in the input that was refused, with enough to find it again in the file."""

    file: str
    record: str
    path: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: record {self.record}" + (f" at {self.path}" if self.path else "")
        shown = "" if self.value is None else f" ({self.value[:80]!r})"
        return f"{where}: {self.reason}{shown}"


@dataclass(slots=True)
class Records:
    """What a parser yields per input record (a report, a table row, a hash-set entry)."""

    record: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def node(self, label: Label, key: str, **props: Value) -> tuple[Label, str]:
        """Add a node sourced from this record and return its reference for edges."""
        self.nodes.append(Node(label, key, {k: v for k, v in props.items() if v is not None},
                               sources=[self.record]))
        return (label, key)


def cypher(template: str, **names: Label | Rel) -> str:
    """Put labels or relationship types into Cypher text, from the model's allow-list only.

    Cypher cannot take a label as a parameter, so the few queries that vary by label are written
    with `{label}`-style slots and filled here; anything that is not a `Label`/`Rel` member is
    refused, so user input can never reach query text this way.
    """
    for name, value in names.items():
        if not isinstance(value, Label | Rel):
            raise TypeError(f"{name} must be a Label or Rel from the model, not {value!r}")
        template = template.replace("{" + name + "}", value.value)
    return template
