"""Tallies, while the XML is written, the nodes and relationships a correct loader must create.

Keys come from the shared normalisers applied to the exact text written, so the tally and the
loader agree on what is one node; *which* elements make nodes and edges is the generator's own
reading of formats.md, not the parser's. Files are tallied per invented file (not per key), since
the loader joins a file written with MD5 only to the node that also has its SHA1.

Keys are computed by a fast path that knows how our own values are spelled (the normalisers'
validation, IDNA and phonenumbers parsing were a third of the run time at 100k reports); every
16th new value of each kind, and the first, is checked against the real normaliser, and any
difference stops the run. The parser test then compares every key, through the counts.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    location_key,
    normalise_device,
    normalise_email,
    normalise_hash,
    normalise_ip,
    normalise_phone,
)
from loaders.model import Label, Rel
from loaders.synthetic.entities import FileSpec

#: Every this-many new values of a kind, the fast key is compared with the normaliser's.
SPOT_CHECK = 16
_DEVICE_TYPES = {"imei": "imei", "gaid": "gaid", "google advertising id": "gaid",
                 "idfa": "idfa", "advertising id": "idfa"}


class _Keys:
    """Key of each raw value of one kind: fast path, cached, spot-checked against the normaliser."""

    def __init__(self, kind: str, fast: Callable[[Any], str], slow: Callable[[Any], str]) -> None:
        self.kind, self.fast, self.slow = kind, fast, slow
        self.cache: dict[Hashable, str] = {}

    def __call__(self, raw: Any) -> str:
        key = self.cache.get(raw)
        if key is None:
            key = self.fast(raw)
            if len(self.cache) % SPOT_CHECK == 0 and self.slow(raw) != key:
                raise AssertionError(f"{self.kind} {raw!r}: the normaliser no longer gives {key!r}")
            self.cache[raw] = key
        return key


def _fast_device(raw: tuple[str, str]) -> str:
    kind = _DEVICE_TYPES[raw[0].casefold()]
    return f"{kind}:{raw[1].replace('-', '')}" if kind == "imei" else f"{kind}:{raw[1].lower()}"


def _fast_phone(raw: tuple[str, str | None, str, str]) -> str:
    return ("+1" if raw[2] == "US" else "+44") + raw[3]


class Ledger:
    """Distinct (label, key) nodes and distinct (type, start, end) relationships, as small ints."""

    def __init__(self) -> None:
        self._ids: dict[tuple[Label, str], int] = {}
        self.nodes: Counter[Label] = Counter()
        self.edges: dict[Rel, set[int]] = {}
        #: Every valid address use: ip key -> [(seconds after BASE, account key)], in write order.
        self.ip_events: dict[str, list[tuple[int, str]]] = {}
        self.email_key = _Keys("email", lambda r: r.strip().lower(),
                               lambda r: normalise_email(r).key)
        self.phone_key = _Keys("phone", _fast_phone,
                               lambda r: normalise_phone(r[0], "US", r[1]))
        self.ip_key = _Keys("ip", lambda r: r if ":" not in r else str(ipaddress.IPv6Address(r)),
                            lambda r: normalise_ip(r).key)
        self.device_key = _Keys("device", _fast_device, lambda r: normalise_device(*r))
        self.location_key = _Keys("location", lambda r: location_key(*r),
                                  lambda r: location_key(*r))

    def node(self, label: Label, key: str) -> int:
        ref = (label, key)
        found = self._ids.get(ref)
        if found is None:
            found = self._ids[ref] = len(self._ids)
            self.nodes[label] += 1
        return found

    def edge(self, rel: Rel, start: int, end: int) -> None:
        self.edges.setdefault(rel, set()).add(start << 32 | end)

    def file(self, spec: FileSpec, algos: tuple[str, ...]) -> int:
        for algo in algos:
            if algo not in spec.seen:
                spec.seen.append(algo)
        return self.node(Label.FILE, f"#{spec.seq}")

    def email(self, raw: str) -> int:
        return self.node(Label.EMAIL, self.email_key(raw))

    def phone(self, raw: str, calling_code: str | None, number: tuple[str, str]) -> int:
        """`number` is the (country, national digits) the text was made from."""
        return self.node(Label.PHONE, self.phone_key((raw, calling_code, *number)))

    def ip(self, canonical: str, time: int, account: str) -> int:
        """Keyed from the address's canonical text: the upper-case and zero-padded IPv6 spellings
        the renderer writes are the same address."""
        key = self.ip_key(canonical)
        self.ip_events.setdefault(key, []).append((time, account))
        return self.node(Label.IP, key)

    def device(self, id_type: str, raw: str) -> int:
        return self.node(Label.DEVICE, self.device_key((id_type, raw)))

    def location(self, place: tuple[str, str, str | None]) -> int:
        return self.node(Label.LOCATION, self.location_key(place))

    @staticmethod
    def must_reject(kind: str, value: str) -> None:
        """A planted bad identifier that normalises would be scored as rejected but load: refuse."""
        try:
            if kind == "ip":
                normalise_ip(value)
            elif kind == "imei":
                normalise_device("IMEI", value)
            else:
                normalise_hash("md5", value)
        except InvalidIdentifier:
            return
        raise AssertionError(f"planted invalid {kind} {value!r} is accepted by the normaliser")

    def counts(self) -> dict[str, dict[str, int]]:
        labels = (Label.REPORT, Label.PROVIDER, Label.ACCOUNT, Label.PERSON, Label.EMAIL,
                  Label.PHONE, Label.IP, Label.DEVICE, Label.FILE, Label.LOCATION)
        rels = (Rel.SUBMITTED_BY, Rel.REPORTS, Rel.USES, Rel.HAS_EMAIL, Rel.HAS_PHONE,
                Rel.USED_IP, Rel.USED_DEVICE, Rel.SHARED, Rel.INCLUDES, Rel.LOCATED_IN,
                Rel.ASSOCIATED_WITH, Rel.RELATED_TO)
        return {
            "nodes": {str(label): self.nodes[label] for label in labels},
            "relationships": {str(rel): len(self.edges.get(rel, ())) for rel in rels},
        }
