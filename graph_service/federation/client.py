"""Our calls to a peer: signed, sent, and the peer's signed answer checked before it is believed.

`transport` lets a caller (a test) see or route the bytes; by default httpx's own.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from graph_service.federation import signing
from graph_service.federation.errors import (
    BadExchange,
    BadSignature,
    FederationError,
    RateLimited,
    Refused,
    StaleKeys,
    UnknownPeer,
)
from graph_service.federation.keys import Identity
from graph_service.federation.peers import Peer

_ERRORS: dict[str, type[FederationError]] = {cls.__name__: cls for cls in (
    BadExchange, BadSignature, RateLimited, Refused, StaleKeys, UnknownPeer)}


class PeerClient:
    def __init__(self, me: Identity, peer: Peer, timeout_s: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.me, self.peer = me, peer
        self.http = httpx.Client(base_url=peer.url.rstrip("/"), timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one signed call; the decoded answer, or the peer's refusal as our own error type."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        path = urlsplit(self.peer.url.rstrip("/") + f"/federation/{operation}").path
        headers = signing.sign_request(self.me, self.peer.public_key, "POST", path, body)
        try:
            response = self.http.post(f"/federation/{operation}", content=body,
                                      headers={**headers, "content-type": "application/json"})
        except httpx.HTTPError as exc:
            raise FederationError(f"peer {self.peer.name} at {self.peer.url} did not answer: {exc}") from exc
        signature = response.headers.get(signing.RESPONSE_SIGNATURE)
        if signature is None and response.status_code != 200:  # refused before it could sign (not set up)
            raise FederationError(f"peer {self.peer.name} refused ({response.status_code}): {response.text[:200]}")
        signing.verify_response(self.peer, response.status_code, response.content, headers[signing.NONCE], signature)
        try:
            answer = response.json()
        except ValueError as exc:
            raise BadExchange(f"peer {self.peer.name} answered something that is not JSON") from exc
        if response.status_code != 200:
            error = _ERRORS.get(str(answer.get("error")), FederationError)
            raise error(f"peer {self.peer.name} refused: {answer.get('message', response.status_code)}")
        if not isinstance(answer, dict):
            raise BadExchange(f"peer {self.peer.name} answered something that is not a JSON object")
        return answer
