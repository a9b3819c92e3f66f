"""The normalisers: what each accepts, how it keys it, and that hostile text only ever raises ours."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

import loaders.identifiers as identifiers
from loaders.errors import InvalidIdentifier
from loaders.identifiers import (
    EmailId,
    IpId,
    account_key,
    contact,
    device,
    file_key,
    hashes,
    location_key,
    names,
    network,
    normalise_date,
    normalise_device,
    normalise_email,
    normalise_hash,
    normalise_ip,
    normalise_phone,
    normalise_provider,
    normalise_screen_name,
    normalise_timestamp,
    times,
)

PROPERTY = settings(max_examples=200, deadline=None)

HOSTILE = [
    "",
    "   ",
    "\x00",
    "abc\x00def",
    "x" * 1_000_000,
    "' }) MATCH (n) DETACH DELETE n //",
    "\ud800",
    "\u202e\u200b",
    "１２３",
]

#: Every one-argument normaliser (the others are wrapped with typical fixed arguments).
NORMALISERS: dict[str, Callable[[Any], object]] = {
    "email": normalise_email,
    "phone": normalise_phone,
    "phone_with_code": lambda raw: normalise_phone(raw, "US", "44"),
    "ip": normalise_ip,
    "device_imei": lambda raw: normalise_device("IMEI", raw),
    "device_idfa": lambda raw: normalise_device("IDFA", raw),
    "device_mac": lambda raw: normalise_device("MAC", raw),
    "device_other": lambda raw: normalise_device("Device ID", raw),
    "device_type": lambda raw: normalise_device(raw, "abc"),
    "hash_sha1": lambda raw: normalise_hash("SHA1", raw),
    "hash_photodna": lambda raw: normalise_hash("PhotoDNA", raw),
    "hash_algo": lambda raw: normalise_hash(raw, "0" * 31 + "1"),
    "screen_name": normalise_screen_name,
    "provider": normalise_provider,
    "timestamp": normalise_timestamp,
    "date": normalise_date,
    "account_by_id": lambda raw: account_key("Example", raw, None),
    "account_by_name": lambda raw: account_key("Example", None, raw),
    "account_provider": lambda raw: account_key(raw, "1", None),
    "location": lambda raw: location_key("US", raw, raw),
    "file": lambda raw: file_key({"md5": raw}),
}


def reason_of(call: Callable[[], object]) -> str:
    with pytest.raises(InvalidIdentifier) as info:
        call()
    return info.value.reason


# --- email ----------------------------------------------------------------------------------


def test_email_key_is_lowercased_address_as_given() -> None:
    assert normalise_email("  John.Doe+Kik@Example.COM ") == EmailId(
        key="john.doe+kik@example.com", canonical="john.doe@example.com"
    )


def test_gmail_canonical_drops_dots_and_tag_and_unifies_googlemail() -> None:
    assert normalise_email("J.Doe+x@googlemail.com").canonical == "jdoe@gmail.com"
    assert normalise_email("jdoe@gmail.com").canonical == "jdoe@gmail.com"
    assert normalise_email("J.Doe+x@googlemail.com").key == "j.doe+x@googlemail.com"


def test_email_with_unicode_domain_is_accepted() -> None:
    assert normalise_email("x@Bücher.example").key == "x@bücher.example"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("no-at.example.com", "exactly one @"),
        ("a@b@example.com", "exactly one @"),
        ("@example.com", "empty local part"),
        ("user@localhost", "no dot"),
        ("user@-bad.example", "invalid characters"),
        ("user@exa mple.com", "invalid characters"),
        ("us er@example.com", "local part contains"),
        ("a..b@example.com", "dot-separated"),
        ("x" * 250 + "@example.com", "254"),
    ],
)
def test_malformed_emails_are_rejected_with_reason(raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_email(raw))


# --- phone ----------------------------------------------------------------------------------


def test_phone_becomes_e164() -> None:
    assert normalise_phone("(555) 555-0123") == "+15555550123"
    assert normalise_phone("+44 7700 900123") == "+447700900123"


def test_calling_code_is_prefixed_only_without_plus() -> None:
    assert normalise_phone("07700 900123", calling_code="+44") == "+447700900123"
    assert normalise_phone("555-555-0123", calling_code="1") == "+15555550123"
    assert normalise_phone("+44 7700 900123", calling_code="1") == "+447700900123"
    assert normalise_phone("555-555-0123", calling_code="") == "+15555550123"


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"raw": "12"}, "not a possible number"),
        ({"raw": "call me"}, "does not parse"),
        ({"raw": "555-555-0123", "default_region": "XX"}, "unknown default region"),
        ({"raw": "555-555-0123", "calling_code": "abcd"}, "calling code"),
    ],
)
def test_impossible_phones_are_rejected(kwargs: dict[str, str], reason: str) -> None:
    assert reason in reason_of(lambda: normalise_phone(**kwargs))


# --- ip -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key", "kind"),
    [
        (" 8.8.8.8 ", "8.8.8.8", "public"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "reserved"),
        ("2a00:1450:4001:0:0:0:0:200e", "2a00:1450:4001::200e", "public"),
        ("100.64.0.1", "100.64.0.1", "cgnat"),
        ("100.127.255.254", "100.127.255.254", "cgnat"),
        ("10.1.2.3", "10.1.2.3", "private"),
        ("172.16.0.1", "172.16.0.1", "private"),
        ("192.168.1.1", "192.168.1.1", "private"),
        ("fd12::1", "fd12::1", "private"),
        ("127.0.0.1", "127.0.0.1", "reserved"),
        ("::1", "::1", "reserved"),
        ("169.254.1.1", "169.254.1.1", "reserved"),
        ("224.0.0.1", "224.0.0.1", "reserved"),
        ("0.0.0.0", "0.0.0.0", "reserved"),
        ("192.0.2.7", "192.0.2.7", "reserved"),
        ("198.51.100.7", "198.51.100.7", "reserved"),
        ("203.0.113.7", "203.0.113.7", "reserved"),
        ("::ffff:203.0.113.9", "203.0.113.9", "reserved"),
        ("::ffff:8.8.4.4", "8.8.4.4", "public"),
    ],
)
def test_ip_key_and_kind(raw: str, key: str, kind: str) -> None:
    assert normalise_ip(raw) == IpId(key=key, kind=kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("192.0.2.1:443", "port"),
        ("[2001:db8::1]:443", "port"),
        ("fe80::1%eth0", "zone id"),
        ("300.1.1.1", "not an IP address"),
        ("010.1.1.1", "not an IP address"),
        ("example.com", "not an IP address"),
    ],
)
def test_bad_ips_are_rejected(raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_ip(raw))


# --- device ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id_type", "raw", "key"),
    [
        ("IMEI", "49-015420-323751-8", "imei:490154203237518"),
        ("imei", "49 015420 323751 8", "imei:490154203237518"),
        ("Advertising ID", "6D92078A-8246-4BA4-AE5B-76104861E7DC",
         "idfa:6d92078a-8246-4ba4-ae5b-76104861e7dc"),
        ("IDFA", "{6d92078a82464ba4ae5b76104861e7dc}", "idfa:6d92078a-8246-4ba4-ae5b-76104861e7dc"),
        ("Google Advertising ID", "38400000-8CF0-11BD-B23E-10B96E40000D",
         "gaid:38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("AAID", "38400000-8cf0-11bd-b23e-10b96e40000d", "gaid:38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("UUID", "38400000-8CF0-11BD-B23E-10B96E40000D", "guid:38400000-8cf0-11bd-b23e-10b96e40000d"),
        ("MAC Address", "00-1A-2B-3C-4D-5E", "mac:00:1a:2b:3c:4d:5e"),
        ("MAC", "001a.2b3c.4d5e", "mac:00:1a:2b:3c:4d:5e"),
        ("mac", "001A2B3C4D5E", "mac:00:1a:2b:3c:4d:5e"),
        ("Device ID", "  Serial-AbC123 ", "other:Serial-AbC123"),
        ("Widget Number", "AbC", "other:AbC"),
    ],
)
def test_device_key_by_type(id_type: str, raw: str, key: str) -> None:
    assert normalise_device(id_type, raw) == key


@pytest.mark.parametrize(
    ("id_type", "raw", "reason"),
    [
        ("IMEI", "490154203237519", "check digit"),
        ("IMEI", "49015420323751", "15 digits"),
        ("IMEI", "4901542032375I8", "digits"),
        ("IMEI", "000000000000000", "placeholder"),
        ("IDFA", "00000000-0000-0000-0000-000000000000", "placeholder"),
        ("GAID", "not-a-uuid", "UUID"),
        ("MAC", "00:1a-2b:3c:4d:5e", "6 hex bytes"),
        ("MAC", "ff:ff:ff:ff:ff:ff", "broadcast"),
        ("MAC", "00:00:00:00:00:00", "all-zero"),
        ("Device ID", "x" * 257, "256"),
        ("Device ID", "ab\x07c", "control character"),
        ("Device ID", "  ", "empty"),
    ],
)
def test_bad_devices_are_rejected(id_type: str, raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_device(id_type, raw))


# --- hashes and files -----------------------------------------------------------------------

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("algo", "raw", "expected"),
    [
        ("MD5", MD5.upper(), ("md5", MD5)),
        ("SHA-1", f" {SHA1.upper()} ", ("sha1", SHA1)),
        ("sha_256", SHA256, ("sha256", SHA256)),
        ("PDQ", SHA256.upper(), ("pdq", SHA256)),
        ("PhotoDNA", " 1,2,3,255 ", ("photodna", "1,2,3,255")),
        ("photo_dna", "AbCd+/==", ("photodna", "AbCd+/==")),
    ],
)
def test_hash_is_lowercased_and_algorithm_named(
    algo: str, raw: str, expected: tuple[str, str]
) -> None:
    assert normalise_hash(algo, raw) == expected


@pytest.mark.parametrize(
    ("algo", "raw", "reason"),
    [
        ("MD5", MD5[:-1], "32 hex characters, got 31"),
        ("SHA1", SHA256, "40 hex characters, got 64"),
        ("SHA256", "g" * 64, "not hexadecimal"),
        ("MD5", "0" * 32, "placeholder"),
        ("CRC32", "abcd1234", "unknown hash algorithm"),
        ("PhotoDNA", "x" * 2001, "2000"),
        ("MD5", "  ", "empty"),
    ],
)
def test_bad_hashes_are_rejected_saying_why(algo: str, raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_hash(algo, raw))


def test_file_key_uses_strongest_hash() -> None:
    assert file_key({"MD5": MD5.upper(), "SHA1": SHA1, "SHA256": SHA256}) == f"sha256:{SHA256}"
    assert file_key({"md5": MD5, "sha-1": SHA1, "PhotoDNA": "1,2"}) == f"sha1:{SHA1}"
    assert file_key({"md5": MD5}) == f"md5:{MD5}"


def test_file_key_needs_a_cryptographic_hash_and_consistent_values() -> None:
    assert "no md5" in reason_of(lambda: file_key({"PhotoDNA": "1,2,3", "pdq": SHA256}))
    assert "no md5" in reason_of(lambda: file_key({}))
    assert "two different" in reason_of(lambda: file_key({"md5": MD5, "MD5": "a" * 32}))
    assert "32 hex" in reason_of(lambda: file_key({"md5": "abc", "sha1": SHA1}))


# --- names, accounts, locations -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" @Dark_Prince ", "dark_prince"),
        ("＠Ｄark_Ｐrince", "dark_prince"),
        ("@@twice", "twice"),
        ("Straße", "strasse"),
        ("' }) MATCH (n) DETACH DELETE n //", "' }) match (n) detach delete n //"),
    ],
)
def test_screen_name_is_folded(raw: str, expected: str) -> None:
    assert normalise_screen_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"), [("@", "empty"), ("  ", "empty"), ("a\x00b", "control"), ("a" * 257, "256")]
)
def test_bad_screen_names_are_rejected(raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_screen_name(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Example Social, Inc.", "example social inc"),
        ("  EXAMPLE   social,  inc ", "example social inc"),
        ("X.com", "x.com"),
        ("\"Yahoo!\"", "yahoo"),
    ],
)
def test_provider_key(raw: str, expected: str) -> None:
    assert normalise_provider(raw) == expected


def test_account_key_prefers_provider_id_and_keeps_its_case() -> None:
    assert account_key("Example Social, Inc.", " 12AbC ", "@Dark") == "example social inc:12AbC"
    assert account_key("Example Social, Inc.", "  ", "@Dark") == "example social inc:@dark"
    assert account_key("Example Social, Inc.", None, "@Dark") == "example social inc:@dark"


def test_account_key_needs_id_or_screen_name() -> None:
    assert "neither" in reason_of(lambda: account_key("Example", None, None))
    assert "neither" in reason_of(lambda: account_key("Example", "", " "))
    assert "empty" in reason_of(lambda: account_key(" ,. ", "1", None))


def test_location_key_keeps_positions() -> None:
    assert location_key("us", "California", " Los  Angeles ") == "US/california/los angeles"
    assert location_key("US", None, "Springfield") == "US//springfield"
    assert location_key("US", "California", None) == "US/california"
    assert location_key("United Kingdom", "", "") == "united kingdom"
    assert "all parts empty" in reason_of(lambda: location_key(None, " ", None))
    assert "'/'" in reason_of(lambda: location_key("US", "a/b", None))


# --- times ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected", "assumed"),
    [
        ("2024-03-05T10:15:00Z", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), False),
        ("2024-03-05T12:15:00+02:00", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), False),
        ("2024-03-05 05:15:00-0500", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), False),
        ("2024-03-05T10:15:00.1234567Z", datetime(2024, 3, 5, 10, 15, 0, 123456, tzinfo=UTC), False),
        ("2024-03-05 10:15:00 UTC", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), False),
        ("2024-03-05T10:15:00", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), True),
        ("2024-03-05T10:15", datetime(2024, 3, 5, 10, 15, tzinfo=UTC), True),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC), True),
        ("2024-01-01T00:30:00+01:00", datetime(2023, 12, 31, 23, 30, tzinfo=UTC), False),
    ],
)
def test_timestamp_becomes_utc_and_flags_assumed_utc(
    raw: str, expected: datetime, assumed: bool
) -> None:
    value, assumed_utc = normalise_timestamp(raw)
    assert value == expected
    assert value.utcoffset() == timedelta(0)
    assert assumed_utc is assumed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("0000-01-01T00:00:00Z", "plausible range"),
        ("9999-12-31T23:59:59Z", "plausible range"),
        ("1969-12-31T23:00:00Z", "plausible range"),
        ("2024-02-30T10:00:00Z", "no such date"),
        ("2024-03-05T24:00:00Z", "no such date"),
        ("2024-03-05T10:00:00+25:00", "offset"),
        ("05/03/2024 10:00", "ISO 8601"),
        ("2024-03-05x10:15:00", "ISO 8601"),
        ("٢٠٢٤-03-05", "ISO 8601"),
    ],
)
def test_bad_timestamps_are_rejected(raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_timestamp(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-04-03", date(1990, 4, 3)),
        ("1990/04/03", date(1990, 4, 3)),
        ("04/03/1990", date(1990, 4, 3)),
        ("4/3/1990", date(1990, 4, 3)),
        ("1990-04-03Z", date(1990, 4, 3)),
    ],
)
def test_birth_date_forms(raw: str, expected: date) -> None:
    assert normalise_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("25/12/1990", "no such date"),
        ("1899-12-31", "outside"),
        (f"{date.today().year + 1}-01-01", "outside"),
        ("3 April 1990", "expected"),
        ("1990-02-30", "no such date"),
    ],
)
def test_bad_birth_dates_are_rejected(raw: str, reason: str) -> None:
    assert reason in reason_of(lambda: normalise_date(raw))


# --- hostile input --------------------------------------------------------------------------


def outcome(name: str, raw: object) -> object:
    """The normaliser's result or the InvalidIdentifier it raised; anything else propagates."""
    try:
        return NORMALISERS[name](raw)
    except InvalidIdentifier as exc:
        return exc


