"""Fellegi-Sunter match weights: m and u probabilities per comparison level, and the EM that finds m.

For a level l of comparison k, m = P(level l | the pair is one person) and u = P(level l | it is
not); the level's weight is log2(m/u) bits, and a pair's match weight is the prior log-odds plus
the weights of its levels (nothing for a comparison with nothing to compare). The match
probability is 2^w / (1 + 2^w).

- u is measured on random pairs of records (nearly all random pairs are two people), so it is the
  chance of a coincidence across the whole data set, not among the candidates blocking chose.
- m and the share of matches among candidates are estimated by expectation-maximisation over the
  candidate pairs (Fellegi-Sunter/Winkler), each distinct pattern of levels counted once with its
  multiplicity, so EM costs the same for 10^4 or 10^8 pairs. EM runs on the descriptive
  comparisons (names, birth date, address...), whose agreements are independent enough given
  the class for EM's model to hold; the shared identifiers and addresses are not: a family
  shares a tablet and a surname, a network shares an address, and with them inside, EM learns
  that a household is one person. Their m comes afterwards from the pairs EM judged matches
  (one M-step with the posteriors fixed). EM may also be switched off: m is then `default_m`.
- The strong rules (same email, phone, device, provider tie) are set, not estimated: a rule's
  setting is the log-odds (bits) that the shared identifier gives on its own, whatever the size
  of the data; its weight is that minus the prior's log-odds. (A coincidental share grows rarer
  as the data grows just as the prior shrinks, so "on its own" is the figure that stays put.)
  Their m and u are still measured (shown with the run) but scoring uses the settings.
- The prior is the expected number of matches among the candidates over all pairs of records,
  under the fitted model (`estimate_prior`).
- No level's m goes below `M_FLOOR`: EM on clean data would make a different name impossible
  for one person (minus 20 bits and more), and people do use other names on other accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Starting (or, without EM, fixed) m: the top level likely, the bottom unlikely, between spread.
M_TOP, M_BOTTOM = 0.9, 0.02
SMOOTHING = 1e-4  # added to every level's expected count: no level is ever impossible
M_FLOOR = 1e-3
#: Fewer training pairs than this and EM trains on every candidate instead.
MIN_TRAINING = 50


def default_m(levels: int) -> np.ndarray:
    if levels == 2:
        return np.array([1 - M_TOP, M_TOP])
    middle = np.full(levels - 2, (1 - M_TOP - M_BOTTOM) / (levels - 2))
    return np.concatenate([[M_BOTTOM], middle, [M_TOP]])


@dataclass(slots=True)
class Model:
    """What a run learnt; kept with the run so that every score can be explained later."""

    names: list[str]
    level_counts: list[int]
    m: list[np.ndarray]
    u: list[np.ndarray]
    rule_weights: dict[str, float]  # agreement weight (bits) of each strong rule, prior removed
    share: float  # matches among the candidates, from EM
    prior: float  # P(match) for a random pair of records
    iterations: int = 0
    converged: bool = False
    history: list[float] = field(default_factory=list)  # log-likelihood before each EM step

    def weight_tables(self) -> list[np.ndarray]:
        """log2(m/u) per level, strong rules' agreement replaced by their setting (disagreement: 0)."""
        tables = []
        for k, name in enumerate(self.names):
            if name in self.rule_weights:
                table = np.zeros(self.level_counts[k])
                table[-1] = self.rule_weights[name]
            else:
                table = np.log2(self.m[k] / self.u[k])
            tables.append(table)
        return tables

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1 - self.prior))

    def weights(self, gamma: np.ndarray) -> np.ndarray:
        """Match weight (bits) of every row of a level matrix (rows: pairs, columns: `names`)."""
        total = np.full(len(gamma), self.prior_weight, dtype=np.float64)
        for k, table in enumerate(self.weight_tables()):
            col = gamma[:, k]
            known = col >= 0
            total[known] += table[col[known]]
        return total

    def as_dict(self) -> dict[str, object]:
        tables = self.weight_tables()
        return {
            "prior": self.prior, "prior_weight": round(self.prior_weight, 3), "share": self.share,
            "iterations": self.iterations, "converged": self.converged,
            "comparisons": {name: {"m": [round(float(x), 6) for x in self.m[k]],
                                   "u": [round(float(x), 8) for x in self.u[k]],
                                   "weight": [round(float(x), 3) for x in tables[k]],
                                   "rule": name in self.rule_weights}
                            for k, name in enumerate(self.names)},
        }


