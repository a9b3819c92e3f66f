"""Errors a user can act on, each saying where and why."""

from __future__ import annotations


class GracegraphError(Exception):
    """Base of every error the CLI reports as one line and a non-zero exit."""


class InvalidIdentifier(GracegraphError, ValueError):
    """An identifier that does not normalise (bad IP, failed IMEI check digit, hash of wrong length).

    Raised by the normalisers; parsers catch it and turn it into a `Rejection` for that identifier
    only, so the rest of the record still loads.
    """

    def __init__(self, kind: str, value: object, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {kind} {str(value)[:80]!r}: {reason}")


class MalformedInput(GracegraphError):
    """A file that cannot be read as its format: bad XML, a DTD, a truncated document, bad JSON.

    `position` is as precise as the parser allows ("line 12, column 4", "byte 1024", "row 7").
    Records yielded before the fault stay loaded unless the load is strict.
    """

    def __init__(self, file: str, position: str, reason: str) -> None:
        self.file = file
        self.position = position
        self.reason = reason
        super().__init__(f"{file}: {position}: {reason}" if position else f"{file}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str, str]]:
        # Crosses a process boundary when files are parsed in a worker process.
        return (MalformedInput, (self.file, self.position, self.reason))


class Neo4jUnavailable(GracegraphError):
    """The graph database cannot be reached or started; the message says what to do."""


class MissingTool(GracegraphError):
    """A program the command needs (Java, Maven) is not installed; the message names the package."""
