"""The peer endpoints, mounted under /federation beside (not inside) /graphql.

Authenticated by the peer's Ed25519 signature on each call (signing.py), not by user tokens: a peer
is an instance, not a person. Each answer is signed by us. The work (scalar multiplications, SQLite
look-ups, the audit append) runs in a worker thread so that the event loop keeps serving.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response

from graph_service.federation import signing
from graph_service.federation.errors import FederationError
from graph_service.federation.responder import Responder

OPERATIONS = ("hello", "blind", "match")


def _answer(request: Request, operation: str, body: bytes) -> Response:
    try:
        responder = Responder(request.app.state.settings, request.app.state.audit)
    except FederationError as exc:
        return Response(f'{{"error":"{type(exc).__name__}"}}', status_code=exc.status, media_type="application/json")
    answer = responder.answer(operation, request.headers, request.method, request.url.path, body)
    headers = {signing.RESPONSE_SIGNATURE: answer.signature} if answer.signature else {}
    return Response(answer.body, status_code=answer.status, media_type="application/json", headers=headers)


def federation_router() -> APIRouter:
    router = APIRouter()

    def endpoint(operation: str):  # type: ignore[no-untyped-def]
        async def call(request: Request) -> Response:
            body = await request.body()
            return await asyncio.to_thread(_answer, request, operation, body)
        return call

    for operation in OPERATIONS:
        router.add_api_route(f"/{operation}", endpoint(operation), methods=["POST"], name=f"federation_{operation}")
    return router
