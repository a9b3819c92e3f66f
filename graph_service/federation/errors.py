"""One error per failure a user or a peer can act on; the router maps each to an HTTP status."""

from __future__ import annotations

from loaders.errors import GracegraphError


class FederationError(GracegraphError):
    """Base: federation is not set up, or an exchange failed. `status` is the HTTP status a peer sees."""

    status = 400


class NotInitialised(FederationError):
    """`gracegraph federation init` has not run for this instance's home."""

    status = 503


class UnknownPeer(FederationError):
    """The caller's key is not in peers.yaml (or the peer named on the command line is not)."""

    status = 403


class Refused(FederationError):
    """A peer that is known but revoked, or a call this instance will not answer."""

    status = 403


class BadSignature(FederationError):
    """The signature, timestamp or nonce of a call does not hold (tampered, stale or replayed)."""

    status = 401


class RateLimited(FederationError):
    """The peer asked for more identifiers in this window than its limit."""

    status = 429


class StaleKeys(FederationError):
    """Blinded values were made under a key epoch that has since rotated: run `federation sync` again."""

    status = 409


class BadExchange(FederationError):
    """A malformed body: values that are not group elements, a count over the per-call cap."""

    status = 400
