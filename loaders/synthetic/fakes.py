"""Made-up identifiers that look like the real kinds but can never be someone's.

Names come from small invented lists, mail goes to example.* or gmail.com, phones sit in the
fictional 555-01xx (US) and 7700 900xxx (UK) ranges, addresses in the benchmark (198.18.0.0/15),
documentation (203.0.113.0/24, 2001:db8::/32) and CGNAT (100.64.0.0/10) ranges. Every draw goes
through one `random.Random`, and identifiers meant to be one entity's own are drawn without
replacement, so two strangers never share one by accident (that would plant a false link).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Robin", "Avery",
    "Quinn", "Drew", "Jesse", "Reese", "Rowan", "Skyler", "Parker", "Emerson", "Finley", "Hayden",
    "Kai", "Logan", "Micah", "Noel", "Oakley", "Peyton", "Remy", "Sage", "Tatum", "Blair",
)
LAST_NAMES = (
    "Sampleton", "Testwood", "Exampleby", "Mockford", "Fakeham", "Dummington", "Stubbins",
    "Fixtureson", "Mockridge", "Placeholm", "Specimane", "Protowell", "Draftley", "Pseudonn",
    "Fictory", "Madeupton", "Notreal", "Imagino", "Inventree", "Syntheson", "Likenell", "Mimickby",
    "Surrogate", "Proxley", "Templett", "Decoyne", "Facsimile", "Replicott", "Standinby",
    "Veneerly",
)
HANDLE_WORDS = (
    "blue", "quiet", "river", "fox", "pixel", "storm", "lunar", "maple", "echo", "nova", "delta",
    "ember", "frost", "orbit", "comet", "cedar", "raven", "tiger", "zephyr", "onyx", "atlas",
)
_LEET = str.maketrans({"o": "0", "e": "3", "a": "4", "i": "1", "s": "5"})
_US_AREA_CODES = tuple(
    f"{a}{b}{c}" for a in range(2, 10) for b in range(9) for c in range(10) if (b, c) != (1, 1)
)


class DrawRandom(random.Random):
    """`random.Random` whose `choice`, `randint` and `randrange` take one float draw each.

    The stdlib versions cost several Python calls per draw (`_randbelow` rejection sampling),
    which was a third of the run time at 100k reports; the bias of scaling a 53-bit float is
    far below anything a test could see. Still seeded and fully deterministic.
    """

    def choice(self, seq):  # type: ignore[no-untyped-def, override]
        return seq[int(self.random() * len(seq))]

    def randrange(  # type: ignore[override]
        self, start: int, stop: int | None = None, step: int = 1
    ) -> int:
        if stop is None:
            start, stop = 0, start
        if stop <= start or step != 1:
            raise ValueError(f"empty or stepped range ({start}, {stop}, {step})")
        return start + int(self.random() * (stop - start))

    def randint(self, a: int, b: int) -> int:
        return self.randrange(a, b + 1)


@dataclass(frozen=True, slots=True)
class PhoneText:
    """A phone as one report writes it: the text and the `countryCallingCode` attribute if any."""

    text: str
    calling_code: str | None


def luhn_digit(payload: str) -> str:
    """Check digit making `payload + digit` pass the Luhn test (IMEIs: 14 digits + 1)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


