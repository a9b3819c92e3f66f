"""Find entities by what an investigator types: a handle, a name, an address, a hash.

Two stages. Candidates come from the `entity_search` full-text index (loaders/schema.py), asked
with the user's words as escaped literal terms plus fuzzy (`term~1`/`term~2`) and prefix
(`term*`) forms of their folded, de-separated and de-leeted variants, so that `j0hn_doe` reaches
`john.doe`; a text that parses as an email, phone number or IP address is also looked up by key.
The user's text is never Lucene syntax: every special character is escaped and operators are
lower-cased into plain words, so `") OR 1=1 //` or `*:*` are searched for as text.

Then candidates are re-ranked:

    score = 0.85 * similarity + 0.15 * lucene / max_lucene

where `lucene / max_lucene` is the candidate's index score relative to the best candidate (1.0
for a key found as an exact identifier) and `similarity` (0..1) is the best, over the entity's
names (key, screen and display names, name, email canonical form, hashes), of

    max(ratio(folded), 0.97 * ratio(squashed), 0.94 * ratio(unleeted),
        0.85 * partial_ratio(squashed), 0.85 * partial_ratio(unleeted))

with rapidfuzz's `ratio` (and `partial_ratio`, for the text as part of a longer name) of the query and the
name in three forms: folded (NFKC, accents stripped, case-folded), squashed (folded, only letters
and digits kept), unleeted (squashed, with one or two digits among letters read as letters:
0→o, 1→i, 3→e, 4→a, 5→s, 7→t, 8→b). The factors make an exact spelling outrank a separator
variant, which outranks a leetspeak variant, which outranks a longer name containing the text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from neo4j.exceptions import ClientError
from rapidfuzz import fuzz

from loaders.errors import InvalidIdentifier
from loaders.identifiers import normalise_email, normalise_ip, normalise_phone
from loaders.model import Label
from loaders.schema import SEARCH_INDEX
from queries.bounds import LIMIT, check_kinds, check_range
from queries.context import GraphContext
from queries.entities import fetch_nodes, node_map, to_entity
from queries.errors import BadInput
from queries.results import KINDS, Entity, SearchHit, entity_id

MAX_TEXT = 200
MAX_WORDS = 8
WEIGHT_SIMILARITY = 0.85
WEIGHT_LUCENE = 0.15
FORM_WEIGHTS = {"folded": 1.0, "squashed": 0.97, "unleeted": 0.94}
PARTIAL_WEIGHT = 0.85
FUZZY_TWO_EDITS = 8  # terms this long or longer are matched within two edits, shorter ones within one
NAME_PROPERTIES = ("screen_names", "display_names", "name", "canonical", "md5", "sha1", "sha256")

_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')
_NOT_ALNUM = re.compile(r"[\W_]+")
_LEET = str.maketrans("0134578", "oieastb")
_LONE_DIGITS = re.compile(r"(?<=[a-z])\d{1,2}(?=[a-z])|(?<=[a-z])\d\b|\b\d{1,2}(?=[a-z])")

_CANDIDATES = """
CALL db.index.fulltext.queryNodes($index, $lucene) YIELD node, score
WHERE any(l IN labels(node) WHERE l IN $kinds)
RETURN """ + node_map("node") + """ AS node, score
LIMIT $pool
"""


# -- text forms -----------------------------------------------------------------------------------

def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def squash(text: str) -> str:
    return _NOT_ALNUM.sub("", fold(text))


def _unleet_words(text: str) -> list[str]:
    spaced = _NOT_ALNUM.sub(" ", fold(text))
    return _LONE_DIGITS.sub(lambda m: m.group(0).translate(_LEET), spaced).split()


def unleet(text: str) -> str:
    """Digits standing alone among letters read as letters: `4l3x-5p3c1m4n` → `alexspecimen`.

    One or two digits between letters (`l33t`) or starting a word (`04kl3y`), or one ending a word
    after a letter, are read as letters; longer runs (`john1985`) stay digits: years and counters. Separators are
    removed after the digits are judged, so `4l3x-5p3c` reads `alexspec`.
    """
    return "".join(_unleet_words(text))


def forms(text: str) -> dict[str, str]:
    return {"folded": fold(text), "squashed": squash(text), "unleeted": unleet(text)}


def similarity(query: dict[str, str], name: str) -> float:
    """0..1: how well `name` matches the query's forms (see the module docstring)."""
    other = forms(name)
    best = 0.0
    for form, weight in FORM_WEIGHTS.items():
        if query[form] and other[form]:
            best = max(best, weight * fuzz.ratio(query[form], other[form]) / 100)
    for form in ("squashed", "unleeted"):
        # The text as part of a longer name ("syntheson" in "micah_syntheson"), never the reverse:
        # a short name ("Jesse") inside a long text is not a match for it.
        if query[form] and len(query[form]) <= len(other[form]):
            best = max(best, PARTIAL_WEIGHT * fuzz.partial_ratio(query[form], other[form]) / 100)
    return best


