"""Our side of a peer's call: who it is, whether we answer, and the answer, every call audited.

Framework-free (the router hands it bytes and headers). Three calls:

- `hello`: our name, agency, contact, mode and key epoch;
- `blind`: the peer's singly blinded values raised to our secret (it is preparing to answer our
  questions: `sync`); we learn nothing of them but their number;
- `match`: the peer's singly blinded values; we raise them to our secret and look them up among the
  values we hold for that peer (made by our own `sync` with it). A hit names the position in the
  peer's list, the kind, and an opaque reference we can resolve; never the identifier, never
  anything else of ours. HMAC mode: the values are compared with our HMAC values directly.

Every call is counted against the peer's rate limit before any work, and written to our audit log
(the peer's name and agency, counts, and the references we issued), refused calls included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph_service.audit import AuditLog
from graph_service.federation import keys, peers, signing
from graph_service.federation.blinding import blind, unpack
from graph_service.federation.errors import BadExchange, FederationError, Refused, StaleKeys
from graph_service.federation.keys import Identity, b64, unb64
from graph_service.federation.peers import Peer
from graph_service.federation.store import HMAC_PEER, STORE_FILE, Store
from graph_service.settings import Settings

MODES = ("oblivious", "hmac")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    signature: str | None


class Responder:
    """Answers one call; built per call so that a rotation or a new peer takes effect at once."""

    def __init__(self, settings: Settings, audit: AuditLog) -> None:
        self.settings = settings
        self.audit = audit
        self.me: Identity = keys.load(settings.federation_path)
        self.peers = peers.load(settings.federation_path)
        self.store = Store(settings.federation_path / STORE_FILE)

    def answer(self, operation: str, headers: Mapping[str, str], method: str, path: str, body: bytes) -> Answer:
        nonce = headers.get(signing.NONCE, "")
        peer: Peer | None = None
        try:
            peer = signing.verify_request(headers, method, path, body, self.me, self.peers, self._remember,
                                          self.settings.federation_max_skew_s)
            payload = json.loads(body or b"{}")
            if not isinstance(payload, dict):
                raise BadExchange("the body is a JSON object")
            result = getattr(self, "_" + operation)(peer, payload)
            status = 200
        except FederationError as exc:
            result, status = {"error": type(exc).__name__, "message": str(exc)}, exc.status
            self._audit(peer, operation, {"refused": type(exc).__name__, "reason": str(exc)}, {"refused": 1})
        except ValueError as exc:  # JSON or base64 that does not parse
            result, status = {"error": "BadExchange", "message": f"malformed body: {exc}"}, 400
            self._audit(peer, operation, {"refused": "BadExchange"}, {"refused": 1})
        text = json.dumps(result, separators=(",", ":")).encode()
        return Answer(status, text, signing.sign_response(self.me, status, text, nonce) if nonce else None)

    def _remember(self, sender: str, nonce: str, at: float) -> bool:
        return self.store.remember_nonce(sender, nonce, at, 2 * self.settings.federation_max_skew_s)

    def _audit(self, peer: Peer | None, operation: str, variables: dict[str, Any], counts: dict[str, int]) -> None:
        actor = f"peer:{peer.name}" if peer else "peer:unknown"
        self.audit.append(actor, peer.agency if peer else None, f"federation.{operation}",
                          {"peer": peer.name if peer else None, **variables}, counts)

    def _budget(self, peer: Peer, count: int) -> None:
        if count > self.settings.federation_max_values:
            raise BadExchange(f"{count} values in one call; at most {self.settings.federation_max_values}")
        limit = peer.rate_limit if peer.rate_limit is not None else self.settings.federation_rate_limit
        self.store.consume(peer.name, count, limit, self.settings.federation_rate_window_s)

    def _hello(self, peer: Peer, payload: dict[str, Any]) -> dict[str, Any]:
        self._audit(peer, "hello", {}, {})
        return self._whoami()

    def _whoami(self) -> dict[str, Any]:
        return {"name": self.me.name, "agency": self.me.agency, "contact": self.me.contact,
                "mode": self.settings.federation_mode, "epoch": self.me.epoch}

    def _blind(self, peer: Peer, payload: dict[str, Any]) -> dict[str, Any]:
        if self.settings.federation_mode != "oblivious":
            raise Refused("this instance federates in HMAC mode: nothing to blind")
        values = unpack(unb64(str(payload.get("values", ""))))
        self._budget(peer, len(values))
        blinded = [blind(self.me.blinding_secret, v) for v in values]
        self._audit(peer, "blind", {"epoch": self.me.epoch}, {"values": len(values)})
        return {"epoch": self.me.epoch, "values": b64(b"".join(blinded))}

    def _match(self, peer: Peer, payload: dict[str, Any]) -> dict[str, Any]:
        values = unpack(unb64(str(payload.get("values", ""))))
        mode = str(payload.get("mode", "oblivious"))
        if mode != self.settings.federation_mode:
            raise Refused(f"this instance federates in {self.settings.federation_mode} mode, not {mode}")
        self._budget(peer, len(values))
        if mode == "hmac":
            table, doubled = HMAC_PEER, values
        else:
            self._check_epochs(peer, payload)
            table, doubled = peer.name, [blind(self.me.blinding_secret, v) for v in values]
        found = self.store.lookup_held(table, doubled)
        indices = [index for index, value in enumerate(doubled) if value in found]
        refs = self.store.issue(peer.name, [found[doubled[i]] for i in indices])
        hits = [{"index": i, "kind": found[doubled[i]].kind, "ref": ref} for i, ref in zip(indices, refs, strict=True)]
        self._audit(peer, "match", {"mode": mode, "refs": [h["ref"] for h in hits]},
                    {"asked": len(values), "hits": len(hits)})
        return {**self._whoami(), "hits": hits}

    def _check_epochs(self, peer: Peer, payload: dict[str, Any]) -> None:
        synced = self.store.synced(peer.name)
        if synced is None:
            raise StaleKeys(f"{self.me.name} has not synced with {peer.name} yet: it must run `federation sync`")
        peer_epoch, my_epoch, _, _ = synced
        if peer_epoch != payload.get("epoch") or my_epoch != self.me.epoch:
            raise StaleKeys(f"keys rotated since {self.me.name} last synced with {peer.name}: "
                            f"it must run `federation sync` again")
