"""What each load did, kept in the graph: a `LoadRun` node per `gracegraph load`, with the SHA-256
of every file it was given and of every file it finished.

A file counts as finished only when every batch holding its records has been committed (the
pipeline reports it after the writer thread has written them), so a load cut short by a crash of
the loader or of Neo4j leaves the files it was in the middle of unfinished. `--resume` skips the
files whose content some earlier run finished, by hash, so a renamed or moved file is still known
and an edited file is loaded again. Rerunning what was cut short is safe because every write is an
idempotent fold (loaders/writer.py): the batches that did commit are merged into, not duplicated.

    (:LoadRun {key, kind, started_at, finished_at, status: running|finished|failed,
               files: [path], hashes: [sha256 per file], finished_hashes: [sha256], skipped: [path],
               created: int, updated: int, rejected: int})
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from neo4j import Driver, RoutingControl

from loaders.model import Label, cypher

_CHUNK = 1 << 20

_START = cypher("CREATE (r:{label} {key: $key, kind: $kind, started_at: datetime(), status: 'running', "
                "files: $files, hashes: $hashes, skipped: $skipped, finished_hashes: []})", label=Label.LOAD_RUN)
_FILE_FINISHED = cypher("MATCH (r:{label} {key: $key}) "
                        "SET r.finished_hashes = CASE WHEN $hash IN r.finished_hashes THEN r.finished_hashes "
                        "ELSE r.finished_hashes + $hash END", label=Label.LOAD_RUN)
_END = cypher("MATCH (r:{label} {key: $key}) SET r.status = $status, r.finished_at = datetime(), "
              "r.created = $created, r.updated = $updated, r.rejected = $rejected", label=Label.LOAD_RUN)
_FINISHED_HASHES = cypher("MATCH (r:{label}) WHERE r.kind = $kind UNWIND r.finished_hashes AS h "
                          "RETURN collect(DISTINCT h) AS hashes", label=Label.LOAD_RUN)


def file_sha256(path: Path) -> str:
    """The file's content hash, read in 1 MiB pieces (a 1 GB bundle never sits in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def finished_hashes(driver: Driver, database: str, kind: str) -> set[str]:
    """Hashes of the files that some earlier load of this kind finished."""
    records, _, _ = driver.execute_query(_FINISHED_HASHES, kind=kind, database_=database,
                                         routing_=RoutingControl.READ)
    return set(records[0]["hashes"]) if records else set()


@dataclass(slots=True)
class LoadRun:
    """The record of one load; `file_finished` is called from the writer thread as files complete."""

    driver: Driver
    database: str
    key: str
    hashes: dict[Path, str]

    @classmethod
    def start(cls, driver: Driver, database: str, kind: str, hashes: dict[Path, str],
              skipped: Iterable[Path] = ()) -> LoadRun:
        """Record the run's start; `hashes` are the files it will load, by `file_sha256`."""
        key = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"
        driver.execute_query(_START, key=key, kind=kind, files=[str(p) for p in hashes],
                             hashes=list(hashes.values()), skipped=[str(p) for p in skipped], database_=database)
        return cls(driver, database, key, hashes)

    def file_finished(self, path: Path) -> None:
        self.driver.execute_query(_FILE_FINISHED, key=self.key, hash=self.hashes[path], database_=self.database)

    def end(self, failed: bool, created: int, updated: int, rejected: int) -> None:
        self.driver.execute_query(_END, key=self.key, status="failed" if failed else "finished",
                                  created=created, updated=updated, rejected=rejected, database_=self.database)
