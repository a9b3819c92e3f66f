"""Blocking: which pairs of records are worth comparing at all.

Comparing every pair of a million records is 5·10¹¹ comparisons. Blocking keys group records
that could be one person (the same phonetic name and birth date, or surname or given name and
birth date; the same handle or its first or last six letters; the same email or email local
part, phone, phone suffix, device, provider user id, national id, postcode or address with the
phonetic surname; a rare address used by both within the time window); only pairs inside a group
are compared. There is no key on the name alone: with a hundred thousand records it made 70% of
the comparisons, nearly all between namesakes, and found no pair the other keys missed. A group
larger than `max_block` says nothing (a common name, a shared family tablet, a call centre's
number) and is skipped, and counted, so the cost grows with the number of records, not its
square.

Everything is numpy over integer codes: a key is an int64 per (record, key) row, groups come
from one sort, and the pairs inside all groups of one size are made in a single array operation.
The sets of pairs that share an email, phone, device, provider id or rare address are kept: the
strong rules and the address comparison read them instead of comparing values again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from queries.resolution_records import Column, RecordTable, soundex

#: Keys whose shared values are evidence themselves (strong rules and the address comparison).
SHARED_FIELDS = ("email", "phone", "device", "provider", "ip_window", "ip_any")


@dataclass(slots=True)
class Blocking:
    """Candidate pairs (`left[k] < right[k]`, sorted by `codes`) and what made them."""

    n: int
    left: np.ndarray
    right: np.ndarray
    codes: np.ndarray  # left * n + right, sorted
    pairs_by_key: dict[str, int] = field(default_factory=dict)
    skipped_blocks: dict[str, int] = field(default_factory=dict)
    shared: dict[str, np.ndarray] = field(default_factory=dict)  # field -> sorted pair codes

    @property
    def comparisons(self) -> int:
        return len(self.codes)


@dataclass(frozen=True, slots=True)
class BlockingLimits:
    max_block: int = 100
    device_max_accounts: int = 10
    ip_max_accounts: int = 20
    ip_window_s: float = 3600.0


# -- keys ---------------------------------------------------------------------------------------

def combine(*parts: np.ndarray) -> np.ndarray:
    """One int64 key from several code arrays (-1 anywhere: no key, -1)."""
    key = np.zeros(len(parts[0]), dtype=np.int64)
    missing = np.zeros(len(parts[0]), dtype=bool)
    for part in parts:
        part = part.astype(np.int64)
        missing |= part < 0
        width = int(part.max(initial=0)) + 1
        if key.max(initial=0) > (2**62) // max(width, 1):  # re-number before the product overflows
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
        key = key * width + np.maximum(part, 0)
    key[missing] = -1
    return key


def _derived(column: Column, fn: Callable[[str], str]) -> np.ndarray:
    """Codes of `fn(value)` for every row ('' gives -1), computed once per distinct value."""
    index: dict[str, int] = {}
    mapped = np.array([index.setdefault(v, len(index)) if v else -1 for v in map(fn, column.values)] + [-1],
                      dtype=np.int64)
    return mapped[column.codes]  # code -1 picks the trailing -1


def _multi(values: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) rows for a many-valued field, keys factorised."""
    index: dict[str, int] = {}
    rows, keys = [], []
    for i, texts in enumerate(values):
        for text in texts:
            rows.append(i)
            keys.append(index.setdefault(text, len(index)))
    return np.array(rows, dtype=np.int64), np.array(keys, dtype=np.int64)


def _handle_rows(table: RecordTable, fn: Callable[[str], str]) -> tuple[np.ndarray, np.ndarray]:
    index: dict[str, int] = {}
    local = np.array([index.setdefault(k, len(index)) if k else -1 for k in map(fn, table.handles.values)] + [-1],
                     dtype=np.int64)
    codes = local[table.handles.codes]  # (rows, slots); code -1 picks the trailing -1
    rows, slots = np.nonzero(codes >= 0)
    return rows.astype(np.int64), codes[rows, slots]


