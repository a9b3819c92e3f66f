"""Field comparisons of candidate pairs: each pair gets a level per comparison (and a similarity).

Levels are ordered from disagreement (0) to the strongest agreement; -1 means one side has
nothing to compare. The Fellegi-Sunter weights (`resolution_weights`) give each level its weight.

Names and handles are one comparison, not two: strangers who share a name also pick handles
from it ("alex.sampleton", "alex_sampleton4821"), so counting the two agreements as independent
evidence would count one coincidence twice. Email, phone, device and provider ties are the strong
rules: their level is whether the pair shares one (from the blocking's shared sets).

All scoring is vectorised: a fuzzy score is computed once per distinct pair of values, with
rapidfuzz's `process.cdist` (a full matrix when the field has few distinct values) or
`process.cpdist` (element-wise, over the distinct value pairs), never in a Python loop over pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import JaroWinkler, Levenshtein

from queries.resolution_blocking import Blocking
from queries.resolution_records import Column, RecordTable

Scorer = Callable[..., float]
#: Fields with at most this many distinct values are scored as one full cdist matrix.
MATRIX_MAX_VALUES = 2500


@dataclass(frozen=True, slots=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # labels, index = level
    rule: bool = False  # a strong rule: its agreement weight is a setting, not estimated
    fields: tuple[str, ...] = ()  # record fields it reads, for the evidence


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", ("different", "surname only", "given name only", "similar name", "handle only",
                        "same name", "same name and handle"), fields=("first_name", "last_name", "handle")),
    Comparison("dob", ("different", "close", "same"), fields=("date_of_birth",)),
    Comparison("address", ("different", "similar", "same"), fields=("address",)),
    Comparison("city", ("different", "same"), fields=("city",)),
    Comparison("postcode", ("different", "same"), fields=("postcode",)),
    Comparison("national_id", ("different", "same"), fields=("national_id",)),
    Comparison("ip", ("none shared", "rare address shared", "rare address within window"), fields=("ip",)),
    Comparison("email", ("different", "same"), rule=True, fields=("email",)),
    Comparison("phone", ("different", "same"), rule=True, fields=("phone",)),
    Comparison("device", ("different", "same"), rule=True, fields=("device",)),
    Comparison("provider", ("different", "tied by provider"), rule=True, fields=("provider",)),
)
BY_NAME = {c.name: c for c in COMPARISONS}
#: What EM learns from (see `resolution_weights`): what a person says about themselves.
DESCRIPTIVE = frozenset({"name", "dob", "address", "city", "postcode", "national_id"})
#: Agreements that pick EM's training pairs: shared identifiers and rare addresses.
SELECTING = frozenset({"email", "phone", "device", "provider", "ip", "national_id"})


@dataclass(slots=True)
class Compared:
    """Levels (int8, -1: nothing to compare) and similarities (float32, NaN: none) per comparison."""

    levels: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]

    def matrix(self, names: list[str]) -> np.ndarray:
        return np.stack([self.levels[n] for n in names], axis=1) if names else np.zeros((0, 0), np.int8)


# -- vectorised similarity -------------------------------------------------------------------------

def similarity(column: Column, a: np.ndarray, b: np.ndarray, scorer: Scorer, workers: int = 1) -> np.ndarray:
    """Scorer(value[a], value[b]) in 0..1 per pair; NaN where either code is -1."""
    out = np.full(len(a), np.nan, dtype=np.float32)
    both = (a >= 0) & (b >= 0)
    if not both.any():
        return out
    ca, cb = a[both], b[both]
    values = np.array(column.values, dtype=object)
    scale = 100.0 if scorer in (fuzz.token_set_ratio, fuzz.ratio) else 1.0
    if len(values) <= MATRIX_MAX_VALUES:
        matrix = process.cdist(values, values, scorer=scorer, dtype=np.float32, workers=workers)
        out[both] = matrix[ca, cb] / scale
        return out
    width = len(values)
    pairs, inverse = np.unique(ca * width + cb, return_inverse=True)
    scored = process.cpdist(values[pairs // width], values[pairs % width], scorer=scorer, dtype=np.float32,
                            workers=workers)
    out[both] = scored[inverse] / scale
    return out


def best_handle_similarity(table: RecordTable, left: np.ndarray, right: np.ndarray, workers: int = 1) -> np.ndarray:
    """The best Jaro-Winkler similarity over the two records' handles (NaN: a side has none)."""
    codes = table.handles.codes
    best = np.full(len(left), np.nan, dtype=np.float32)
    for s in range(codes.shape[1]):
        for t in range(codes.shape[1]):
            sim = similarity(table.handles, codes[left, s], codes[right, t], JaroWinkler.normalized_similarity,
                             workers)
            best = np.fmax(best, sim)
    return best


