"""The planted answers, in the shape `truth.json` stores them (fields documented in the package).

Links are derived from what was actually written (the ledger's address uses, the reports' files),
not from intentions, so a co-use the plan meant but the budget cut is never claimed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from loaders.synthetic.entities import FileSpec, Human, ReportSpec
from loaders.synthetic.ledger import Ledger
from loaders.synthetic.scenario import Scenario

#: Two uses of one address are a co-use when at most this far apart (DESIGN.md §6 default).
COUSAGE_WINDOW_S = 3600
_STRENGTH = ("sha256", "sha1", "md5")


@dataclass(slots=True)
class Truth:
    params: dict[str, Any]
    files: list[str]
    hashset: str
    vpn_exits: str
    definitions: dict[str, Any]
    counts: dict[str, dict[str, int]]
    networks: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    family_devices: list[dict[str, Any]] = field(default_factory=list)
    supernode_ips: list[dict[str, Any]] = field(default_factory=list)
    popular_files: list[str] = field(default_factory=list)
    file_hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[dict[str, str]] = field(default_factory=list)


def file_truth_key(spec: FileSpec) -> str:
    """Key of the strongest hash any report wrote for the file (what `file_key` gives for it)."""
    for algo in _STRENGTH:
        if algo in spec.seen:
            return f"{algo}:{spec.hash(algo)}"
    raise ValueError(f"file {spec.seq} was never written")


class _Links:
    def __init__(self) -> None:
        self.evidence: dict[tuple[str, str, str], list[str]] = {}

    def add(self, a: str, b: str, reason: str, evidence: str) -> None:
        if a == b:
            return
        pair = (a, b, reason) if a < b else (b, a, reason)
        found = self.evidence.setdefault(pair, [])
        if evidence not in found:
            found.append(evidence)

    def rows(self) -> list[dict[str, Any]]:
        return [{"a": a, "b": b, "reason": reason, "evidence": sorted(ev)}
                for (a, b, reason), ev in sorted(self.evidence.items())]


def _human_row(human: Human) -> dict[str, Any]:
    networks = sorted({a.network for a in human.accounts if a.network})
    return {
        "id": human.id, "kind": human.kind, "network": networks[0] if networks else None,
        "accounts": [a.key for a in human.accounts], "first_name": human.first,
        "last_name": human.last, "dob": human.dob.isoformat(), "shares": list(human.shares),
        "screen_names": [s for a in human.accounts for s in a.screen_names],
    }


def build_truth(scenario: Scenario, ledger: Ledger, reports: list[ReportSpec],
                head: dict[str, Any]) -> Truth:
    """Assemble the truth; `head` carries params, files, hashset, vpn_exits and invalid."""
    links = _Links()
    truth = Truth(
        params=head["params"], files=head["files"], hashset=head["hashset"],
        vpn_exits=head["vpn_exits"], invalid=head["invalid"], counts=ledger.counts(),
        definitions={"cousage_window_s": COUSAGE_WINDOW_S,
                     "link_reasons": ["network_file", "network_ip_cousage", "co_reported",
                                      "same_person", "family_device"]},
    )
    for net in scenario.networks:
        holders: dict[int, list[str]] = {}
        for report in net.reports:
            for use in report.files:
                if use.file is not None and use.file.kind == "network":
                    # Every account the report names, not only the uploader: analysis reaches
                    # them all through the report, and all of them are members.
                    holders.setdefault(use.file.seq, []).extend(
                        s.account.key for s in report.subjects)
        written = [f for f in net.files if f.seen]
        for spec in written:
            for a, b in combinations(sorted(set(holders.get(spec.seq, []))), 2):
                links.add(a, b, "network_file", file_truth_key(spec))
        ip_keys = [ledger.ip_key(ip) for ip in net.ips]
        used = [k for k in ip_keys if k in ledger.ip_events]
        members = {a.key for a in net.accounts}
        for ip in used:
            events = sorted(ledger.ip_events[ip])
            for i, (t, a) in enumerate(events):
                for t2, b in events[i + 1:]:
                    if t2 - t > COUSAGE_WINDOW_S:
                        break
                    if a != b:
                        if a not in members or b not in members:
                            raise AssertionError(f"network address {ip} used outside {net.id}")
                        links.add(a, b, "network_ip_cousage", ip)
        truth.networks.append({"id": net.id, "accounts": [a.key for a in net.accounts],
                               "files": [file_truth_key(f) for f in written], "ips": used})
    for report in reports:
        for x, y in combinations([s.account.key for s in report.subjects], 2):
            links.add(x, y, "co_reported", report.key)
    for human in scenario.humans:
        if len(human.accounts) > 1:
            truth.persons.append(_human_row(human))
            for a, b in combinations([a.key for a in human.accounts], 2):
                links.add(a, b, "same_person", human.id)
    for household in scenario.households:
        device = ledger.device_key(household.device)
        accounts = [h.accounts[0].key for h in household.humans]
        truth.family_devices.append({"device": device, "accounts": accounts,
                                     "last_name": household.humans[0].last})
        for a, b in combinations(accounts, 2):
            links.add(a, b, "family_device", device)
    for kind, ips in (("cgnat", scenario.cgnat), ("vpn", scenario.vpn)):
        for ip in ips:
            key = ledger.ip_key(ip)
            users = {acct for _, acct in ledger.ip_events.get(key, [])}
            truth.supernode_ips.append({"ip": key, "kind": kind, "accounts": len(users),
                                        "vpn_provider": scenario.vpn_provider.get(ip)})
    truth.popular_files = [file_truth_key(f) for f in scenario.popular if f.seen]
    for spec in scenario.files:
        if spec.kind != "noise" and spec.seen:
            truth.file_hashes[file_truth_key(spec)] = {a: spec.hash(a) for a in spec.seen}
    truth.links = links.rows()
    return truth
