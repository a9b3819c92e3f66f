"""CyberTipline XML: exact graph per fixture, rejections with paths, refused DTDs, streaming."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.cybertip import parse_cybertip
from loaders.errors import MalformedInput
from loaders.model import ENDPOINTS, Edge, Label, Node, Records, Rel

FIXTURES = Path(__file__).parent / "fixtures" / "cybertip"
FULL = FIXTURES / "full_report.xml"

REPORT = (Label.REPORT, "cybertip:9000001")
PROVIDER = (Label.PROVIDER, "example social inc")
ACCOUNT = (Label.ACCOUNT, "example social inc:u-1001")
OTHER = (Label.ACCOUNT, "example social inc:@other_user")
ASSOCIATED = (Label.ACCOUNT, "example social inc:u-2002")
PERSON = (Label.PERSON, "cybertip:9000001/person/1")
IP4 = (Label.IP, "192.0.2.10")
IP6 = (Label.IP, "2001:db8::1")
IP_OTHER = (Label.IP, "198.51.100.7")
IMEI = (Label.DEVICE, "imei:490154203237518")
EMAIL1 = (Label.EMAIL, "j.fake+tag@example.com")
EMAIL2 = (Label.EMAIL, "jon.fake@example.org")
PHONE = (Label.PHONE, "+15555550123")
LOCATION = (Label.LOCATION, "US/illinois/springfield")
PRIOR1 = (Label.REPORT, "cybertip:8000001")
PRIOR2 = (Label.REPORT, "cybertip:8000002")
FILE1 = (Label.FILE, "sha1:" + "b" * 39 + "1")
FILE2 = (Label.FILE, "sha256:" + "c" * 64)
TMP_PATH_OK = HealthCheck.function_scoped_fixture  # each example overwrites its one file


def t(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
      ) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(path: Path, **options: str) -> list[Records]:
    return list(parse_cybertip(path, **options))


def nodes(rec: Records) -> dict[tuple[Label, str], tuple]:
    return {(n.label, n.key): (n.props, n.lists, n.times) for n in rec.nodes}


def edges(rec: Records) -> dict[tuple, tuple]:
    return {(e.type, e.start, e.end): (e.props, e.lists, e.times) for e in rec.edges}


def rejections(rec: Records) -> list[tuple[str, str, str | None]]:
    return [(r.path, r.reason, r.value) for r in rec.rejections]


def write(tmp_path: Path, body: str, name: str = "report.xml") -> Path:
    path = tmp_path / name
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{body}', encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full() -> Records:
    (rec,) = parse(FULL)
    return rec


# -- the full report: every element, in a namespace --------------------------------------------

FULL_NODES = {
    REPORT: ({
        "incident_type": "Child Pornography (possession, manufacture, and distribution)",
        "incident_at": t(2024, 3, 5, 10, 15), "assumed_utc": True, "channel": "web page",
        "victim_count": 2, "source_file": "full_report.xml", "provider": "example social inc",
        "provider_unknown": False,
    }, {"channels": ["web page", "chat/im"],
        "urls": ["https://social.example.com/p/123", "https://social.example.com/p/456"]},
        [t(2024, 3, 5, 10, 15)]),
    PROVIDER: ({"name": "Example Social, Inc."}, {}, []),
    PERSON: ({"first_name": "Jon", "last_name": "Fakename", "name": "Jon Fakename",
              "date_of_birth": date(1990, 4, 3), "age": 33,
              "address": "1 Example Street, Springfield, IL, 00000, US"}, {}, []),
    ACCOUNT: ({"provider": "example social inc", "esp_id": "u-1001", "service": "Example Photos"},
              {"screen_names": ["@Jon_Fake"], "display_names": ["Jon F.", "JF"],
               "profile_urls": ["https://social.example.com/jon_fake"]},
              [t(2024, 3, 1, 8), t(2024, 2, 1, 10), t(2024, 3, 1, 8, 0, 5), t(2024, 3, 1, 8, 1)]),
    IP4: ({"kind": "reserved"}, {}, [t(2024, 3, 1, 8), t(2024, 3, 1, 8, 1)]),
    IP6: ({"kind": "reserved"}, {}, [t(2024, 2, 1, 10)]),
    IMEI: ({"type": "imei"}, {}, [t(2024, 3, 1, 8, 0, 5)]),
    EMAIL1: ({"canonical": "j.fake@example.com"}, {}, []),
    EMAIL2: ({"canonical": "jon.fake@example.org"}, {}, []),
    PHONE: ({}, {}, []),
    ASSOCIATED: ({"provider": "example social inc", "esp_id": "u-2002",
                  "service": "Example Messenger"}, {"screen_names": ["jf_alt"]}, []),
    LOCATION: ({"country": "us", "region": "Illinois", "city": "Springfield"}, {}, []),
    PRIOR1: ({}, {}, []),
    PRIOR2: ({}, {}, []),
    OTHER: ({"provider": "example social inc"}, {"screen_names": ["Other_User"]},
            [t(2024, 3, 2, 14, 30)]),
    IP_OTHER: ({"kind": "reserved"}, {}, [t(2024, 3, 2, 14, 30)]),
    FILE1: ({"md5": "a" * 31 + "1", "sha1": "b" * 39 + "1", "photodna": "1,2,3,4"}, {},
            [t(2024, 3, 1, 8, 1)]),
    FILE2: ({"sha256": "c" * 64, "pdq": "d" * 64}, {}, []),
}

NONE: tuple = ({}, {}, [])
FULL_EDGES = {
    (Rel.SUBMITTED_BY, REPORT, PROVIDER): NONE,
    (Rel.REPORTS, REPORT, PERSON): NONE,
    (Rel.REPORTS, REPORT, ACCOUNT): NONE,
    (Rel.REPORTS, REPORT, OTHER): NONE,
    (Rel.USES, PERSON, ACCOUNT): NONE,
    (Rel.HAS_EMAIL, PERSON, EMAIL1): ({"verified": True}, {}, []),
    (Rel.HAS_EMAIL, ACCOUNT, EMAIL1): ({"verified": True}, {}, []),
    (Rel.HAS_EMAIL, PERSON, EMAIL2): NONE,
    (Rel.HAS_EMAIL, ACCOUNT, EMAIL2): NONE,
    (Rel.HAS_PHONE, PERSON, PHONE): ({"verified": True}, {}, []),
    (Rel.HAS_PHONE, ACCOUNT, PHONE): ({"verified": True}, {}, []),
    (Rel.USED_IP, ACCOUNT, IP4): ({"possible_proxy": False},
                                  {"events": ["Login", "Upload"], "ports": [443, 51000]},
                                  [t(2024, 3, 1, 8), t(2024, 3, 1, 8, 1)]),
    (Rel.USED_IP, ACCOUNT, IP6): ({}, {"events": ["Registration"]}, [t(2024, 2, 1, 10)]),
    (Rel.USED_IP, OTHER, IP_OTHER): ({}, {"events": ["Upload"]}, [t(2024, 3, 2, 14, 30)]),
    (Rel.USED_DEVICE, ACCOUNT, IMEI): ({}, {"events": ["Login"]}, [t(2024, 3, 1, 8, 0, 5)]),
    (Rel.ASSOCIATED_WITH, ACCOUNT, ASSOCIATED): NONE,
    (Rel.LOCATED_IN, ACCOUNT, LOCATION): NONE,
    (Rel.RELATED_TO, REPORT, PRIOR1): NONE,
    (Rel.RELATED_TO, REPORT, PRIOR2): NONE,
    (Rel.INCLUDES, REPORT, FILE1): ({
        "file_id": "f-1", "original_file_name": "IMG_0001.jpg",
        "location_of_file": "https://cdn.example.com/f/1", "file_viewed_by_esp": True,
        "publicly_available": False, "industry_classification": "A1",
        "uploaded_at": t(2024, 3, 1, 8, 1)}, {}, []),
    (Rel.SHARED, ACCOUNT, FILE1): ({}, {}, [t(2024, 3, 1, 8, 1)]),
    (Rel.INCLUDES, REPORT, FILE2): ({"original_file_name": "clip.mp4"}, {}, []),
}


def test_full_report_is_one_record_keyed_by_its_report_id(full: Records) -> None:
    assert full.record == "cybertip:9000001"
    assert full.rejections == []


def test_full_report_nodes_are_exactly_these(full: Records) -> None:
    assert nodes(full) == FULL_NODES
    assert len(full.nodes) == len(FULL_NODES)  # one node per key: repeats were merged


def test_full_report_edges_are_exactly_these_with_directions(full: Records) -> None:
    assert edges(full) == FULL_EDGES
    assert len(full.edges) == len(FULL_EDGES)


def test_every_node_and_edge_is_sourced_by_the_report(full: Records) -> None:
    items: list[Node | Edge] = [*full.nodes, *full.edges]
    assert {tuple(item.sources) for item in items} == {("cybertip:9000001",)}


def test_edges_join_only_the_labels_the_model_allows(full: Records) -> None:
    for edge in full.edges:
        starts, ends = ENDPOINTS[edge.type]
        assert edge.start[0] in starts and edge.end[0] in ends, edge


@pytest.mark.parametrize("name", ["full_report.xml", "bundle.xml", "bad_identifiers.xml"])
def test_every_edge_ends_on_a_node_of_the_same_record(name: str) -> None:
    for rec in parse(FIXTURES / name):  # the writer refuses an edge whose endpoint is missing
        assert {ref for e in rec.edges for ref in (e.start, e.end)} <= set(nodes(rec))


def test_property_values_are_storable_by_neo4j(full: Records) -> None:
    scalar = (str, int, float, bool, datetime, date)
    items: list[Node | Edge] = [*full.nodes, *full.edges]
    for item in items:
        assert all(isinstance(v, scalar) for v in item.props.values()), item
        for values in item.lists.values():
            assert values and all(isinstance(v, scalar) for v in values), item
            assert len({type(v) for v in values}) == 1, item


def test_victims_are_counted_and_staff_are_not_loaded(full: Records) -> None:
    text = repr(full)
    assert "Never Loaded" not in text  # victim data
    assert "Staffa" not in text and "trust@social.example.com" not in text  # reportingPerson
    assert "Contacta" not in text and "Example Template" not in text
    assert nodes(full)[REPORT][0]["victim_count"] == 2


def test_namespace_does_not_change_the_graph(full: Records, tmp_path: Path) -> None:
    plain = FULL.read_text().replace(' xmlns="https://report.example.org/ispws/xsd"', "")
    assert "xmlns" not in plain
    (rec,) = parse(write(tmp_path, plain.split("\n", 1)[1], FULL.name))
    assert nodes(rec) == nodes(full) and edges(rec) == edges(full)


# -- bundles, report ids, providers ----------------------------------------------------------------

def test_bundle_yields_each_report_in_order_with_fallback_keys() -> None:
    recs = parse(FIXTURES / "bundle.xml")
    assert [r.record for r in recs] == ["cybertip:9100001", "cybertip:bundle#2", "cybertip:9100003"]
    first, second, third = recs
    assert edges(first) == {
        (Rel.SUBMITTED_BY, (Label.REPORT, "cybertip:9100001"), PROVIDER): NONE,
        (Rel.REPORTS, (Label.REPORT, "cybertip:9100001"), ACCOUNT): NONE,
    }
    assert nodes(second)[(Label.PROVIDER, "example mail")] == ({"name": "Example Mail"}, {}, [])
    assert (Label.ACCOUNT, "example mail:@mailer_one") in nodes(second)
    assert nodes(third)[(Label.REPORT, "cybertip:9100003")][0]["provider_unknown"] is True


def test_single_report_without_id_is_keyed_by_file_stem(tmp_path: Path) -> None:
    (rec,) = parse(write(tmp_path, "<report><reporter/></report>", "tip-77.xml"))
    assert rec.record == "cybertip:tip-77"


def test_provider_option_is_used_only_when_the_report_names_none() -> None:
    recs = parse(FIXTURES / "bundle.xml", provider="Example Files Ltd")
    assert [nodes(r)[(Label.REPORT, r.record)][0]["provider"] for r in recs] == [
        "example social inc", "example mail", "example files ltd"]
    assert (Label.ACCOUNT, "example files ltd:42") in nodes(recs[2])


def test_unknown_provider_is_flagged_and_scopes_accounts_to_the_report() -> None:
    third = parse(FIXTURES / "bundle.xml")[2]
    report = (Label.REPORT, "cybertip:9100003")
    assert nodes(third)[report][0]["provider"] == "unknown"
    assert nodes(third)[report][0]["provider_unknown"] is True
    assert (Rel.SUBMITTED_BY, report, (Label.PROVIDER, "unknown")) in edges(third)
    # "42" from an unknown service must not merge with user 42 of every other unknown service.
    assert (Label.ACCOUNT, "unknown/cybertip:9100003:42") in nodes(third)


def test_company_template_names_the_provider_without_reporting_esp(tmp_path: Path) -> None:
    body = "<report><reportId>1</reportId><reporter><companyTemplate>Example Chat</companyTemplate>"
    (rec,) = parse(write(tmp_path, body + "</reporter></report>"))
    assert nodes(rec)[(Label.PROVIDER, "example chat")] == ({"name": "Example Chat"}, {}, [])


# -- identifiers rejected one by one ---------------------------------------------------------------

USER = "personOrUserReported[1]"
PERSON_PATH = f"{USER}/personOrUserReportedPerson"


def test_each_bad_identifier_is_rejected_with_its_path_and_reason() -> None:
    (rec,) = parse(FIXTURES / "bad_identifiers.xml")
    got = rejections(rec)
    assert [(path, value) for path, _, value in got] == [
        ("incidentSummary/incidentDateTime", "yesterday evening"),
        (f"{PERSON_PATH}/dateOfBirth", "31/12/1990"),
        (f"{PERSON_PATH}/age", "about thirty"),
        (f"{USER}/ipCaptureEvent[1]/ipAddress", "999.1.1.1"),
        (f"{USER}/ipCaptureEvent[2]/dateTime", "2024-13-01T10:00:00Z"),
        (f"{USER}/ipCaptureEvent[2]/port", "https"),
        (f"{USER}/ipCaptureEvent[2]/possibleProxy", "maybe"),
        (f"{USER}/ipCaptureEvent[3]", None),
        (f"{USER}/deviceId[1]/idValue", "490154203237519"),
        (f"{PERSON_PATH}/email[1]", "not-an-email"),
        (f"{PERSON_PATH}/email[2]/@verified", "sometimes"),
        (f"{PERSON_PATH}/phone[1]", "12"),
        ("fileDetails[1]/originalFileHash[1]", "abc123"),
        ("fileDetails[1]/originalFileHash[2]", "z" * 40),
        ("fileDetails[2]", "photodna:9,8,7"),
        ("fileDetails[3]/originalFileHash[1]", "not-a-hash"),  # one rejection, not two
    ]
    reasons = dict((path, reason) for path, reason, _ in got)
    assert reasons["incidentSummary/incidentDateTime"].startswith("invalid timestamp")
    assert "Luhn" in reasons[f"{USER}/deviceId[1]/idValue"]
    assert reasons["fileDetails[1]/originalFileHash[1]"] == (
        "invalid hash: md5 must be 32 hex characters, got 6")
    assert reasons[f"{USER}/ipCaptureEvent[3]"] == "IP capture without an address"
    assert reasons["fileDetails[2]"].startswith("no cryptographic hash")
    assert {(r.file, r.record) for r in rec.rejections} == {
        (str(FIXTURES / "bad_identifiers.xml"), "cybertip:9200001")}


def test_the_rest_of_a_report_with_bad_identifiers_still_loads() -> None:
    (rec,) = parse(FIXTURES / "bad_identifiers.xml")
    report = (Label.REPORT, "cybertip:9200001")
    account = (Label.ACCOUNT, "example social:u-3003")
    person = (Label.PERSON, "cybertip:9200001/person/1")
    email = (Label.EMAIL, "jane.fake@example.com")
    ip = (Label.IP, "192.0.2.20")
    file = (Label.FILE, "sha256:" + "e" * 64)
    assert set(nodes(rec)) == {report, (Label.PROVIDER, "example social"), account, person, email,
                               ip, file}
    assert "incident_at" not in nodes(rec)[report][0]
    assert nodes(rec)[person][0] == {"first_name": "Jane", "name": "Jane"}
    assert nodes(rec)[ip] == ({"kind": "reserved"}, {}, [])  # its time was rejected, not guessed
    assert edges(rec)[(Rel.USED_IP, account, ip)] == ({}, {"events": ["Login"]}, [])
    assert edges(rec)[(Rel.HAS_EMAIL, account, email)] == NONE  # `verified` was unreadable
    assert (Rel.INCLUDES, report, file) in edges(rec)  # the good sha256 keys the file


def test_capture_without_an_account_keeps_the_ip_but_links_nothing(tmp_path: Path) -> None:
    body = """<report><reportId>5</reportId><personOrUserReported><ipCaptureEvent>
      <ipAddress>198.51.100.9</ipAddress><dateTime>2024-01-02T03:04:05Z</dateTime>
      </ipCaptureEvent></personOrUserReported></report>"""
    (rec,) = parse(write(tmp_path, body))
    assert nodes(rec)[(Label.IP, "198.51.100.9")] == ({"kind": "reserved"}, {},
                                                      [t(2024, 1, 2, 3, 4, 5)])
    assert {e.type for e in rec.edges} == {Rel.SUBMITTED_BY}
    assert rec.rejections == []


def test_person_with_only_a_rejected_value_makes_no_node(tmp_path: Path) -> None:
    body = """<report><reportId>6</reportId><personOrUserReported><personOrUserReportedPerson>
      <email>nobody</email></personOrUserReportedPerson><espIdentifier>x1</espIdentifier>
      </personOrUserReported></report>"""
    (rec,) = parse(write(tmp_path, body))
    assert {n.label for n in rec.nodes} == {Label.REPORT, Label.PROVIDER, Label.ACCOUNT}
    assert [r.path for r in rec.rejections] == [
        "personOrUserReported[1]/personOrUserReportedPerson/email[1]"]


def test_a_report_naming_itself_as_prior_is_rejected(tmp_path: Path) -> None:
    body = """<report><reportId>7</reportId><personOrUserReported><espIdentifier>a</espIdentifier>
      <priorCTReports><reportId>7</reportId><reportId>6</reportId></priorCTReports>
      </personOrUserReported></report>"""
    (rec,) = parse(write(tmp_path, body))
    assert rejections(rec) == [("personOrUserReported[1]/priorCTReports/reportId[1]",
                                "report names itself as a prior report", "7")]
    assert [e.end for e in rec.edges if e.type == Rel.RELATED_TO] == [(Label.REPORT, "cybertip:6")]


# -- malformed files -------------------------------------------------------------------------------

def test_truncated_file_yields_finished_reports_then_names_the_position() -> None:
    stream = parse_cybertip(FIXTURES / "truncated.xml")
    assert [next(stream).record, next(stream).record] == ["cybertip:9300001", "cybertip:9300002"]
    with pytest.raises(MalformedInput) as info:
        next(stream)
    assert info.value.file == str(FIXTURES / "truncated.xml")
    assert info.value.position == "line 12, column 25"
    assert info.value.reason == "Premature end of data in tag espIdentifier line 12"


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml", "external_dtd.xml"])
def test_a_doctype_refuses_the_whole_file_before_any_report(name: str) -> None:
    stream = parse_cybertip(FIXTURES / name)
    with pytest.raises(MalformedInput) as info:
        next(stream)  # the very first step fails: nothing was yielded
    assert info.value.position == "line 2, column 1"
    assert "DOCTYPE" in info.value.reason
    assert "root:" not in str(info.value)  # /etc/passwd was never read


def test_a_doctype_is_refused_even_without_any_report(tmp_path: Path) -> None:
    path = write(tmp_path, '<!DOCTYPE x [<!ENTITY a "b">]>\n<x>&a;</x>')
    with pytest.raises(MalformedInput, match="DOCTYPE"):
        parse(path)


@pytest.mark.parametrize(("body", "position"), [
    ("", "line 1, column 1"),
    ("not xml at all", "line 1, column 1"),
    ("<report><reportId>1</reportId></reprt>", "line 1, column 39"),
])
def test_broken_xml_raises_with_line_and_column(tmp_path: Path, body: str, position: str) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(body)
    with pytest.raises(MalformedInput) as info:
        parse(path)
    assert info.value.position == position


@settings(max_examples=40, deadline=None, suppress_health_check=[TMP_PATH_OK])
@given(cut=st.integers(min_value=0, max_value=FULL.stat().st_size))
def test_any_truncation_yields_records_or_our_error(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.xml"
    path.write_bytes(FULL.read_bytes()[:cut])
    with contextlib.suppress(MalformedInput):
        parse(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[TMP_PATH_OK])
@given(value=st.text(st.characters(codec="utf-8", exclude_characters="<&>\ufffe\uffff"),
                     max_size=40))
def test_hostile_identifier_text_is_rejected_never_raised(tmp_path: Path, value: str) -> None:
    value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 0x20)  # XML 1.0 chars
    fields = ["ipAddress", "dateTime", "port", "possibleProxy"]
    capture = "".join(f"<{name}>{value}</{name}>" for name in fields)
    body = (f"<report><reportId>1</reportId><personOrUserReported><espIdentifier>{value}"
            f"</espIdentifier><screenName>{value}</screenName><ipCaptureEvent>{capture}"
            f"</ipCaptureEvent><deviceId><idType>IMEI</idType><idValue>{value}</idValue></deviceId>"
            f"<personOrUserReportedPerson><email>{value}</email><phone>{value}</phone>"
            f"<dateOfBirth>{value}</dateOfBirth></personOrUserReportedPerson>"
            f"</personOrUserReported><fileDetails><originalFileHash hashType='md5'>{value}"
            f"</originalFileHash></fileDetails></report>")
    (rec,) = parse(write(tmp_path, body))
    assert rec.record == "cybertip:1"


# -- streaming -------------------------------------------------------------------------------------

def test_a_large_bundle_streams_in_flat_memory(tmp_path: Path) -> None:
    """20k padded reports (11 MB): a parser that kept the tree grows by ~30 MB, ours by ~0.

    Measured as resident memory, not tracemalloc: the tree lives in libxml2's C heap, which
    tracemalloc does not see; resident memory covers both it and any Python objects kept.
    """
    path = tmp_path / "bundle.xml"
    pad = "x" * 400
    with path.open("w") as out:
        out.write("<reports>")
        for n in range(20_000):
            out.write(f"<report><reportId>{n}</reportId><personOrUserReported><espIdentifier>u{n}"
                      f"</espIdentifier></personOrUserReported><additionalInfo>{pad}"
                      "</additionalInfo></report>\n")
        out.write("</reports>")
    process = psutil.Process()
    baseline = peak = 0
    count = 0
    for count, _ in enumerate(parse_cybertip(path), 1):
        if count == 1_000:
            baseline = process.memory_info().rss
        elif count % 1_000 == 0:
            peak = max(peak, process.memory_info().rss)
    assert count == 20_000
    assert peak - baseline < 8_000_000
