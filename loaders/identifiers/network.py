"""IP addresses, keyed by their compressed text and classed by what they can tell an analyst."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import require_text

IpKind = Literal["public", "private", "cgnat", "reserved"]


@dataclass(frozen=True, slots=True)
class IpId:
    """`kind` tells analysis which addresses may link strangers (CGNAT) or nothing (private)."""

    key: str
    kind: IpKind


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
#: IANA special-purpose ranges that never route on the internet: documentation and benchmarking.
#: Python counts 198.18.0.0/15 as private; it is not a LAN range, so it is "reserved" here.
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32")
)
_PORT_SUFFIX = re.compile(r"^[0-9.]+:[0-9]*$", re.ASCII)


def _ip_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> IpKind:
    if ip in _CGNAT:
        return "cgnat"
    if (
        any(ip in net for net in _DOCUMENTATION if net.version == ip.version)
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
    ):
        return "reserved"
    if ip.is_private or (ip.version == 6 and ip.is_site_local):
        return "private"
    return "public"


def normalise_ip(raw: str) -> IpId:
    """Compressed address text and its kind; IPv4-mapped IPv6 becomes the IPv4 it carries.

    Zone ids ("fe80::1%eth0") and ports ("192.0.2.1:443", "[2001:db8::1]:443") are rejected rather
    than cut off: the port belongs in its own field, and text carrying one is a parser bug upstream.
    Documentation and benchmarking ranges (192.0.2.0/24, 198.18.0.0/15, 2001:db8::/32, …) are valid,
    of kind "reserved": synthetic data lives there, so it can never be mistaken for a real address.

    >>> normalise_ip("2001:0DB8:0000::0001")
    IpId(key='2001:db8::1', kind='reserved')
    """
    text = require_text("ip", raw, limit=128).strip()
    if not text:
        raise InvalidIdentifier("ip", raw, "empty")
    if "%" in text:
        raise InvalidIdentifier("ip", raw, "zone id (%…) not accepted")
    if text.startswith("[") or _PORT_SUFFIX.match(text):
        raise InvalidIdentifier("ip", raw, "contains a port or brackets; give the address alone")
    try:
        ip = ipaddress.ip_address(text)
    except ValueError as exc:
        raise InvalidIdentifier("ip", raw, f"not an IP address: {exc}") from exc
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return IpId(key=str(ip), kind=_ip_kind(ip))
