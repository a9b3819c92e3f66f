"""Who may ask: agencies, users with a role, and the bearer tokens they present.

Kept in a small SQLite file beside the graph (`GRACEGRAPH_AUTH_DB`, default `<home>/auth.sqlite3`),
not in Neo4j: clearing or purging graph data must never lock anyone out or bring a revoked token
back. A token is 32 random bytes (url-safe text, `gg_` prefixed), shown once when made; only its
HMAC-SHA256 under the server secret (`GRACEGRAPH_SECRET_KEY`, else a random key kept in
`<home>/secret.key`, mode 0600) is stored, so a copy of the file gives no usable token. Every
request looks its token up afresh: a revocation holds from the next request on.

Roles (docs/security.md): `analyst` reads its agency's cases; `supervisor` also reads data in no
case yet; `admin` reads everything and manages users.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from graph_service.settings import Settings
from loaders.errors import GracegraphError
from queries.visibility import Clearance

TOKEN_PREFIX = "gg_"


class Role(StrEnum):
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def clearance(self) -> Clearance:
        """What the role may read besides its agency's own cases."""
        return {Role.ANALYST: Clearance.OWN_CASES, Role.SUPERVISOR: Clearance.OWN_AND_UNASSIGNED,
                Role.ADMIN: Clearance.EVERYTHING}[self]


class AuthError(GracegraphError):
    """A user, agency or token command that cannot be carried out as asked."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of one request, as its token says."""

    user: str
    agency: str
    role: Role
    token_id: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS agencies (code TEXT PRIMARY KEY, name TEXT, contact TEXT);
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, agency TEXT NOT NULL REFERENCES agencies(code),
                                  role TEXT NOT NULL, created TEXT NOT NULL, disabled TEXT);
CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL REFERENCES users(name),
                                   digest TEXT NOT NULL UNIQUE, created TEXT NOT NULL, revoked TEXT);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def server_secret(settings: Settings) -> bytes:
    """The HMAC key: the setting when given, else a random key made once and kept under home."""
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode("utf-8")
    path = settings.home / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


class AuthStore:
    """Agencies, users and tokens of one deployment."""

    def __init__(self, path: Path, secret: bytes) -> None:
        self.path = Path(path)
        self._secret = secret
        with self._db() as db:
            db.executescript(_SCHEMA)

    @classmethod
    def of(cls, settings: Settings) -> AuthStore:
        return cls(settings.auth_path, server_secret(settings))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def digest(self, token: str) -> str:
        return hmac.new(self._secret, token.encode("utf-8"), hashlib.sha256).hexdigest()

    # -- administration -----------------------------------------------------------------------

    def add_agency(self, code: str, name: str | None = None, contact: str | None = None) -> None:
        if not code.strip():
            raise AuthError("an agency needs a code")
        with self._db() as db:
            db.execute("INSERT INTO agencies(code, name, contact) VALUES (?, ?, ?) ON CONFLICT(code) DO UPDATE "
                       "SET name = coalesce(excluded.name, name), contact = coalesce(excluded.contact, contact)",
                       (code, name, contact))

    def agency_contact(self, code: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT contact FROM agencies WHERE code = ?", (code,)).fetchone()
        return row[0] if row else None

    def contacts(self) -> dict[str, str | None]:
        """Agency code → point of contact, for deconfliction answers."""
        with self._db() as db:
            return {code: contact for code, contact in db.execute("SELECT code, contact FROM agencies")}

    def add_user(self, name: str, agency: str, role: Role) -> None:
        """Add a user (the agency is added if new); an existing name is refused, never overwritten."""
        if not name.strip():
            raise AuthError("a user needs a name")
        self.add_agency(agency)
        with self._db() as db:
            try:
                db.execute("INSERT INTO users(name, agency, role, created) VALUES (?, ?, ?, ?)",
                           (name, agency, Role(role).value, _now()))
            except sqlite3.IntegrityError:
                raise AuthError(f"user {name!r} exists already") from None

    def user(self, name: str) -> tuple[str, Role] | None:
        """The agency and role of user `name`, or None."""
        with self._db() as db:
            row = db.execute("SELECT agency, role FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else (row[0], Role(row[1]))

    def ensure_user(self, name: str, agency: str, role: Role) -> None:
        """Add the user unless one of that name exists (kept as it is, role included)."""
        with self._db() as db:
            known = db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is not None
        if not known:
            self.add_user(name, agency, role)

    def issue_token(self, user: str) -> str:
        """A new token for `user`, returned once: only its digest is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ? AND disabled IS NULL", (user,)).fetchone() is None:
                raise AuthError(f"no active user {user!r}")
            db.execute("INSERT INTO tokens(user, digest, created) VALUES (?, ?, ?)", (user, self.digest(token), _now()))
        return token

    def revoke(self, user: str | None = None, token: str | None = None) -> int:
        """Revoke one token (given as text) or every token of a user; returns how many were revoked."""
        with self._db() as db:
            if token is not None:
                cursor = db.execute("UPDATE tokens SET revoked = ? WHERE digest = ? AND revoked IS NULL",
                                    (_now(), self.digest(token)))
            elif user is not None:
                cursor = db.execute("UPDATE tokens SET revoked = ? WHERE user = ? AND revoked IS NULL", (_now(), user))
            else:
                raise AuthError("name a user or a token to revoke")
            return cursor.rowcount

    # -- per request --------------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal | None:
        """The caller a token stands for; None when it is unknown, revoked or its user disabled."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT u.name, u.agency, u.role, t.id FROM tokens t JOIN users u ON u.name = t.user "
                "WHERE t.digest = ? AND t.revoked IS NULL AND u.disabled IS NULL", (self.digest(token),)).fetchone()
        return None if row is None else Principal(row[0], row[1], Role(row[2]), int(row[3]))


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
