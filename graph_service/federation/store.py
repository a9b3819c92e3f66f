"""The local federation store: one SQLite file beside identity.json, never sent anywhere.

- `own`: our singly blinded value of each token (H(token)^ours), computed once and kept until we
  rotate; keyed by the token text's SHA-256 so the file is no plain list of our identifiers.
- `held`: per peer, our identifiers blinded by both sides (H(y)^ours^theirs), with what they stand
  for (kind, key, bucket), made by `sync` and read to answer that peer's questions. In HMAC mode the
  pseudo-peer `*hmac*` holds our HMAC values.
- `synced`: under which epochs (ours and the peer's) each peer's `held` rows were made: a question
  blinded under another epoch is refused as stale rather than answered wrongly.
- `issued`: each opaque reference we gave a peer, and what it stands for on our side.
- `nonces` and `usage`: replay protection and per-peer rate limits, shared by every worker process.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graph_service.federation.blinding import blind_token
from graph_service.federation.errors import RateLimited
from graph_service.federation.tokens import Token

STORE_FILE = "store.sqlite"
HMAC_PEER = "*hmac*"
_CHUNK = 500  # SQLite's limit on bound parameters is 32766; stay well below it

SCHEMA = """
CREATE TABLE IF NOT EXISTS own (digest BLOB PRIMARY KEY, epoch INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS held (peer TEXT NOT NULL, value BLOB NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  bucket INTEGER, PRIMARY KEY (peer, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS synced (peer TEXT PRIMARY KEY, peer_epoch INTEGER NOT NULL, my_epoch INTEGER NOT NULL,
  count INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issued (ref TEXT PRIMARY KEY, peer TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
  bucket INTEGER, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS issued_by_identifier ON issued (peer, kind, key, bucket);
CREATE TABLE IF NOT EXISTS nonces (sender TEXT NOT NULL, nonce TEXT NOT NULL, at REAL NOT NULL,
  PRIMARY KEY (sender, nonce)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS usage (peer TEXT NOT NULL, window INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY (peer, window)) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class HeldIdentifier:
    kind: str
    key: str
    bucket: int | None


def _digest(token: Token) -> bytes:
    return hashlib.sha256(token.text.encode("utf-8")).digest()


def _chunks(items: list[bytes]) -> Iterator[list[bytes]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._db() as db:
            db.executescript(SCHEMA)
        path.chmod(0o600)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    # -- our own blinded values ---------------------------------------------------------------

    def own_values(self, tokens: list[Token], secret: bytes, epoch: int) -> list[bytes]:
        """H(token)^secret for each token, in order; computed only for tokens not cached under `epoch`.

        The multiplications run outside any transaction, so a long first blinding never holds the
        store's write lock against the peers being answered meanwhile.
        """
        digests = [_digest(t) for t in tokens]
        found: dict[bytes, bytes] = {}
        with self._db() as db:
            for chunk in _chunks(list(set(digests))):
                marks = ",".join("?" * len(chunk))
                found.update(db.execute(f"SELECT digest, value FROM own WHERE epoch = ? AND digest IN ({marks})",
                                        [epoch, *chunk]).fetchall())
        fresh = {d: blind_token(secret, t.text) for d, t in zip(digests, tokens, strict=True) if d not in found}
        if fresh:
            with self._db() as db:
                db.executemany("INSERT OR REPLACE INTO own VALUES (?, ?, ?)",
                               ((d, epoch, v) for d, v in fresh.items()))
        found.update(fresh)
        return [found[d] for d in digests]

    def cached_count(self, epoch: int) -> int:
        with self._db() as db:
            return int(db.execute("SELECT count(*) FROM own WHERE epoch = ?", [epoch]).fetchone()[0])

    def rekey(self) -> None:
        """After a rotation: every value blinded under the old secret is worthless; drop them all."""
        with self._db() as db:
            db.execute("DELETE FROM own")
            db.execute("DELETE FROM held")
            db.execute("DELETE FROM synced")

    # -- what we hold for each peer -----------------------------------------------------------

    def replace_held(self, peer: str, rows: Iterable[tuple[bytes, Token]], peer_epoch: int, my_epoch: int) -> int:
        with self._db() as db:
            db.execute("DELETE FROM held WHERE peer = ?", [peer])
            db.executemany("INSERT OR IGNORE INTO held VALUES (?, ?, ?, ?, ?)",
                           ((peer, value, t.kind, t.key, t.bucket) for value, t in rows))
            count = int(db.execute("SELECT count(*) FROM held WHERE peer = ?", [peer]).fetchone()[0])
            db.execute("INSERT OR REPLACE INTO synced VALUES (?, ?, ?, ?, ?)",
                       [peer, peer_epoch, my_epoch, count, datetime.now(UTC).isoformat(timespec="seconds")])
        return count

    def synced(self, peer: str) -> tuple[int, int, int, str] | None:
        """(peer epoch, our epoch, count, when) of the last sync for this peer, or None."""
        with self._db() as db:
            row = db.execute("SELECT peer_epoch, my_epoch, count, at FROM synced WHERE peer = ?", [peer]).fetchone()
        return None if row is None else (int(row[0]), int(row[1]), int(row[2]), str(row[3]))

    def lookup_held(self, peer: str, values: list[bytes]) -> dict[bytes, HeldIdentifier]:
        found: dict[bytes, HeldIdentifier] = {}
        with self._db() as db:
            for chunk in _chunks(list(set(values))):
                marks = ",".join("?" * len(chunk))
                for value, kind, key, bucket in db.execute(
                        f"SELECT value, kind, key, bucket FROM held WHERE peer = ? AND value IN ({marks})",
                        [peer, *chunk]):
                    found[value] = HeldIdentifier(kind, key, bucket)
        return found

    # -- references we hand out ---------------------------------------------------------------

    def issue(self, peer: str, held: list[HeldIdentifier]) -> list[str]:
        """The opaque reference of each of our identifiers for this peer (the same one on every hit)."""
        refs = []
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db() as db:
            for one in held:
                row = db.execute("SELECT ref FROM issued WHERE peer = ? AND kind = ? AND key = ? AND bucket IS ?",
                                 [peer, one.kind, one.key, one.bucket]).fetchone()
                if row is None:
                    row = ("gg-" + secrets.token_urlsafe(12),)
                    db.execute("INSERT INTO issued VALUES (?, ?, ?, ?, ?, ?)",
                               [row[0], peer, one.kind, one.key, one.bucket, now])
                refs.append(str(row[0]))
        return refs

    def resolve(self, ref: str) -> tuple[str, HeldIdentifier] | None:
        """Which peer got `ref`, and which of our identifiers it stands for."""
        with self._db() as db:
            row = db.execute("SELECT peer, kind, key, bucket FROM issued WHERE ref = ?", [ref]).fetchone()
        return None if row is None else (str(row[0]), HeldIdentifier(str(row[1]), str(row[2]), row[3]))

    # -- replay protection and rate limits ----------------------------------------------------

    def remember_nonce(self, sender: str, nonce: str, at: float, keep_s: float) -> bool:
        """Record a nonce; False if it was seen already (a replay)."""
        with self._db() as db:
            db.execute("DELETE FROM nonces WHERE at < ?", [time.time() - keep_s])
            try:
                db.execute("INSERT INTO nonces VALUES (?, ?, ?)", [sender, nonce, at])
            except sqlite3.IntegrityError:
                return False
        return True

    def consume(self, peer: str, count: int, limit: int, window_s: int) -> int:
        """Count `count` identifiers against the peer's budget for this window; RateLimited past it."""
        window = int(time.time()) // window_s
        with self._db() as db:
            row = db.execute("SELECT count FROM usage WHERE peer = ? AND window = ?", [peer, window]).fetchone()
            used = int(row[0]) if row else 0
            if used + count > limit:
                raise RateLimited(f"rate limit: {used} of {limit} identifiers used in this {window_s}s window; "
                                  f"{count} more refused")
            db.execute("INSERT OR REPLACE INTO usage VALUES (?, ?, ?)", [peer, window, used + count])
            db.execute("DELETE FROM usage WHERE window < ?", [window - 1])
        return used + count
