"""Text made inert for spreadsheets: the defence against CSV/formula injection in exports.

Referral data is written by whoever made the account: a screen name `=cmd|' /C calc'!A0` is a
legitimate fact to keep in the graph (stored as written), but GraphML, GEXF, ANX and FtM files are
opened in Gephi, yEd, Analyst's Notebook and Aleph, whose tables export to CSV and Excel, where a
cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage return before one) runs as a
formula. Following OWASP's advice, such text is prefixed with an apostrophe, which spreadsheets
show as text and hide. Two exceptions keep ordinary identifiers intact: a plain number
(`+4477009001`, an E.164 phone key; `-12.5`), which no spreadsheet runs; and a handle such as
`@dark_prince` (screen names are written so), which is neutralised only when it holds what a
harmful formula needs, a call `(`, a DDE pipe `|` or a sheet reference `!`.

HTML and PDF exports escape markup instead (ui/exports/html.py, pdf.py); formulas mean nothing there.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from queries.results import Entity, GraphEdge
from ui.exports.model import ChartDocument, DrawnNode

#: What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_LEADS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9 .,]*\Z")
_FORMULA_PARTS = frozenset("(|!")


def runs_as_formula(text: str, strict: bool = False) -> bool:
    """Would a spreadsheet run this cell? (The rule `inert` applies; see the module docstring.)

    `strict` drops the `@handle` exception, for text that other text is appended to (a chart's
    name becomes "NAME (version N)", whose parenthesis would complete a call).
    """
    if not text or text[0] not in FORMULA_LEADS or _PLAIN_NUMBER.match(text):
        return False
    return strict or text[0] != "@" or any(ch in _FORMULA_PARTS for ch in text)


def inert(text: str, strict: bool = False) -> str:
    """`text`, prefixed with `'` when a spreadsheet would run it as a formula.

    >>> inert("=cmd|' /C calc'!A0"), inert("+15555550123"), inert("@alice"), inert("@SUM(1+1)")
    ("'=cmd|' /C calc'!A0", '+15555550123', '@alice', "'@SUM(1+1)")
    """
    return "'" + text if runs_as_formula(text, strict) else text


def inert_value(value: Any) -> Any:
    """`inert` applied to text, and to the text inside lists and mappings; other values as they are."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, list | tuple):
        return [inert_value(v) for v in value]
    if isinstance(value, dict):
        return {k: inert_value(v) for k, v in value.items()}
    return value


def _entity(e: Entity) -> Entity:
    # The id stays: it is ours (`Kind:key`, never a formula) and joins nodes to links.
    return dataclasses.replace(e, key=inert(e.key), label=inert(e.label), properties=inert_value(e.properties),
                               sources=inert_value(e.sources))


def _edge(edge: GraphEdge) -> GraphEdge:
    return dataclasses.replace(edge, properties=inert_value(edge.properties), sources=inert_value(edge.sources))


def inert_document(doc: ChartDocument) -> ChartDocument:
    """A copy of `doc` whose every text a person or provider wrote is inert; ids unchanged."""
    c = doc.chart  # a chart's id starts with its case number, which a person typed
    chart = dataclasses.replace(c, id=inert(c.id, True), series=inert(c.series, True), name=inert(c.name, True),
                                case=inert(c.case, True))
    nodes = [DrawnNode(_entity(n.entity), n.x, n.y, n.pinned) for n in doc.nodes]
    return dataclasses.replace(doc, chart=chart, nodes=nodes, edges=[_edge(e) for e in doc.edges],
                               reports={k: _entity(r) for k, r in doc.reports.items()},
                               exported_by=inert(doc.exported_by))
