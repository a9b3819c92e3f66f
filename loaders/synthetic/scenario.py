"""Plants the structures the analysis must find (and the noise it must ignore) as report specs.

Budgets: about a quarter of the reports come from offender networks, an eighth from people with
several accounts, a twentieth from households sharing a device, the rest from one-report accounts.
Identifiers that belong to one entity are unique to it (see `fakes`), so the only shared
identifiers are the planted ones and the supernodes (CGNAT, VPN exits, popular files).
"""

from __future__ import annotations

import random
from datetime import date

from loaders.identifiers import account_key, normalise_screen_name
from loaders.synthetic.entities import (
    DAY,
    INCIDENT_TYPES,
    LOCATIONS,
    PROVIDERS,
    VPN_PROVIDERS,
    YEAR,
    Account,
    DeviceUse,
    FileSpec,
    FileUse,
    Household,
    Human,
    IpUse,
    Network,
    Provider,
    ReportSpec,
    Subject,
)
from loaders.synthetic.fakes import LAST_NAMES, Fakes

SHARE_KINDS = ("phone", "email", "device", "dob_name")
_LOGIN_EVENTS = ("Login", "Login", "Login", "Registration", "Purchase", "Other")


def _clamp(t: int) -> int:
    return min(max(t, 0), YEAR - 1)


