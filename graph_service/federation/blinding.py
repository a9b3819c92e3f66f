"""Blinded values on the edwards25519 prime-order group, from libsodium through PyNaCl; and HMAC.

Oblivious mode (the default). `hash_to_group` maps a token to a group element as RFC 9380's random
oracle construction does: SHA-512 of a length-prefixed, domain-separated input gives two 32-byte
field encodings, each mapped by libsodium's Elligator 2 (`crypto_core_ed25519_from_uniform`, which
clears the cofactor), and the two points are added. `blind` multiplies by a secret scalar
(`crypto_scalarmult_ed25519_noclamp`), which refuses any input that is not a canonical point of the
prime-order subgroup, so a peer cannot send a small-order point to learn bits of our secret.
Blinding commutes: blind(a, blind(b, H(x))) == blind(b, blind(a, H(x))), so two sides compare
H(x)^ab without either learning the other's secret, and without the other's online help nobody can
turn a guess into a value to compare.

ristretto255 would be the textbook group; PyNaCl 1.6 does not bind libsodium's ristretto255
functions, and these ed25519 bindings give the same prime-order group once inputs are checked as
above. No arithmetic of our own: every group operation is a libsodium call.

HMAC mode (closed networks): HMAC-SHA256 under one key every member holds. One round, no enrolment,
but anyone with the key can test guesses offline (docs/federation.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from nacl import bindings
from nacl.exceptions import CryptoError
from nacl.exceptions import RuntimeError as NaclRuntimeError

from graph_service.federation.errors import BadExchange

DOMAIN = b"gracegraph/federation/v1/hash-to-edwards25519"
HMAC_DOMAIN = b"gracegraph/federation/v1/hmac"
SIZE = 32


def _prefixed(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def hash_to_group(token_text: str) -> bytes:
    digest = hashlib.sha512(_prefixed(DOMAIN, token_text.encode("utf-8"))).digest()
    return bindings.crypto_core_ed25519_add(bindings.crypto_core_ed25519_from_uniform(digest[:32]),
                                            bindings.crypto_core_ed25519_from_uniform(digest[32:]))


def blind(secret: bytes, point: bytes) -> bytes:
    """point ** secret; raises BadExchange for anything that is not a prime-order group element."""
    try:
        return bindings.crypto_scalarmult_ed25519_noclamp(secret, point)
    except (CryptoError, NaclRuntimeError, TypeError, ValueError) as exc:
        raise BadExchange("a value is not an element of the group") from exc


def blind_token(secret: bytes, token_text: str) -> bytes:
    return blind(secret, hash_to_group(token_text))


def blind_all(secret: bytes, points: Iterable[bytes]) -> list[bytes]:
    return [blind(secret, p) for p in points]


def hmac_value(key: bytes, token_text: str) -> bytes:
    return hmac.new(key, _prefixed(HMAC_DOMAIN, token_text.encode("utf-8")), hashlib.sha256).digest()


def pack(values: list[bytes]) -> bytes:
    return b"".join(values)


def unpack(blob: bytes) -> list[bytes]:
    if len(blob) % SIZE:
        raise BadExchange(f"a values blob is a whole number of {SIZE}-byte values")
    return [blob[i:i + SIZE] for i in range(0, len(blob), SIZE)]
