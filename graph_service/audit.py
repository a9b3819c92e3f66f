"""The audit log: who asked what, when, and how much came back, in a file nobody can quietly edit.

Append-only JSON lines. Each entry holds `seq` (1, 2, 3…), `at` (UTC), `actor`, `agency`,
`operation`, `variables`, `counts`, `prev` (the hash of the entry before it, sixty-four zeros for
the first) and `hash` (SHA-256 of the entry's canonical JSON without `hash`). Editing one byte of an
entry breaks its own hash; removing or reordering entries breaks `seq` and the `prev` chain; and a
side file `<log>.head` holds the last entry's seq and hash, so cutting entries off the end is caught
too. `verify` names the first entry that does not hold.

The chain proves the log was not changed after the fact by someone without the tools to rewrite
it all; a deployment that must stand against an administrator also ships the log off the machine
(`gracegraph audit export`) or anchors `head` elsewhere.

Small on purpose: `append(actor, agency, operation, variables, counts)` is all a caller needs,
whether it is an export (now) or every GraphQL operation (once auth exists).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loaders.errors import GracegraphError

GENESIS = "0" * 64
#: Who acted when no one logged in: the CLI and the API before auth exists.
LOCAL_ACTOR = "local"
_FIELDS = ("seq", "at", "actor", "agency", "operation", "variables", "counts", "prev", "hash")


class AuditError(GracegraphError):
    """The audit log cannot be written or read (not: it was tampered with; that is a finding)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    agency: str | None
    operation: str
    variables: dict[str, Any]
    counts: dict[str, int]
    prev: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}


@dataclass(frozen=True, slots=True)
class Finding:
    """Where the log stops holding: the line (1-based), the seq it should carry, and why."""

    line: int
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"entry {self.seq} (line {self.line}): {self.reason}"


def entry_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON (sorted keys, no spaces), `hash` itself left out."""
    body = {name: value for name, value in fields.items() if name != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line(entry: AuditEntry) -> bytes:
    return (json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


class AuditLog:
    """One log file; safe to share between processes (appends take an exclusive file lock)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")

    def append(self, actor: str | None, agency: str | None, operation: str,
               variables: Mapping[str, Any] | None = None, counts: Mapping[str, int] | None = None) -> AuditEntry:
        """Write one entry after the last, and return it. Raises AuditError if it cannot be written:
        an operation that must be audited must not go ahead unaudited."""
        if not operation:
            raise AuditError("an audit entry needs an operation")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        except OSError as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            seq, prev = self._last(fd)
            fields: dict[str, Any] = {
                "seq": seq + 1,
                "at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "actor": actor or LOCAL_ACTOR,
                "agency": agency,
                "operation": operation,
                "variables": json.loads(json.dumps(dict(variables or {}), default=str)),
                "counts": {str(k): int(v) for k, v in (counts or {}).items()},
                "prev": prev,
            }
            entry = AuditEntry(**fields, hash=entry_hash(fields))
            os.write(fd, _line(entry))
            os.fsync(fd)
            self._write_head(entry)
            return entry
        except OSError as exc:
            raise AuditError(f"cannot write the audit log {self.path}: {exc}") from exc
        finally:
            os.close(fd)  # closing releases the lock

    def _last(self, fd: int) -> tuple[int, str]:
        """The last entry's seq and hash, read from the end of the file (logs grow large)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS
        chunk = min(size, 1 << 16)
        while True:
            tail = os.pread(fd, chunk, size - chunk)
            lines = tail.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or chunk == size:
                break
            chunk = min(size, chunk * 4)
        try:
            last = json.loads(lines[-1])
            return int(last["seq"]), str(last["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuditError(f"the last entry of {self.path} is unreadable; run `gracegraph audit verify`") from exc

    def _write_head(self, entry: AuditEntry) -> None:
        temp = self.head_path.with_name(self.head_path.name + ".tmp")
        temp.write_text(json.dumps({"seq": entry.seq, "hash": entry.hash}) + "\n", encoding="utf-8")
        os.replace(temp, self.head_path)

    # -- reading ------------------------------------------------------------------------------

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry in file order, unchecked (use `verify` to know whether to trust them)."""
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    yield AuditEntry(**{name: json.loads(raw)[name] for name in _FIELDS})
                except (ValueError, KeyError, TypeError) as exc:
                    raise AuditError(f"{self.path}: line {number} is not an audit entry") from exc

    def verify(self) -> Finding | None:
        """The first entry that was edited, removed, inserted or moved; None when the log holds."""
        prev, seq, line = GENESIS, 0, 0
        if self.path.exists():
            with self.path.open("rb") as f:
                for line, raw in enumerate(f, start=1):
                    found = _check(raw, line, seq + 1, prev)
                    if found is not None:
                        return found
                    seq, prev = seq + 1, json.loads(raw)["hash"]
        return self._check_head(line, seq, prev)

    def _check_head(self, line: int, seq: int, last_hash: str) -> Finding | None:
        if not self.head_path.exists():
            return None if seq == 0 else Finding(line, seq, f"{self.head_path.name} is missing")
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            head_seq, head_hash = int(head["seq"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return Finding(line, seq, f"{self.head_path.name} is unreadable")
        if head_seq > seq:
            return Finding(line + 1, seq + 1, f"entries {seq + 1}–{head_seq} were removed from the end")
        if head_seq < seq or head_hash != last_hash:
            return Finding(line, seq, f"the last entry does not match {self.head_path.name} (appended by hand?)")
        return None

    def export(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[AuditEntry]:
        """Entries with `since <= at <= until` (either end open), for a court or an oversight body."""
        for entry in self.entries():
            at = datetime.fromisoformat(entry.at)
            if (since is None or at >= since) and (until is None or at <= until):
                yield entry


def _check(raw: bytes, line: int, seq: int, prev: str) -> Finding | None:
    try:
        fields = json.loads(raw)
        if not isinstance(fields, dict) or set(fields) != set(_FIELDS):
            return Finding(line, seq, "not an audit entry (fields missing or added)")
    except ValueError:
        return Finding(line, seq, "not valid JSON (edited?)")
    if fields["hash"] != entry_hash(fields):
        return Finding(line, seq, "its content does not match its hash (edited)")
    if fields["seq"] != seq:
        how = "removed or moved" if fields["seq"] > seq else "repeated or moved"
        return Finding(line, seq, f"carries seq {fields['seq']}: entries before it were {how}")
    if fields["prev"] != prev:
        return Finding(line, seq, "does not chain to the entry before it (removed, inserted or reordered)")
    return None