def _exact(column: Column, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = column.codes[left], column.codes[right]
    level = np.where((a >= 0) & (b >= 0), (a == b).astype(np.int8), np.int8(-1)).astype(np.int8)
    return level, np.where(level >= 0, level, np.nan).astype(np.float32)


def _shared(blocking: Blocking, name: str, codes: np.ndarray, has_a: np.ndarray, has_b: np.ndarray) -> np.ndarray:
    shared = np.isin(codes, blocking.shared.get(name, np.zeros(0, np.int64)), assume_unique=False)
    return np.where(has_a & has_b, shared.astype(np.int8), np.int8(-1)).astype(np.int8)


# -- the comparisons ---------------------------------------------------------------------------------

def compare_names(table: RecordTable, left: np.ndarray, right: np.ndarray,
                  workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Given name, surname and handles as one comparison (levels: `COMPARISONS[0]`)."""
    jw = JaroWinkler.normalized_similarity
    first = similarity(table.first, table.first.codes[left], table.first.codes[right], jw, workers)
    last = similarity(table.last, table.last.codes[left], table.last.codes[right], jw, workers)
    handle = best_handle_similarity(table, left, right, workers)
    named = ~np.isnan(first) & ~np.isnan(last)
    same_first, same_last = first >= 0.999, last >= 0.999
    close_handle = handle >= 0.92
    level = np.full(len(left), -1, dtype=np.int8)
    level[~np.isnan(handle)] = 0
    level[~named & close_handle] = 4
    level[named] = 0
    level[named & (last >= 0.92) & (first < 0.8)] = 1
    level[named & same_first & (last < 0.8)] = 2
    level[named & (first >= 0.88) & (last >= 0.88) & ~(same_first & same_last)] = 3
    level[named & same_first & same_last] = 5
    level[named & same_first & same_last & close_handle] = 6
    score = np.where(named, (np.nan_to_num(first) + np.nan_to_num(last)) / 2, handle).astype(np.float32)
    return level, score


def compare_dates(column: Column, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same date; close (one digit off, or day and month swapped); different."""
    a, b = column.codes[left], column.codes[right]
    level = np.full(len(left), -1, dtype=np.int8)
    both = (a >= 0) & (b >= 0)
    level[both] = 0
    edits = similarity(column, a, b, Levenshtein.distance)
    values = column.values
    swapped_lookup = {v: f"{v[:4]}-{v[8:10]}-{v[5:7]}" for v in values if len(v) == 10}
    index = {v: i for i, v in enumerate(values)}
    swap = np.array([index.get(swapped_lookup.get(v, ""), -2) for v in values] + [-3], dtype=np.int64)
    is_swap = swap[a] == b
    level[both & ((edits <= 1) | is_swap)] = 1
    level[both & (a == b)] = 2
    return level, np.where(both, (a == b).astype(np.float32), np.nan).astype(np.float32)


def compare(table: RecordTable, blocking: Blocking, left: np.ndarray, right: np.ndarray,
            workers: int = 1) -> Compared:
    """Every comparison's level for the pairs (left[k], right[k]), left < right."""
    n = len(table)
    codes = left * n + right
    levels: dict[str, np.ndarray] = {}
    scores: dict[str, np.ndarray] = {}
    levels["name"], scores["name"] = compare_names(table, left, right, workers)
    levels["dob"], scores["dob"] = compare_dates(table.dob, left, right)
    addr = similarity(table.address, table.address.codes[left], table.address.codes[right], fuzz.token_set_ratio,
                      workers)
    levels["address"] = np.select([np.isnan(addr), addr >= 0.9, addr >= 0.7], [-1, 2, 1], 0).astype(np.int8)
    scores["address"] = addr
    for name in ("city", "postcode", "national_id"):
        levels[name], scores[name] = _exact(getattr(table, name), left, right)
    has_ip = np.array([bool(u) for u in table.ips], dtype=bool)
    ip_any = np.isin(codes, blocking.shared.get("ip_any", np.zeros(0, np.int64)))
    ip_window = np.isin(codes, blocking.shared.get("ip_window", np.zeros(0, np.int64)))
    levels["ip"] = np.where(has_ip[left] & has_ip[right], ip_any.astype(np.int8) + ip_window, -1).astype(np.int8)
    scores["ip"] = levels["ip"].astype(np.float32)
    for name, values in (("email", table.emails), ("phone", table.phones), ("device", table.devices)):
        has = np.array([bool(v) for v in values], dtype=bool)
        levels[name] = _shared(blocking, name, codes, has[left], has[right])
        scores[name] = levels[name].astype(np.float32)
    has_provider = np.array([bool(p) for p in table.provider], dtype=bool) | (len(table.associated) > 0)
    levels["provider"] = _shared(blocking, "provider", codes, has_provider[left], has_provider[right])
    scores["provider"] = levels["provider"].astype(np.float32)
    return Compared(levels, scores)


def active(table: RecordTable, compared: Compared) -> list[str]:
    """The comparisons this data set can inform (a column that is empty everywhere is left out)."""
    return [c.name for c in COMPARISONS if (compared.levels[c.name] >= 0).any()]
