"""What the Neo4j driver really sent and what the server answered, from the driver's own Bolt log.

The driver logs every Bolt message at DEBUG on `neo4j.io` (`C: BEGIN {'mode': 'r', …}`,
`C: RUN '<cypher>' {params} {extra}`, `S: SUCCESS {… 'type': 'r' …}`). Reading it tells, for each
transaction, the access mode the server was asked for and, for each query in it, the type the server
itself gave it (r, rw, w, s): no stand-in for the driver or the server, only a listener.
"""

from __future__ import annotations

import ast
import logging
import re
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_LINE = re.compile(r"^\[#(?P<conn>[0-9A-F]{4})\]  (?P<who>[CS]): (?P<what>[A-Z]+)(?: (?P<rest>.*))?$", re.S)


@dataclass(slots=True)
class Statement:
    cypher: str
    type: str | None = None  # as the server typed it; None when it failed


@dataclass(slots=True)
class Transaction:
    mode: str  # 'r' or 'w', as sent in BEGIN (or in an auto-commit RUN)
    statements: list[Statement] = field(default_factory=list)

    @property
    def reads_only(self) -> bool:
        """Every statement ran and the server typed each a read."""
        return bool(self.statements) and all(s.type == "r" for s in self.statements)


def _literal_tail(text: str) -> dict[str, Any]:
    """The last dict of a logged message (RUN's `extra`): the shortest tail that parses as one."""
    at = len(text)
    while (at := text.rfind("{", 0, at)) >= 0:
        try:
            value = ast.literal_eval(text[at:])
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, dict):
            return value
    return {}


def _leading_string(text: str) -> str:
    """The Cypher of a RUN message: the first Python string literal of the logged fields."""
    quote = text[0]
    end = 1
    while True:
        end = text.index(quote, end)
        try:
            return str(ast.literal_eval(text[:end + 1]))
        except (ValueError, SyntaxError):
            end += 1


class BoltTraffic(logging.Handler):
    """Collects transactions per connection while attached to the `neo4j.io` logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.transactions: list[Transaction] = []
        self._open: dict[str, Transaction] = {}
        self._waiting: dict[str, deque[Statement]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        found = _LINE.match(record.getMessage())
        if not found:
            return
        conn, who, what, rest = found["conn"], found["who"], found["what"], found["rest"] or ""
        waiting = self._waiting.setdefault(conn, deque())
        if who == "C" and what == "BEGIN":
            self._open[conn] = Transaction(mode=_literal_tail(rest).get("mode", "w"))
        elif who == "C" and what == "RUN":
            statement = Statement(_leading_string(rest))
            tx = self._open.get(conn)
            if tx is None:  # auto-commit: the RUN carries the mode, and is its own transaction
                tx = Transaction(mode=_literal_tail(rest).get("mode", "w"))
                self.transactions.append(tx)
            tx.statements.append(statement)
            waiting.append(statement)
        elif who == "C" and what in ("COMMIT", "ROLLBACK", "RESET"):
            tx = self._open.pop(conn, None)
            if tx is not None:
                self.transactions.append(tx)
        elif who == "S" and what == "SUCCESS" and "'type': " in rest and waiting:
            kind = re.search(r"'type': '(\w+)'", rest)
            waiting.popleft().type = kind[1] if kind else None
        elif who == "S" and what == "FAILURE":
            waiting.clear()

    @contextmanager
    def listening(self) -> Iterator[BoltTraffic]:
        logger = logging.getLogger("neo4j.io")
        level = logger.level
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)
