"""How the communities of one run became those of a later run: grew, shrank, merged, split, appeared.

Communities are matched by their members (account keys), never by number: numbers are per run.
For an earlier community A and a later B:

- A *flows into* B when at least `share` (default half) of A's members are in B;
- B *draws from* A when at least `share` of B's members were in A;
- J(A, B) is the Jaccard index of their members, |A ∩ B| / |A ∪ B|.

Then, in this order:

1. MERGED: a B that two or more As flow into (before: those As).
2. SPLIT: an A that two or more Bs draw from (after: those Bs).
3. Among the pairs left that are *matched* (J ≥ `threshold`, or A flows into B, or B draws from
   A), each A and each B continues at most once, best Jaccard first: GREW, SHRANK, or STABLE
   (same size) from A to B.
4. A later community in none of these APPEARED; an earlier one VANISHED.

So a network that doubled is GREW (it flowed into the bigger one), two that joined are MERGED, one
that broke into groups is SPLIT, and a group of accounts never grouped before APPEARED.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set

from queries.community_results import CommunityChange
from queries.context import GraphContext
from queries.errors import BadInput, NotFound

Members = Mapping[str, Set[str]]

#: Kinds in the order `compare` lists them.
KINDS = ("MERGED", "SPLIT", "GREW", "SHRANK", "STABLE", "APPEARED", "VANISHED")


def compare(before: Members, after: Members, threshold: float = 0.3, share: float = 0.5) -> list[CommunityChange]:
    """Changes from `before` to `after` (community id -> member keys), as the module docstring says."""
    if not 0 < threshold <= 1 or not 0.5 <= share <= 1:
        raise BadInput("threshold must be in (0, 1] and share in [0.5, 1]")
    owner = {member: a for a, members in before.items() for member in members}
    common: dict[tuple[str, str], int] = {}
    for b, members in after.items():
        for a, n in Counter(owner[m] for m in members if m in owner).items():
            common[a, b] = n
    flows_into: dict[str, list[str]] = {}  # B -> As flowing into it
    draws_from: dict[str, list[str]] = {}  # A -> Bs drawing from it
    for (a, b), n in common.items():
        if n >= share * len(before[a]):
            flows_into.setdefault(b, []).append(a)
        if n >= share * len(after[b]):
            draws_from.setdefault(a, []).append(b)

    def change(kind: str, olds: list[str], news: list[str]) -> CommunityChange:
        old = set().union(*(before[a] for a in olds))
        new = set().union(*(after[b] for b in news))
        union = len(old | new)
        return CommunityChange(kind=kind, before=sorted(olds), after=sorted(news), size_before=len(old),
                               size_after=len(new), jaccard=round(len(old & new) / union, 4) if union else 0.0,
                               joined=len(new - old), left=len(old - new))

    changes: list[CommunityChange] = []
    used_a: set[str] = set()
    used_b: set[str] = set()
    for b, olds in sorted(flows_into.items()):
        if len(olds) >= 2:
            changes.append(change("MERGED", olds, [b]))
            used_a.update(olds)
            used_b.add(b)
    for a, news in sorted(draws_from.items()):
        news = [b for b in news if b not in used_b]
        if len(news) >= 2 and a not in used_a:
            changes.append(change("SPLIT", [a], news))
            used_a.add(a)
            used_b.update(news)
    matched = []
    for (a, b), n in common.items():
        jaccard = n / (len(before[a]) + len(after[b]) - n)
        if jaccard >= threshold or a in flows_into.get(b, ()) or b in draws_from.get(a, ()):
            matched.append((-jaccard, a, b))
    for _, a, b in sorted(matched):
        if a in used_a or b in used_b:
            continue
        grew = len(after[b]) - len(before[a])
        changes.append(change("GREW" if grew > 0 else "SHRANK" if grew < 0 else "STABLE", [a], [b]))
        used_a.add(a)
        used_b.add(b)
    changes += [change("APPEARED", [], [b]) for b in sorted(after) if b not in used_b]
    changes += [change("VANISHED", [a], []) for a in sorted(before) if a not in used_a]
    changes.sort(key=lambda c: (KINDS.index(c.kind), -max(c.size_after, c.size_before), c.after, c.before))
    return changes


_MEMBERS = """
MATCH (r:CommunityRun {key: $run})
OPTIONAL MATCH (c:Community {run: $run})<-[:MEMBER_OF]-(a)
WITH r, c, collect(a.key) AS members
RETURN r.key AS run, c.key AS community, members
"""


def run_members(ctx: GraphContext, run: str) -> dict[str, set[str]]:
    rows = ctx.read(_MEMBERS, run=run)
    if not rows:
        raise NotFound(f"no community run {run!r}")
    return {row["community"]: set(row["members"]) for row in rows if row["community"] is not None}


def compare_runs(ctx: GraphContext, before: str, after: str, threshold: float = 0.3,
                 share: float = 0.5) -> list[CommunityChange]:
    """What changed between two stored runs (`before` the earlier one)."""
    return compare(run_members(ctx, before), run_members(ctx, after), threshold, share)