class Scenario:
    """Builds every human, account, file and report spec for one run, from one `Random`."""

    def __init__(self, rng: random.Random, reports: int) -> None:
        self.rng = rng
        self.fakes = Fakes(rng)
        self.humans: list[Human] = []
        self.accounts: list[Account] = []
        self.networks: list[Network] = []
        self.households: list[Household] = []
        self.reports: list[ReportSpec] = []
        self.files: list[FileSpec] = []
        self._handle_owner: dict[str, str] = {}
        self._esp_ids: dict[str, int] = {p.key: rng.randrange(10**6, 10**8) for p in PROVIDERS}
        self.cgnat = [self.fakes.cgnat_ip() for _ in range(3 + reports // 2500)]
        self.vpn = [self.fakes.vpn_ip() for _ in range(4 + reports // 3000)]
        self.vpn_provider = {ip: rng.choice(VPN_PROVIDERS)
                             for ip in self.vpn}
        self.popular = [self._file("popular") for _ in range(4 + min(8, reports // 25_000))]
        self._build(reports)

    # -- budgets -----------------------------------------------------------------------------
    def _build(self, total: int) -> None:
        budget = int(total * 0.25)
        while budget >= 3:
            budget -= self._network(budget)
        budget += int(total * 0.12)
        while budget >= 2:
            budget -= self._person(budget)
        budget += int(total * 0.05)
        while budget >= 2:
            budget -= self._household(budget)
        while len(self.reports) < total:
            self._noise()

    @staticmethod
    def _fit(counts: list[int], budget: int) -> list[int]:
        """Shrink per-account report counts (never below one) until they fit the budget."""
        while sum(counts) > budget:
            i = max(range(len(counts)), key=counts.__getitem__)
            if counts[i] == 1:
                break
            counts[i] -= 1
        return counts

    # -- entities ----------------------------------------------------------------------------
    def _file(self, kind: str) -> FileSpec:
        md5, sha1, sha256 = self.fakes.file_hashes()
        spec = FileSpec(len(self.files), md5, sha1, sha256, kind)
        self.files.append(spec)
        return spec

    def _human(self, kind: str, n_accounts: int, providers: list[Provider],
               last: str | None = None) -> Human:
        rng, fakes = self.rng, self.fakes
        first, drawn_last = fakes.name()
        last = last or drawn_last
        shares: tuple[str, ...] = ()
        if n_accounts > 1:
            shares = tuple(sorted(rng.sample(SHARE_KINDS, rng.randint(1, 2))))
        human = Human(
            id=f"h{len(self.humans) + 1}", kind=kind, first=first, last=last,
            handle=("", "") if kind == "noise" else fakes.base_handle(first, last),
            dob=date(rng.randint(1965, 2006), rng.randint(1, 12), rng.randint(1, 28)),
            shares=shares, home_ip=fakes.own_ip(),
            location=rng.choice(LOCATIONS) if rng.random() < 0.6 else None,
        )
        human.phone = fakes.phone() if "phone" in shares or rng.random() < 0.3 else None
        if "phone" in shares and human.phone is None:  # fictional numbers ran out (huge runs)
            human.shares = shares = tuple(sorted({*shares, "dob_name"} - {"phone"}))
        human.device = fakes.device() if "device" in shares or rng.random() < 0.35 else None
        self.humans.append(human)
        chosen = ([rng.choice(providers)] if n_accounts == 1
                  else rng.sample(providers, min(n_accounts, len(providers))))
        while len(chosen) < n_accounts:
            chosen.append(rng.choice(providers))
        if n_accounts > 1 and rng.random() < 0.3:
            chosen[1] = chosen[0]  # two accounts on one service: the provider ties them
        gmails: list[str | None] = [None] * n_accounts
        if "email" in shares:
            gmails = list(fakes.gmail_variants("".join(human.handle), n_accounts))
        for i, provider in enumerate(chosen):
            self._account(human, provider, gmails[i])
        by_provider: dict[str, list[Account]] = {}
        for acct in human.accounts:
            by_provider.setdefault(acct.provider.key, []).append(acct)
        for group in by_provider.values():
            for acct in group:
                acct.associated = [other for other in group if other is not acct]
        if n_accounts > 1 and rng.random() < 0.2:
            alt = self._account(human, human.accounts[0].provider, None, reported=False)
            human.accounts[0].associated.append(alt)
        return human

    def _screen_name(self, human: Human, provider: Provider) -> str:
        rng = self.rng
        earlier = [name for acct in human.accounts for name in acct.screen_names]
        for attempt in range(20):
            if earlier and attempt == 0 and rng.random() < 0.25:
                name = rng.choice(earlier)  # the same handle again on another service
            else:
                name = self.fakes.handle_variant(*human.handle, human.dob.year)
                if attempt > 10:
                    name += str(rng.randint(100, 9999))
            handle = normalise_screen_name(name)
            # One handle, one person: two strangers with one handle would be a same-person lead
            # the truth does not list. Where handles are keys, one account per handle, too.
            if self._handle_owner.setdefault(handle, human.id) == human.id and (
                    provider.gives_ids or self.fakes.claim(f"sn:{provider.key}:{handle}")):
                return name
        raise RuntimeError("could not find a free screen name")  # not reachable in practice

    def _account(self, human: Human, provider: Provider, gmail: str | None,
                 reported: bool = True) -> Account:
        rng, fakes = self.rng, self.fakes
        multi = len(human.shares) > 0
        esp_id = None
        if provider.gives_ids:
            self._esp_ids[provider.key] += rng.randint(1, 5000)
            esp_id = str(self._esp_ids[provider.key])
        if human.kind == "noise":
            screen_names = [fakes.noise_handle()]
        else:
            screen_names = [self._screen_name(human, provider)]
            if provider.gives_ids and rng.random() < 0.2:
                screen_names.append(self._screen_name(human, provider))
        display = [fakes.display_name(human.first, human.last)]
        if rng.random() < 0.25:
            display.append(fakes.display_name(human.first, human.last))
        local = screen_names[0].lower().replace("-", ".")
        email = gmail if multi and "email" in human.shares else fakes.own_email(local)
        phone = human.phone if not multi or "phone" in human.shares else (
            fakes.phone() if rng.random() < 0.3 else None)
        device = human.device if not multi or "device" in human.shares else (
            fakes.device() if rng.random() < 0.3 else None)
        acct = Account(
            human=human, provider=provider, esp_id=esp_id, screen_names=screen_names,
            display_names=display, email=email, phone=phone,
            devices=[device] if device else [], ips=[human.home_ip or fakes.own_ip()],
            reported=reported,
        )
        if multi or rng.random() < 0.3:
            acct.ips.append(fakes.own_ip())
        # `account_key` re-normalises the provider on every call; ids need only the documented
        # format, which `Provider` checks once against `account_key` itself.
        acct.key = (f"{provider.key}:{esp_id}" if esp_id is not None
                    else account_key(provider.key, None, screen_names[0]))
        human.accounts.append(acct)
        self.accounts.append(acct)
        return acct

    # -- reports -----------------------------------------------------------------------------
    def _login_ip(self, acct: Account, t: int, network: Network | None) -> IpUse:
        rng = self.rng
        roll = rng.random()
        event = rng.choice(_LOGIN_EVENTS)
        if roll < 0.08:
            return IpUse(rng.choice(self.cgnat), t, event, "cgnat")
        if roll < 0.15:
            return IpUse(rng.choice(self.vpn), t, event, "vpn")
        if network is not None and roll < 0.35:
            return IpUse(rng.choice(network.ips), t, event, "network")
        return IpUse(rng.choice(acct.ips), t, event, "own")

    def _subject(self, acct: Account, t: int, first: bool, network: Network | None) -> Subject:
        rng = self.rng
        ips = [self._login_ip(acct, _clamp(t - rng.randrange(14 * DAY)), network)
               for _ in range(rng.randint(1, 3))]
        devices = []
        if acct.devices and (first or rng.random() < 0.6):
            devices = [DeviceUse(d[0], d[1], _clamp(t - rng.randrange(30 * DAY)))
                       for d in acct.devices]
        person_rate = 0.4 if acct.human.kind == "noise" else 0.6
        # An account's first report always names the person behind it (noise aside) and the
        # accounts its provider ties to it, so every tie the truth lists is written at least once
        # (an "alt" account that is never reported itself exists only through this element).
        associated = acct.associated if first or rng.random() < 0.3 else []
        person = (first and acct.human.kind != "noise") or rng.random() < person_rate
        return Subject(
            account=acct, person=person,
            ip_uses=ips, device_uses=devices,
            location=acct.human.location is not None and rng.random() < 0.35,
            associated=list(associated),
        )

    def _file_use(self, spec: FileSpec, acct: Account, t: int) -> FileUse:
        rng = self.rng
        roll = rng.random()
        algos = ("md5",) if roll < 0.45 else ("md5", "sha1") if roll < 0.95 else (
            "md5", "sha1", "sha256")
        upload = None
        if rng.random() < 0.85:
            upload = self._login_ip(acct, _clamp(t - rng.randrange(3 * DAY)), None)
            upload.event = "Upload"
        ext = rng.choice(("jpg", "jpg", "png", "mp4", "zip"))
        return FileUse(spec, algos, upload, f"IMG_{rng.randrange(10_000):04d}.{ext}")

    def _report(self, acct: Account, t: int, files: list[FileSpec], first: bool,
                network: Network | None = None) -> ReportSpec:
        rng = self.rng
        report = ReportSpec(
            seq=len(self.reports), time=t, provider=acct.provider,
            subjects=[self._subject(acct, t, first, network)],
            files=[self._file_use(f, acct, t) for f in files],
            incident_type=rng.choice(INCIDENT_TYPES), victim=rng.random() < 0.1,
        )
        self.reports.append(report)
        return report

    def _popular_maybe(self, rate: float) -> list[FileSpec]:
        if self.rng.random() >= rate:
            return []
        weights = [1 / (i + 1) for i in range(len(self.popular))]
        return self.rng.choices(self.popular, weights)

    # -- structures --------------------------------------------------------------------------
    def _network(self, budget: int) -> int:
        rng = self.rng
        n_acc = min(rng.randint(3, 30), max(3, budget // 2))
        providers = rng.sample(PROVIDERS, rng.randint(2, 4))
        net = Network(id=f"net-{len(self.networks) + 1}", accounts=[], files=[], ips=[])
        while len(net.accounts) < n_acc:
            left = n_acc - len(net.accounts)
            # A multi-account member never fills the network alone: a network is several people.
            k = min(rng.randint(2, 3), left - 1) if left >= 3 and rng.random() < 0.25 else 1
            net.accounts += self._human("network", k, providers).accounts
        net.accounts = [a for a in net.accounts if a.reported]
        for acct in net.accounts:
            acct.network = net.id
        net.files = [self._file("network") for _ in range(rng.randint(5, 40))]
        net.ips = [self.fakes.own_ip() for _ in range(rng.randint(2, max(2, n_acc // 2)))]
        start = rng.randrange(240 * DAY)
        end = min(start + rng.randint(60, 180) * DAY, YEAR - DAY)
        weights = [1 / (i + 1) for i in range(len(net.files))]
        counts = self._fit([rng.randint(2, 6) for _ in net.accounts], budget)
        by_account: dict[int, list[ReportSpec]] = {}
        for i, (acct, count) in enumerate(zip(net.accounts, counts, strict=True)):
            for j in range(count):
                picked = rng.choices(net.files, weights, k=rng.randint(1, 4))
                files = list({f.seq: f for f in picked + self._popular_maybe(0.1)}.values())
                report = self._report(acct, rng.randint(start, end), files, j == 0, net)
                by_account.setdefault(i, []).append(report)
                net.reports.append(report)
                self._co_report(report, net)
        self._spread_files(net, by_account)
        self._co_use_ips(net, by_account, start)
        self.networks.append(net)
        return sum(counts)

    def _co_report(self, report: ReportSpec, net: Network) -> None:
        """Sometimes a report names a second member on the same service (a chat partner)."""
        acct = report.subjects[0].account
        peers = [a for a in net.accounts
                 if a.provider is acct.provider and a.human is not acct.human]
        if peers and self.rng.random() < 0.15:
            report.subjects.append(self._subject(self.rng.choice(peers), report.time, False, net))

    def _spread_files(self, net: Network, by_account: dict[int, list[ReportSpec]]) -> None:
        """Every network file reaches at least two members: rare files shared are the evidence."""
        holders: dict[int, list[int]] = {}
        for i, reports in by_account.items():
            for report in reports:
                for use in report.files:
                    if use.file is not None and use.file.kind == "network":
                        holders.setdefault(use.file.seq, [])
                        if i not in holders[use.file.seq]:
                            holders[use.file.seq].append(i)
        for spec in net.files:
            have = holders.get(spec.seq, [])
            others = [i for i in by_account if i not in have]
            for i in self.rng.sample(others, min(len(others), 2 - min(len(have), 2))):
                report = self.rng.choice(by_account[i])
                report.files.append(self._file_use(spec, net.accounts[i], report.time))

    def _co_use_ips(self, net: Network, by_account: dict[int, list[ReportSpec]],
                    start: int) -> None:
        """Members log in from one address minutes apart: the time-bound IP link."""
        rng = self.rng
        members = list(by_account)
        for _ in range(rng.randint(max(1, len(members) // 3), max(1, len(members)))):
            a, b = rng.sample(members, 2)
            if net.accounts[a].human is net.accounts[b].human:
                continue
            ip = rng.choice(net.ips)
            first = rng.choice(by_account[a])
            t = _clamp(max(start, first.time - rng.randrange(7 * DAY)))
            first.subjects[0].ip_uses.append(IpUse(ip, t, "Login", "network"))
            later = _clamp(t + rng.randint(60, 45 * 60))
            rng.choice(by_account[b]).subjects[0].ip_uses.append(
                IpUse(ip, later, "Login", "network"))

    def _person(self, budget: int) -> int:
        rng = self.rng
        human = self._human("person", min(rng.randint(2, 5), budget), list(PROVIDERS))
        reported = [a for a in human.accounts if a.reported]
        counts = self._fit([rng.randint(1, 3) for _ in reported], budget)
        for acct, count in zip(reported, counts, strict=True):
            for j in range(count):
                files = [self._file("noise") for _ in range(rng.randint(0, 2))]
                self._report(acct, rng.randrange(YEAR), files + self._popular_maybe(0.2), j == 0)
        return sum(counts)

    def _household(self, budget: int) -> int:
        rng = self.rng
        last = rng.choice(LAST_NAMES)
        device = self.fakes.device()
        humans = [self._human("household", 1, list(PROVIDERS), last=last)
                  for _ in range(min(rng.randint(2, 4), budget))]
        counts = self._fit([rng.randint(1, 2) for _ in humans], budget)
        for human, count in zip(humans, counts, strict=True):
            acct = human.accounts[0]
            acct.devices = [device] + [d for d in acct.devices if d != device]
            for j in range(count):
                self._report(acct, rng.randrange(YEAR), [self._file("noise")], j == 0)
        self.households.append(Household(device, humans))
        return sum(counts)

    def _noise(self) -> None:
        rng = self.rng
        human = self._human("noise", 1, list(PROVIDERS))
        files = [self._file("noise") for _ in range(rng.randint(0, 3))]
        self._report(human.accounts[0], rng.randrange(YEAR), files + self._popular_maybe(0.25),
                     True)
