"""Hash-set loader: lists of known files (Project VIC VICS JSON, plain and CSV hash lists).

A hash set says "this file is known, in this category"; loading one marks matching `File` nodes
`known` and creates the files not yet seen, so that later reports match them. Provenance of such a
fact is the set itself, hence every record is sourced `hashset:<name>:<version>`.

Entries are grouped, up to `batch_size` per `Records`, because a national set holds millions of
entries and one `Records` (with its repeated `HashSet` node) per entry would make the writer's
batches mostly overhead. Victim identifiers in VICS entries are never read: victims are not
investigation targets.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from loaders.errors import InvalidIdentifier, MalformedInput
from loaders.identifiers import file_key, normalise_hash
from loaders.model import Edge, Label, Records, Rejection, Rel
from loaders.tabular import utf8_lines

BATCH_SIZE = 1000
#: VICS media fields (case-folded) that hold hashes, and the algorithm each holds.
VICS_HASH_FIELDS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "photodna": "photodna",
                    "pdq": "pdq"}
#: Hash length -> algorithm, for lists that do not say (64 hex is taken as SHA-256, not PDQ).
ALGO_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
_JSON_CHUNK = 16 * 1024


@dataclass(slots=True)
class _Entry:
    """One hash-set entry as read, before normalisation; `where` is "line 12" or "entry 5"."""

    where: str
    hashes: list[tuple[str, str, Any]] = field(default_factory=list)  # (field, algorithm, raw)
    category: str | None = None
    series: list[str] = field(default_factory=list)
    problem: str | None = None  # the entry cannot be read at all


def parse_hashset(path: Path, *, name: str | None = None, version: str | None = None,
                  hash_column: str = "hash", algorithm_column: str = "algorithm",
                  category_column: str = "category",
                  batch_size: int = BATCH_SIZE) -> Iterator[Records]:
    """Records of `File -[:LISTED_IN]-> HashSet`, at most `batch_size` entries each.

    The format is told from the content: a file starting with `{` is VICS JSON, else a text list
    (CSV when its first line names `hash_column`, otherwise one hash per line). A bad hash becomes
    a `Rejection` and the rest loads; malformed JSON raises `MalformedInput` after yielding what
    came before it.
    """
    set_name = (path.stem if name is None else name).strip()
    set_version = ("1" if version is None else version).strip()
    if not set_name or not set_version:
        raise ValueError("a hash set needs a non-empty name and version")
    record = f"hashset:{set_name}:{set_version}"
    entries = (_vics_entries(path) if _starts_with_brace(path)
               else _list_entries(path, hash_column, algorithm_column, category_column))

    def fresh() -> Records:
        rec = Records(record)
        rec.node(Label.HASHSET, f"{set_name}:{set_version}", name=set_name, version=set_version)
        return rec

    batch, count, yielded = fresh(), 0, False
    try:
        for entry in entries:
            _add_entry(batch, str(path), entry)
            count += 1
            if count >= batch_size:
                yield batch
                batch, count, yielded = fresh(), 0, True
    except MalformedInput:
        if count:
            yield batch  # what came before the fault stands
        raise
    if count or not yielded:
        yield batch


def _add_entry(rec: Records, file: str, entry: _Entry) -> None:
    if entry.problem:
        rec.rejections.append(Rejection(file, entry.where, "", entry.problem))
        return
    found: dict[str, str] = {}
    refused = False
    for column, algo, raw in entry.hashes:
        try:
            if not isinstance(raw, str):
                raise InvalidIdentifier("hash", raw, f"expected text, got {type(raw).__name__}")
            name, value = normalise_hash(algo, raw)
        except InvalidIdentifier as exc:
            rec.rejections.append(Rejection(file, entry.where, column, exc.reason, str(raw)))
            refused = True
            continue
        if found.setdefault(name, value) != value:
            rec.rejections.append(Rejection(file, entry.where, column,
                                            f"second, different {name} in one entry", raw))
            refused = True
    try:
        key = file_key(found)
    except InvalidIdentifier as exc:
        if not refused:  # a refused hash already explains why nothing loads
            rec.rejections.append(Rejection(file, entry.where, "", f"not loaded: {exc.reason}"))
        return
    props: dict[str, Any] = {**found, "known": True, "category": entry.category}
    file_ref = rec.node(Label.FILE, key, **props)
    if entry.series:
        rec.nodes[-1].lists["series"] = list(entry.series)
    set_node = rec.nodes[0]
    edge_props = {} if entry.category is None else {"category": entry.category}
    rec.edges.append(Edge(Rel.LISTED_IN, file_ref, (Label.HASHSET, set_node.key), edge_props,
                          sources=[rec.record]))


def _text_value(value: Any) -> str | None:
    """Categories and series ids as text: VICS gives numbers, CSV gives strings."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    text = str(value).strip()
    return text or None


