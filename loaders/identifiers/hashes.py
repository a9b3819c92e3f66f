"""File hashes and the File key made from the strongest cryptographic one."""

from __future__ import annotations

import re
from typing import Literal

from loaders.errors import InvalidIdentifier
from loaders.identifiers.text import check_printable, nfkc_casefold, require_text

HashAlgo = Literal["md5", "sha1", "sha256", "photodna", "pdq"]
_HEX_LENGTHS: dict[str, int] = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
_HASH_ALGOS: dict[str, HashAlgo] = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "photodna": "photodna",
    "pdq": "pdq",
}
_HEX = re.compile(r"[0-9a-f]+", re.ASCII)
#: Strongest first: the File key uses the first of these the file has.
_KEY_ALGOS: tuple[HashAlgo, ...] = ("sha256", "sha1", "md5")


def _hash_algo(algo: str, raw: object) -> HashAlgo:
    folded = "".join(ch for ch in nfkc_casefold(require_text("hash", algo)) if ch.isalnum())
    if folded not in _HASH_ALGOS:
        raise InvalidIdentifier("hash", raw, f"unknown hash algorithm {algo!r}")
    return _HASH_ALGOS[folded]


def normalise_hash(algo: str, raw: str) -> tuple[str, str]:
    """(algorithm, value): hex lower-cased and length-checked; PhotoDNA kept as given, trimmed.

    >>> normalise_hash("SHA-1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709")
    ('sha1', 'da39a3ee5e6b4b0d3255bfef95601890afd80709')
    """
    name = _hash_algo(algo, raw)
    text = require_text("hash", raw).strip()
    if not text:
        raise InvalidIdentifier("hash", raw, f"empty {name} value")
    if name == "photodna":
        if len(text) > 2000:
            raise InvalidIdentifier("hash", raw, "photodna longer than 2000 characters")
        check_printable("hash", text, raw)
        return name, text
    value = text.lower()
    if not _HEX.fullmatch(value):
        raise InvalidIdentifier("hash", raw, f"{name} is not hexadecimal")
    expected = _HEX_LENGTHS[name]
    if len(value) != expected:
        raise InvalidIdentifier(
            "hash", raw, f"{name} must be {expected} hex characters, got {len(value)}"
        )
    if set(value) == {"0"}:
        raise InvalidIdentifier("hash", raw, f"all-zero {name} is a placeholder")
    return name, value


def file_key(hashes: dict[str, str]) -> str:
    """`<algo>:<hex>` of the strongest of sha256 > sha1 > md5 among `hashes`.

    Every entry is validated (malformed values and unknown algorithm names raise), so drop the
    entries you have already rejected. PhotoDNA and PDQ never key a file: they are perceptual and
    two different files may share them.

    >>> file_key({"MD5": "D41D8CD98F00B204E9800998ECF8427E", "PhotoDNA": "1,2,3"})
    'md5:d41d8cd98f00b204e9800998ecf8427e'
    """
    if not isinstance(hashes, dict):
        raise InvalidIdentifier("file", hashes, "expected a mapping of algorithm to hash")
    found: dict[str, str] = {}
    for algo, value in hashes.items():
        name, norm = normalise_hash(algo, value)
        if found.setdefault(name, norm) != norm:
            raise InvalidIdentifier("file", hashes, f"two different {name} values")
    for name in _KEY_ALGOS:
        if name in found:
            return f"{name}:{found[name]}"
    raise InvalidIdentifier("file", hashes, "no md5, sha1 or sha256 hash to key the file")
