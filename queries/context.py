"""What every query function receives: the driver, the database and the time limit.

Queries read through `read()` so that a cluster can route them to followers and every Cypher call
carries a timeout; a timeout or an unreachable server becomes one of our errors with a code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from neo4j import READ_ACCESS, Driver, ManagedTransaction, Query, RoutingControl, unit_of_work
from neo4j.exceptions import ClientError, ServiceUnavailable, SessionExpired

from queries.errors import QueryTimeout, Unavailable

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class GraphContext:
    driver: Driver
    database: str = "neo4j"
    timeout_s: float = 30.0

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        """Run one read query (parameters only, never values in the text) and return plain rows."""
        return self._run(cypher, RoutingControl.READ, params)

    def write(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        return self._run(cypher, RoutingControl.WRITE, params)

    def stream_into(self, cypher: str, consume: Callable[[Iterator[dict[str, Any]]], T], **params: Any) -> T:
        """Run one read query and hand its rows to `consume` as they arrive, not as one list.

        For answers too big to hold twice (a projection of every account). `consume` runs inside a
        read transaction that the driver may retry, so it must start from nothing each time.
        """
        @unit_of_work(timeout=self.timeout_s)
        def work(tx: ManagedTransaction) -> T:
            return consume(dict(record) for record in tx.run(cypher, params))

        with self._errors(), self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def in_one_read(self, work: Callable[[ManagedTransaction], T]) -> T:
        """Run `work` as one read transaction, so every statement in it reaches the same server.

        For state that lives on one cluster member only (a GDS in-memory graph): separate reads may
        be routed to different followers. The driver may retry `work`, so it must start from nothing.
        """
        with self._errors(), self.driver.session(database=self.database) as session:
            return session.execute_read(unit_of_work(timeout=self.timeout_s)(work))

    def stream(self, cypher: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Rows of one read query as the server sends them, for answers too big to hold twice.

        An auto-commit read (routed to a follower on a cluster), without the driver's retries:
        a stream half consumed cannot be replayed. Consume it before asking anything else.
        """
        with self._errors(), self.driver.session(database=self.database,
                                                 default_access_mode=READ_ACCESS) as session:
            result = session.run(Query(cypher, timeout=self.timeout_s), params)  # type: ignore[arg-type]
            for record in result:
                yield dict(record)

    def _run(self, cypher: str, routing: RoutingControl, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._errors():
            records, _, _ = self.driver.execute_query(
                Query(cypher, timeout=self.timeout_s),  # type: ignore[arg-type]
                params, routing_=routing, database_=self.database)
        # dict(), not .data(): the answers are plain maps, and .data() walks every value slowly.
        return [dict(record) for record in records]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A timeout or an unreachable server as one of our errors, with its code."""
        try:
            yield
        except ClientError as exc:
            if exc.code and "Transaction" in exc.code and ("Timed" in exc.code or "Terminated" in exc.code):
                raise QueryTimeout(f"the query took longer than {self.timeout_s:g}s; narrow it") from exc
            raise
        except (ServiceUnavailable, SessionExpired) as exc:
            raise Unavailable("the graph database is not reachable") from exc
