"""What gets blinded: an identifier's kind and its normalised key, and for an IP address the hour.

A token's text is `kind \\x1f key` (`\\x1f` never occurs in a normalised key), so the same key under
two kinds never meets, and the hash to the group is domain-separated by kind. An IP address is only
evidence together with the time of its use, so its token adds a time bucket (`federation_ip_bucket_s`
wide): `ip \\x1f 198.18.0.7 \\x1f 492811`. The side that holds data (the responder) blinds each use
in its own bucket; the side that asks blinds its bucket and both neighbours, so uses at 10:59 and
11:01 meet: two uses less than one bucket apart always match, and none more than two apart ever do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Kinds that federate. Accounts are `provider:id` keys; files are matched on each hash they carry.
KINDS = ("email", "phone", "device", "file", "account", "ip")
SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    key: str
    bucket: int | None = None

    @property
    def text(self) -> str:
        base = f"{self.kind}{SEP}{self.key}"
        return base if self.bucket is None else f"{base}{SEP}{self.bucket}"

    @property
    def shown(self) -> str:
        """For our own eyes only (CLI output, our audit): never sent to a peer."""
        return self.key if self.bucket is None else f"{self.key}@{self.bucket}"


def bucket_of(moment: datetime, bucket_s: int) -> int:
    return int(moment.timestamp()) // bucket_s


def held_ip(key: str, moment: datetime, bucket_s: int) -> Token:
    """An IP use as the responder stores it: its own bucket only."""
    return Token("ip", key, bucket_of(moment, bucket_s))


def asked_ip(key: str, moment: datetime, bucket_s: int) -> list[Token]:
    """An IP use as the requester asks about it: its bucket and both neighbours."""
    bucket = bucket_of(moment, bucket_s)
    return [Token("ip", key, b) for b in (bucket - 1, bucket, bucket + 1)]