def probability(weight: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp2(-np.asarray(weight, dtype=np.float64)))


def weight_of(p: float) -> float:
    """The match weight whose probability is `p` (thresholds are given as probabilities)."""
    return math.log2(p / (1 - p))


def level_frequencies(gamma: np.ndarray, level_counts: list[int]) -> list[np.ndarray]:
    """u: each level's share among the non-null values of its column, add-one smoothed."""
    out = []
    for k, count in enumerate(level_counts):
        col = gamma[:, k]
        col = col[col >= 0]
        freq = np.bincount(col, minlength=count).astype(float) + 1.0
        out.append(freq / freq.sum())
    return out


def patterns(gamma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of the level matrix, how often each occurs, and each input row's pattern."""
    if len(gamma) == 0:
        return gamma, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows, inverse, counts = np.unique(gamma, axis=0, return_inverse=True, return_counts=True)
    return rows, counts, inverse.reshape(-1)


def _log_classes(rows: np.ndarray, m: list[np.ndarray], u: list[np.ndarray],
                 share: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(levels, match) and log P(levels, non-match) of each row."""
    log_m = np.full(len(rows), math.log(share))
    log_u = np.full(len(rows), math.log1p(-share))
    for k in range(rows.shape[1]):
        col = rows[:, k]
        ok = col >= 0
        log_m[ok] += np.log(m[k][col[ok]])
        log_u[ok] += np.log(u[k][col[ok]])
    return log_m, log_u


def posteriors(rows: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], share: float) -> np.ndarray:
    """P(match | levels) of each row under the two-class model (the E-step)."""
    log_m, log_u = _log_classes(rows, m, u, share)
    return 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))


def _floored(p: np.ndarray) -> np.ndarray:
    p = np.maximum(p / p.sum(), M_FLOOR)
    return p / p.sum()


@dataclass(slots=True)
class EmResult:
    m: list[np.ndarray]
    u: list[np.ndarray]
    share: float
    iterations: int
    converged: bool
    history: list[float]  # log-likelihood before each step: never decreasing


def expectation_maximisation(gamma: np.ndarray, level_counts: list[int], m0: list[np.ndarray],
                             u0: list[np.ndarray], share0: float = 0.1, max_iterations: int = 500,
                             tolerance: float = 1e-7) -> EmResult:
    """Fellegi-Sunter EM over the level matrix (rows: pairs; -1: nothing to compare).

    Both m and u are re-estimated over the candidates (u here describes non-matches among the
    candidates, which blocking made alike; scoring uses the u of random pairs instead). Stops
    when an iteration improves the log-likelihood by less than `tolerance` of its size (or 0.001).
    """
    rows, counts, _ = patterns(gamma)
    m = [x.copy() for x in m0]
    u = [x.copy() for x in u0]
    share = share0
    history: list[float] = []
    if len(rows) == 0:
        return EmResult(m, u, share, 0, True, history)
    known = rows >= 0
    previous = -math.inf
    for iteration in range(1, max_iterations + 1):
        log_m, log_u = _log_classes(rows, m, u, share)
        likelihood = float((counts * np.logaddexp(log_m, log_u)).sum())
        if likelihood - previous < max(tolerance * abs(likelihood), 1e-3):
            return EmResult(m, u, share, iteration - 1, True, history)
        previous = likelihood
        history.append(likelihood)
        post = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        matched, unmatched = counts * post, counts * (1 - post)
        share = min(max(float(matched.sum() / counts.sum()), 1e-9), 1 - 1e-9)
        for k, levels in enumerate(level_counts):
            col, ok = rows[:, k], known[:, k]
            m[k] = _floored(np.bincount(col[ok], weights=matched[ok], minlength=levels) + SMOOTHING)
            uk = np.bincount(col[ok], weights=unmatched[ok], minlength=levels) + SMOOTHING
            u[k] = uk / uk.sum()
    return EmResult(m, u, share, max_iterations, False, history)


def _any_agree(gamma: np.ndarray, cols: list[int]) -> np.ndarray:
    mask = np.zeros(len(gamma), dtype=bool)
    for k in cols:
        mask |= gamma[:, k] >= 1
    return mask


def estimate_prior(base: np.ndarray, shared_rules: np.ndarray, rule_bits: np.ndarray, total_pairs: int,
                   start: float = 1e-4, iterations: int = 50) -> float:
    """P(match) of a random pair: the expected matches among the candidates over all pairs.

    A fixed point: with the prior p, each candidate's probability follows from its weight (the
    strong rules' weights are their settings minus logit(p)), and p must equal their sum over all
    pairs. `base` is each candidate's weight without prior and rules, `shared_rules` a 0/1 matrix
    of the rules it meets and `rule_bits` their settings.
    """
    prior = start
    settings = shared_rules @ rule_bits if len(rule_bits) else np.zeros(len(base))
    met = shared_rules.sum(axis=1) if len(rule_bits) else np.zeros(len(base))
    for _ in range(iterations):
        bits = math.log2(prior / (1 - prior))
        weight = base + settings - met * bits + bits
        new = min(max(float(probability(weight).sum()) / max(total_pairs, 1), 1e-12), 0.5)
        if abs(new - prior) <= 1e-6 * prior:
            return new
        prior = new
    return prior


def fit(names: list[str], level_counts: list[int], candidates: np.ndarray, random_pairs: np.ndarray,
        total_pairs: int, rule_weights: dict[str, float], descriptive: frozenset[str],
        selecting: frozenset[str], use_em: bool = True, max_iterations: int = 500) -> Model:
    """The model for one run: u from `random_pairs`, m by EM, the prior by `estimate_prior`.

    EM trains on the candidates that agree on any `selecting` comparison (a shared identifier or
    address: mostly one person, some households and networks, which the names then tell apart),
    using the `descriptive` columns only. Pairs blocked on a common name alone would swamp it with
    namesakes. Every other column's m is then read off the training pairs selected by the other
    `selecting` comparisons (never its own: pairs chosen for sharing a phone say nothing about how
    often one person's accounts share one), weighted by EM's posteriors.
    """
    u_random = level_frequencies(random_pairs, level_counts)
    m = [default_m(c) for c in level_counts]
    rules = {k: rule_weights[name] for k, name in enumerate(names) if name in rule_weights}
    em_cols = [k for k, name in enumerate(names) if name in descriptive]
    select_cols = [k for k, name in enumerate(names) if name in selecting]
    em = EmResult(m, u_random, 0.01, 0, False, [])
    if use_em and len(candidates) and em_cols:
        training = _any_agree(candidates, select_cols)
        if training.sum() < MIN_TRAINING:
            training = np.ones(len(candidates), dtype=bool)
        em = expectation_maximisation(candidates[training][:, em_cols], [level_counts[k] for k in em_cols],
                                      [m[k] for k in em_cols], [u_random[k].copy() for k in em_cols],
                                      max_iterations=max_iterations)
        for k in range(len(names)):
            if k in em_cols:
                m[k] = em.m[em_cols.index(k)]
                continue
            subset = _any_agree(candidates, [s for s in select_cols if s != k])
            subset = subset if subset.sum() >= MIN_TRAINING else training
            rows, _, inverse = patterns(candidates[subset][:, em_cols])
            post = posteriors(rows, em.m, em.u, em.share)[inverse]
            col = candidates[subset][:, k]
            ok = col >= 0
            m[k] = _floored(np.bincount(col[ok], weights=post[ok], minlength=level_counts[k]) + SMOOTHING)
    model = Model(names, level_counts, m, u_random, {}, em.share, 1e-4, em.iterations, em.converged, em.history)
    tables = model.weight_tables()
    base = np.zeros(len(candidates))
    for k, table in enumerate(tables):
        if k not in rules:
            col = candidates[:, k]
            base[col >= 0] += table[col[col >= 0]]
    rule_cols = sorted(rules)
    shared = np.stack([candidates[:, k] == level_counts[k] - 1 for k in rule_cols], axis=1).astype(float) \
        if rule_cols else np.zeros((len(candidates), 0))
    model.prior = estimate_prior(base, shared, np.array([rules[k] for k in rule_cols]), total_pairs)
    model.rule_weights = {names[k]: bits - model.prior_weight for k, bits in rules.items()}
    return model
