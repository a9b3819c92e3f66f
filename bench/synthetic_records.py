"""Resolution records straight from the synthetic generator's plan, without XML, parsing or Neo4j.

For a million records, writing 1.3 million reports, parsing them and loading them into Neo4j
would take hours and measure the loader, not resolution. The generator first plans its world
(`Scenario`: humans, accounts, and per report which account was reported with which addresses,
devices and persons); this module reads that plan the way the renderer writes it and the parser
reads it back, with the same draws: a reported person with the name in one of three cases, a
birth date when the person shares it or half the time, an email and phone per the same rates,
every device and address use (CGNAT addresses dropped, as the graph reader drops them), and the
provider's ties to associated accounts. Keys go through the loaders' own normalisers (device,
email canonical form); phones are built as E.164 from the planned digits. Report keys, which only
explain a proposal, are left out.

The truth is the plan's: records of one human are one person. This path and the XML path give
records of the same kind, and `python -m bench.resolution --records 10000` reports the F1 on
these records beside the scale figures so the two can be compared.
"""

from __future__ import annotations

import random

from loaders.identifiers import normalise_device, normalise_email
from loaders.model import Label
from loaders.synthetic.entities import BASE, Account, Subject
from loaders.synthetic.fakes import DrawRandom
from loaders.synthetic.scenario import Scenario
from queries.resolution_records import SourceRecord
from queries.results import entity_id

_EPOCH = BASE.timestamp()
#: Planned reports per account record, measured on the generator (74,044 accounts per 100k reports).
REPORTS_PER_RECORD = 1.35


def _e164(phone: tuple[str, str]) -> str:
    country, digits = phone
    return ("+1" if country == "US" else "+44") + digits


class _Reader:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.records: dict[str, SourceRecord] = {}
        self.owner: dict[str, str] = {}

    def record(self, acct: Account) -> SourceRecord:
        found = self.records.get(acct.key)
        if found is None:
            found = SourceRecord(entity_id(Label.ACCOUNT, acct.key), Label.ACCOUNT.value, acct.provider.key,
                                 acct.esp_id, list(acct.screen_names if acct.esp_id else acct.screen_names[:1]))
            self.records[acct.key] = found
            self.owner[found.id] = acct.human.id
        return found

    def subject(self, subject: Subject) -> None:
        rng, acct = self.rng, subject.account
        rec, human = self.record(acct), acct.human
        if subject.person:
            roll = rng.random()
            first, last = human.first, human.last
            if roll < 0.1:
                first, last = first.upper(), last.upper()
            elif roll < 0.2:
                first, last = first.lower(), last.lower()
            rec.persons.append((first, last, f"{first} {last}"))
            if acct.email and ("email" in human.shares or rng.random() < 0.7):
                rec.emails.append(normalise_email(acct.email).canonical)
            if acct.phone and ("phone" in human.shares or rng.random() < 0.7):
                rec.phones.append(_e164(acct.phone))
            if "dob_name" in human.shares or rng.random() < 0.5:
                rec.dobs.append(human.dob.isoformat())
        for use in subject.ip_uses:
            if use.kind not in ("cgnat", "invalid"):
                rec.ips.append((use.ip, _EPOCH + use.time))
        for dev in subject.device_uses:
            if dev.valid:
                rec.devices.append(normalise_device(dev.id_type, dev.value))
        for other in subject.associated:
            self.record(other)
            rec.associated.append(entity_id(Label.ACCOUNT, other.key))


def scenario_records(records: int, seed: int = 7) -> tuple[list[SourceRecord], dict[str, str]]:
    """About `records` account records (the generator decides the exact count) and each one's human.

    Returns (records sorted by id, record id -> human id).
    """
    rng = DrawRandom(seed)
    scenario = Scenario(rng, max(10, round(records * REPORTS_PER_RECORD)))
    reader = _Reader(random.Random(seed + 1))
    for report in scenario.reports:
        for subject in report.subjects:
            reader.subject(subject)
    rows = [reader.records[key] for key in sorted(reader.records)]
    for rec in rows:
        rec.ips = sorted(set(rec.ips))
    return rows, reader.owner
