"""`generate`: plan the world, number the reports in time order, write bundles and the truth."""

from __future__ import annotations

import gc
import json
import random
from dataclasses import fields
from pathlib import Path

from loaders.synthetic.entities import DAY, DeviceUse, FileUse, IpUse, ReportSpec
from loaders.synthetic.fakes import DrawRandom, Fakes
from loaders.synthetic.ledger import Ledger
from loaders.synthetic.render import NAMESPACE, Renderer
from loaders.synthetic.scenario import Scenario
from loaders.synthetic.truth import Truth, build_truth, file_truth_key

_BAD_IPS = ("198.18.300.7", "not-an-ip", "203.0.113", "2001:db8::zz1", "198.18.1.2.3")
_PATHS = {
    "ip": "personOrUserReported/ipCaptureEvent/ipAddress",
    "imei": "personOrUserReported/deviceId/idValue",
    "hash": "fileDetails/originalFileHash",
}


def _number(reports: list[ReportSpec], rng: random.Random) -> None:
    """Report ids rise with time; some reports cite earlier ones (and a few cite unseen ones)."""
    next_id = 150_000_000 + rng.randrange(10**7)
    for report in reports:
        next_id += rng.randint(1, 40)
        report.id = str(next_id)
        for subject in report.subjects:
            earlier = subject.account.report_ids
            if earlier and rng.random() < 0.35:
                subject.priors = earlier[-rng.randint(1, 2):]
            if rng.random() < 0.03:
                subject.priors.append(str(rng.randrange(90_000_000, 100_000_000)))
        for subject in report.subjects:
            subject.account.report_ids.append(report.id)


def _plant_invalid(reports: list[ReportSpec], rng: random.Random,
                   bundle_size: int) -> list[dict[str, str]]:
    """Malformed identifiers in one-report noise accounts, so no planted structure loses a link."""
    fakes = Fakes(rng)
    noise = [i for i, r in enumerate(reports) if r.subjects[0].account.human.kind == "noise"]
    per_kind = min(20, 1 + len(reports) // 5000)
    planted = []
    for kind in ("ip", "imei", "hash"):
        for i in sorted(rng.sample(noise, min(per_kind, len(noise)))):
            report = reports[i]
            subject = report.subjects[0]
            t = max(0, report.time - rng.randrange(DAY))
            if kind == "ip":
                value = rng.choice(_BAD_IPS)
                subject.ip_uses.append(IpUse(value, t, "Login", "invalid"))
            elif kind == "imei":
                value = fakes.bad_imei()
                subject.device_uses.append(DeviceUse("IMEI", value, t, valid=False))
            else:
                value = f"{rng.getrandbits(120):030x}"
                report.files.append(FileUse(None, ("md5",), None, "IMG_0000.jpg", value))
            planted.append({"kind": kind, "file": f"reports-{i // bundle_size + 1:05d}.xml",
                            "report_id": report.id, "report": report.key, "path": _PATHS[kind],
                            "value": value})
    return planted


def _write_bundles(out_dir: Path, reports: list[ReportSpec], bundle_size: int,
                   renderer: Renderer) -> list[str]:
    names = []
    for b, start in enumerate(range(0, len(reports), bundle_size)):
        name = f"reports-{b + 1:05d}.xml"
        # Bundles alternate reporter styles (ESP template / law-enforcement export) and every
        # third declares a default namespace, so parsers meet each variant at any size.
        root = f'<reports xmlns="{NAMESPACE}">' if b % 3 == 1 else "<reports>"
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', root, "\n"]
        parts += [renderer.report(r, esp_style=b % 2 == 0)
                  for r in reports[start:start + bundle_size]]
        parts.append("</reports>\n")
        (out_dir / name).write_text("".join(parts), encoding="utf-8", newline="\n")
        names.append(name)
    return names


def _write_hashset(path: Path, scenario: Scenario, rng: random.Random) -> None:
    rows = ["hash,algorithm,category"]
    listed = [f for f in scenario.popular if f.seen]
    for net in scenario.networks:
        listed += [f for f in net.files if f.seen and rng.random() < 0.5]
    for spec in listed:
        algo = "sha1" if "sha1" in spec.seen and rng.random() < 0.5 else "md5"
        category = "2" if spec.kind == "popular" and rng.random() < 0.3 else "1"
        rows.append(f"{spec.hash(algo)},{algo},{category}")
    for _ in range(5):  # known files no report has (yet)
        rows.append(f"{Fakes(rng).file_hashes()[0]},md5,1")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8", newline="\n")


def generate(out_dir: Path, *, reports: int, seed: int, bundle_size: int = 1000,
             noise: bool = True) -> Truth:
    """Write `reports` synthetic CyberTip reports and their truth into `out_dir`.

    Byte-identical output for identical arguments. Returns the `Truth` also written to
    `truth.json` (its fields are documented in `loaders.synthetic`).
    """
    if reports < 1 or bundle_size < 1:
        raise ValueError("reports and bundle_size must be at least 1")
    # A run holds about a million live objects; the cyclic collector would walk them all again
    # and again (a quarter of the run time at 100k reports) and find nothing to free.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out_dir), reports, seed, bundle_size, noise)
    finally:
        if was_enabled:
            gc.enable()


def _generate(out_dir: Path, reports: int, seed: int, bundle_size: int, noise: bool) -> Truth:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = DrawRandom(seed)
    scenario = Scenario(rng, reports)
    ordered = sorted(scenario.reports, key=lambda r: (r.time, r.seq))
    _number(ordered, rng)
    invalid = _plant_invalid(ordered, DrawRandom(f"{seed}/invalid"), bundle_size) if noise else []
    ledger = Ledger()
    names = _write_bundles(out_dir, ordered, bundle_size, Renderer(rng, ledger))
    _write_hashset(out_dir / "hashset.csv", scenario, rng)
    vpn_rows = ["ip,provider"] + [f"{ledger.ip_key(ip)},{scenario.vpn_provider[ip]}"
                                  for ip in scenario.vpn]
    (out_dir / "vpn_exits.csv").write_text("\n".join(vpn_rows) + "\n", encoding="utf-8",
                                           newline="\n")
    head = {"params": {"reports": reports, "seed": seed, "bundle_size": bundle_size,
                       "noise": noise},
            "files": names, "hashset": "hashset.csv", "vpn_exits": "vpn_exits.csv",
            "invalid": invalid}
    truth = build_truth(scenario, ledger, ordered, head)
    (out_dir / "truth.json").write_text(truth_json(truth), encoding="utf-8", newline="\n")
    return truth


def truth_json(truth: Truth) -> str:
    """JSON with one top-level field, and one list item, per line: readable and diffable.

    `json.dumps(indent=...)` falls back to the pure-Python encoder, a tenth of the run time at
    100k reports; dumping item by item keeps the C encoder.
    """
    lines = []
    for f in fields(truth):
        value = getattr(truth, f.name)
        if isinstance(value, list) and value:
            text = "[\n  " + ",\n  ".join(json.dumps(item) for item in value) + "\n ]"
        elif isinstance(value, dict) and value and f.name == "file_hashes":
            text = "{\n  " + ",\n  ".join(f"{json.dumps(k)}: {json.dumps(v)}"
                                           for k, v in value.items()) + "\n }"
        else:
            text = json.dumps(value)
        lines.append(f" {json.dumps(f.name)}: {text}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


__all__ = ["Truth", "file_truth_key", "generate", "truth_json"]
