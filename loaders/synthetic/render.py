"""Writes report specs as CyberTipline XML text (formats.md) and tallies them in the `Ledger`.

Plain string building: lxml trees would be several times slower at 100k reports. Every value goes
through `escape`/`quoteattr`. The variety a real feed has is written on purpose: times in `Z`,
`+02:00`, `-05:00` and without offset, IPv6 upper-case or zero-padded, hashes in either case,
phones in five national and international forms, provider names in several spellings.
"""

from __future__ import annotations

import random
from datetime import timedelta
from xml.sax.saxutils import escape, quoteattr

from loaders.model import Label, Rel
from loaders.synthetic.entities import (
    BASE,
    DAY,
    Account,
    DeviceUse,
    FileUse,
    IpUse,
    ReportSpec,
    Subject,
)
from loaders.synthetic.fakes import Fakes
from loaders.synthetic.ledger import Ledger

NAMESPACE = "urn:example:gracegraph:cybertipline"
#: "YYYY-MM-DD" of day -1 … 367 after BASE (local offsets can push a time across the year's ends);
#: formatting from this table is several times faster than datetime arithmetic.
_DAYS = [(BASE + timedelta(days=d)).date().isoformat() for d in range(-1, 369)]
_CLOCK = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
_BOOL = ("false", "true")
_OFFSETS = (("Z", 0), ("Z", 0), ("Z", 0), ("Z", 0), ("Z", 0), ("Z", 0), ("Z", 0),
            ("+02:00", 2), ("-05:00", -5), ("", 0))


def _el(name: str, text: str) -> str:
    return f"<{name}>{escape(text)}</{name}>"


def _raw(name: str, text: str) -> str:
    """For text we made from digits, hex and ASCII words only: nothing to escape."""
    return f"<{name}>{text}</{name}>"


