"""This instance's federation identity: an Ed25519 signing key, a blinding secret and its epoch.

Kept in `identity.json` under the federation directory, mode 0600 in a 0700 directory: the signing
key proves to peers that a call is ours, the blinding secret is what keeps our blinded identifiers
unguessable (whoever holds it can test guesses against values blinded under it). `rotate` replaces
the blinding secret and bumps `epoch`, so that every cached value made under the old one is known
stale (the store drops them; peers re-sync). The signing key is not rotated with it: peers pin it.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nacl import bindings

from graph_service.federation.errors import FederationError, NotInitialised

IDENTITY_FILE = "identity.json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def new_scalar() -> bytes:
    """A uniformly random non-zero scalar of the edwards25519 prime-order group (libsodium's reduce)."""
    while True:
        scalar = bindings.crypto_core_ed25519_scalar_reduce(secrets.token_bytes(64))
        if any(scalar):
            return scalar


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    agency: str
    contact: str
    signing_key: Ed25519PrivateKey
    blinding_secret: bytes
    epoch: int
    created: str

    @property
    def public_key(self) -> str:
        """Base64 of the raw 32-byte Ed25519 public key: what a peer puts in its peers.yaml."""
        return b64(self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def as_json(self) -> dict[str, object]:
        raw = self.signing_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return {"name": self.name, "agency": self.agency, "contact": self.contact, "signing_key": b64(raw),
                "blinding_secret": b64(self.blinding_secret), "epoch": self.epoch, "created": self.created}


def public_key_from(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(unb64(text))
    except ValueError as exc:
        raise FederationError(f"not an Ed25519 public key (base64 of 32 bytes): {text!r}") from exc


def _write_private(path: Path, data: dict[str, object]) -> None:
    """Write with 0600 from the first byte (never world-readable, not even for a moment)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.chmod(temp, 0o600)
    os.replace(temp, path)


def create(directory: Path, name: str, agency: str, contact: str, overwrite: bool = False) -> Identity:
    """Make a new identity; refuses to replace one unless told (peers have pinned its public key)."""
    path = directory / IDENTITY_FILE
    if path.exists() and not overwrite:
        raise FederationError(f"{path} exists already (peers know its key); pass --force to replace it")
    identity = Identity(name, agency, contact, Ed25519PrivateKey.generate(), new_scalar(), 1,
                        datetime.now(UTC).isoformat(timespec="seconds"))
    _write_private(path, identity.as_json())
    return identity


def load(directory: Path) -> Identity:
    path = directory / IDENTITY_FILE
    if not path.exists():
        raise NotInitialised(f"no federation identity in {directory}: run `gracegraph federation init`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Identity(str(data["name"]), str(data["agency"]), str(data["contact"]),
                        Ed25519PrivateKey.from_private_bytes(unb64(data["signing_key"])),
                        unb64(data["blinding_secret"]), int(data["epoch"]), str(data["created"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise FederationError(f"{path} is not a federation identity: {exc}") from exc


def rotate(directory: Path) -> Identity:
    """A new blinding secret under the next epoch; the signing key stays (peers pin it)."""
    old = load(directory)
    new = Identity(old.name, old.agency, old.contact, old.signing_key, new_scalar(), old.epoch + 1, old.created)
    _write_private(directory / IDENTITY_FILE, new.as_json())
    return new


def create_hmac_key(path: Path) -> None:
    """The closed-network mode's shared key: 32 random bytes, base64, 0600 (hand it over out of band)."""
    if path.exists():
        raise FederationError(f"{path} exists already")
    _write_private_text(path, b64(secrets.token_bytes(32)) + "\n")


def load_hmac_key(path: Path) -> bytes:
    try:
        key = unb64(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError) as exc:
        raise FederationError(f"cannot read the federation HMAC key {path}: {exc}") from exc
    if len(key) < 32:
        raise FederationError(f"the federation HMAC key {path} is shorter than 32 bytes")
    return key


def _write_private_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
