"""Comparable records for entity resolution: what an account or a reported person says about someone.

A `SourceRecord` is one account (with the names, birth dates and addresses of the reported persons
that use it, folded in), one reported person that uses no account, or one row of a person table.
Persons are never merged into each other: they are read, folded into their account's record, and
left as they are in the graph. `RecordTable` holds the records column by column, normalised once,
so that blocking and comparison work on integer codes and arrays instead of Python objects.

Normalisation here is for matching only (never for keys): names lose case, accents and
punctuation; screen names lose separators, leetspeak and digits (`strip_handle`), because one
person's handles differ in exactly those (`j0hn_doe77`, `john.doe`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import numpy as np

#: At most this many distinct handles per record are compared (the most frequent first).
MAX_HANDLES = 3
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a", "$": "s"}
_CORE_LEET = frozenset("01345")
_SEPARATORS = re.compile(r"[\s._\-+~|/\\,;:'\"`*#!?()\[\]{}<>^=&%]+")
_RUNS = re.compile(r"[0-9@$]+|[^0-9@$]+")


#: Names, handles and addresses repeat across records: each distinct text is normalised once.
_CACHE = 1 << 18


@lru_cache(maxsize=_CACHE)
def fold(text: str | None) -> str:
    """Casefolded NFKC text without accents, letters, digits and single spaces only.

    >>> fold("  Öpecimane-Smith ")
    'opecimane smith'
    """
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", str(text)).casefold())
    kept = [" " if not ch.isalnum() else ch for ch in decomposed if not unicodedata.combining(ch)]
    return " ".join("".join(kept).split())


@lru_cache(maxsize=_CACHE)
def name_part(text: str | None) -> str:
    """A given name or surname for comparison: folded, letters and spaces only."""
    return " ".join("".join(ch if ch.isalpha() else " " for ch in fold(text)).split())


@lru_cache(maxsize=_CACHE)
def strip_handle(text: str | None) -> str:
    """A screen name reduced to the letters a person chose: separators, leetspeak and digits go.

    Digits inside or at the start of a word are read as leetspeak (`4l3x` is alex); at the end of
    a word, a run of three or more digits, or of digits that are not common leet letters (0 1 3 4
    5), and a word of digits alone, are a number someone added (a birth year) and are dropped.

    >>> strip_handle("@4l3x_54mpl3t0n1990")
    'alexsampleton'
    >>> strip_handle("blue.fox-77")
    'bluefox'
    """
    if not text:
        return ""
    base = unicodedata.normalize("NFKC", str(text)).casefold().lstrip("@ ")
    out: list[str] = []
    for word in _SEPARATORS.split(base):
        runs = _RUNS.findall(word)
        for k, run in enumerate(runs):
            if not (run[0].isdigit() or run[0] in "@$"):
                out.append(run)
                continue
            if len(runs) == 1 or (k == len(runs) - 1 and (len(run) >= 3 or not set(run) <= _CORE_LEET)):
                continue  # a number on its own or added at the end, not letters
            out.extend(_LEET.get(ch, "") for ch in run)
    return "".join(ch for ch in fold("".join(out)) if ch.isalpha())


_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


@lru_cache(maxsize=_CACHE)
def soundex(text: str | None) -> str:
    """American Soundex of the first word: names that sound alike share it ("Smith", "Smyth").

    >>> soundex("Robert"), soundex("Rupert"), soundex("")
    ('r163', 'r163', '')
    """
    letters = [ch for ch in name_part(text).replace(" ", "") if "a" <= ch <= "z"]
    if not letters:
        return ""
    code, last = letters[0], _SOUNDEX.get(letters[0], "")
    for ch in letters[1:]:
        digit = _SOUNDEX.get(ch, "")
        if digit and digit != last:
            code += digit
        if ch not in "hw":
            last = digit
        if len(code) == 4:
            break
    return code.ljust(4, "0")


def iso_date(value: object) -> str:
    """A birth date as YYYY-MM-DD text ('' when absent or unreadable)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value or "").strip()
    return text[:10] if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", text) else ""


@dataclass(slots=True)
class SourceRecord:
    """One record as read from the graph or a table, before normalisation.

    `id` is the entity id (`Account:<key>`, `Person:<key>`) or a table's row id. `persons` are
    (first name, last name, full name) as written; `sources` maps `field:value` to the report
    keys that say so, for the evidence of a proposal. `associated` are ids of records the
    provider ties to this one.
    """

    id: str
    kind: str
    provider: str | None = None
    esp_id: str | None = None
    screen_names: list[str] = field(default_factory=list)
    display_names: list[str] = field(default_factory=list)
    persons: list[tuple[str | None, str | None, str | None]] = field(default_factory=list)
    dobs: list[object] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    postcodes: list[str] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)  # canonical forms
    phones: list[str] = field(default_factory=list)  # E.164
    devices: list[str] = field(default_factory=list)  # device keys
    ips: list[tuple[str, float]] = field(default_factory=list)  # (ip key, epoch seconds)
    associated: list[str] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class Column:
    """A text field as integer codes (-1: missing) into its distinct values."""

    codes: np.ndarray
    values: list[str]

    @classmethod
    def of(cls, texts: Sequence[str]) -> Column:
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(t, len(index)) if t else -1 for t in texts),
                            dtype=np.int64, count=len(texts))
        return cls(codes, list(index))

    @classmethod
    def of_many(cls, lists: Sequence[Sequence[str]], width: int) -> Column:
        """Up to `width` values per row in one vocabulary: codes of shape (rows, width)."""
        index: dict[str, int] = {}
        codes = np.full((len(lists), width), -1, dtype=np.int64)
        for i, texts in enumerate(lists):
            for k, text in enumerate(texts[:width]):
                codes[i, k] = index.setdefault(text, len(index))
        return cls(codes, list(index))

    def text(self, row: int, slot: int | None = None) -> str:
        code = int(self.codes[row] if slot is None else self.codes[row, slot])
        return self.values[code] if code >= 0 else ""


