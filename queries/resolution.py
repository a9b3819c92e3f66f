"""Entity resolution: which accounts and reported persons are one human, each answer with its evidence.

`resolve(table, params)` is the whole matching, in memory and without the graph, so the CLI, the
API, the benchmark and a notebook run the same code:

1. blocking (`resolution_blocking`): candidate pairs from phonetic, n-gram and identifier keys;
2. comparison (`resolution_comparison`): a level per field comparison, vectorised per field;
3. weights (`resolution_weights`): u from random pairs, m by EM, strong-rule weights from settings;
4. every candidate's match weight; pairs over `threshold` are proposals, over `auto_accept` they
   may be accepted without review when the user allows it.

Writing proposals to the graph, respecting judgements and recording runs is `resolution_runs`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from queries.resolution_blocking import Blocking, BlockingLimits, block
from queries.resolution_comparison import BY_NAME, COMPARISONS, DESCRIPTIVE, SELECTING, Compared, active, compare
from queries.resolution_records import RecordTable
from queries.resolution_weights import Model, fit, probability, weight_of

METHOD = "fellegi-sunter"


@dataclass(frozen=True, slots=True)
class ResolutionParams:
    """Every knob of a run (defaults: `graph_service/settings.py`, documented in docs/settings.md)."""

    threshold: float = 0.9
    auto_accept: float = 0.999
    allow_auto_accept: bool = False
    max_block: int = 100
    device_max_accounts: int = 10
    ip_max_accounts: int = 20
    ip_window_s: float = 3600.0
    weight_email: float = 8.0
    weight_phone: float = 7.0
    weight_device: float = 5.0
    weight_provider: float = 7.0
    use_em: bool = True
    u_sample: int = 300_000
    seed: int = 0
    workers: int = 1

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ResolutionParams:
        values = {name: getattr(settings, f"resolution_{name}") for name in cls.__dataclass_fields__
                  if hasattr(settings, f"resolution_{name}")}
        return replace(cls(**values), **{k: v for k, v in overrides.items() if v is not None})

    @property
    def rule_weights(self) -> dict[str, float]:
        return {"email": self.weight_email, "phone": self.weight_phone, "device": self.weight_device,
                "provider": self.weight_provider}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(slots=True)
class Proposal:
    """One scored pair with the evidence for it (`a` < `b`, entity or row ids)."""

    a: str
    b: str
    weight: float
    score: float  # match probability
    method: str
    evidence: list[dict[str, Any]]
    auto: bool = False  # over the auto-accept threshold


@dataclass(slots=True)
class Resolution:
    table: RecordTable
    params: ResolutionParams
    blocking: Blocking
    compared: Compared
    names: list[str]
    model: Model
    weights: np.ndarray  # per candidate pair, in blocking order
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.table)

    def over(self, probability_threshold: float) -> np.ndarray:
        """Indices of the candidate pairs whose match probability reaches the threshold."""
        return np.flatnonzero(self.weights >= weight_of(probability_threshold))

    def links(self, probability_threshold: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        chosen = self.over(self.params.threshold if probability_threshold is None else probability_threshold)
        return self.blocking.left[chosen], self.blocking.right[chosen]

    def counts(self) -> dict[str, Any]:
        total = self.n * (self.n - 1) // 2
        return {
            "records": self.n, "comparisons": self.blocking.comparisons, "all_pairs": total,
            "comparison_share": round(self.blocking.comparisons / total, 6) if total else 0.0,
            "proposals": len(self.over(self.params.threshold)),
            "auto_accept": len(self.over(self.params.auto_accept)),
            "pairs_by_key": dict(self.blocking.pairs_by_key),
            "skipped_blocks": {k: v for k, v in self.blocking.skipped_blocks.items() if v},
        }

    def proposal(self, k: int) -> Proposal:
        """Candidate pair `k` as a proposal with its evidence: levels, similarities, weights, values."""
        i, j = int(self.blocking.left[k]), int(self.blocking.right[k])
        tables = self.model.weight_tables()
        evidence = []
        for c, name in enumerate(self.names):
            level = int(self.compared.levels[name][k])
            if level < 0:
                continue
            score = float(self.compared.scores[name][k])
            item: dict[str, Any] = {"comparison": name, "level": level, "label": BY_NAME[name].levels[level],
                    "similarity": None if np.isnan(score) else round(score, 4),
                    "weight": round(float(tables[c][level]), 3)}
            item.update(explain_values(self.table, name, i, j))
            evidence.append(item)
        evidence.sort(key=lambda e: -abs(e["weight"]))
        weight = float(self.weights[k])
        score = float(probability(weight))
        return Proposal(self.table.ids[i], self.table.ids[j], round(weight, 3), round(score, 6), METHOD, evidence,
                        auto=self.params.allow_auto_accept and score >= self.params.auto_accept)


def explain_values(table: RecordTable, name: str, i: int, j: int) -> dict[str, Any]:
    """The values compared on each side, and for shared identifiers the reports that name them."""
    def value_of(row: int) -> Any:
        if name == "name":
            return {"name": " ".join(p for p in (table.first.text(row), table.last.text(row)) if p),
                    "handles": table.handle_texts(row)}
        if name in ("dob", "address", "city", "postcode", "national_id"):
            column = table.dob if name == "dob" else getattr(table, name)
            return column.text(row)
        if name in ("email", "phone", "device"):
            return list(getattr(table, f"{name}s")[row])
        if name == "provider":
            return {"provider": table.provider[row], "id": table.esp_id[row]}
        return sorted({ip for ip, _ in table.ips[row]})[:10]

    a, b = value_of(i), value_of(j)
    out: dict[str, Any] = {"a": a, "b": b}
    if name in ("email", "phone", "device", "ip") and isinstance(a, list) and isinstance(b, list):
        shared = sorted(set(a) & set(b))
        out["shared"] = shared
        field_name = "ip" if name == "ip" else name
        out["sources"] = sorted({s for row in (i, j) for v in shared
                                 for s in table.sources[row].get(f"{field_name}:{v}", [])})[:50]
    elif name == "name":
        out["sources"] = sorted({s for row in (i, j) for s in table.sources[row].get("person", [])})[:50]
    return out


def resolve(table: RecordTable, params: ResolutionParams | None = None) -> Resolution:
    """Block, compare, fit the weights and score every candidate pair of `table`."""
    params = params or ResolutionParams()
    timings: dict[str, float] = {}
    began = time.perf_counter()
    limits = BlockingLimits(params.max_block, params.device_max_accounts, params.ip_max_accounts,
                            params.ip_window_s)
    blocking = block(table, limits)
    timings["blocking_s"] = time.perf_counter() - began
    began = time.perf_counter()
    compared = compare(table, blocking, blocking.left, blocking.right, params.workers)
    names = active(table, compared)
    timings["comparison_s"] = time.perf_counter() - began
    began = time.perf_counter()
    n = len(table)
    total = n * (n - 1) // 2
    rng = np.random.default_rng(params.seed)
    sample = min(params.u_sample, total)
    if sample:
        a = rng.integers(0, n, sample)
        b = rng.integers(0, n - 1, sample)
        b = b + (b >= a)
        left, right = np.minimum(a, b), np.maximum(a, b)
        random_levels = compare(table, blocking, left, right, params.workers).matrix(names)
    else:
        random_levels = np.zeros((0, len(names)), dtype=np.int8)
    level_counts = [len(BY_NAME[name].levels) for name in names]
    gamma = compared.matrix(names)
    model = fit(names, level_counts, gamma, random_levels, total, params.rule_weights, DESCRIPTIVE, SELECTING,
                params.use_em)
    weights = model.weights(gamma) if len(gamma) else np.zeros(0)
    timings["weights_s"] = time.perf_counter() - began
    return Resolution(table, params, blocking, compared, names, model, weights,
                      {k: round(v, 3) for k, v in timings.items()})


__all__ = ["COMPARISONS", "METHOD", "Proposal", "Resolution", "ResolutionParams", "resolve"]
