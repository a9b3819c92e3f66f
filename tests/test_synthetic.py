"""The synthetic generator: deterministic, well-formed, and its truth is what the parser loads."""

from __future__ import annotations

import csv
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from stdnum import imei as stdnum_imei

from loaders.cybertip import parse_cybertip
from loaders.model import Label, Rejection, Rel
from loaders.synthetic import Truth, generate
from loaders.synthetic.fakes import Fakes, luhn_digit
from loaders.synthetic.render import NAMESPACE

REPORTS, SEED, BUNDLE = 600, 11, 150
Ref = tuple[Label, str]


@dataclass
class Parsed:
    """What `parse_cybertip` makes of the generated files, with File nodes joined by hash."""

    nodes: dict[Ref, dict[str, Any]] = field(default_factory=dict)
    edges: dict[tuple[Rel, Ref, Ref], list[datetime]] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    file_keys: dict[str, str] = field(default_factory=dict)  # key as parsed -> joined node key

    def ends(self, rel: Rel, start: Ref) -> set[Ref]:
        return {e for (r, s, e) in self.edges if r == rel and s == start}


def _join_files(raw_nodes: dict[Ref, dict[str, Any]]) -> dict[str, str]:
    """File key -> one representative key, for keys whose nodes share any hash (union-find)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (label, key), props in raw_nodes.items():
        if label == Label.FILE:
            for algo in ("md5", "sha1", "sha256"):
                if algo in props:
                    parent[find(f"{algo}:{props[algo]}")] = find(key)
    return {key: find(key) for (label, key) in raw_nodes if label == Label.FILE}


def _parse(out: Path, names: list[str]) -> Parsed:
    raw_nodes: dict[Ref, dict[str, Any]] = {}
    raw_edges: list[tuple[Rel, Ref, Ref, list[datetime]]] = []
    parsed = Parsed()
    for name in names:
        for records in parse_cybertip(out / name):
            for node in records.nodes:
                raw_nodes.setdefault((node.label, node.key), {}).update(node.props)
            raw_edges += [(e.type, e.start, e.end, e.times) for e in records.edges]
            parsed.rejections += records.rejections
    files = parsed.file_keys = _join_files(raw_nodes)

    def canon(ref: Ref) -> Ref:
        return (ref[0], files[ref[1]]) if ref[0] == Label.FILE else ref

    for ref, props in raw_nodes.items():
        parsed.nodes.setdefault(canon(ref), {}).update(props)
    for rel, start, end, times in raw_edges:
        parsed.edges.setdefault((rel, canon(start), canon(end)), []).extend(times)
    return parsed


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Truth]:
    out = tmp_path_factory.mktemp("synthetic")
    return out, generate(out, reports=REPORTS, seed=SEED, bundle_size=BUNDLE)


@pytest.fixture(scope="module")
def parsed(generated: tuple[Path, Truth]) -> Parsed:
    out, truth = generated
    return _parse(out, truth.files)


def _tree(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


# -- determinism and form ------------------------------------------------------------------------

def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", reports=150, seed=5, bundle_size=40)
    generate(tmp_path / "b", reports=150, seed=5, bundle_size=40)
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert list(first) == ["hashset.csv", "reports-00001.xml", "reports-00002.xml",
                           "reports-00003.xml", "reports-00004.xml", "truth.json", "vpn_exits.csv"]
    assert first == second


def test_other_seed_writes_other_reports(tmp_path: Path) -> None:
    generate(tmp_path / "a", reports=150, seed=5, bundle_size=40)
    generate(tmp_path / "b", reports=150, seed=6, bundle_size=40)
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first["reports-00001.xml"] != second["reports-00001.xml"]
    assert first["truth.json"] != second["truth.json"]


def test_bundles_are_well_formed_and_mix_namespaces_and_reporter_styles(
        generated: tuple[Path, Truth]) -> None:
    out, truth = generated
    sizes, namespaces, styles = [], set(), set()
    for name in truth.files:
        root = etree.parse(str(out / name)).getroot()
        assert etree.QName(root).localname == "reports"
        reports = [el for el in root if etree.QName(el).localname == "report"]
        sizes.append(len(reports))
        namespaces.add(root.nsmap.get(None))
        styles |= {etree.QName(el).localname for el in root.iter()
                   if etree.QName(el).localname in ("reportingEsp", "companyTemplate")}
    assert sizes == [BUNDLE] * (REPORTS // BUNDLE)
    assert namespaces == {None, NAMESPACE}
    assert styles == {"reportingEsp", "companyTemplate"}


def test_times_are_written_with_z_with_offsets_and_without(generated: tuple[Path, Truth]) -> None:
    out, truth = generated
    text = (out / truth.files[0]).read_text(encoding="utf-8")
    stamps = re.findall(r"<dateTime>([^<]+)</dateTime>", text)
    assert any(s.endswith("Z") for s in stamps)
    assert any(s.endswith(("+02:00", "-05:00")) for s in stamps)
    assert any(re.fullmatch(r"[0-9T:-]+", s) for s in stamps)


def test_truth_json_is_the_returned_truth(generated: tuple[Path, Truth]) -> None:
    out, truth = generated
    stored = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    assert stored == json.loads(json.dumps({f.name: getattr(truth, f.name) for f in fields(truth)}))
    assert stored["params"] == {"reports": REPORTS, "seed": SEED, "bundle_size": BUNDLE,
                                "noise": True}


def test_luhn_digit_makes_valid_imeis_and_bad_imei_fails() -> None:
    assert luhn_digit("49015420323751") == "8"  # the textbook IMEI 490154203237518
    fakes = Fakes(random.Random(3))
    for _ in range(50):
        assert stdnum_imei.is_valid(fakes.imei())
        assert not stdnum_imei.is_valid(fakes.bad_imei())


# -- the truth is what the parser loads -----------------------------------------------------------

def test_counts_equal_what_the_parser_loads(generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    nodes: dict[str, int] = defaultdict(int)
    for label, _key in parsed.nodes:
        nodes[label] += 1
    edges: dict[str, int] = defaultdict(int)
    for rel, _s, _e in parsed.edges:
        edges[rel] += 1
    assert truth.counts["nodes"] == {label: nodes[label] for label in truth.counts["nodes"]}
    assert truth.counts["relationships"] == {
        rel: edges[rel] for rel in truth.counts["relationships"]}
    assert all(n > 0 for n in truth.counts["nodes"].values())
    assert all(n > 0 for n in truth.counts["relationships"].values())


def test_every_planted_invalid_identifier_is_rejected_and_nothing_else(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    assert {i["kind"] for i in truth.invalid} == {"ip", "imei", "hash"}
    found = {(Path(r.file).name, r.record, re.sub(r"\[\d+\]", "", r.path), r.value)
             for r in parsed.rejections}
    planted = {(i["file"], i["report"], i["path"], i["value"]) for i in truth.invalid}
    assert found == planted


def test_noise_off_writes_no_invalid_identifiers(tmp_path: Path) -> None:
    truth = generate(tmp_path, reports=120, seed=5, bundle_size=60, noise=False)
    assert truth.invalid == []
    assert _parse(tmp_path, truth.files).rejections == []


def test_one_file_known_by_md5_and_by_sha1_is_one_node(parsed: Parsed) -> None:
    """Reports write some files with MD5 only, others with MD5+SHA1: both keys join one node."""
    keys_per_file: dict[str, set[str]] = defaultdict(set)
    for key, joined in parsed.file_keys.items():
        keys_per_file[joined].add(key.split(":")[0])
    assert any({"md5", "sha1"} <= algos for algos in keys_per_file.values())


# -- the planted structures are really in the reports ---------------------------------------------

def test_networks_are_loaded_accounts_sharing_rare_files(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    assert truth.networks
    file_links = {ev for link in truth.links if link["reason"] == "network_file"
                  for ev in link["evidence"]}
    for net in truth.networks:
        assert 3 <= len(net["accounts"]) <= 30
        assert all((Label.ACCOUNT, a) in parsed.nodes for a in net["accounts"])
        assert set(net["files"]) <= file_links  # every network file reached two members
        popular = set(truth.popular_files)
        assert not popular & set(net["files"])


def test_same_person_evidence_is_written_for_each_share(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    assert {s for p in truth.persons for s in p["shares"]} == {
        "phone", "email", "device", "dob_name"}
    reported = {e for (rel, _s, e) in parsed.edges if rel == Rel.REPORTS}
    persons_of = defaultdict(set)
    for rel, start, end in parsed.edges:
        if rel == Rel.USES:
            props = parsed.nodes[start]
            persons_of[end].add((props.get("date_of_birth"), props["name"].casefold()))
    for person in truth.persons:
        accounts = [(Label.ACCOUNT, a) for a in person["accounts"]]
        accounts = [a for a in accounts if a in reported]
        for share in person["shares"]:
            if share == "phone":
                common = set.intersection(*(parsed.ends(Rel.HAS_PHONE, a) for a in accounts))
            elif share == "device":
                common = set.intersection(*(parsed.ends(Rel.USED_DEVICE, a) for a in accounts))
            elif share == "email":
                common = set.intersection(*({parsed.nodes[e]["canonical"]
                                             for e in parsed.ends(Rel.HAS_EMAIL, a)}
                                            for a in accounts))
            else:
                common = set.intersection(*(persons_of[a] for a in accounts))
            assert common, (person["id"], share)


def test_one_persons_handles_vary_and_are_sometimes_reused(generated: tuple[Path, Truth]) -> None:
    _, truth = generated
    names = [[n.casefold().lstrip("@") for n in p["screen_names"]] for p in truth.persons]
    assert any(len(set(n)) > 1 for n in names)  # separators, digits, leetspeak, typos
    assert any(len(set(n)) < len(n) for n in names)  # the very same handle on two services
    owners: dict[str, str] = {}
    for person, handles in zip(truth.persons, names, strict=True):
        for handle in handles:
            assert owners.setdefault(handle, person["id"]) == person["id"]


def test_family_device_is_used_by_every_household_account(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    assert truth.family_devices
    for family in truth.family_devices:
        assert 2 <= len(family["accounts"]) <= 4
        device = (Label.DEVICE, family["device"])
        for account in family["accounts"]:
            assert (Rel.USED_DEVICE, (Label.ACCOUNT, account), device) in parsed.edges


def test_ip_cousage_links_fall_within_the_window(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    window = truth.definitions["cousage_window_s"]
    links = [link for link in truth.links if link["reason"] == "network_ip_cousage"]
    assert links
    for link in links:
        for ip in link["evidence"]:
            times_a = parsed.edges[(Rel.USED_IP, (Label.ACCOUNT, link["a"]), (Label.IP, ip))]
            times_b = parsed.edges[(Rel.USED_IP, (Label.ACCOUNT, link["b"]), (Label.IP, ip))]
            assert min(abs((x - y).total_seconds()) for x in times_a for y in times_b) <= window


def test_supernodes_are_shared_by_many_accounts_and_never_evidence(
        generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    users: dict[str, set[str]] = defaultdict(set)
    for rel, start, end in parsed.edges:
        if rel == Rel.USED_IP:
            users[end[1]].add(start[1])
    assert {s["kind"] for s in truth.supernode_ips} == {"cgnat", "vpn"}
    for node in truth.supernode_ips:
        assert node["accounts"] == len(users[node["ip"]]) >= 10
    noise = {s["ip"] for s in truth.supernode_ips} | set(truth.popular_files)
    assert not noise & {ev for link in truth.links for ev in link["evidence"]}


def test_hashset_and_vpn_lists_name_the_planted_items(generated: tuple[Path, Truth]) -> None:
    out, truth = generated
    with open(out / truth.hashset, newline="", encoding="utf-8") as f:
        listed = {(row["algorithm"], row["hash"]) for row in csv.DictReader(f)}
    for key in truth.popular_files:
        hashes = truth.file_hashes[key]
        assert any((algo, value) in listed for algo, value in hashes.items())
    with open(out / truth.vpn_exits, newline="", encoding="utf-8") as f:
        exits = {row["ip"] for row in csv.DictReader(f)}
    assert exits == {s["ip"] for s in truth.supernode_ips if s["kind"] == "vpn"}


def test_every_account_in_the_truth_is_loaded(generated: tuple[Path, Truth], parsed: Parsed) -> None:
    _, truth = generated
    named = {a for p in truth.persons for a in p["accounts"]}
    named |= {a for f in truth.family_devices for a in f["accounts"]}
    named |= {a for n in truth.networks for a in n["accounts"]}
    named |= {a for link in truth.links for a in (link["a"], link["b"])}
    assert named <= {key for label, key in parsed.nodes if label == Label.ACCOUNT}
