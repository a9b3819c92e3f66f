"""Graph records for one CyberTipline report, whichever file format it arrived in.

The XML report (`loaders/cybertip.py`) and the law-enforcement JSON export
(`loaders/cybertip_json.py`) carry the same content under different names. Each parser only lifts
raw text, with the path it was found at, into a `Referral`; this module alone decides which nodes
and relationships that makes. So both formats give the same graph for the same report, and a bad
identifier is rejected the same way: one `Rejection` naming its path, the rest of the report loads.

Choices formats.md leaves open:
- A file's upload (`ipCaptureEvent` in a file) is tied, as SHARED and USED_IP, to the first
  reported account only: the provider lists the user the report is about first, and tying it to
  every reported user would invent uploads. Without a reported account the IP node is still made.
- Without any provider name the provider is ``unknown`` and account keys are scoped to the report
  (``unknown/cybertip:1:42``): user id 42 of two unknown services must not become one account.
- A Person node is made only when the reported person carries a usable value; one rejection per
  bad value (a file whose only hash was rejected is not rejected a second time for lacking one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import PurePath
from typing import Any, NamedTuple, TypeVar

from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    account_key,
    file_key,
    location_key,
    normalise_date,
    normalise_device,
    normalise_email,
    normalise_hash,
    normalise_ip,
    normalise_phone,
    normalise_provider,
    normalise_timestamp,
)
from loaders.model import HASH_STRENGTH, Edge, Label, Node, Records, Rejection, Rel

Ref = tuple[Label, str]
T = TypeVar("T")
UNKNOWN_PROVIDER = "unknown"


class Raw(NamedTuple):
    """A value as written, and where: the path a rejection of it will name."""

    path: str
    value: str


@dataclass(slots=True)
class IpCapture:
    path: str
    ip: Raw | None = None
    event: str | None = None
    time: Raw | None = None
    port: Raw | None = None
    proxy: Raw | None = None


@dataclass(slots=True)
class DeviceCapture:
    path: str
    id_type: str | None = None
    id_value: Raw | None = None
    event: str | None = None
    time: Raw | None = None


@dataclass(slots=True)
class Contact:
    """An email or phone; `calling_code` is NCMEC's countryCallingCode (phones only)."""

    raw: Raw
    verified: Raw | None = None
    calling_code: str | None = None


@dataclass(slots=True)
class AccountInfo:
    path: str
    esp_id: Raw | None = None
    service: str | None = None
    screen_names: list[Raw] = field(default_factory=list)
    display_names: list[str] = field(default_factory=list)
    profile_urls: list[str] = field(default_factory=list)
    ips: list[IpCapture] = field(default_factory=list)
    devices: list[DeviceCapture] = field(default_factory=list)
    emails: list[Contact] = field(default_factory=list)
    phones: list[Contact] = field(default_factory=list)


@dataclass(slots=True)
class PersonInfo:
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: Raw | None = None
    age: Raw | None = None
    addresses: list[str] = field(default_factory=list)
    emails: list[Contact] = field(default_factory=list)
    phones: list[Contact] = field(default_factory=list)


@dataclass(slots=True)
class LocationInfo:
    path: str
    country: str | None = None
    region: str | None = None
    city: str | None = None


@dataclass(slots=True)
class UserInfo:
    """One personOrUserReported: the person as the provider knows them and their account."""

    path: str
    person: PersonInfo = field(default_factory=PersonInfo)
    account: AccountInfo = field(init=False)
    associated: list[AccountInfo] = field(default_factory=list)
    location: LocationInfo | None = None
    prior_reports: list[Raw] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.account = AccountInfo(self.path)


