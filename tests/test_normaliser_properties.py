"""Idempotence of the normalisers test_identifiers.py does not already cover: a key read back in
as input gives the same key (normalise(normalise(x)) == normalise(x)), for hostile text too.

test_identifiers.py covers email, ip, screen name, provider, phone (by region), device, hash value,
and round trips of timestamps and birth dates from valid values; these add the composite keys
(account, location, file), the calling-code phone path, the text folds, and timestamps and dates
fed their own output whatever text produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    account_key,
    file_key,
    location_key,
    normalise_date,
    normalise_email,
    normalise_phone,
    normalise_timestamp,
)
from loaders.identifiers.text import folded_words, nfkc_casefold, nfkc_lower

PROPERTY = settings(max_examples=300, deadline=None)
T = TypeVar("T")
#: Text as referrals carry it: mostly printable, some of it from anywhere in Unicode.
TEXT = st.one_of(st.text(max_size=40), st.from_regex(r"\A[A-Za-z0-9 ._@-]{1,30}\Z"))
HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=64)


def accepted(call: Callable[[], T]) -> T | None:
    try:
        return call()
    except InvalidIdentifier:
        return None


@PROPERTY
@given(provider=TEXT, esp_id=st.one_of(st.none(), TEXT), screen_name=st.one_of(st.none(), TEXT))
def test_account_key_is_a_fixed_point(provider: str, esp_id: str | None, screen_name: str | None) -> None:
    key = accepted(lambda: account_key(provider, esp_id, screen_name))
    if key is None:
        return
    prov, _, ident = key.partition(":")
    again = account_key(prov, None, ident[1:]) if ident.startswith("@") and esp_id is None else \
        account_key(prov, ident, None)
    assert again == key


@PROPERTY
@given(country=st.one_of(st.none(), st.sampled_from(["us", "GB", "de"]), TEXT),
       region=st.one_of(st.none(), TEXT), city=st.one_of(st.none(), TEXT))
def test_location_key_is_a_fixed_point(country: str | None, region: str | None, city: str | None) -> None:
    key = accepted(lambda: location_key(country, region, city))
    if key is None:
        return
    parts: list[str | None] = [part or None for part in key.split("/")]
    parts += [None] * (3 - len(parts))
    assert location_key(*parts) == key


@PROPERTY
@given(st.dictionaries(st.sampled_from(["md5", "MD5", "sha1", "SHA-1", "sha256", "photodna"]),
                       st.one_of(HEX, st.text(max_size=70)), min_size=1, max_size=4))
def test_file_key_is_a_fixed_point(hashes: dict[str, str]) -> None:
    key = accepted(lambda: file_key(hashes))
    if key is None:
        return
    algo, _, value = key.partition(":")
    assert file_key({algo: value}) == key


@PROPERTY
@given(raw=st.one_of(st.from_regex(r"\A\+?[0-9 ()-]{4,20}\Z"), st.text(max_size=30)),
       region=st.sampled_from(["US", "GB", "DE"]), code=st.one_of(st.none(), st.sampled_from(["1", "44", "+49"])))
def test_phone_with_calling_code_is_a_fixed_point(raw: str, region: str, code: str | None) -> None:
    e164 = accepted(lambda: normalise_phone(raw, region, code))
    if e164 is None:
        return
    assert normalise_phone(e164, region, code) == e164


@PROPERTY
@given(st.one_of(st.emails(), st.text(max_size=60)))
def test_email_canonical_of_the_key_is_the_canonical(raw: str) -> None:
    email = accepted(lambda: normalise_email(raw))
    if email is None:
        return
    assert normalise_email(email.key) == email


@PROPERTY
@given(st.one_of(st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
                               r"( ?Z| UTC|[+-][0-9]{2}(:?[0-9]{2})?)?\Z"), st.text(max_size=40)))
def test_timestamp_of_its_own_output_is_the_same_instant(raw: str) -> None:
    found = accepted(lambda: normalise_timestamp(raw))
    if found is None:
        return
    value, _ = found
    assert normalise_timestamp(value.isoformat()) == (value, False)


@PROPERTY
@given(st.one_of(st.from_regex(r"\A([0-9]{4}[-/][0-9]{2}[-/][0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})\Z"),
                 st.text(max_size=20)))
def test_date_of_its_own_output_is_the_same_day(raw: str) -> None:
    day = accepted(lambda: normalise_date(raw))
    if day is None:
        return
    assert normalise_date(day.isoformat()) == day


@PROPERTY
@given(st.text(max_size=60))
def test_text_folds_are_fixed_points(raw: str) -> None:
    assert nfkc_casefold(nfkc_casefold(raw)) == nfkc_casefold(raw)
    assert nfkc_lower(nfkc_lower(raw)) == nfkc_lower(raw)
    folded = accepted(lambda: folded_words("name", raw))
    if folded is not None:
        assert folded_words("name", folded) == folded
