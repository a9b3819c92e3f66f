"""Clusters from links, and how close a clustering is to the truth (pairwise precision, recall, F1).

An identity is a connected component of the accepted links. Components are found by minimum-label
propagation with pointer jumping over numpy arrays: each round every linked record takes the
smallest label at either end of its links, then labels point to their label's label; it stops
when nothing changes, in O(log n) rounds for the shallow components that resolution makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component label of each of `n` records: the smallest record index in its component.

    >>> components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 2, 3, 3]
    """
    labels = np.arange(n, dtype=np.int64)
    if len(left) == 0:
        return labels
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    while True:
        low = np.minimum(labels[left], labels[right])
        new = labels.copy()
        np.minimum.at(new, left, low)
        np.minimum.at(new, right, low)
        while True:  # pointer jumping: follow labels to their root
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, labels):
            return labels
        labels = new


@dataclass(frozen=True, slots=True)
class PairwiseScores:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def _pairs(counts: np.ndarray) -> int:
    counts = counts.astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def pairwise_scores(predicted: np.ndarray, truth: np.ndarray) -> PairwiseScores:
    """Pairwise precision, recall and F1 of a clustering against the true one (labels per record).

    A pair of records counts as predicted when both are in one predicted cluster, as true when
    both belong to one true cluster. Counted from cluster sizes, not by listing pairs.

    >>> pairwise_scores(np.array([0, 0, 0, 3]), np.array([0, 0, 2, 2])).f1
    0.4
    """
    predicted, truth = np.asarray(predicted), np.asarray(truth)
    _, predicted_codes = np.unique(predicted, return_inverse=True)
    _, truth_codes = np.unique(truth, return_inverse=True)
    both = predicted_codes.astype(np.int64) * (int(truth_codes.max(initial=0)) + 1) + truth_codes
    correct = _pairs(np.unique(both, return_counts=True)[1])
    predicted_pairs = _pairs(np.bincount(predicted_codes))
    true_pairs = _pairs(np.bincount(truth_codes))
    precision = correct / predicted_pairs if predicted_pairs else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(round(precision, 4), round(recall, 4), round(f1, 4), true_pairs, predicted_pairs, correct)
