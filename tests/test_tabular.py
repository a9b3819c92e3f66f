"""Tabular imports: exact graph records per fixture row, rejections, and mapping validation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.errors import MalformedInput
from loaders.model import Records
from loaders.tabular import load_mapping, mapping_from_dict, parse_table

FIXTURES = Path(__file__).parent / "fixtures" / "tabular"
MAPPINGS = Path(__file__).parents[1] / "docs" / "mappings"
LOGIN = MAPPINGS / "login_ips.yaml"
SUBSCRIBERS = MAPPINGS / "subscribers.yaml"


def t(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def rows(path: Path, mapping: Path | object = LOGIN) -> dict[str, Records]:
    return {r.record: r for r in parse_table(path, mapping)}  # type: ignore[arg-type]


def nodes(rec: Records) -> list[tuple]:
    return [(str(n.label), n.key, n.props, n.lists, n.sources, n.times) for n in rec.nodes]


def edges(rec: Records) -> list[tuple]:
    return [(str(e.type), e.start[1], e.end[1], e.props, e.lists, e.sources, e.times)
            for e in rec.edges]


def rejections(rec: Records) -> list[tuple]:
    return [(r.record, r.path, r.reason, r.value) for r in rec.rejections]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


ACME = {"provider": "acme chat", "esp_id": "u1001"}


def test_login_log_csv_gives_accounts_with_timed_used_ip_edges() -> None:
    got = rows(FIXTURES / "login_ips.csv")
    assert list(got) == [f"table:acme-login-log:{n}" for n in (2, 3, 4, 5, 7)]
    src = ["table:acme-login-log:2"]
    assert nodes(got[src[0]]) == [
        ("Account", "acme chat:u1001", ACME, {}, src, [t(2024, 3, 5, 12, 15)]),
        ("IP", "192.0.2.10", {"kind": "reserved"}, {}, src, [t(2024, 3, 5, 12, 15)]),
    ]
    assert edges(got[src[0]]) == [("USED_IP", "acme chat:u1001", "192.0.2.10", {},
                                   {"events": ["Login"]}, src, [t(2024, 3, 5, 12, 15)])]
    assert rejections(got[src[0]]) == []


def test_time_without_offset_is_taken_as_utc_and_flagged() -> None:
    (edge,) = rows(FIXTURES / "login_ips.csv")["table:acme-login-log:3"].edges
    assert edge.times == [t(2024, 3, 5, 13, 0)]
    assert edge.props == {"assumed_utc": True}


def test_bad_ip_is_rejected_and_the_rest_of_the_row_loads() -> None:
    rec = rows(FIXTURES / "login_ips.csv")["table:acme-login-log:4"]
    assert nodes(rec) == [("Account", "acme chat:u1002", {"provider": "acme chat",
                                                          "esp_id": "u1002"}, {},
                           ["table:acme-login-log:4"], [t(2024, 3, 6, 6, 0)])]
    assert edges(rec) == []
    ((record, column, reason, value),) = rejections(rec)
    assert (record, column, value) == ("row 4", "ip", "not-an-ip")
    assert "not an IP address" in reason
    assert rec.rejections[0].file == str(FIXTURES / "login_ips.csv")


def test_row_without_account_id_is_rejected_whole() -> None:
    rec = rows(FIXTURES / "login_ips.csv")["table:acme-login-log:5"]
    assert rec.nodes == [] and rec.edges == []
    assert rejections(rec) == [("row 5", "account_id",
                                "row not loaded: no id for account 'account'", None)]


def test_unparsable_time_is_rejected_and_facts_load_without_time() -> None:
    rec = rows(FIXTURES / "login_ips.csv")["table:acme-login-log:7"]
    assert edges(rec) == [("USED_IP", "acme chat:u1003", "2001:db8::1", {}, {"events": ["Login"]},
                           ["table:acme-login-log:7"], [])]
    assert rejections(rec) == [("row 7", "timestamp", "time not used: not an ISO 8601 date-time",
                                "yesterday")]


def test_login_log_jsonl_reads_with_the_same_mapping() -> None:
    got = rows(FIXTURES / "login_ips.jsonl")
    assert list(got) == [f"table:acme-login-log:{n}" for n in (1, 2, 4, 5, 6)]
    assert edges(got["table:acme-login-log:2"]) == [
        ("USED_IP", "acme chat:1002", "192.0.2.20", {}, {"events": ["Login"]},
         ["table:acme-login-log:2"], [t(2024, 3, 6, 6, 0)])]
    assert rejections(got["table:acme-login-log:4"]) == [
        ("row 4", "ip", "expected a single value, got JSON list", None)]
    assert [n.key for n in got["table:acme-login-log:4"].nodes] == ["acme chat:u1003"]
    assert rejections(got["table:acme-login-log:5"]) == [
        ("row 5", "", "row not loaded: not valid JSON: Expecting value at column 1", None)]
    assert rejections(got["table:acme-login-log:6"]) == [
        ("row 6", "", "row not loaded: expected a JSON object, got list", None)]


def test_subscriber_row_gives_person_using_account_with_contacts_and_device() -> None:
    rec = rows(FIXTURES / "subscribers.csv", SUBSCRIBERS)["table:acme-subscribers:2"]
    src = ["table:acme-subscribers:2"]
    signup = [t(2023, 1, 10, 8, 0)]
    person = "table:acme-subscribers:2/person"
    assert nodes(rec) == [
        ("Account", "acme chat:u2001", {"provider": "acme chat", "esp_id": "u2001"},
         {"screen_names": ["@Shadow_Fox"]}, src, signup),
        ("Email", "alex.doe@example.com", {"canonical": "alex.doe@example.com"}, {}, src, []),
        ("Email", "fox@example.com", {"canonical": "fox@example.com"}, {}, src, []),
        ("Phone", "+15555550100", {}, {}, src, []),
        ("Device", "imei:490154203237518", {"type": "imei"}, {}, src, []),
        ("IP", "192.0.2.50", {"kind": "reserved"}, {}, src, signup),
        ("Person", person, {
            "name": "Alex Doe", "first_name": "Alex", "last_name": "Doe",
            "date_of_birth": date(1990, 4, 3), "address": "1 Example Street, Springfield 00001",
            "street": "1 Example Street", "city": "Springfield", "postcode": "00001",
            "national_id": "XX-000-001"}, {}, src, []),
    ]
    assert edges(rec) == [
        ("USES", person, "acme chat:u2001", {}, {}, src, []),
        ("HAS_EMAIL", "acme chat:u2001", "alex.doe@example.com", {}, {}, src, []),
        ("HAS_EMAIL", "acme chat:u2001", "fox@example.com", {}, {}, src, []),
        ("HAS_PHONE", person, "+15555550100", {}, {}, src, []),
        ("USED_DEVICE", "acme chat:u2001", "imei:490154203237518", {}, {}, src, []),
        ("USED_IP", "acme chat:u2001", "192.0.2.50", {}, {"events": ["Registration"]}, src,
         signup),
    ]
    assert rejections(rec) == []


def test_formula_injection_cell_is_kept_as_plain_text() -> None:
    rec = rows(FIXTURES / "subscribers.csv", SUBSCRIBERS)["table:acme-subscribers:3"]
    (person,) = [n for n in rec.nodes if n.label == "Person"]
    assert person.props == {"name": "=cmd|' /C calc'!A0", "first_name": "Jo", "last_name": "Doe"}
    assert [(r.path, r.value) for r in rec.rejections] == [("dob", "03/04/1990x"),
                                                         ("email", "not-an-email")]
    assert {e.type for e in rec.edges} == {"USES", "HAS_PHONE", "USED_DEVICE", "USED_IP"}


def test_subscriber_rows_without_account_or_with_only_an_id() -> None:
    got = rows(FIXTURES / "subscribers.csv", SUBSCRIBERS)
    assert rejections(got["table:acme-subscribers:4"]) == [
        ("row 4", "account_id", "row not loaded: no id for account 'account'", None)]
    assert got["table:acme-subscribers:4"].nodes == []
    only = got["table:acme-subscribers:5"]
    assert nodes(only) == [("Account", "acme chat:u2003", {"provider": "acme chat",
                                                            "esp_id": "u2003"}, {},
                            ["table:acme-subscribers:5"], [])]
    assert only.edges == [] and only.rejections == []


def test_utf8_bom_is_tolerated() -> None:
    first = next(iter(parse_table(FIXTURES / "subscribers.csv", SUBSCRIBERS)))
    assert first.nodes[0].key == "acme chat:u2001"


def test_invalid_utf8_is_malformed_with_byte_position(tmp_path: Path) -> None:
    good = b"account_id,ip,timestamp\nu1,192.0.2.1,2024-01-01T00:00:00Z\n"
    path = write(tmp_path, "log.csv", good + b"u\xff2,192.0.2.2,\n")
    got = parse_table(path, LOGIN)
    assert next(got).record == "table:acme-login-log:2"
    with pytest.raises(MalformedInput) as err:
        next(got)
    assert err.value.position == f"line 3, byte {len(good) + 1}"
    assert "invalid UTF-8" in err.value.reason


def test_header_lacking_a_mapped_column_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", "account,ip,timestamp\nu1,192.0.2.1,\n")
    with pytest.raises(MalformedInput) as err:
        list(parse_table(path, LOGIN))
    assert err.value.position == "row 1"
    assert "['account_id']" in err.value.reason


def test_lone_carriage_return_line_endings_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, "mac.csv", "account_id,ip,timestamp\ru1,192.0.2.1,\ru2,192.0.2.2,\r")
    assert [[n.key for n in r.nodes] for r in parse_table(path, LOGIN)] == [
        ["acme chat:u1", "192.0.2.1"], ["acme chat:u2", "192.0.2.2"]]


def test_header_names_match_whatever_their_case_and_spaces(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", " Account_ID , IP ,TimeStamp\nu1,192.0.2.1,\n")
    (rec,) = parse_table(path, LOGIN)
    assert [n.key for n in rec.nodes] == ["acme chat:u1", "192.0.2.1"]


def test_row_with_more_cells_than_header_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "log.csv", "account_id,ip,timestamp\nu1,192.0.2.1,,extra\n")
    (rec,) = parse_table(path, LOGIN)
    assert rec.nodes == []
    assert rejections(rec) == [("row 2", "", "row not loaded: 4 cells but the header has 3 "
                                             "columns", None)]


def test_device_type_and_provider_can_come_from_columns(tmp_path: Path) -> None:
    mapping = mapping_from_dict({
        "source": "devices", "provider": {"column": "service"},
        "entities": {"user": {"kind": "account", "screen_name": "handle"}},
        "identifiers": [{"column": "id", "kind": "device", "type": {"column": "id_type"},
                         "of": "user"}],
    })
    path = write(tmp_path, "d.csv", "service,handle,id_type,id\n"
                                    "Example Social,@Fox,MAC Address,00-1A-2B-3C-4D-5E\n"
                                    ",@Fox,IMEI,490154203237518\n")
    first, second = parse_table(path, mapping)
    assert [n.key for n in first.nodes] == ["example social:@fox", "mac:00:1a:2b:3c:4d:5e"]
    assert rejections(second) == [("row 3", "service",
                                   "row not loaded: no provider for account 'user'", None)]


@pytest.mark.parametrize(("change", "key"), [
    ({"identifers": []}, "key 'identifers'"),
    ({"source": ""}, "key 'source'"),
    ({"format": "xlsx"}, "key 'format'"),
    ({"phone_region": "XX"}, "key 'phone_region'"),
    ({"identifiers": [{"column": "ip", "kind": "ipaddr", "of": "account"}]},
     "key 'identifiers[0].kind'"),
    ({"identifiers": [{"column": "ip", "kind": "ip", "of": "acount"}]}, "key 'identifiers[0].of'"),
    ({"identifiers": [{"column": "ip", "kind": "ip", "of": "account"},
                      {"column": "imei", "kind": "device", "of": "account"}]},
     "key 'identifiers[1].type'"),
    ({"identifiers": [{"column": "ip", "kind": "ip", "of": "account", "event": {"col": "x"}}]},
     "key 'identifiers[0].event.col'"),
    ({"entities": {"account": {"kind": "account", "id": "account_id", "nmae": "n"}}},
     "key 'entities.account.nmae'"),
    ({"entities": {"account": {"kind": "acount", "id": "account_id"}}},
     "key 'entities.account.kind'"),
    ({"entities": {"account": {"kind": "account", "display_name": "d"}}},
     "key 'entities.account.id'"),
])
def test_mapping_errors_name_the_bad_key(change: dict, key: str) -> None:
    base = {"source": "s", "provider": "Acme Chat",
            "entities": {"account": {"kind": "account", "id": "account_id"}}}
    with pytest.raises(MalformedInput) as err:
        mapping_from_dict({**base, **change}, origin="m.yaml")
    assert (err.value.file, err.value.position) == ("m.yaml", key)


def test_ip_cannot_belong_to_a_person() -> None:
    with pytest.raises(MalformedInput) as err:
        mapping_from_dict({"source": "s", "entities": {"p": {"kind": "person", "name": "n"}},
                           "identifiers": [{"column": "ip", "kind": "ip", "of": "p"}]})
    assert err.value.position == "key 'identifiers[0].of'"
    assert "a person cannot hold a ip" in err.value.reason


def test_account_needs_a_provider() -> None:
    with pytest.raises(MalformedInput) as err:
        mapping_from_dict({"source": "s", "entities": {"a": {"kind": "account", "id": "i"}}})
    assert err.value.position == "key 'entities.a.provider'"


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "source: s\nentities: {a: [\n")
    with pytest.raises(MalformedInput) as err:
        load_mapping(path)
    assert err.value.file == str(path)
    assert err.value.position.startswith("line 3")


def test_example_mappings_load() -> None:
    login, subscribers = load_mapping(LOGIN), load_mapping(SUBSCRIBERS)
    assert set(login.columns) == {"account_id", "timestamp", "ip"}
    assert [e.name for e in subscribers.entities] == ["account", "person"]
    assert subscribers.entities[1].uses == ("account",)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200))
def test_hostile_bytes_raise_only_our_error(tmp_path: Path, body: bytes) -> None:
    for name in ("x.csv", "x.jsonl"):
        path = write(tmp_path, name, b"account_id,ip,timestamp\n" + body)
        try:
            for rec in parse_table(path, LOGIN):
                assert rec.record.startswith("table:acme-login-log:")
        except MalformedInput:
            pass


_YAMLISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["account", "person", "ip", "email", "phone", "device", "imei", "a", "US", "", ";"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["source", "entities", "identifiers", "kind", "id", "of", "column",
                         "type", "time", "provider", "uses", "a", "phone_region", "split"]),
        inner, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(data=_YAMLISH)
def test_any_mapping_document_is_accepted_or_refused_with_our_error(data: object) -> None:
    try:
        mapping_from_dict(data)
    except MalformedInput as err:
        assert err.position.startswith("key '") or err.position == "top level"
