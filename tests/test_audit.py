"""The audit log: entries chain by hash, and any edit, removal or reordering is named by `verify`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_service.audit import GENESIS, AuditLog, entry_hash
from graph_service.cli import app

runner = CliRunner()


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    audit = AuditLog(tmp_path / "audit.jsonl")
    for i in range(1, 6):
        audit.append(f"analyst{i}", "AGENCY-A", "exportChart", {"chartId": f"C/x@{i}", "format": "pdf"},
                     {"nodes": 10 * i, "edges": 20 * i})
    return audit


def lines(audit: AuditLog) -> list[bytes]:
    return audit.path.read_bytes().splitlines(keepends=True)


def test_entries_chain_from_genesis_with_who_what_and_counts(log: AuditLog) -> None:
    entries = list(log.entries())
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev == GENESIS
    for before, after in pairwise(entries):
        assert after.prev == before.hash
    for entry in entries:
        assert entry.hash == entry_hash(entry.as_dict())
    third = entries[2]
    assert (third.actor, third.agency, third.operation) == ("analyst3", "AGENCY-A", "exportChart")
    assert third.variables == {"chartId": "C/x@3", "format": "pdf"}
    assert third.counts == {"nodes": 30, "edges": 60}
    assert log.verify() is None


def test_an_absent_actor_is_recorded_as_local(tmp_path: Path) -> None:
    entry = AuditLog(tmp_path / "a.jsonl").append(None, None, "exportChart")
    assert entry.actor == "local" and entry.agency is None


@pytest.mark.parametrize("entry", [1, 3, 5])
def test_one_changed_byte_names_the_entry(log: AuditLog, entry: int) -> None:
    data = bytearray(log.path.read_bytes())
    start = sum(len(line) for line in lines(log)[: entry - 1])
    at = data.index(b"analyst", start) + len("analyst")  # the digit of the actor's name
    data[at] = ord("9")
    log.path.write_bytes(bytes(data))
    finding = log.verify()
    assert finding is not None
    assert (finding.seq, finding.line) == (entry, entry)
    assert "edited" in finding.reason


def test_a_removed_entry_is_named(log: AuditLog) -> None:
    kept = lines(log)
    del kept[1]
    log.path.write_bytes(b"".join(kept))
    finding = log.verify()
    assert finding is not None and finding.seq == 2
    assert "removed" in finding.reason


def test_reordered_entries_are_named(log: AuditLog) -> None:
    kept = lines(log)
    kept[2], kept[3] = kept[3], kept[2]
    log.path.write_bytes(b"".join(kept))
    finding = log.verify()
    assert finding is not None and finding.seq == 3


def test_entries_cut_off_the_end_are_named(log: AuditLog) -> None:
    log.path.write_bytes(b"".join(lines(log)[:3]))
    finding = log.verify()
    assert finding is not None and finding.seq == 4
    assert "removed from the end" in finding.reason


def test_an_entry_forged_with_a_fresh_hash_breaks_the_chain_after_it(log: AuditLog) -> None:
    kept = lines(log)
    forged = json.loads(kept[1])
    forged["counts"] = {"nodes": 0, "edges": 0}
    forged["hash"] = entry_hash(forged)
    kept[1] = (json.dumps(forged, sort_keys=True) + "\n").encode()
    log.path.write_bytes(b"".join(kept))
    finding = log.verify()
    assert finding is not None and finding.seq == 3  # entry 2 is self-consistent; 3 no longer chains to it


def test_appending_after_a_verified_log_continues_the_chain(log: AuditLog) -> None:
    entry = log.append("analyst6", "AGENCY-A", "exportChart", {}, {})
    assert entry.seq == 6 and entry.prev == list(log.entries())[4].hash
    assert log.verify() is None


def test_cli_verify_passes_then_names_the_tampered_entry(log: AuditLog) -> None:
    result = runner.invoke(app, ["audit", "verify", "--log", str(log.path)])
    assert result.exit_code == 0, result.output
    assert "5 entries, chain intact" in result.output
    log.path.write_bytes(log.path.read_bytes().replace(b'"nodes": 40', b'"nodes": 41'))
    result = runner.invoke(app, ["audit", "verify", "--log", str(log.path)])
    assert result.exit_code == 1
    assert "entry 4 (line 4)" in result.output


def test_cli_export_writes_the_period_asked(log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "period.jsonl"
    today = datetime.now(UTC).date()
    result = runner.invoke(app, ["audit", "export", "--log", str(log.path), "--from", today.isoformat(),
                                 "--to", today.isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in exported] == [1, 2, 3, 4, 5]
    assert all(e["hash"] == entry_hash(e) for e in exported)
    tomorrow = (today + timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["audit", "export", "--log", str(log.path), "--from", tomorrow, "--out", str(out)])
    assert result.exit_code == 0 and out.read_text() == ""