class Renderer:
    """One per run: shares the run's `Random` so that the text is as deterministic as the plan."""

    def __init__(self, rng: random.Random, ledger: Ledger) -> None:
        self.rng = rng
        self.ledger = ledger
        self.fakes = Fakes(rng)  # only its formatting helpers are used here
        self._file_ids = 0

    def time(self, t: int, offset: bool = False) -> str:
        """ISO 8601 of `t` with a drawn offset; a few have none (UTC assumed) unless `offset`."""
        suffix, hours = _OFFSETS[int(self.rng.random() * (9 if offset else 10))]
        day, rest = divmod(t + 3600 * hours, DAY)
        return f"{_DAYS[day + 1]}T{_CLOCK[rest]}{suffix}"

    def report(self, spec: ReportSpec, esp_style: bool) -> str:
        ledger, rng = self.ledger, self.rng
        report = ledger.node(Label.REPORT, spec.key)
        ledger.edge(Rel.SUBMITTED_BY, report, ledger.node(Label.PROVIDER, spec.provider.key))
        name = rng.choice(spec.provider.spellings)
        if esp_style:
            reporter = f"<reporter><reportingEsp>{_el('espName', name)}</reportingEsp></reporter>"
        else:
            reporter = ("<reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety"
                        "</lastName><email>trust.safety@" + spec.provider.domain + "</email>"
                        f"</reportingPerson>{_el('companyTemplate', name)}</reporter>")
        if rng.random() < 0.5:
            where = (f"<webPageIncident><url>https://{spec.provider.domain}/post/"
                     f"{rng.randrange(10**9)}</url></webPageIncident>")
        else:
            client = _el('chatClient', spec.provider.services[0])
            where = f"<chatImIncident>{client}</chatImIncident>"
        out = [
            "<report>", _raw("reportId", spec.id),
            f"<incidentSummary>{_raw('incidentType', spec.incident_type)}"
            f"<incidentDateTime>{self.time(spec.time, offset=True)}</incidentDateTime>"
            "</incidentSummary>",
            f"<internetDetails>{where}</internetDetails>", reporter,
        ]
        for n, subject in enumerate(spec.subjects, 1):
            self._subject(out, spec, subject, n, report)
        if spec.victim:
            out.append(f"<victim><victimPerson><age>{rng.randint(10, 16)}</age></victimPerson>"
                       "</victim>")
        first = ledger.node(Label.ACCOUNT, spec.subjects[0].account.key)
        for use in spec.files:
            self._file(out, use, report, first, spec.subjects[0].account)
        out.append("</report>\n")
        return "\n".join(out)

    # -- personOrUserReported -----------------------------------------------------------------
    def _subject(self, out: list[str], spec: ReportSpec, subject: Subject, n: int,
                 report: int) -> None:
        ledger = self.ledger
        acct = subject.account
        account = ledger.node(Label.ACCOUNT, acct.key)
        ledger.edge(Rel.REPORTS, report, account)
        out.append("<personOrUserReported>")
        if subject.person:
            person = ledger.node(Label.PERSON, f"{spec.key}/person/{n}")
            ledger.edge(Rel.REPORTS, report, person)
            ledger.edge(Rel.USES, person, account)
            out.append(self._person(acct, person, account))
        out.extend(self._handles(acct))
        for use in subject.ip_uses:
            out.append(self._ip(use, acct.key, account))
        for dev in subject.device_uses:
            out.append(self._device(dev, account))
        if subject.location and acct.human.location is not None:
            country, region, city = acct.human.location
            ledger.edge(Rel.LOCATED_IN, account, ledger.location(acct.human.location))
            out.append("<estimatedLocation>" + (_el("city", city) if city else "")
                       + _el("region", region) + _el("countryCode", country)
                       + "</estimatedLocation>")
        for other in subject.associated:
            ledger.edge(Rel.ASSOCIATED_WITH, account, ledger.node(Label.ACCOUNT, other.key))
            out.append("<associatedAccount>" + "".join(self._handles(other, full=False))
                       + "</associatedAccount>")
        if subject.priors:
            for prior in subject.priors:
                ledger.edge(Rel.RELATED_TO, report, ledger.node(Label.REPORT, f"cybertip:{prior}"))
            out.append("<priorCTReports>" + "".join(_raw("reportId", p) for p in subject.priors)
                       + "</priorCTReports>")
        out.append("</personOrUserReported>")

    def _handles(self, acct: Account, full: bool = True) -> list[str]:
        rng = self.rng
        out = []
        if acct.esp_id is not None:
            out.append(_raw("espIdentifier", acct.esp_id))
        if full:
            out.append(_raw("espService", rng.choice(acct.provider.services)))
        screen = rng.choice(acct.screen_names) if acct.esp_id else acct.screen_names[0]
        out.append(_el("screenName", ("@" if rng.random() < 0.1 else "") + screen))
        if full:
            shown = acct.display_names if rng.random() < 0.2 else [rng.choice(acct.display_names)]
            out.extend(_el("displayName", d) for d in shown)
            if rng.random() < 0.5:
                out.append(_el("profileUrl", f"https://{acct.provider.domain}/u/{screen}"))
        return out

    def _person(self, acct: Account, person: int, account: int) -> str:
        ledger, rng = self.ledger, self.rng
        human = acct.human
        first, last = human.first, human.last
        roll = rng.random()
        if roll < 0.1:
            first, last = first.upper(), last.upper()
        elif roll < 0.2:
            first, last = first.lower(), last.lower()
        parts = ["<personOrUserReportedPerson>", _el("firstName", first), _el("lastName", last)]
        if acct.email and ("email" in human.shares or rng.random() < 0.7):
            email = ledger.email(acct.email)
            ledger.edge(Rel.HAS_EMAIL, person, email)
            ledger.edge(Rel.HAS_EMAIL, account, email)
            verified = "true" if rng.random() < 0.5 else "false"
            parts.append(f'<email verified="{verified}">{escape(acct.email)}</email>')
        if acct.phone and ("phone" in human.shares or rng.random() < 0.7):
            text = self.fakes.phone_text(acct.phone)
            phone = ledger.phone(text.text, text.calling_code, acct.phone)
            ledger.edge(Rel.HAS_PHONE, person, phone)
            ledger.edge(Rel.HAS_PHONE, account, phone)
            code = "" if text.calling_code is None else (
                f" countryCallingCode={quoteattr(text.calling_code)}")
            parts.append(f'<phone type="Mobile"{code}>{escape(text.text)}</phone>')
        if "dob_name" in human.shares or rng.random() < 0.5:
            dob = human.dob
            written = dob.isoformat() if rng.random() < 0.85 else (
                f"{dob.month:02d}/{dob.day:02d}/{dob.year}")
            parts.append(_raw("dateOfBirth", written))
        if rng.random() < 0.08:
            parts.append(f"<address type=\"Home\"><address>{rng.randint(1, 99)} Example Road"
                         "</address><city>Testville</city><zipCode>00000</zipCode>"
                         "<country>US</country></address>")
        parts.append("</personOrUserReportedPerson>")
        return "".join(parts)

    def _ip(self, use: IpUse, account_key: str, account: int) -> str:
        rng = self.rng
        if use.kind == "invalid":
            self.ledger.must_reject("ip", use.ip)
        else:
            self.ledger.edge(Rel.USED_IP, account, self.ledger.ip(use.ip, use.time, account_key))
        extra = ""
        if rng.random() < 0.3:
            extra += f"<port>{rng.randint(1024, 65535)}</port>"
        if use.kind == "vpn" and rng.random() < 0.5:
            extra += "<possibleProxy>true</possibleProxy>"
        text = use.ip if use.kind == "invalid" else self.fakes.spell_ip(use.ip, rng.randrange(4))
        return (f"<ipCaptureEvent>{_raw('ipAddress', text)}{_raw('eventName', use.event)}"
                f"<dateTime>{self.time(use.time)}</dateTime>{extra}</ipCaptureEvent>")

    def _device(self, dev: DeviceUse, account: int) -> str:
        if dev.valid:
            self.ledger.edge(Rel.USED_DEVICE, account, self.ledger.device(dev.id_type, dev.value))
        else:
            self.ledger.must_reject("imei", dev.value)
        return (f"<deviceId>{_raw('idType', dev.id_type)}{_raw('idValue', dev.value)}"
                f"<eventName>Login</eventName><dateTime>{self.time(dev.time)}</dateTime>"
                "</deviceId>")

    # -- fileDetails ---------------------------------------------------------------------------
    def _file(self, out: list[str], use: FileUse, report: int, first: int,
              acct: Account) -> None:
        ledger, rng = self.ledger, self.rng
        self._file_ids += 1
        parts = ["<fileDetails>", _raw("fileId", f"f{self._file_ids}"),
                 _raw("originalFileName", use.name)]
        if use.file is None:
            assert use.bad_hash is not None
            ledger.must_reject("hash", use.bad_hash)
            parts.append(f'<originalFileHash hashType="MD5">{use.bad_hash}</originalFileHash>')
        else:
            node = ledger.file(use.file, use.algos)
            ledger.edge(Rel.INCLUDES, report, node)
            for algo in use.algos:
                value = use.file.hash(algo)
                bits = rng.getrandbits(4)  # one draw for both spellings: hashType and hex case
                label = algo if bits & 3 == 0 else algo.upper()
                value = value.upper() if bits >> 2 == 0 else value
                parts.append(f'<originalFileHash hashType="{label}">{value}</originalFileHash>')
            if use.upload is not None:
                ledger.edge(Rel.SHARED, first, node)
        bits = rng.getrandbits(4)
        parts.append(f"<fileViewedByEsp>{_BOOL[bits & 1]}</fileViewedByEsp>"
                     f"<publiclyAvailable>{_BOOL[bits >> 1 & 1]}</publiclyAvailable>")
        if use.upload is not None:
            parts.append(f"<uploadedToEspTimestamp>{self.time(use.upload.time, offset=True)}"
                         "</uploadedToEspTimestamp>")
        parts.append(_raw("industryClassification", ("A1", "A2", "B1", "B2")[bits >> 2]))
        if use.upload is not None:
            parts.append(self._ip(use.upload, acct.key, first))
        parts.append("</fileDetails>")
        out.append("".join(parts))
