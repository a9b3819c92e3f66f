"""The service's logs: one JSON object per line, each tied to the request that caused it.

Log collectors (journald, Loki, an agency's SIEM) read one object per line without a parser of
ours; the request id joins an access line to the errors logged while answering it. Fields:
`time` (UTC, ISO 8601), `level`, `logger`, `event`, `request_id` when inside a request, any
`extra={...}` fields the caller gave (`method`, `path`, `status`, `duration_ms`, `code`), and
`exception` (the traceback text) for errors: tracebacks go to the log, never to a client.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The id of the request being answered; copied into threads that `asyncio.to_thread` starts.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

#: Attributes every `LogRecord` has; anything else on a record came from `extra=` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "color_message"}  # color_message: uvicorn's copy with ANSI colours


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        rid = request_id.get()
        if rid is not None:
            entry["request_id"] = rid
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


log = logging.getLogger("gracegraph.http")
#: A client's own X-Request-ID is kept when it looks like one (so a proxy's id joins the logs).
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestLog:
    """ASGI middleware: a request id for each request (echoed as X-Request-ID) and one log line
    when it ends, with method, path, status and duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _GIVEN_ID.fullmatch(given) else uuid4().hex
        token = request_id.set(rid)
        began = time.perf_counter()
        status = 500  # what the client gets if the app fails before starting a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("request", extra={"method": scope["method"], "path": scope["path"], "status": status,
                                       "duration_ms": round((time.perf_counter() - began) * 1000, 1)})
            request_id.reset(token)


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (test runners swap it), and marks our handler so
    that configuring twice (tests build many apps) adds it once."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO") -> None:
    """Send every log record of the process (ours, uvicorn's) to stderr as JSON lines."""
    root = logging.getLogger()
    if not any(isinstance(h, _JsonHandler) for h in root.handlers):
        handler = _JsonHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    logging.getLogger("gracegraph").setLevel(level.upper())