@dataclass(slots=True)
class RecordTable:
    """Records column by column; row `i` of every column is record `ids[i]`."""

    ids: list[str]
    kinds: list[str]
    labels: list[str]  # what a reviewer sees: a name or a handle
    first: Column
    last: Column
    dob: Column
    handles: Column  # (rows, MAX_HANDLES) codes: the record's stripped handles, most frequent first
    address: Column
    city: Column
    postcode: Column
    national_id: Column
    provider: list[str]
    esp_id: list[str]
    screen_names: list[tuple[str, ...]]  # casefolded, for the provider-id rule
    emails: list[tuple[str, ...]]
    phones: list[tuple[str, ...]]
    devices: list[tuple[str, ...]]
    ips: list[tuple[tuple[str, float], ...]]
    associated: list[tuple[int, int]]
    sources: list[dict[str, list[str]]]

    def __len__(self) -> int:
        return len(self.ids)

    def handle_texts(self, row: int) -> list[str]:
        return [t for t in (self.handles.text(row, k) for k in range(self.handles.codes.shape[1])) if t]


def _mode(values: Iterable[str]) -> str:
    """The most frequent non-empty value (first seen wins ties), '' when none."""
    present = [v for v in values if v]
    if len(present) <= 1 or len(set(present)) == 1:
        return present[0] if present else ""
    return Counter(present).most_common(1)[0][0]


@lru_cache(maxsize=_CACHE)
def _split_name(first: str | None, last: str | None, full: str | None) -> tuple[str, str]:
    f, la = name_part(first), name_part(last)
    if not f and not la and full:
        words = name_part(full).split()
        if len(words) >= 2:
            return words[0], words[-1]
    return f, la


@lru_cache(maxsize=_CACHE)
def _joined(first: str | None, last: str | None, full: str | None) -> str:
    """"first last" when both parts are known, else ''."""
    parts = _split_name(first, last, full)
    return " ".join(parts) if all(parts) else ""


def _handles(rec: SourceRecord) -> list[str]:
    """Stripped screen names, then stripped email local parts: a person's chosen strings."""
    stripped = [strip_handle(s) for s in rec.screen_names]
    stripped += [strip_handle(e.split("@", 1)[0]) for e in rec.emails]
    kept = [s for s in stripped if len(s) >= 3]
    if len(kept) <= 1:
        return kept
    return [s for s, _ in Counter(kept).most_common(MAX_HANDLES)]


@lru_cache(maxsize=_CACHE)
def _handle_key(screen_name: str) -> str:
    return fold(screen_name).replace(" ", "")


def build_table(records: Iterable[SourceRecord]) -> RecordTable:
    """Normalise every record once; `associated` ids that are not records are ignored."""
    rows = list(records)
    position = {rec.id: i for i, rec in enumerate(rows)}
    names = [_mode(_joined(*p) for p in rec.persons) for rec in rows]
    firsts = [n.split(" ")[0] if n else "" for n in names]
    lasts = [n.split(" ", 1)[1] if n else "" for n in names]
    handle_lists = [_handles(rec) for rec in rows]
    pairs: set[tuple[int, int]] = set()
    for i, rec in enumerate(rows):
        for other in rec.associated:
            j = position.get(other)
            if j is not None and j != i:
                pairs.add((min(i, j), max(i, j)))

    def label(i: int, rec: SourceRecord) -> str:
        shown = [p for p in rec.persons[0][:2] if p] if rec.persons else []
        return " ".join(shown) or (rec.screen_names[0] if rec.screen_names else "") or rec.id

    return RecordTable(
        ids=[rec.id for rec in rows], kinds=[rec.kind for rec in rows],
        labels=[label(i, rec) for i, rec in enumerate(rows)],
        first=Column.of(firsts), last=Column.of(lasts),
        dob=Column.of([_mode(iso_date(d) for d in rec.dobs) for rec in rows]),
        handles=Column.of_many(handle_lists, MAX_HANDLES),
        address=Column.of([_mode(fold(a) for a in rec.addresses) for rec in rows]),
        city=Column.of([_mode(fold(c) for c in rec.cities) for rec in rows]),
        postcode=Column.of([_mode(fold(p).replace(" ", "") for p in rec.postcodes) for rec in rows]),
        national_id=Column.of([_mode(fold(n).replace(" ", "") for n in rec.national_ids) for rec in rows]),
        provider=[rec.provider or "" for rec in rows], esp_id=[rec.esp_id or "" for rec in rows],
        screen_names=[tuple(dict.fromkeys(_handle_key(s) for s in rec.screen_names if _handle_key(s)))
                      for rec in rows],
        emails=[tuple(dict.fromkeys(e.lower() for e in rec.emails if e)) for rec in rows],
        phones=[tuple(dict.fromkeys(p for p in rec.phones if p)) for rec in rows],
        devices=[tuple(dict.fromkeys(d for d in rec.devices if d)) for rec in rows],
        ips=[tuple(rec.ips) for rec in rows], associated=sorted(pairs),
        sources=[rec.sources for rec in rows],
    )
