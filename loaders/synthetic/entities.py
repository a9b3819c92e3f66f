"""The generator's ground truth: who really exists behind the reports it writes.

A `Human` owns `Account`s; `ReportSpec`s say which account was reported when, with which addresses,
devices and files. The XML is rendered from these and the truth is computed from them, so both
always describe the same world. Times are whole seconds after `BASE` (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from loaders.identifiers import account_key, normalise_provider

BASE = datetime(2024, 1, 1, tzinfo=UTC)
DAY = 86_400
YEAR = 366 * DAY  # 2024 is a leap year


@dataclass(eq=False, slots=True)
class Provider:
    """A reporting service; every spelling must normalise to one key (checked at construction)."""

    spellings: tuple[str, ...]
    services: tuple[str, ...]
    domain: str
    gives_ids: bool  # False: the provider sends no espIdentifier, accounts are keyed by handle
    key: str = ""

    def __post_init__(self) -> None:
        keys = {normalise_provider(s) for s in self.spellings}
        if len(keys) != 1:
            raise ValueError(f"provider spellings disagree: {sorted(keys)}")
        self.key = keys.pop()
        if account_key(self.key, "1", None) != f"{self.key}:1":
            raise ValueError("account_key no longer gives <provider>:<id>; update the generator")


PROVIDERS = (
    Provider(("Example Social, Inc.", "EXAMPLE SOCIAL, INC.", "Example  Social, Inc"),
             ("Feed", "Messenger"), "social.example", True),
    Provider(("Chatterbox Messaging LLC", "chatterbox messaging llc"), ("Chat",),
             "chatterbox.example", True),
    Provider(("PixelShare Ltd.", "Pixelshare Ltd"), ("Photos", "Stories"), "pixelshare.example",
             True),
    Provider(("Fictional Cloud Storage Co.", "FICTIONAL CLOUD STORAGE CO"), ("Drive",),
             "cloud.example", True),
    Provider(("Demo Video GmbH",), ("Video", "Live"), "video.example", True),
    Provider(("Sample Gaming Network", "Sample Gaming Network."), ("Lobby", "Voice"),
             "games.example", True),
    Provider(("Placeholder Chat",), ("Rooms",), "placeholder-chat.example", False),
    Provider(("Mock Mail Services",), ("Mail",), "mail.example", True),
)

LOCATIONS = (
    ("US", "California", "Los Angeles"), ("US", "Texas", "Austin"), ("US", "New York", "Buffalo"),
    ("US", "Ohio", None), ("GB", "England", "Leeds"), ("GB", "Scotland", "Glasgow"),
    ("DE", "Bavaria", "Munich"), ("CA", "Ontario", "Toronto"), ("AU", "Victoria", "Melbourne"),
    ("NL", "North Holland", "Haarlem"), ("us", "california", "los angeles"),
)

INCIDENT_TYPES = (
    "Child Pornography (possession, manufacture, and distribution)",
    "Online Enticement of Children for Sexual Acts",
    "Unsolicited Obscene Material Sent to a Child",
    "Misleading Words or Digital Images on the Internet",
)

VPN_PROVIDERS = ("ExampleVPN", "MockTunnel", "PlaceholderProxy")


@dataclass(eq=False, slots=True)
class Human:
    """A real (invented) person; `kind` is network | person | household | noise."""

    id: str
    kind: str
    first: str
    last: str
    handle: tuple[str, str]
    dob: date
    shares: tuple[str, ...] = ()  # what ties a multi-account person's accounts together
    phone: tuple[str, str] | None = None
    device: tuple[str, str] | None = None
    home_ip: str | None = None
    location: tuple[str, str, str | None] | None = None
    accounts: list[Account] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Account:
    human: Human
    provider: Provider
    esp_id: str | None
    screen_names: list[str]
    display_names: list[str]
    email: str | None
    phone: tuple[str, str] | None
    devices: list[tuple[str, str]]
    ips: list[str]
    key: str = ""
    reported: bool = True  # False: only ever named as another account's associatedAccount
    associated: list[Account] = field(default_factory=list)
    network: str | None = None
    report_ids: list[str] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class FileSpec:
    """One invented file; `seen` lists the algorithms any report wrote for it (a set in spirit)."""

    seq: int
    md5: str
    sha1: str
    sha256: str
    kind: str  # network | popular | noise
    seen: list[str] = field(default_factory=list)

    def hash(self, algo: str) -> str:
        return {"md5": self.md5, "sha1": self.sha1, "sha256": self.sha256}[algo]


@dataclass(slots=True)
class IpUse:
    """An address seen at a time; `ip` is the canonical text, `kind` how it was planted."""

    ip: str
    time: int
    event: str
    kind: str  # own | network | cgnat | vpn | invalid


@dataclass(slots=True)
class DeviceUse:
    id_type: str
    value: str
    time: int
    valid: bool = True


@dataclass(slots=True)
class FileUse:
    """A file in a report: which hashes it was written with, and the upload address if given."""

    file: FileSpec | None
    algos: tuple[str, ...]
    upload: IpUse | None
    name: str
    bad_hash: str | None = None  # a planted malformed MD5 instead of a real file


@dataclass(eq=False, slots=True)
class Subject:
    """One personOrUserReported block."""

    account: Account
    person: bool
    ip_uses: list[IpUse]
    device_uses: list[DeviceUse]
    location: bool
    associated: list[Account]
    priors: list[str] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class ReportSpec:
    seq: int
    time: int
    provider: Provider
    subjects: list[Subject]
    files: list[FileUse]
    incident_type: str
    victim: bool
    id: str = ""

    @property
    def key(self) -> str:
        return f"cybertip:{self.id}"


@dataclass(eq=False, slots=True)
class Network:
    id: str
    accounts: list[Account]
    files: list[FileSpec]
    ips: list[str]
    reports: list[ReportSpec] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Household:
    device: tuple[str, str]
    humans: list[Human]
