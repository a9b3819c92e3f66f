"""The raw material of links: who shares what, pulled from Neo4j one query per kind of evidence.

Each query returns one row per shared thing (an address with its uses, a file with the accounts
of the reports that include it, a phone, a mailbox, a report naming several accounts, a provider's
tie) and never one row per pair, so a projection of the whole graph is seven streamed queries
whatever the number of pairs; pairs are made in Python (queries/links.py).

Every query has two scopes: the whole graph (`accounts` None) or the identifiers of some accounts
(`links(id)`, `sharedIdentifiers(ids)`), which starts from those accounts' own relationships and
costs what their neighbourhood costs. Supernodes (`supernode = true`) are never read beyond their
key; identifiers with more than `max_holders` accounts come back without their holders.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from loaders.model import Label, Rel, cypher
from queries.context import GraphContext
from queries.supernodes import skipped_map

_NOT_HUB = "coalesce(x.supernode, false) = false"
_TIMES = "[t IN coalesce(r.times, []) | t.epochSeconds]"

# -- addresses and devices: every use, for the co-use window -------------------------------------
_USED_ALL = "MATCH (x:{label})"
_USED_SCOPED = "UNWIND $accounts AS k MATCH (:Account {key: k})-[:{rel}]->(x:{label}) WITH DISTINCT x"
_USED_BODY = """
WITH x, COUNT { (x)<-[:{rel}]-() } AS holders
WHERE holders >= 2 AND """ + _NOT_HUB + """
CALL (x, holders) {
  WITH x WHERE holders <= $max
  MATCH (a:Account)-[r:{rel}]->(x)
  RETURN collect([a.key, r.uses, """ + _TIMES + """, r.sources]) AS uses
}
RETURN x.key AS key, holders, uses"""

# -- files: the accounts named in the reports that include them (and any that SHARED them) -------
_FILES_ALL = "MATCH (x:File)"
_FILES_SCOPED = """UNWIND $accounts AS k MATCH (acc:Account {key: k})
CALL (acc) {
  MATCH (acc)<-[:REPORTS]-(:Report)-[:INCLUDES]->(x:File) RETURN x
  UNION
  MATCH (acc)-[:SHARED]->(x:File) RETURN x
}
WITH DISTINCT x"""
_FILES_BODY = """
WITH x WHERE """ + _NOT_HUB + """
CALL (x) {
  MATCH (x)<-[:INCLUDES]-(r:Report)-[:REPORTS]->(a:Account) RETURN a.key AS account, r.key AS report
  UNION
  MATCH (x)<-[s:SHARED]-(a:Account) UNWIND s.sources AS report RETURN a.key AS account, report
}
WITH x, collect([account, report]) AS held, count(DISTINCT account) AS holders
WHERE holders >= 2
RETURN x.key AS key, holders, CASE WHEN holders <= $max THEN held ELSE [] END AS held"""

# -- phones --------------------------------------------------------------------------------------
_PHONES_ALL = "MATCH (x:Phone)"
_PHONES_SCOPED = "UNWIND $accounts AS k MATCH (:Account {key: k})-[:HAS_PHONE]->(x:Phone) WITH DISTINCT x"
_PHONES_BODY = """
WITH x, COUNT { (x)<-[:HAS_PHONE]-(:Account) } AS holders
WHERE holders >= 2
CALL (x, holders) {
  WITH x WHERE holders <= $max
  MATCH (a:Account)-[h:HAS_PHONE]->(x)
  RETURN collect([a.key, h.sources]) AS held
}
RETURN x.key AS key, holders, held"""

# -- emails, grouped by mailbox (gmail's dots and +tags land in one) ------------------------------
_EMAILS_ALL = """
MATCH (e:Email)<-[h:HAS_EMAIL]-(a:Account)
WITH coalesce(e.canonical, e.key) AS mailbox, collect([a.key, e.key, h.sources]) AS held"""
_EMAILS_SCOPED = """
UNWIND $accounts AS k
MATCH (:Account {key: k})-[:HAS_EMAIL]->(mine:Email)
WITH DISTINCT coalesce(mine.canonical, mine.key) AS mailbox
MATCH (e:Email {canonical: mailbox})<-[h:HAS_EMAIL]-(a:Account)
WITH mailbox, collect([a.key, e.key, h.sources]) AS held"""

# -- reports naming several accounts --------------------------------------------------------------
_CO_ALL = "MATCH (x:Report)"
_CO_SCOPED = "UNWIND $accounts AS k MATCH (:Account {key: k})<-[:REPORTS]-(x:Report) WITH DISTINCT x"
_CO_BODY = """
WITH x, COUNT { (x)-[:REPORTS]->(:Account) } AS holders
WHERE holders >= 2
CALL (x, holders) {
  WITH x WHERE holders <= $max
  MATCH (x)-[:REPORTS]->(a:Account)
  RETURN collect(a.key) AS named
}
RETURN x.key AS key, holders, named"""

# -- the provider's own ties (associatedAccount) ---------------------------------------------------
_TIES_ALL = "MATCH (a:Account)-[t:ASSOCIATED_WITH]->(b:Account) RETURN a.key AS a, b.key AS b, t.sources AS sources"
_TIES_SCOPED = """
UNWIND $accounts AS k
MATCH (:Account {key: k})-[t:ASSOCIATED_WITH]-(:Account)
WITH DISTINCT t
RETURN startNode(t).key AS a, endNode(t).key AS b, t.sources AS sources"""

# -- the supernodes some accounts use: what their links leave out -----------------------------------
_HUBS_OF = """
UNWIND $accounts AS k
MATCH (acc:Account {key: k})
CALL (acc) {
  MATCH (acc)-[:USED_IP|USED_DEVICE|SHARED]->(x) WHERE x.supernode = true RETURN x
  UNION
  MATCH (acc)<-[:REPORTS]-(:Report)-[:INCLUDES]->(x:File) WHERE x.supernode = true RETURN x
}
WITH DISTINCT x
RETURN """ + skipped_map("x") + " AS hub"


@dataclass(frozen=True, slots=True)
class Scope:
    """Whole graph (`accounts` None) or the identifiers of these account keys."""

    accounts: list[str] | None = None

    def pick(self, whole: str, scoped: str) -> str:
        return whole if self.accounts is None else scoped

    def params(self) -> dict[str, Any]:
        return {} if self.accounts is None else {"accounts": self.accounts}


def used(ctx: GraphContext, scope: Scope, label: Label, rel: Rel, max_holders: int) -> Iterator[dict[str, Any]]:
    """{key, holders, uses: [[account, uses stamps, times (epoch s), sources]]} per shared address/device."""
    query = cypher(scope.pick(_USED_ALL, _USED_SCOPED) + _USED_BODY, label=label, rel=rel)
    return ctx.stream(query, max=max_holders, **scope.params())


def files(ctx: GraphContext, scope: Scope, max_holders: int) -> Iterator[dict[str, Any]]:
    """{key, holders, held: [[account, report]]} per file named with two or more accounts."""
    return ctx.stream(scope.pick(_FILES_ALL, _FILES_SCOPED) + _FILES_BODY, max=max_holders, **scope.params())


def phones(ctx: GraphContext, scope: Scope, max_holders: int) -> Iterator[dict[str, Any]]:
    """{key, holders, held: [[account, sources]]} per phone of two or more accounts."""
    return ctx.stream(scope.pick(_PHONES_ALL, _PHONES_SCOPED) + _PHONES_BODY, max=max_holders, **scope.params())


def mailboxes(ctx: GraphContext, scope: Scope) -> Iterator[dict[str, Any]]:
    """{mailbox, held: [[account, email key, sources]]} per mailbox of two or more ties."""
    query = scope.pick(_EMAILS_ALL, _EMAILS_SCOPED) + " WHERE size(held) >= 2 RETURN mailbox, held"
    return ctx.stream(query, **scope.params())


def co_reports(ctx: GraphContext, scope: Scope, max_holders: int) -> Iterator[dict[str, Any]]:
    """{key, holders, named: [account]} per report naming two or more accounts."""
    return ctx.stream(scope.pick(_CO_ALL, _CO_SCOPED) + _CO_BODY, max=max_holders, **scope.params())


def provider_ties(ctx: GraphContext, scope: Scope) -> Iterator[dict[str, Any]]:
    """{a, b, sources} per ASSOCIATED_WITH relationship."""
    return ctx.stream(scope.pick(_TIES_ALL, _TIES_SCOPED), **scope.params())


def hubs_of(ctx: GraphContext, accounts: list[str]) -> list[dict[str, Any]]:
    """skipped_map rows of the supernodes these accounts use or are reported with."""
    return [row["hub"] for row in ctx.read(_HUBS_OF, accounts=accounts)]
