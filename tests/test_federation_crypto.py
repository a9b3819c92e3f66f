"""Blinding and signing on their own: commutativity, refusal of non-group values, tamper, replay, audience."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from graph_service.federation import keys, signing
from graph_service.federation.blinding import blind, blind_token, hash_to_group, hmac_value
from graph_service.federation.errors import BadExchange, BadSignature, Refused, UnknownPeer
from graph_service.federation.keys import new_scalar
from graph_service.federation.peers import Peer
from graph_service.federation.tokens import Token, asked_ip, bucket_of, held_ip


def test_blinding_commutes_so_both_orders_meet() -> None:
    a, b = new_scalar(), new_scalar()
    point = hash_to_group(Token("email", "x@example.org").text)
    assert blind(a, blind(b, point)) == blind(b, blind(a, point))
    assert blind(a, point) != blind(b, point)


def test_kind_separates_the_same_key() -> None:
    a = new_scalar()
    assert blind_token(a, Token("email", "123").text) != blind_token(a, Token("phone", "123").text)
    key = b"k" * 32
    assert hmac_value(key, Token("email", "123").text) != hmac_value(key, Token("phone", "123").text)


def test_a_value_outside_the_prime_order_group_is_refused() -> None:
    small_order = bytes([0xEC] + [0xFF] * 30 + [0x7F])  # the point (0, -1), of order 2
    with pytest.raises(BadExchange):
        blind(new_scalar(), small_order)
    with pytest.raises(BadExchange):
        blind(new_scalar(), b"\x01" * 31)


def test_ip_uses_a_bucket_apart_meet_and_three_apart_do_not() -> None:
    from datetime import UTC, datetime
    held = held_ip("198.18.0.7", datetime(2024, 5, 1, 11, 1, tzinfo=UTC), 3600)
    asked = asked_ip("198.18.0.7", datetime(2024, 5, 1, 10, 59, tzinfo=UTC), 3600)
    assert held in asked
    far = asked_ip("198.18.0.7", datetime(2024, 5, 1, 8, 0, tzinfo=UTC), 3600)
    assert held not in far
    assert bucket_of(datetime(2024, 5, 1, 10, 59, tzinfo=UTC), 3600) + 1 == held.bucket


@pytest.fixture
def pair(tmp_path: Path) -> tuple[keys.Identity, keys.Identity, list[Peer]]:
    alice = keys.create(tmp_path / "a", "alice", "A", "a@a")
    bob = keys.create(tmp_path / "b", "bob", "B", "b@b")
    return alice, bob, [Peer("alice", "http://a", alice.public_key, "A", "a@a")]


def test_identity_files_are_private(tmp_path: Path) -> None:
    keys.create(tmp_path / "fed", "x", "X", "x")
    assert (tmp_path / "fed" / keys.IDENTITY_FILE).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "fed").stat().st_mode & 0o777 == 0o700


def test_a_signed_call_verifies_once_and_only_once(pair: tuple[keys.Identity, keys.Identity, list[Peer]]) -> None:
    alice, bob, known = pair
    seen: set[str] = set()

    def remember(sender: str, nonce: str, at: float) -> bool:
        fresh = nonce not in seen
        seen.add(nonce)
        return fresh

    headers = signing.sign_request(alice, bob.public_key, "POST", "/federation/match", b"{}")
    who = signing.verify_request(headers, "POST", "/federation/match", b"{}", bob, known, remember, 300)
    assert who.name == "alice"
    with pytest.raises(BadSignature, match="replayed"):
        signing.verify_request(headers, "POST", "/federation/match", b"{}", bob, known, remember, 300)
    tampered = signing.sign_request(alice, bob.public_key, "POST", "/federation/match", b"{}")
    with pytest.raises(BadSignature, match="does not match"):
        signing.verify_request(tampered, "POST", "/federation/match", b'{"x":1}', bob, known, remember, 300)
    meant_for_alice = signing.sign_request(alice, alice.public_key, "POST", "/federation/match", b"{}")
    with pytest.raises(BadSignature, match="does not match"):
        signing.verify_request(meant_for_alice, "POST", "/federation/match", b"{}", bob, known, remember, 300)
    stale = signing.sign_request(alice, bob.public_key, "POST", "/federation/match", b"{}", at=int(time.time()) - 900)
    with pytest.raises(BadSignature, match="stale"):
        signing.verify_request(stale, "POST", "/federation/match", b"{}", bob, known, remember, 300)
    with pytest.raises(UnknownPeer):
        signing.verify_request(signing.sign_request(bob, bob.public_key, "POST", "/p", b""), "POST", "/p", b"",
                               bob, known, remember, 300)
    revoked = [Peer("alice", "http://a", alice.public_key, "A", "a@a", revoked=True)]
    with pytest.raises(Refused):
        signing.verify_request(signing.sign_request(alice, bob.public_key, "POST", "/p", b""), "POST", "/p", b"",
                               bob, revoked, remember, 300)