class Fakes:
    """Factory of fictional identifiers; one per generation run, sharing the run's `Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._used: set[str] = set()  # membership only: never iterated, so order cannot leak
        self._counter = 0

    def _fresh(self, draw: Callable[[], str]) -> str | None:
        for _ in range(50):
            value = draw()
            if value not in self._used:
                self._used.add(value)
                return value
        return None

    def claim(self, token: str) -> bool:
        """Reserve `token` for one owner; False if someone already has it."""
        if token in self._used:
            return False
        self._used.add(token)
        return True

    def serial(self) -> int:
        self._counter += 1
        return self._counter

    # -- people ----------------------------------------------------------------------------
    def name(self) -> tuple[str, str]:
        return self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)

    def base_handle(self, first: str, last: str) -> tuple[str, str]:
        """(first, last) lower-cased, with digits on `last` when another person already has it."""
        f, last_l = first.lower(), last.lower()
        if self.claim(f"handle:{f}.{last_l}"):
            return f, last_l
        while True:
            numbered = f"{last_l}{self.rng.randint(2, 9999)}"
            if self.claim(f"handle:{f}.{numbered}"):
                return f, numbered

    def handle_variant(self, first: str, last: str, year: int) -> str:
        """A screen name one person might pick on another platform: separators, digits, leet."""
        rng = self.rng
        sep = rng.choice((".", "_", "", "-", "_"))
        name = f"{first}{sep}{last}"
        roll = rng.random()
        if roll < 0.2:
            name = name.translate(_LEET)
        elif roll < 0.35 and len(name) > 4:
            i = rng.randrange(1, len(name) - 2)
            name = name[:i] + name[i + 1] + name[i] + name[i + 2:]  # typo: swapped letters
        if rng.random() < 0.35:
            name += rng.choice((str(year), str(year)[2:], str(rng.randint(1, 99))))
        if rng.random() < 0.15:
            name = name[:1].upper() + name[1:]
        return name

    def display_name(self, first: str, last: str) -> str:
        return self.rng.choice((
            f"{first} {last}", f"{first} {last[0]}.", first, f"{first} & co",
            f"{first.lower()} \u2728", f"<{first[0]}{last[0]}>", f"{first} \u00d6{last[1:]}",
        ))

    def noise_handle(self) -> str:
        rng = self.rng
        got = None
        while got is None:
            got = self._fresh(lambda: "nh:" + rng.choice(HANDLE_WORDS) + rng.choice(("", "_", "."))
                              + rng.choice(HANDLE_WORDS) + str(rng.randint(1, 99999)))
        return got[3:]

    # -- contact points --------------------------------------------------------------------
    def own_email(self, local: str) -> str:
        """A mailbox nobody else has: the "u<serial>" tail (no surname ends in "u") also keeps its
        gmail canonical form apart from every person's planted gmail box."""
        domain = self.rng.choice(("example.com", "example.net", "example.org", "gmail.com"))
        return f"{local}.u{self.serial()}@{domain}"

    def gmail_variants(self, local: str, count: int) -> list[str]:
        """Spellings of one gmail box: dots moved, `+tags`, case: distinct keys, one canonical."""
        rng = self.rng
        plain = local.replace(".", "").replace("_", "")
        out: list[str] = []
        for i in range(count):
            spelled = plain
            if i % 3 != 0 and len(plain) > 3:
                cut = rng.randrange(1, len(plain) - 1)
                spelled = plain[:cut] + "." + plain[cut:]
            if i % 2 == 1:
                spelled += "+" + rng.choice(("chat", "alt", "x", "2024", "shop"))
            if rng.random() < 0.2:
                spelled = spelled.capitalize()
            out.append(f"{spelled}@{rng.choice(('gmail.com', 'gmail.com', 'googlemail.com'))}")
        return out

    def phone(self) -> tuple[str, str] | None:
        """(country, national digits) of an unused fictional number, or None if none are left."""
        rng = self.rng
        if rng.random() < 0.8:
            got = self._fresh(
                lambda: f"US:{rng.choice(_US_AREA_CODES)}55501{rng.randint(0, 99):02d}")
        else:
            got = self._fresh(lambda: f"GB:7700900{rng.randint(0, 999):03d}")
        return None if got is None else (got[:2], got[3:])

    def phone_text(self, phone: tuple[str, str]) -> PhoneText:
        """One of the ways a provider writes the number (all normalise to the same E.164)."""
        country, digits = phone
        style = self.rng.randrange(5)
        if country == "US":
            a, b, c = digits[:3], digits[3:6], digits[6:]
            return (PhoneText(f"+1 {a}-{b}-{c}", None), PhoneText(f"({a}) {b}-{c}", None),
                    PhoneText(f"{a}.{b}.{c}", None), PhoneText(f"+1{digits}", None),
                    PhoneText(digits, "1"))[style]
        return (PhoneText(f"+44 {digits[:4]} {digits[4:]}", None),
                PhoneText(f"0{digits[:4]} {digits[4:]}", "44"), PhoneText(f"+44{digits}", None),
                PhoneText(f"0{digits}", "+44"), PhoneText(digits, "44"))[style]

    # -- devices ---------------------------------------------------------------------------
    def imei(self) -> str:
        rng = self.rng
        payload = self._fresh(lambda: f"35{rng.randrange(10**12):012d}")
        assert payload is not None  # 10**12 values: exhaustion is impossible at any size we make
        return payload + luhn_digit(payload)

    def bad_imei(self) -> str:
        good = self.imei()
        return good[:14] + str((int(good[14]) + 1 + self.rng.randrange(9)) % 10)

    def ad_id(self, apple: bool) -> str:
        bits = self.rng.getrandbits(128)
        text = f"{bits:032x}"
        text = f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[bits % 4]}{text[17:20]}-{text[20:]}"
        return text.upper() if apple else text

    def device(self) -> tuple[str, str]:
        """(idType as written, value): IMEI, Android (GAID) or Apple (IDFA) advertising id."""
        roll = self.rng.random()
        if roll < 0.5:
            imei = self.imei()
            if self.rng.random() < 0.2:
                imei = f"{imei[:2]}-{imei[2:8]}-{imei[8:14]}-{imei[14]}"
            return self.rng.choice(("IMEI", "imei")), imei
        if roll < 0.8:
            return self.rng.choice(("GAID", "Google Advertising ID")), self.ad_id(apple=False)
        return self.rng.choice(("IDFA", "Advertising ID")), self.ad_id(apple=True)

    # -- addresses -------------------------------------------------------------------------
    def own_ip(self) -> str:
        """An unused address in 198.18.0.0/15 (benchmark) or 2001:db8::/32 (documentation)."""
        rng = self.rng
        if rng.random() < 0.7:
            got = self._fresh(lambda: f"ip:198.{18 + rng.randrange(2)}.{rng.randrange(256)}"
                                      f".{rng.randrange(1, 255)}")
            if got is not None:
                return got[3:]
        got = self._fresh(lambda: "ip:2001:db8:" + ":".join(
            f"{rng.getrandbits(16):x}" for _ in range(6)))
        assert got is not None
        return got[3:]

    def cgnat_ip(self) -> str:
        rng = self.rng
        got = self._fresh(lambda: f"ip:100.{64 + rng.randrange(64)}.{rng.randrange(256)}"
                                  f".{rng.randrange(1, 255)}")
        assert got is not None
        return got[3:]

    def vpn_ip(self) -> str:
        rng = self.rng
        if rng.random() < 0.8:
            got = self._fresh(lambda: f"ip:203.0.113.{rng.randrange(1, 255)}")
            if got is not None:
                return got[3:]
        got = self._fresh(lambda: f"ip:2001:db8:ffff::{rng.getrandbits(16):x}")
        assert got is not None
        return got[3:]

    @staticmethod
    def spell_ip(ip: str, style: int) -> str:
        """IPv6 as some providers write it: upper case or zero-padded (same key once normalised)."""
        if ":" not in ip or style == 0:
            return ip
        if style == 1:
            return ip.upper()
        return ":".join(part.zfill(4) if part else part for part in ip.split(":"))

    # -- hashes ----------------------------------------------------------------------------
    def file_hashes(self) -> tuple[str, str, str]:
        """(md5, sha1, sha256) of an invented file."""
        bits = self.rng.getrandbits
        return f"{bits(128):032x}", f"{bits(160):040x}", f"{bits(256):064x}"