@dataclass(slots=True)
class FileInfo:
    path: str
    hashes: list[tuple[str, Raw]] = field(default_factory=list)  # (algorithm as written, value)
    file_id: str | None = None
    original_file_name: str | None = None
    location_of_file: str | None = None
    industry_classification: str | None = None
    viewed_by_esp: Raw | None = None
    publicly_available: Raw | None = None
    uploaded_at: Raw | None = None
    ips: list[IpCapture] = field(default_factory=list)
    devices: list[DeviceCapture] = field(default_factory=list)


@dataclass(slots=True)
class Referral:
    """Everything gracegraph takes from one report, still as written.

    `problems` are (path, reason, value) the parser itself found (a field of the wrong JSON type);
    `extra` holds fields the format page does not name, kept on the Report as raw JSON.
    """

    report_id: str
    source_file: str
    provider: Raw | None = None
    incident_type: str | None = None
    incident_at: Raw | None = None
    received_at: Raw | None = None
    channels: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    victim_count: int = 0
    users: list[UserInfo] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str, str | None]] = field(default_factory=list)


def report_key(report_id: str) -> str:
    return f"cybertip:{report_id}"


def build_records(referral: Referral, *, provider: str | None = None,
                  default_region: str = "US") -> Records:
    """The nodes, edges and rejections of one report; never raises on bad identifiers.

    `provider` is used only when the report names none; without either the provider is
    ``unknown`` and the Report carries ``provider_unknown = true``.
    """
    return _Builder(referral, provider, default_region).build()


class _Graph:
    """Nodes and edges of one record, one per key: repeats merge as the writer would merge them."""

    def __init__(self, record: str) -> None:
        self.record = record
        self.nodes: dict[Ref, Node] = {}
        self.edges: dict[tuple[Rel, Ref, Ref], Edge] = {}

    def node(self, label: Label, key: str, props: dict[str, Any] | None = None,
             lists: dict[str, list[Any]] | None = None, times: Iterable[Any] = ()) -> Ref:
        ref = (label, key)
        if ref not in self.nodes:
            self.nodes[ref] = Node(label, key, sources=[self.record])
        _merge(self.nodes[ref], props, lists, times)
        return ref

    def edge(self, rel: Rel, start: Ref, end: Ref, props: dict[str, Any] | None = None,
             lists: dict[str, list[Any]] | None = None, times: Iterable[Any] = ()) -> None:
        ident = (rel, start, end)
        if ident not in self.edges:
            self.edges[ident] = Edge(rel, start, end, sources=[self.record])
        _merge(self.edges[ident], props, lists, times)


def _merge(item: Node | Edge, props: dict[str, Any] | None, lists: dict[str, list[Any]] | None,
           times: Iterable[Any]) -> None:
    """Neo4j stores no nulls: absent values are left out rather than written as None."""
    if props:
        item.props.update({k: v for k, v in props.items() if v is not None})
    if lists:
        for name, values in lists.items():
            for value in values:
                if value is not None:
                    kept = item.lists.setdefault(name, [])
                    if value not in kept:
                        kept.append(value)
    if times:
        kept_times = item.times
        for t in times:
            if t is not None and t not in kept_times:
                kept_times.append(t)


_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