def key_rows(table: RecordTable) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every blocking key as (row, key) arrays, by key name."""
    n = len(table)
    every = np.arange(n, dtype=np.int64)
    first_sdx, last_sdx = _derived(table.first, soundex), _derived(table.last, soundex)
    dob = table.dob.codes

    def single(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = key >= 0
        return every[keep], key[keep]

    keys = {
        "name_dob": single(combine(first_sdx, last_sdx, dob)),
        "surname_dob": single(combine(last_sdx, dob)),
        "given_dob": single(combine(first_sdx, dob)),
        "handle": _handle_rows(table, lambda h: h),
        "handle_head": _handle_rows(table, lambda h: h[:6] if len(h) >= 6 else ""),
        "handle_tail": _handle_rows(table, lambda h: h[-6:] if len(h) >= 6 else ""),
        "email": _multi(table.emails),
        "email_local": _multi([[e.split("@", 1)[0] for e in es if len(e.split("@", 1)[0]) >= 4]
                               for es in table.emails]),
        "phone": _multi(table.phones),
        "phone_suffix": _multi([[p[-7:] for p in ps if len(p) >= 9] for ps in table.phones]),
        "device": _multi(table.devices),
        "provider": _multi([[f"{table.provider[i]}|id|{table.esp_id[i]}"] * bool(table.esp_id[i])
                            + [f"{table.provider[i]}|sn|{s}" for s in table.screen_names[i]]
                            for i in range(n)]),
        "national_id": single(table.national_id.codes.astype(np.int64)),
        "postcode_surname": single(combine(table.postcode.codes, last_sdx)),
        "address_surname": single(combine(table.address.codes, last_sdx)),
    }
    return {name: rows for name, rows in keys.items() if len(rows[0])}


# -- pairs ---------------------------------------------------------------------------------------

def pairs_in_groups(rows: np.ndarray, keys: np.ndarray, max_block: int) -> tuple[np.ndarray, np.ndarray, int]:
    """All pairs (left < right) of distinct rows sharing a key, groups over `max_block` skipped.

    Returns (left, right, skipped group count). One sort, then one array operation per group size.
    """
    if len(rows) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, 0
    # One row per (key, row), sorted by key: a record with a key twice (two handles alike) counts once.
    width = int(rows.max()) + 1
    packed = np.unique(keys * width + rows)
    keys, rows = packed // width, packed % width
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    skipped = int(np.count_nonzero(sizes > max_block))
    lefts, rights = [], []
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block)]):
        group_starts = starts[sizes == size]
        members = rows[group_starts[:, None] + np.arange(size)]
        iu, ju = np.triu_indices(int(size), k=1)
        a, b = members[:, iu].ravel(), members[:, ju].ravel()
        lefts.append(np.minimum(a, b))
        rights.append(np.maximum(a, b))
    if not lefts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, skipped
    return np.concatenate(lefts), np.concatenate(rights), skipped


def window_pairs(table: RecordTable, limits: BlockingLimits) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pairs that used one rare address, and the subset that used it within the time window.

    An address used by more than `ip_max_accounts` records is skipped (counted): CGNAT, VPN exits
    and public Wi-Fi join strangers. Returns (any-time codes, window left, window right, skipped).
    """
    n = len(table)
    index: dict[str, int] = {}
    rows, ips, times = [], [], []
    for i, uses in enumerate(table.ips):
        for ip, at in uses:
            rows.append(i)
            ips.append(index.setdefault(ip, len(index)))
            times.append(at)
    empty = np.zeros(0, dtype=np.int64)
    if not rows:
        return empty, empty, empty, 0
    row_a, ip_a, t_a = np.array(rows, dtype=np.int64), np.array(ips, dtype=np.int64), np.array(times, dtype=float)
    left, right, skipped = pairs_in_groups(row_a, ip_a, limits.ip_max_accounts)
    any_time = np.unique(left * n + right)
    # Keep only uses of addresses that were not skipped, then slide over them in time order.
    distinct = np.unique(ip_a * n + row_a) // n
    counts = np.bincount(distinct, minlength=len(index))
    keep = counts[ip_a] <= limits.ip_max_accounts
    row_a, ip_a, t_a = row_a[keep], ip_a[keep], t_a[keep]
    order = np.lexsort((t_a, ip_a))
    row_a, ip_a, t_a = row_a[order], ip_a[order], t_a[order]
    lefts, rights = [], []
    for step in range(1, len(row_a)):
        same = (ip_a[step:] == ip_a[:-step]) & (t_a[step:] - t_a[:-step] <= limits.ip_window_s)
        if not same.any():
            break
        a, b = row_a[:-step][same], row_a[step:][same]
        differ = a != b
        lefts.append(np.minimum(a, b)[differ])
        rights.append(np.maximum(a, b)[differ])
    if not lefts:
        return any_time, empty, empty, skipped
    return any_time, np.concatenate(lefts), np.concatenate(rights), skipped


def block(table: RecordTable, limits: BlockingLimits) -> Blocking:
    """Candidate pairs from every key, deduplicated, and the shared-value pair sets."""
    n = len(table)
    lefts, rights = [], []
    result = Blocking(n, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    for name, (rows, keys) in key_rows(table).items():
        cap = limits.device_max_accounts if name == "device" else limits.max_block
        left, right, skipped = pairs_in_groups(rows, keys, cap)
        result.pairs_by_key[name] = len(left)
        result.skipped_blocks[name] = skipped
        lefts.append(left)
        rights.append(right)
        if name in SHARED_FIELDS:
            result.shared[name] = np.unique(left * n + right)
    if table.associated:
        tied = np.array(table.associated, dtype=np.int64)
        result.pairs_by_key["associated"] = len(tied)
        lefts.append(tied[:, 0])
        rights.append(tied[:, 1])
        result.shared["provider"] = np.union1d(result.shared.get("provider", np.zeros(0, np.int64)),
                                               tied[:, 0] * n + tied[:, 1])
    any_time, w_left, w_right, skipped = window_pairs(table, limits)
    result.pairs_by_key["ip_window"] = len(w_left)
    result.skipped_blocks["ip"] = skipped
    result.shared["ip_window"] = np.unique(w_left * n + w_right)
    result.shared["ip_any"] = any_time
    lefts.append(w_left)
    rights.append(w_right)
    codes = np.unique(np.concatenate(lefts) * n + np.concatenate(rights)) if lefts else np.zeros(0, np.int64)
    result.codes = codes
    result.left, result.right = codes // max(n, 1), codes % max(n, 1)
    return result

