"""Hash-set loading: exact File / HashSet records per fixture, rejections, malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.errors import MalformedInput
from loaders.hashsets import parse_hashset
from loaders.model import Records

FIXTURES = Path(__file__).parent / "fixtures" / "hashsets"
MD5_1, SHA1_1 = "54f6e3d068b9c0cabe8f1b71b41ce03d", "699355856d2271287a050b92a298ee8cdee023fa"
SHA256_1 = "20309496e22e66d8a541748a8119aff86b560604336ff78ea6161e58040c4ab3"
MD5_2, SHA1_2 = "b095c7548c9a72f7e6047bf5b61f3f9c", "375abf4bb5a4588779a9f32ab2182a4811f8b540"
SHA256_2 = "ab3b43f043e3c3f8fcc2cb3f5a9a1035ff89139dd2a09a7ef9e0cdda5af8459a"
SHA1_3 = "bf2790bc8729cd06b7cc24c2551800926e037b2b"
MD5_4 = "88124fb8a624e78807dcafcdf470d42d"


def load(path: Path, **options: object) -> list[Records]:
    return list(parse_hashset(path, **options))  # type: ignore[arg-type]


def files(batches: list[Records]) -> list[tuple]:
    return [(n.key, n.props, n.lists, n.sources) for r in batches for n in r.nodes
            if n.label == "File"]


def listed(batches: list[Records]) -> list[tuple]:
    return [(str(e.type), e.start, e.end[1], e.props, e.sources) for r in batches for e in r.edges]


def rejections(batches: list[Records]) -> list[tuple]:
    return [(x.record, x.path, x.reason, x.value) for r in batches for x in r.rejections]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_vics_json_with_mixed_case_keys() -> None:
    batches = load(FIXTURES / "vics_mixed_case.json")
    src = ["hashset:vics_mixed_case:1"]
    assert [r.record for r in batches] == src
    assert [(n.key, n.props) for n in batches[0].nodes if n.label == "HashSet"] == [
        ("vics_mixed_case:1", {"name": "vics_mixed_case", "version": "1"})]
    assert files(batches) == [
        (f"sha1:{SHA1_1}", {"md5": MD5_1, "sha1": SHA1_1, "photodna": "AAECAwQFBgc=",
                            "known": True, "category": "1"}, {"series": ["S-0001"]}, src),
        (f"md5:{MD5_2}", {"md5": MD5_2, "known": True, "category": "2"}, {}, src),
        (f"sha1:{SHA1_3}", {"sha1": SHA1_3, "known": True, "category": "0"},
         {"series": ["S-0002", "3"]}, src),
    ]
    assert listed(batches) == [
        ("LISTED_IN", ("File", f"sha1:{SHA1_1}"), "vics_mixed_case:1", {"category": "1"}, src),
        ("LISTED_IN", ("File", f"md5:{MD5_2}"), "vics_mixed_case:1", {"category": "2"}, src),
        ("LISTED_IN", ("File", f"sha1:{SHA1_3}"), "vics_mixed_case:1", {"category": "0"}, src),
    ]


def test_vics_bad_entries_are_rejected_and_the_rest_loads() -> None:
    path = FIXTURES / "vics_mixed_case.json"
    batches = load(path)
    assert rejections(batches) == [
        ("entry 3", "MD5", "md5 is not hexadecimal", "not-a-hash"),
        ("entry 4", "MD5", "md5 must be 32 hex characters, got 31", MD5_4[:-1]),
        ("entry 5", "", "expected a media object, got str", None),
        ("entry 6", "", "not loaded: no md5, sha1 or sha256 hash to key the file", None),
    ]
    assert {x.file for r in batches for x in r.rejections} == {str(path)}


def test_victim_fields_are_never_loaded() -> None:
    batches = load(FIXTURES / "vics_mixed_case.json")
    everything = repr([(n.props, n.lists) for r in batches for n in r.nodes])
    assert "77" not in everything and "victim" not in everything.casefold()


def test_vics_value_key_in_any_case_with_bom_and_given_name_version() -> None:
    batches = load(FIXTURES / "vics_value_capitalised.json", name="vics", version="2024-06")
    assert [r.record for r in batches] == ["hashset:vics:2024-06"]
    assert files(batches) == [(f"md5:{MD5_4}", {"md5": MD5_4, "known": True, "category": "2"},
                               {}, ["hashset:vics:2024-06"])]
    assert listed(batches)[0][2:4] == ("vics:2024-06", {"category": "2"})


def test_plain_list_infers_algorithm_from_length_and_skips_comments() -> None:
    batches = load(FIXTURES / "plain.txt")
    src = ["hashset:plain:1"]
    assert files(batches) == [
        (f"md5:{MD5_1}", {"md5": MD5_1, "known": True}, {}, src),
        (f"sha1:{SHA1_1}", {"sha1": SHA1_1, "known": True}, {}, src),
        (f"sha256:{SHA256_1}", {"sha256": SHA256_1, "known": True}, {}, src),
    ]
    assert [e[3] for e in listed(batches)] == [{}, {}, {}]
    assert rejections(batches) == [
        ("line 6", "", "cannot tell the algorithm of a 6-character hash (32 md5, 40 sha1, "
                       "64 sha256): 'abc123'", None),
        ("line 7", "hash", "md5 is not hexadecimal", "5g7007f76949b2c650c140c9d36cb068"),
    ]


def test_csv_list_with_custom_header_names() -> None:
    batches = load(FIXTURES / "custom_header.csv", hash_column="Digest",
                   algorithm_column="type", category_column="CAT")
    src = ["hashset:custom_header:1"]
    assert files(batches) == [
        (f"md5:{MD5_1}", {"md5": MD5_1, "known": True, "category": "1"}, {}, src),
        (f"sha1:{SHA1_2}", {"sha1": SHA1_2, "known": True, "category": "2"}, {}, src),
        (f"sha256:{SHA256_2}", {"sha256": SHA256_2, "known": True}, {}, src),
    ]
    assert [e[3] for e in listed(batches)] == [{"category": "1"}, {"category": "2"}, {}]
    assert [(r[0], r[1], r[2]) for r in rejections(batches)] == [
        ("line 6", "Digest", "md5 is not hexadecimal"),
        ("line 7", "Digest", "unknown hash algorithm 'whirlpool'"),
    ]


def test_csv_list_with_default_header(tmp_path: Path) -> None:
    path = write(tmp_path, "set.csv", f"hash,algorithm,category\n{MD5_2},md5,B1\n")
    assert files(load(path)) == [(f"md5:{MD5_2}", {"md5": MD5_2, "known": True,
                                                    "category": "B1"}, {}, ["hashset:set:1"])]


def test_csv_without_the_hash_column_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "set.csv", f"# c\nsum,algo\n{MD5_2},md5\n")
    with pytest.raises(MalformedInput) as err:
        load(path)
    assert err.value.position == "line 2"


def test_batches_hold_at_most_batch_size_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "set.txt", f"{MD5_1}\n{MD5_2}\n{MD5_4}\n")
    batches = load(path, batch_size=2)
    assert [len([n for n in r.nodes if n.label == "File"]) for r in batches] == [2, 1]
    assert all(r.nodes[0].label == "HashSet" for r in batches)


def test_empty_set_still_records_the_hash_set(tmp_path: Path) -> None:
    (batch,) = load(write(tmp_path, "empty.txt", "# nothing yet\n"))
    assert [(n.label, n.key) for n in batch.nodes] == [("HashSet", "empty:1")]


def test_truncated_json_keeps_earlier_entries_then_raises_with_position() -> None:
    got = parse_hashset(FIXTURES / "vics_truncated.json", batch_size=10)
    first = next(got)
    assert [n.key for n in first.nodes if n.label == "File"] == [f"md5:{MD5_1}", f"md5:{MD5_2}"]
    with pytest.raises(MalformedInput) as err:
        next(got)
    size = (FIXTURES / "vics_truncated.json").stat().st_size
    assert err.value.position == f"entry 3, in bytes 0-{size}"
    assert err.value.reason == "not valid JSON: parse error: premature EOF"


def test_json_syntax_error_names_entry_and_context(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.json", '{"value": [{"MD5": "' + MD5_1 + '"}, {"MD5": "x",}]}')
    with pytest.raises(MalformedInput) as err:
        load(path)
    assert err.value.position.startswith("entry 2, in bytes 0-")
    assert "invalid object key" in err.value.reason and '"x",}' in err.value.reason


@pytest.mark.parametrize(("text", "reason"), [
    ('{"data": []}', "not a VICS JSON export: no top-level 'value' array"),
    ('{"value": {"MD5": "x"}}', "not a VICS JSON export: 'value' is not an array"),
])
def test_json_without_value_array_is_malformed(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(MalformedInput) as err:
        load(write(tmp_path, "set.json", text))
    assert err.value.reason == reason


def test_invalid_utf8_in_a_list_gives_byte_position(tmp_path: Path) -> None:
    path = write(tmp_path, "set.txt", f"{MD5_1}\n".encode() + b"\xc3\x28\n")
    with pytest.raises(MalformedInput) as err:
        load(path)
    assert err.value.position == "line 2, byte 33"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200), brace=st.booleans())
def test_hostile_bytes_raise_only_our_error(tmp_path: Path, body: bytes, brace: bool) -> None:
    path = write(tmp_path, "x.txt", (b'{"value": [' if brace else b"") + body)
    try:
        for rec in parse_hashset(path):
            assert rec.record == "hashset:x:1"
    except MalformedInput:
        pass