# --- VICS JSON ----------------------------------------------------------------------------------


def _starts_with_brace(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read(4096).removeprefix(codecs.BOM_UTF8).lstrip()
    return head.startswith(b"{")


class _CountingReader:
    """Tracks how far the JSON parser has read, to place a syntax error in the file."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.start, self.end = stream, 0, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if data:  # the empty read at the end must not hide where the last chunk was
            self.start, self.end = self.end, self.end + len(data)
        return data


def _vics_entry(number: int, item: Any) -> _Entry:
    entry = _Entry(f"entry {number}")
    if not isinstance(item, dict):
        entry.problem = f"expected a media object, got {type(item).__name__}"
        return entry
    for key, value in item.items():
        folded = key.casefold()
        if folded in VICS_HASH_FIELDS and value not in (None, ""):
            entry.hashes.append((key, VICS_HASH_FIELDS[folded], value))
        elif folded == "category":
            entry.category = _text_value(value)
        elif folded == "series":  # victim fields are deliberately never read
            values = value if isinstance(value, list) else [value]
            entry.series = [t for t in map(_text_value, values) if t]
    return entry


def _vics_items(reader: _CountingReader) -> Iterator[Any]:
    """Items of the top-level `value` array (any case), built one at a time."""
    events = ijson.parse(reader, buf_size=_JSON_CHUNK, use_float=False)
    array: str | None = None  # the prefix of the value array, as spelled in the file
    builder, depth, seen = None, 0, False
    for prefix, event, value in events:
        if builder is not None:
            builder.event(event, value)
            depth += {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1}.get(event, 0)
            if depth == 0:
                yield builder.value
                builder = None
        elif array is not None and prefix == f"{array}.item":
            if event in ("start_map", "start_array"):
                builder, depth = ijson.ObjectBuilder(), 1
                builder.event(event, value)
            else:
                yield value
        elif prefix == "" and event == "map_key" and value.casefold() == "value":
            array, seen = value, True
        elif array is not None and prefix == array:
            if event == "end_array":
                array = None
            elif event != "start_array":
                raise ValueError(f"'{array}' is not an array")
    if not seen:
        raise ValueError("no top-level 'value' array")


def _vics_entries(path: Path) -> Iterator[_Entry]:
    with path.open("rb") as stream:
        if stream.read(len(codecs.BOM_UTF8)) != codecs.BOM_UTF8:
            stream.seek(0)
        reader = _CountingReader(stream)
        number = 0
        try:
            for item in _vics_items(reader):
                number += 1
                yield _vics_entry(number, item)
        except ijson.JSONError as exc:
            # yajl's message: the reason, then the text around the fault, then a caret line.
            lines = [line.strip() for line in str(exc).splitlines()]
            detail = lines[0] + (f" near {lines[1]!r}" if len(lines) > 2 and lines[1] else "")
            where = f"entry {number + 1}, in bytes {reader.start}-{reader.end}"
            raise MalformedInput(str(path), where, f"not valid JSON: {detail}") from exc
        except ValueError as exc:  # valid JSON, but not shaped as a VICS export
            raise MalformedInput(str(path), "", f"not a VICS JSON export: {exc}") from exc


# --- text and CSV lists -------------------------------------------------------------------------


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name.casefold())
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _list_entries(path: Path, hash_column: str, algorithm_column: str,
                  category_column: str) -> Iterator[_Entry]:
    """Entries of a one-hash-per-line list, or of a CSV list whose header names the columns."""
    columns: dict[str, int] | None = None
    first = True
    for lineno, line in enumerate(utf8_lines(path), 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        cells = next(csv.reader([text]))
        if first:
            first = False
            names = [c.strip().casefold() for c in cells]
            if hash_column.casefold() in names:
                columns = {n: i for i, n in reversed(list(enumerate(names)))}
                continue
            if len(cells) > 1:
                raise MalformedInput(str(path), f"line {lineno}",
                                     f"CSV header has no {hash_column!r} column: {text[:80]!r}")
        entry = _Entry(f"line {lineno}")
        if columns is None:
            raw, algo, category, column = text, "", None, "hash"
        else:
            raw, algo = _cell(cells, columns, hash_column), _cell(cells, columns, algorithm_column)
            category = _text_value(_cell(cells, columns, category_column))
            column = hash_column
        entry.category = category
        if not raw:
            entry.problem = "no hash on this line"
        elif not algo and len(raw) not in ALGO_BY_LENGTH:
            entry.problem = (f"cannot tell the algorithm of a {len(raw)}-character hash "
                             f"(32 md5, 40 sha1, 64 sha256): {raw[:80]!r}")
        else:
            entry.hashes.append((column, algo or ALGO_BY_LENGTH[len(raw)], raw))
        yield entry