class _Builder:
    def __init__(self, referral: Referral, provider: str | None, default_region: str) -> None:
        self.r = referral
        self.key = report_key(referral.report_id)
        self.region = default_region
        self.graph = _Graph(self.key)
        self.rejections: list[Rejection] = []
        self.assumed_utc = False
        self.reported: list[Ref] = []  # the reported users' accounts, in document order
        self.graph.node(Label.REPORT, self.key)
        for path, reason, value in referral.problems:
            self.reject(path, reason, value)
        self.provider, self.provider_unknown = self._provider(provider)
        # Without a provider, user ids of different services could collide ("12345"): scope the
        # account keys to this report rather than merge strangers under "unknown".
        self.scope = f"{UNKNOWN_PROVIDER}/{self.key}" if self.provider_unknown else self.provider

    # -- checks ----------------------------------------------------------------------------------

    def reject(self, path: str, reason: str, value: str | None = None) -> None:
        self.rejections.append(Rejection(self.r.source_file, self.key, path, reason, value))

    def norm(self, fn: Callable[[str], T], raw: Raw | None) -> T | None:
        """`fn(raw.value)`, or None with the rejection recorded."""
        if raw is None:
            return None
        try:
            return fn(raw.value)
        except InvalidIdentifier as exc:
            self.reject(raw.path, f"invalid {exc.kind}: {exc.reason}", raw.value)
            return None

    def time(self, raw: Raw | None) -> datetime | None:
        got = self.norm(normalise_timestamp, raw)
        if got is None:
            return None
        self.assumed_utc |= got[1]
        return got[0]

    def flag(self, raw: Raw | None) -> bool | None:
        if raw is None:
            return None
        text = raw.value.strip().casefold()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        self.reject(raw.path, "not a boolean (true or false)", raw.value)
        return None

    def number(self, raw: Raw | None, what: str, high: int) -> int | None:
        if raw is None:
            return None
        text = raw.value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 6 and int(text) <= high:
            return int(text)
        self.reject(raw.path, f"{what} must be a whole number from 0 to {high}", raw.value)
        return None

    # -- the report ------------------------------------------------------------------------------

    def build(self) -> Records:
        r = self.r
        incident_at = self.time(r.incident_at)
        received_at = self.time(r.received_at)
        for n, user in enumerate(r.users, 1):
            self._user(n, user)
        for info in r.files:
            self._file(info)
        props = {
            "incident_type": r.incident_type, "incident_at": incident_at,
            "received_at": received_at, "assumed_utc": self.assumed_utc,
            "channel": r.channels[0] if r.channels else None, "victim_count": r.victim_count,
            "source_file": PurePath(r.source_file).name, "provider": self.provider,
            "provider_unknown": self.provider_unknown,
            "extra_json": json.dumps(r.extra, ensure_ascii=False) if r.extra else None,
        }
        self.graph.node(Label.REPORT, self.key, props,
                        {"channels": r.channels, "urls": r.urls}, [incident_at])
        return Records(self.key, list(self.graph.nodes.values()), list(self.graph.edges.values()),
                       self.rejections)

    def _provider(self, fallback: str | None) -> tuple[str, bool]:
        candidates = [self.r.provider]
        if fallback is not None:
            candidates.append(Raw("(provider option)", fallback))
        for raw in candidates:
            key = self.norm(normalise_provider, raw)
            if raw is not None and key is not None:
                name, unknown = raw.value.strip(), False
                break
        else:
            key, name, unknown = UNKNOWN_PROVIDER, UNKNOWN_PROVIDER, True
        ref = self.graph.node(Label.PROVIDER, key, {"name": name})
        self.graph.edge(Rel.SUBMITTED_BY, (Label.REPORT, self.key), ref)
        return key, unknown

    def _user(self, n: int, user: UserInfo) -> None:
        report = (Label.REPORT, self.key)
        person = self._person(n, user.person)
        account = self._account(user.account)
        if account is not None:
            self.reported.append(account)
            self.graph.edge(Rel.REPORTS, report, account)
        if person is not None:
            self.graph.edge(Rel.REPORTS, report, person)
            if account is not None:
                self.graph.edge(Rel.USES, person, account)
        # The provider ties the person's emails and phones to the user: the account gets them too.
        owners = [ref for ref in (person, account) if ref is not None]
        self._contacts(user.person, owners)
        for assoc in user.associated:
            other = self._account(assoc)
            if other is not None and account is not None and other != account:
                self.graph.edge(Rel.ASSOCIATED_WITH, account, other)
        if user.location is not None:
            self._location(user.location, account or person)
        for raw in user.prior_reports:
            self._prior(raw)

    def _account(self, info: AccountInfo) -> Ref | None:
        ref = None
        if info.esp_id is not None or info.screen_names:
            ref = self._account_node(info)
        times = [self._ip(cap, ref) for cap in info.ips]
        times += [self._device(dev, ref) for dev in info.devices]
        if ref is not None:
            self.graph.node(*ref, times=times)
        # Like an IP without an account, a contact point still becomes a (sourced) node.
        owners = [] if ref is None else [ref]
        self._contacts(PersonInfo(emails=info.emails, phones=info.phones), owners)
        return ref

    def _account_node(self, info: AccountInfo) -> Ref | None:
        key = esp_id = None
        if info.esp_id is not None:
            key = self.norm(lambda v: account_key(self.scope, v, None), info.esp_id)
            esp_id = info.esp_id.value.strip() if key is not None else None
        if key is None and info.screen_names:
            key = self.norm(lambda v: account_key(self.scope, None, v), info.screen_names[0])
        if key is None:
            return None
        props = {"provider": self.provider, "esp_id": esp_id, "service": info.service}
        lists = {"screen_names": [raw.value.strip() for raw in info.screen_names],
                 "display_names": info.display_names, "profile_urls": info.profile_urls}
        return self.graph.node(Label.ACCOUNT, key, props, lists)

    def _person(self, n: int, info: PersonInfo) -> Ref | None:
        names = [part for part in (info.first_name, info.last_name) if part]
        props = {
            "first_name": info.first_name, "last_name": info.last_name,
            "name": " ".join(names) if names else None,
            "date_of_birth": self.norm(normalise_date, info.date_of_birth),
            "age": self.number(info.age, "age", 150),
            "address": "; ".join(info.addresses) if info.addresses else None,
        }
        if all(v is None for v in props.values()) and not self._any_valid_contact(info):
            return None
        return self.graph.node(Label.PERSON, f"{self.key}/person/{n}", props)

    def _any_valid_contact(self, info: PersonInfo) -> bool:
        """Whether a Person without other data still has a contact point worth a node."""
        for contact in info.emails:
            try:
                normalise_email(contact.raw.value)
                return True
            except InvalidIdentifier:
                continue  # rejected (with its path) when the contacts are built
        for contact in info.phones:
            try:
                normalise_phone(contact.raw.value, self.region, contact.calling_code)
                return True
            except InvalidIdentifier:
                continue
        return False

    def _contacts(self, info: PersonInfo, owners: list[Ref]) -> None:
        for contact in info.emails:
            email = self.norm(normalise_email, contact.raw)
            verified = self.flag(contact.verified)
            if email is None:
                continue
            ref = self.graph.node(Label.EMAIL, email.key, {"canonical": email.canonical})
            for owner in owners:
                self.graph.edge(Rel.HAS_EMAIL, owner, ref, {"verified": verified})
        for contact in info.phones:
            phone = self.norm(partial(normalise_phone, default_region=self.region,
                                      calling_code=contact.calling_code), contact.raw)
            verified = self.flag(contact.verified)
            if phone is None:
                continue
            ref = self.graph.node(Label.PHONE, phone)
            for owner in owners:
                self.graph.edge(Rel.HAS_PHONE, owner, ref, {"verified": verified})

    def _ip(self, cap: IpCapture, owner: Ref | None) -> datetime | None:
        """The IP node (even without an account to tie it to) and the USED_IP edge; its time."""
        when = self.time(cap.time)
        port = self.number(cap.port, "port", 65535)
        proxy = self.flag(cap.proxy)
        if cap.ip is None:
            self.reject(cap.path, "IP capture without an address")
            return when
        ip = self.norm(normalise_ip, cap.ip)
        if ip is not None:
            ref = self.graph.node(Label.IP, ip.key, {"kind": ip.kind}, times=[when])
            if owner is not None:
                self.graph.edge(Rel.USED_IP, owner, ref, {"possible_proxy": proxy},
                                {"events": [cap.event], "ports": [port]}, [when])
        return when

    def _device(self, dev: DeviceCapture, owner: Ref | None) -> datetime | None:
        when = self.time(dev.time)
        if dev.id_value is None:
            self.reject(dev.path, "device capture without an idValue")
            return when
        id_type = dev.id_type or "other"
        key = self.norm(lambda v: normalise_device(id_type, v), dev.id_value)
        if key is not None:
            ref = self.graph.node(Label.DEVICE, key, {"type": key.split(":", 1)[0]}, times=[when])
            if owner is not None:
                self.graph.edge(Rel.USED_DEVICE, owner, ref, None, {"events": [dev.event]},
                                [when])
        return when

    def _location(self, loc: LocationInfo, owner: Ref | None) -> None:
        if not (loc.country or loc.region or loc.city):
            return
        shown = "/".join(part or "" for part in (loc.country, loc.region, loc.city))
        key = self.norm(lambda _: location_key(loc.country, loc.region, loc.city),
                        Raw(loc.path, shown))
        if key is None:
            return
        ref = self.graph.node(Label.LOCATION, key,
                              {"country": loc.country, "region": loc.region, "city": loc.city})
        if owner is not None:
            self.graph.edge(Rel.LOCATED_IN, owner, ref)

    def _prior(self, raw: Raw) -> None:
        other = raw.value.strip()
        if other == self.r.report_id:
            self.reject(raw.path, "report names itself as a prior report", raw.value)
            return
        ref = self.graph.node(Label.REPORT, report_key(other))
        self.graph.edge(Rel.RELATED_TO, (Label.REPORT, self.key), ref)

    # -- files -----------------------------------------------------------------------------------

    def _file(self, info: FileInfo) -> None:
        rejected_before = len(self.rejections)
        hashes = self._hashes(info)
        hash_rejected = len(self.rejections) > rejected_before
        uploaded_at = self.time(info.uploaded_at)
        # A file upload is tied to the reported user; with several, the first one (the provider
        # lists the user the report is about first) - the others are left untied, not guessed.
        owner = self.reported[0] if self.reported else None
        shared = [(cap, self._ip(cap, owner)) for cap in info.ips]
        device_times = [self._device(dev, owner) for dev in info.devices]
        if owner is not None:
            self.graph.node(*owner, times=[t for _, t in shared] + device_times)
        if not any(algo in hashes for algo in HASH_STRENGTH):
            if hash_rejected:  # that rejection already says why the file is missing
                return
            self.reject(info.path, "no cryptographic hash (md5, sha1 or sha256): file not loaded",
                        ", ".join(f"{a}:{v}" for a, v in hashes.items()) or None)
            return
        try:
            key = file_key(hashes)
        except InvalidIdentifier as exc:  # every value was checked above; kept for safety
            self.reject(info.path, f"invalid {exc.kind}: {exc.reason}")
            return
        ref = self.graph.node(Label.FILE, key, dict(hashes),
                              times=[uploaded_at, *(t for _, t in shared)])
        self.graph.edge(Rel.INCLUDES, (Label.REPORT, self.key), ref, {
            "file_id": info.file_id, "original_file_name": info.original_file_name,
            "location_of_file": info.location_of_file,
            "file_viewed_by_esp": self.flag(info.viewed_by_esp),
            "publicly_available": self.flag(info.publicly_available),
            "industry_classification": info.industry_classification,
            "uploaded_at": uploaded_at,
        })
        if owner is not None:
            for _, when in shared:
                self.graph.edge(Rel.SHARED, owner, ref, times=[when or uploaded_at])

    def _hashes(self, info: FileInfo) -> dict[str, str]:
        hashes: dict[str, str] = {}
        for algo, raw in info.hashes:
            got = self.norm(partial(normalise_hash, algo), raw)
            if got is None:
                continue
            name, value = got
            if hashes.setdefault(name, value) != value:
                self.reject(raw.path, f"a second, different {name} for the same file", raw.value)
        return hashes