def assert_clean_outcome(result: object) -> None:
    """Either our error, or a key free of control characters and of bounded size."""
    if isinstance(result, InvalidIdentifier):
        assert result.reason
        return
    assert isinstance(result, str | EmailId | IpId | tuple | datetime | date)
    text = str(result)
    assert "\x00" not in text
    assert len(text) < 5000


@pytest.mark.parametrize("name", sorted(NORMALISERS))
@pytest.mark.parametrize("raw", HOSTILE, ids=repr)
def test_hostile_text_is_normalised_as_plain_text_or_rejected(name: str, raw: str) -> None:
    assert_clean_outcome(outcome(name, raw))


@pytest.mark.parametrize("name", sorted(NORMALISERS))
@pytest.mark.parametrize("raw", [42, b"8.8.8.8", ["x"], 1.5], ids=repr)
def test_non_text_always_raises_invalid_identifier(name: str, raw: object) -> None:
    assert isinstance(outcome(name, raw), InvalidIdentifier)


def test_none_is_rejected_not_type_error() -> None:
    assert "expected text" in reason_of(lambda: normalise_ip(None))  # type: ignore[arg-type]
    assert "expected text" in reason_of(lambda: normalise_device("IMEI", 490154203237518))  # type: ignore[arg-type]
    assert "region" in reason_of(lambda: normalise_phone("5555550123", None))  # type: ignore[arg-type]
    assert "expected a mapping" in reason_of(lambda: file_key([("md5", MD5)]))  # type: ignore[arg-type]