# -- the Lucene query -------------------------------------------------------------------------------

def lucene_escape(word: str) -> str:
    """A word as a literal Lucene term: specials escaped; AND/OR/NOT lower-cased out of operators."""
    return _LUCENE_SPECIAL.sub(r"\\\1", word.lower())


def _fuzzy(term: str) -> str:
    return f"{lucene_escape(term)}~{1 if len(term) < FUZZY_TWO_EDITS else 2}"


def lucene_query(text: str) -> str:
    """Literal words (boosted), then fuzzy and prefix forms of their variants; OR-ed.

    Fuzzy terms cost tens of milliseconds each on a large index, so only the de-leeted forms get
    them (the whole word squashed, and each of its parts); prefixes are cheap and cover both the
    word as typed and as de-leeted.
    """
    clauses: list[str] = []
    for word in text.split()[:MAX_WORDS]:
        clauses.append(f"{lucene_escape(word)}^4")
        folded = _NOT_ALNUM.sub(" ", fold(word)).split()
        parts = _unleet_words(word)
        # The analyzer keeps `a_b` and `a.b` as one term but splits `a-b`: try the usual joints.
        for pieces in (folded, parts):
            for joint in ("_", ".", "") if len(pieces) > 1 else ("",):
                if pieces:
                    clauses.append(f"{lucene_escape(joint.join(pieces))}^3")
        whole = unleet(word)
        if len(whole) >= 4:
            clauses.append(_fuzzy(whole))
        for piece in sorted({*folded, *parts}):
            if len(piece) >= 3:
                clauses.append(f"{lucene_escape(piece)}*")
        for piece in sorted(set(parts)):
            if len(piece) >= 4 and piece != whole:
                clauses.append(_fuzzy(piece))
    return " ".join(dict.fromkeys(clauses))


def identifier_ids(text: str) -> list[str]:
    """Entity ids the text names exactly once normalised (`555-555-0123` is `Phone:+15555550123`)."""
    ids = []
    raw = text.strip()
    attempts = [(Label.EMAIL, lambda: normalise_email(raw).key), (Label.IP, lambda: normalise_ip(raw).key)]
    if sum(c.isdigit() for c in raw) >= 7:
        attempts.append((Label.PHONE, lambda: normalise_phone(raw)))
    for label, attempt in attempts:
        try:
            ids.append(entity_id(label.value, attempt()))
        except InvalidIdentifier:
            continue  # not that kind of identifier: the full-text query still runs
    return ids


# -- search -----------------------------------------------------------------------------------------

def _names(props: dict[str, Any]) -> list[str]:
    key = str(props["key"])
    names = [key]
    if ":" in key:
        names.append(key.split(":", 1)[1].lstrip("@"))
    for prop in NAME_PROPERTIES:
        value = props.get(prop)
        if isinstance(value, list):
            names += [str(v) for v in value if v]
        elif value:
            names.append(str(value))
    return names


def search(ctx: GraphContext, text: str, kinds: list[str] | None = None, limit: int = 20) -> list[SearchHit]:
    """The entities best matching `text`, best first (score formula in the module docstring)."""
    if not isinstance(text, str) or not text.strip():
        raise BadInput("search text must not be empty")
    if len(text) > MAX_TEXT:
        raise BadInput(f"search text is limited to {MAX_TEXT} characters")
    check_range("limit", limit, LIMIT)
    wanted = check_kinds(kinds) or list(KINDS)
    pool = min(max(5 * limit, 100), LIMIT[1])
    query = lucene_query(text)
    try:
        rows = ctx.read(_CANDIDATES, index=SEARCH_INDEX, lucene=query, kinds=wanted, pool=pool)
    except ClientError as exc:
        if "ParseException" not in str(exc.message):
            raise
        # Only an escaping gap could get here: the text is the user's fault as far as they can tell.
        raise BadInput(f"cannot search for {text!r}") from exc
    top = max((row["score"] for row in rows), default=0.0) or 1.0
    candidates: dict[str, tuple[Entity, dict[str, Any], float]] = {}
    for row in rows:
        entity = to_entity(row["node"])
        candidates.setdefault(entity.id, (entity, row["node"]["props"], row["score"] / top))
    exact = [value for value in identifier_ids(text) if value.split(":", 1)[0] in wanted]
    for value, node in fetch_nodes(ctx, exact).items():
        candidates[value] = (to_entity(node), node["props"], 1.0)
    query_forms = forms(text)
    hits = []
    for entity, props, lucene in candidates.values():
        best, matched = max(((similarity(query_forms, name), name) for name in _names(props)), key=lambda p: p[0])
        score = WEIGHT_SIMILARITY * best + WEIGHT_LUCENE * lucene
        hits.append(SearchHit(entity=entity, score=round(score, 4), matched=matched))
    hits.sort(key=lambda h: (-h.score, h.entity.kind, h.entity.key))
    return hits[:limit]
