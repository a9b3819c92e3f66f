"""CyberTipline JSON export: same graph as the XML, extra fields kept, errors with positions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import loaders.cybertip_json as cybertip_json
from loaders.cybertip import parse_cybertip
from loaders.cybertip_json import parse_cybertip_json
from loaders.errors import MalformedInput
from loaders.model import Edge, Label, Node, Records, Rel

FIXTURES = Path(__file__).parent / "fixtures" / "cybertip"
SINGLE = FIXTURES / "export_single.json"
ARRAY = FIXTURES / "export_array.json"
CAPTURES = "reportedInformation.reportedPeople.reportedPersons[0].sourceInformation.sourceCaptures"

REPORT = (Label.REPORT, "cybertip:9700001")
ACCOUNT = (Label.ACCOUNT, "example social inc:u-1001")
PERSON = (Label.PERSON, "cybertip:9700001/person/1")
IP = (Label.IP, "192.0.2.10")
IMEI = (Label.DEVICE, "imei:490154203237518")
OTHER_DEVICE = (Label.DEVICE, "other:android-5f3a")
EMAIL1 = (Label.EMAIL, "j.fake+tag@example.com")
EMAIL2 = (Label.EMAIL, "jon.fake@example.org")
PHONE = (Label.PHONE, "+15555550123")
FILE = (Label.FILE, "sha1:" + "b" * 39 + "1")
NONE: tuple = ({}, {}, [])


def t(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
      ) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(path: Path, **options: str) -> list[Records]:
    return list(parse_cybertip_json(path, **options))


def nodes(rec: Records) -> dict[tuple[Label, str], tuple]:
    return {(n.label, n.key): (n.props, n.lists, n.times) for n in rec.nodes}


def edges(rec: Records) -> dict[tuple, tuple]:
    return {(e.type, e.start, e.end): (e.props, e.lists, e.times) for e in rec.edges}


def write(tmp_path: Path, value: object, name: str = "export.json") -> Path:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def single() -> Records:
    (rec,) = parse(SINGLE)
    return rec


def test_single_export_nodes_are_exactly_these(single: Records) -> None:
    extra = {
        "reportedInformation.incidentSummary.escalateToHighPriority": False,
        f"{CAPTURES}[3]": {"captureType": "Cookie", "value": "c-77"},
        "reportedInformation.reportedPeople.reportedPersons[0].accountStatus": "disabled",
        "caseNotes": {"priority": "2", "tags": ["synthetic"]},
    }
    got = nodes(single)
    props, lists, times = got[REPORT]
    props = dict(props)  # the fixture is shared: leave its record untouched
    assert json.loads(props.pop("extra_json")) == extra
    got[REPORT] = (props, lists, times)
    assert got == {
        REPORT: ({
            "incident_type": "Child Pornography (possession, manufacture, and distribution)",
            "incident_at": t(2024, 3, 5, 10, 15), "received_at": t(2024, 3, 6, 9),
            "assumed_utc": False, "victim_count": 1, "source_file": "export_single.json",
            "provider": "example social inc", "provider_unknown": False,
        }, {}, [t(2024, 3, 5, 10, 15)]),
        (Label.PROVIDER, "example social inc"): ({"name": "Example Social, Inc."}, {}, []),
        PERSON: ({"first_name": "Jon", "last_name": "Fakename", "name": "Jon Fakename",
                  "date_of_birth": date(1990, 4, 3)}, {}, []),
        ACCOUNT: ({"provider": "example social inc", "esp_id": "u-1001"},
                  {"screen_names": ["@Jon_Fake"], "display_names": ["Jon F."]},
                  [t(2024, 3, 1, 8), t(2024, 3, 1, 8, 0, 5), t(2024, 3, 1, 8, 0, 6),
                   t(2024, 3, 1, 8, 1)]),
        IP: ({"kind": "reserved"}, {}, [t(2024, 3, 1, 8), t(2024, 3, 1, 8, 1)]),
        IMEI: ({"type": "imei"}, {}, [t(2024, 3, 1, 8, 0, 5)]),
        OTHER_DEVICE: ({"type": "other"}, {}, [t(2024, 3, 1, 8, 0, 6)]),
        EMAIL1: ({"canonical": "j.fake@example.com"}, {}, []),
        EMAIL2: ({"canonical": "jon.fake@example.org"}, {}, []),
        PHONE: NONE,
        FILE: ({"md5": "a" * 31 + "1", "sha1": "b" * 39 + "1"}, {}, [t(2024, 3, 1, 8, 1)]),
    }


def test_single_export_edges_are_exactly_these(single: Records) -> None:
    assert edges(single) == {
        (Rel.SUBMITTED_BY, REPORT, (Label.PROVIDER, "example social inc")): NONE,
        (Rel.REPORTS, REPORT, ACCOUNT): NONE,
        (Rel.REPORTS, REPORT, PERSON): NONE,
        (Rel.USES, PERSON, ACCOUNT): NONE,
        (Rel.USED_IP, ACCOUNT, IP): ({}, {"events": ["Login", "Upload"], "ports": [443]},
                                     [t(2024, 3, 1, 8), t(2024, 3, 1, 8, 1)]),
        (Rel.USED_DEVICE, ACCOUNT, IMEI): ({}, {"events": ["Login"]}, [t(2024, 3, 1, 8, 0, 5)]),
        (Rel.USED_DEVICE, ACCOUNT, OTHER_DEVICE): ({}, {}, [t(2024, 3, 1, 8, 0, 6)]),
        (Rel.HAS_EMAIL, PERSON, EMAIL1): NONE,
        (Rel.HAS_EMAIL, ACCOUNT, EMAIL1): NONE,
        (Rel.HAS_EMAIL, PERSON, EMAIL2): ({"verified": True}, {}, []),
        (Rel.HAS_EMAIL, ACCOUNT, EMAIL2): ({"verified": True}, {}, []),
        (Rel.HAS_PHONE, PERSON, PHONE): NONE,
        (Rel.HAS_PHONE, ACCOUNT, PHONE): NONE,
        (Rel.INCLUDES, REPORT, FILE): ({"original_file_name": "IMG_0001.jpg",
                                        "publicly_available": False}, {}, []),
        (Rel.SHARED, ACCOUNT, FILE): ({}, {}, [t(2024, 3, 1, 8, 1)]),
    }


def test_json_and_xml_of_one_user_give_the_same_keys(single: Records) -> None:
    (xml,) = parse_cybertip(FIXTURES / "full_report.xml")
    shared = set(nodes(single)) - {REPORT, PERSON, OTHER_DEVICE}
    assert shared <= {(n.label, n.key) for n in xml.nodes}
    xml_edges = edges(xml)
    assert xml_edges[(Rel.USED_DEVICE, ACCOUNT, IMEI)] == edges(single)[
        (Rel.USED_DEVICE, ACCOUNT, IMEI)]


def test_unknown_capture_type_is_rejected_and_kept(single: Records) -> None:
    assert [(r.path, r.reason) for r in single.rejections] == [
        (f"{CAPTURES}[3]", "captureType 'Cookie' not loaded here")]
    assert f"{CAPTURES}[3]" in json.loads(nodes(single)[REPORT][0]["extra_json"])


def test_victims_are_counted_and_staff_are_not_loaded(single: Records) -> None:
    text = repr(single)
    assert "Never Loaded" not in text and "Staffa" not in text
    assert "trust@social.example.com" not in text
    assert nodes(single)[REPORT][0]["victim_count"] == 1


# -- arrays, ids and fallbacks ---------------------------------------------------------------------

def test_array_yields_each_report_with_fallback_keys() -> None:
    first, second, third = parse(ARRAY)
    assert [first.record, second.record, third.record] == [
        "cybertip:9800001", "cybertip:export_array#2", "cybertip:9800003"]
    person = (Label.PERSON, "cybertip:9800001/person/1")
    account = (Label.ACCOUNT, "example mail:m-1")
    email = (Label.EMAIL, "mailer@example.net")
    assert nodes(first)[person] == NONE  # the person carries only an email
    assert {(Rel.HAS_EMAIL, person, email), (Rel.HAS_EMAIL, account, email)} <= set(edges(first))


def test_bad_identifier_is_rejected_with_its_json_path() -> None:
    second = parse(ARRAY)[1]
    assert [(r.path, r.value) for r in second.rejections] == [
        (f"{CAPTURES}[0].value", "198.51.100.300")]
    account = (Label.ACCOUNT, "unknown/cybertip:export_array#2:@no_id_user")
    assert nodes(second)[account][2] == [t(2024, 1, 1)]  # the capture's time still counts
    assert not any(e.type == Rel.USED_IP for e in second.edges)


def test_file_with_only_photodna_is_rejected() -> None:
    third = parse(ARRAY)[2]
    assert [(r.path, r.value) for r in third.rejections] == [
        ("reportedInformation.uploadedFiles.uploadedFiles[0]", "photodna:5,6,7")]
    assert not any(n.label == Label.FILE for n in third.nodes)


def test_provider_option_fills_in_and_unknown_is_flagged() -> None:
    recs = parse(ARRAY, provider="Example Files")
    assert nodes(recs[1])[(Label.REPORT, recs[1].record)][0]["provider"] == "example files"
    report = nodes(parse(ARRAY)[1])[(Label.REPORT, "cybertip:export_array#2")][0]
    assert report["provider"] == "unknown" and report["provider_unknown"] is True


def test_single_report_without_id_is_keyed_by_file_stem(tmp_path: Path) -> None:
    (rec,) = parse(write(tmp_path, {"reportedInformation": {}}, "tip-9.json"))
    assert rec.record == "cybertip:tip-9"


def test_fields_of_the_wrong_type_are_rejected_and_kept(tmp_path: Path) -> None:
    doc = {"reportId": "1", "reportedInformation": {
        "reportedPeople": [{"espUserId": "x"}],
        "incidentSummary": {"incidentType": ["a", "b"]}}}
    (rec,) = parse(write(tmp_path, doc))
    assert [(r.path, r.reason) for r in rec.rejections] == [
        ("reportedInformation.incidentSummary.incidentType", "expected a single value"),
        ("reportedInformation.reportedPeople", "expected a JSON object"),
    ]
    extra = json.loads(nodes(rec)[(Label.REPORT, "cybertip:1")][0]["extra_json"])
    assert extra == {"reportedInformation.incidentSummary.incidentType": ["a", "b"],
                     "reportedInformation.reportedPeople": [{"espUserId": "x"}]}


def test_device_capture_type_from_id_type_field(tmp_path: Path) -> None:
    capture = {"captureType": "device id", "idType": "MAC Address", "value": "00-1A-2B-3C-4D-5E"}
    doc = {"reportId": "2", "reportedInformation": {"reportedPeople": {"reportedPersons": [
        {"espUserId": "7", "sourceInformation": {"sourceCaptures": [capture]}}]}}}
    (rec,) = parse(write(tmp_path, doc), provider="Example")
    assert (Rel.USED_DEVICE, (Label.ACCOUNT, "example:7"),
            (Label.DEVICE, "mac:00:1a:2b:3c:4d:5e")) in edges(rec)


# -- malformed files and streaming -----------------------------------------------------------------

def test_malformed_json_yields_earlier_reports_then_names_the_position() -> None:
    stream = parse_cybertip_json(FIXTURES / "malformed.json")
    assert [next(stream).record, next(stream).record] == ["cybertip:9900001", "cybertip:9900002"]
    with pytest.raises(MalformedInput) as info:
        next(stream)
    assert info.value.file == str(FIXTURES / "malformed.json")
    assert info.value.position == "line 4, column 26"
    assert info.value.reason == "Expecting ',' delimiter"


@pytest.mark.parametrize(("text", "position", "reason"), [
    ("", "line 1, column 1", "empty file"),
    ('[{"reportId": "1"}', "line 1, column 19", "the array is not closed"),
    ('{"reportId": "1"} {}', "line 1, column 19", "extra data after the report"),
    ('[{"reportId": "1"}]\n x', "line 2, column 2", "extra data after the array"),
    ('[{"reportId": "1"}, 5]', "line 1, column 21", "must be a JSON object"),
    ('[{"reportId": "1"},]', "line 1, column 20", "Expecting value"),
    ("[" * 100_000, "line 1, column 2", "nested too deeply"),
])
def test_broken_json_raises_with_line_and_column(tmp_path: Path, text: str, position: str,
                                                 reason: str) -> None:
    with pytest.raises(MalformedInput) as info:
        parse(write(tmp_path, text))
    assert info.value.position == position
    assert reason in info.value.reason


def test_invalid_utf8_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"reportId": "caf\xe9"}')
    with pytest.raises(MalformedInput, match="not UTF-8"):
        parse(path)


def test_reading_in_tiny_chunks_gives_the_same_records_and_positions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [(r.record, nodes(r), edges(r)) for r in parse(ARRAY)]
    monkeypatch.setattr(cybertip_json, "_CHUNK", 7)
    assert [(r.record, nodes(r), edges(r)) for r in parse(ARRAY)] == expected
    with pytest.raises(MalformedInput) as info:
        parse(FIXTURES / "malformed.json")
    assert info.value.position == "line 4, column 26"


def test_a_long_array_is_read_a_report_at_a_time(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cybertip_json, "_CHUNK", 4096)
    path = tmp_path / "many.json"
    report = {"reportedInformation": {"reportedPeople": {"reportedPersons": [{"espUserId": "u"}]}},
              "note": "x" * 500}
    path.write_text("[" + ",\n".join(json.dumps({**report, "reportId": n}) for n in range(2000))
                    + "]")
    seen = []
    original = cybertip_json._Reader.fill

    def spy(reader: cybertip_json._Reader) -> bool:
        seen.append(len(reader.buf) - reader.pos)
        return original(reader)

    monkeypatch.setattr(cybertip_json._Reader, "fill", spy)
    assert len(parse(path)) == 2000
    assert max(seen) < 4096  # never more than about one chunk held, though the file is 1 MB


def test_victim_fields_under_any_name_are_never_kept(tmp_path: Path) -> None:
    doc = {"reportId": "3", "victimNotes": "Never Loaded", "reportedInformation": {
        "victims": [{"name": "Never Loaded"}, {"name": "Never Loaded"}], "victim": {"age": 9},
        "reportedPeople": {"reportedPersons": [{"espUserId": "v", "possibleVictimIds": ["x"]}]}}}
    (rec,) = parse(write(tmp_path, doc), provider="Example")
    report = nodes(rec)[(Label.REPORT, "cybertip:3")][0]
    assert report["victim_count"] == 3
    assert "extra_json" not in report
    assert "Never Loaded" not in repr(rec)


def test_property_values_are_storable_by_neo4j(single: Records) -> None:
    scalar = (str, int, float, bool, datetime, date)
    items: list[Node | Edge] = [*single.nodes, *single.edges]
    for item in items:
        assert all(isinstance(v, scalar) for v in item.props.values()), item
        for values in item.lists.values():
            assert values and all(isinstance(v, scalar) for v in values), item
            assert len({type(v) for v in values}) == 1, item


def test_email_and_phone_captures_belong_to_the_account(tmp_path: Path) -> None:
    captures = [{"captureType": "Email Address", "value": "cap@example.com"},
                {"captureType": "Phone Number", "value": "(555) 555-0199"}]
    people = [{"espUserId": "8", "sourceInformation": {"sourceCaptures": captures}},
              {"sourceInformation": {"sourceCaptures": captures[:1]}}]
    doc = {"reportId": "4", "reportedInformation": {"reportedPeople": {"reportedPersons": people}}}
    (rec,) = parse(write(tmp_path, doc), provider="Example")
    account = (Label.ACCOUNT, "example:8")
    email, phone = (Label.EMAIL, "cap@example.com"), (Label.PHONE, "+15555550199")
    assert {email, phone} <= set(nodes(rec))
    assert {k for k in edges(rec) if k[0] in (Rel.HAS_EMAIL, Rel.HAS_PHONE)} == {
        (Rel.HAS_EMAIL, account, email), (Rel.HAS_PHONE, account, phone)}
    assert not any(n.label == Label.PERSON for n in rec.nodes)
    assert rec.rejections == []


@pytest.mark.parametrize("path", [SINGLE, ARRAY])
def test_every_edge_ends_on_a_node_of_the_same_record(path: Path) -> None:
    for rec in parse(path):
        assert {ref for e in rec.edges for ref in (e.start, e.end)} <= set(nodes(rec))