def test_docstring_examples_hold() -> None:
    for module in (contact, device, hashes, names, network, times):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_public_api_is_exported() -> None:
    for name in identifiers.__all__:
        assert hasattr(identifiers, name)


# --- properties -----------------------------------------------------------------------------


@PROPERTY
@given(raw=st.text(), name=st.sampled_from(sorted(NORMALISERS)))
def test_arbitrary_text_returns_or_raises_invalid_identifier(raw: str, name: str) -> None:
    assert_clean_outcome(outcome(name, raw))


def _idempotent(normalise: Callable[[str], str], raw: str) -> None:
    try:
        once = normalise(raw)
    except InvalidIdentifier:
        return
    assert normalise(once) == once


@PROPERTY
@given(st.one_of(st.emails(), st.text()))
def test_email_key_and_canonical_are_fixed_points(raw: str) -> None:
    _idempotent(lambda s: normalise_email(s).key, raw)
    _idempotent(lambda s: normalise_email(s).canonical, raw)


@PROPERTY
@given(st.one_of(st.ip_addresses().map(str), st.text()))
def test_ip_key_is_a_fixed_point(raw: str) -> None:
    _idempotent(lambda s: normalise_ip(s).key, raw)


@PROPERTY
@given(st.text())
def test_screen_name_and_provider_are_fixed_points(raw: str) -> None:
    _idempotent(normalise_screen_name, raw)
    _idempotent(normalise_provider, raw)


