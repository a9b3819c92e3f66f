"""Signed calls between peers: Ed25519 over method, path, body hash, time, nonce and audience.

A request carries four headers: `X-Gracegraph-Key` (the caller's public key), `-Time` (Unix
seconds), `-Nonce` (128 random bits, hex) and `-Signature` (base64). The signed text also names
the receiver's public key (the audience), so a request meant for one peer cannot be replayed to
another. The receiver refuses a time more than `max_skew_s` away from its clock and a nonce it has
seen within that window (it remembers nonces for twice the window), so a captured request cannot
be replayed. Responses are signed too (status, body hash and the request's nonce): the caller
knows the answer came from the peer it asked, for that request.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Mapping

from cryptography.exceptions import InvalidSignature

from graph_service.federation import peers as peer_list
from graph_service.federation.errors import BadSignature, Refused
from graph_service.federation.keys import Identity, b64, public_key_from, unb64
from graph_service.federation.peers import Peer

KEY, TIME, NONCE, SIGNATURE = ("x-gracegraph-key", "x-gracegraph-time", "x-gracegraph-nonce",
                               "x-gracegraph-signature")
RESPONSE_SIGNATURE = "x-gracegraph-response-signature"
CONTEXT = b"gracegraph-federation-v1"


def _request_text(method: str, path: str, body: bytes, at: int, nonce: str, audience: str) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return b"\n".join([CONTEXT, b"request", method.upper().encode(), path.encode(), digest.encode(),
                       str(at).encode(), nonce.encode(), audience.encode()])


def _response_text(status: int, body: bytes, nonce: str) -> bytes:
    return b"\n".join([CONTEXT, b"response", str(status).encode(), hashlib.sha256(body).hexdigest().encode(),
                       nonce.encode()])


def sign_request(me: Identity, audience: str, method: str, path: str, body: bytes,
                 at: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """Headers for one call to the peer whose public key is `audience`."""
    at = int(time.time()) if at is None else at
    nonce = nonce or secrets.token_hex(16)
    signature = me.signing_key.sign(_request_text(method, path, body, at, nonce, audience))
    return {KEY: me.public_key, TIME: str(at), NONCE: nonce, SIGNATURE: b64(signature)}


def verify_request(headers: Mapping[str, str], method: str, path: str, body: bytes, me: Identity,
                   known: list[Peer], remember_nonce: Callable[[str, str, float], bool],
                   max_skew_s: float) -> Peer:
    """The peer who signed this call; raises UnknownPeer, Refused or BadSignature otherwise.

    `remember_nonce(key, nonce, at)` records a nonce and answers False if it was seen already.
    """
    try:
        key, at_text, nonce, signature = (headers[KEY], headers[TIME], headers[NONCE], headers[SIGNATURE])
    except KeyError as exc:
        raise BadSignature(f"unsigned call: header {exc.args[0]} is missing") from None
    peer = peer_list.by_key(known, key)
    if peer.revoked:
        raise Refused(f"peer {peer.name} is revoked")
    try:
        at = int(at_text)
        public_key_from(key).verify(unb64(signature), _request_text(method, path, body, at, nonce, me.public_key))
    except (ValueError, InvalidSignature) as exc:
        raise BadSignature("the signature does not match the call (tampered, or meant for another peer)") from exc
    if abs(time.time() - at) > max_skew_s:
        raise BadSignature(f"stale call: its time is more than {max_skew_s:g}s from ours")
    if len(nonce) < 16 or not remember_nonce(key, nonce, at):
        raise BadSignature("replayed call: this nonce was used already")
    return peer


def sign_response(me: Identity, status: int, body: bytes, nonce: str) -> str:
    return b64(me.signing_key.sign(_response_text(status, body, nonce)))


def verify_response(peer: Peer, status: int, body: bytes, nonce: str, signature: str | None) -> None:
    if not signature:
        raise BadSignature(f"peer {peer.name} answered without a signature")
    try:
        public_key_from(peer.public_key).verify(unb64(signature), _response_text(status, body, nonce))
    except (ValueError, InvalidSignature) as exc:
        raise BadSignature(f"the answer of peer {peer.name} is not signed by its key") from exc