@PROPERTY
@given(
    st.one_of(st.from_regex(r"\A\+?[0-9 ()-]{4,20}\Z"), st.text()),
    st.sampled_from(["US", "GB", "DE", "IN"]),
)
def test_phone_e164_is_a_fixed_point(raw: str, region: str) -> None:
    _idempotent(lambda s: normalise_phone(s, region), raw)


def _imeis() -> st.SearchStrategy[str]:
    return st.from_regex(r"\A[0-9]{14}\Z").map(lambda d: d + luhn.calc_check_digit(d))


@PROPERTY
@given(
    st.one_of(
        st.tuples(st.just("IMEI"), _imeis()),
        st.tuples(st.sampled_from(["IDFA", "GAID", "GUID"]), st.uuids().map(str)),
        st.tuples(st.just("MAC"), st.from_regex(r"\A[0-9a-fA-F]{12}\Z")),
        st.tuples(st.sampled_from(["Device ID", "IMEI", "MAC", "IDFA"]), st.text()),
    )
)
def test_device_id_part_is_a_fixed_point(pair: tuple[str, str]) -> None:
    id_type, raw = pair
    try:
        key = normalise_device(id_type, raw)
    except InvalidIdentifier:
        return
    kind, _, ident = key.partition(":")
    assert normalise_device(kind, ident) == key


@PROPERTY
@given(
    st.sampled_from(["md5", "sha1", "sha256", "pdq", "photodna"]),
    st.one_of(st.text(alphabet="0123456789abcdefABCDEF", min_size=32, max_size=64), st.text()),
)
def test_hash_value_is_a_fixed_point(algo: str, raw: str) -> None:
    _idempotent(lambda s: normalise_hash(algo, s)[1], raw)


@PROPERTY
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                   timezone(timedelta(hours=-8))]),
    )
)
def test_timestamp_round_trips_isoformat(moment: datetime) -> None:
    value, assumed = normalise_timestamp(moment.isoformat())
    assert value == moment
    assert value.tzinfo is UTC
    assert not assumed


@PROPERTY
@given(st.dates(min_value=date(1900, 1, 1), max_value=date.today()))
def test_birth_date_round_trips(day: date) -> None:
    assert normalise_date(day.isoformat()) == day
    assert normalise_date(day.strftime("%m/%d/%Y")) == day
