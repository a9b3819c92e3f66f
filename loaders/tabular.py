"""Tabular imports: CSV or JSON-lines exports (login logs, subscriber records) read through a YAML
mapping that says which column holds which identifier of which entity.

Agency exports and subpoena returns have no fixed layout, so the layout is data (the mapping,
documented in docs/tabular.md) and this module stays generic. Each row becomes one `Records` keyed
`table:<source>:<row>`; a bad identifier rejects that cell only, a row whose account cannot be
keyed is rejected whole, and a file that is not UTF-8 stops the load with the byte position.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import phonenumbers
import yaml

from loaders.errors import InvalidIdentifier, MalformedInput
from loaders.identifiers import (
    account_key,
    normalise_date,
    normalise_device,
    normalise_email,
    normalise_ip,
    normalise_phone,
    normalise_provider,
    normalise_timestamp,
)
from loaders.model import ENDPOINTS, Edge, Label, Node, Records, Rejection, Rel

ACCOUNT_FIELDS = ("id", "screen_name", "display_name", "profile_url", "service")
PERSON_FIELDS = ("name", "first_name", "last_name", "date_of_birth", "address", "street", "city",
                 "region", "postcode", "country", "national_id")
#: Identifier kinds a column may hold: the relationship from its entity and the node it makes.
IDENTIFIER_KINDS: dict[str, tuple[Rel, Label]] = {
    "ip": (Rel.USED_IP, Label.IP),
    "email": (Rel.HAS_EMAIL, Label.EMAIL),
    "phone": (Rel.HAS_PHONE, Label.PHONE),
    "device": (Rel.USED_DEVICE, Label.DEVICE),
}
ENTITY_KINDS: dict[str, Label] = {"account": Label.ACCOUNT, "person": Label.PERSON}
#: Account fields kept as lists (every spelling seen), as the CyberTip parser keeps them.
_ACCOUNT_LISTS = {"screen_name": "screen_names", "display_name": "display_names",
                  "profile_url": "profile_urls"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_LONE_CR = re.compile(rb"(?<=\r)(?=[^\n])")


def utf8_lines(path: Path) -> Iterator[str]:
    """Decoded lines (endings kept), BOM dropped; invalid UTF-8 raises with its byte offset.

    Decoding per line lets the error name the exact byte and line, which an investigator needs to
    find a damaged export; a text-mode file would only say which internal buffer failed.
    """
    offset, lineno = 0, 0
    with path.open("rb") as stream:
        for chunk in stream:
            if offset == 0 and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8):]
                offset = len(codecs.BOM_UTF8)
            for raw in _LONE_CR.split(chunk):  # old Mac spreadsheets end lines with CR alone
                lineno += 1
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise MalformedInput(str(path), f"line {lineno}, byte {offset + exc.start}",
                                         f"invalid UTF-8: {exc.reason}") from exc
                offset += len(raw)
                yield text


def _fold(column: str) -> str:
    """Header names match the mapping whatever their case or surrounding spaces."""
    return column.strip().casefold()


# --- the mapping --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """A value fixed in the mapping (`value`) or read from each row (`column`)."""

    column: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    kind: str  # a key of ENTITY_KINDS
    fields: dict[str, str]  # property -> column
    provider: Cell | None = None  # accounts only
    uses: tuple[str, ...] = ()  # persons only: the account entities they use


@dataclass(frozen=True, slots=True)
class Identifier:
    column: str
    kind: str  # a key of IDENTIFIER_KINDS
    of: str
    type: Cell | None = None  # devices: imei, idfa, gaid, mac, guid, other
    event: Cell | None = None  # ips: Login, Registration, ...
    region: str | None = None  # phones: default region for numbers without +
    time: str | None = None  # column overriding the mapping's time for this identifier
    split: str | None = None  # separator when a cell holds several values


@dataclass(frozen=True, slots=True)
class Mapping:
    """A validated mapping; build it with `load_mapping` or `mapping_from_dict`."""

    source: str
    entities: tuple[Entity, ...]
    identifiers: tuple[Identifier, ...] = ()
    time: str | None = None
    format: str | None = None  # csv | jsonl; None: from the file's extension
    delimiter: str | None = None
    phone_region: str = "US"
    origin: str = "<mapping>"
    columns: tuple[str, ...] = field(default=())  # every column the mapping reads


class _Check:
    """Raises MalformedInput naming the mapping file and the offending key."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.columns: list[str] = []

    def fail(self, key: str, reason: str) -> MalformedInput:
        return MalformedInput(self.origin, f"key '{key}'" if key else "top level", reason)

    def keys(self, where: str, data: object, allowed: tuple[str, ...] | set[str]) -> dict:
        if not isinstance(data, dict):
            raise self.fail(where, f"expected a mapping, got {type(data).__name__}")
        for key in data:
            if key not in allowed:
                raise self.fail(f"{where}.{key}" if where else str(key),
                                f"unknown key; expected one of {', '.join(sorted(allowed))}")
        return data

    def text(self, key: str, value: object, column: bool = False) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected non-empty text, got {value!r}")
        if column:
            self.columns.append(value.strip())
        return value.strip()

    def cell(self, key: str, value: object) -> Cell:
        if isinstance(value, dict):
            self.keys(key, value, {"column", "value"})
            if len(value) != 1:
                raise self.fail(key, "give exactly one of 'column' or 'value'")
            if "column" in value:
                return Cell(column=self.text(f"{key}.column", value["column"], column=True))
            return Cell(value=self.text(f"{key}.value", value["value"]))
        return Cell(value=self.text(key, value))

    def column_of(self, key: str, value: object) -> str:
        """`time: ts` and `time: {column: ts}` both name a column."""
        if isinstance(value, dict):
            self.keys(key, value, {"column"})
            value = value.get("column")
            key = f"{key}.column"
        return self.text(key, value, column=True)


def _entity(check: _Check, name: object, spec: object, provider: Cell | None) -> Entity:
    where = f"entities.{name}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise check.fail(where, "entity names are letters, digits, '_' and '-'")
    if not isinstance(spec, dict):
        raise check.fail(where, f"expected a mapping, got {type(spec).__name__}")
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in ENTITY_KINDS:
        raise check.fail(f"{where}.kind", f"expected one of {', '.join(ENTITY_KINDS)}, got {kind!r}")
    own = ACCOUNT_FIELDS if kind == "account" else PERSON_FIELDS
    extra = ("kind", "provider") if kind == "account" else ("kind", "uses")
    check.keys(where, spec, set(own + extra))
    fields = {f: check.text(f"{where}.{f}", spec[f], column=True) for f in own if f in spec}
    if kind == "account":
        if "provider" in spec:
            provider = check.cell(f"{where}.provider", spec["provider"])
        if provider is None:
            raise check.fail(f"{where}.provider", "accounts need a provider, here or at top level")
        if "id" not in fields and "screen_name" not in fields:
            raise check.fail(f"{where}.id", "accounts need an 'id' or a 'screen_name' column")
        return Entity(name, kind, fields, provider=provider)
    uses = spec.get("uses", ())
    uses = (uses,) if isinstance(uses, str) else uses
    if not isinstance(uses, list | tuple):
        raise check.fail(f"{where}.uses", "expected an account entity name or a list of them")
    return Entity(name, kind, fields, uses=tuple(check.text(f"{where}.uses", u) for u in uses))


def _identifier(check: _Check, i: int, spec: object, entities: dict[str, Entity]) -> Identifier:
    where = f"identifiers[{i}]"
    spec = check.keys(where, spec,
                      {"column", "kind", "of", "type", "event", "region", "time", "split"})
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in IDENTIFIER_KINDS:
        raise check.fail(f"{where}.kind",
                         f"expected one of {', '.join(IDENTIFIER_KINDS)}, got {kind!r}")
    of = spec.get("of")
    if not isinstance(of, str) or of not in entities:
        raise check.fail(f"{where}.of", f"names no entity of this mapping: {of!r}")
    rel, _ = IDENTIFIER_KINDS[kind]
    if ENTITY_KINDS[entities[of].kind] not in ENDPOINTS[rel][0]:
        raise check.fail(f"{where}.of",
                         f"a {entities[of].kind} cannot hold a {kind} ({rel} starts at "
                         f"{', '.join(sorted(ENDPOINTS[rel][0]))})")
    for option, only in (("type", "device"), ("event", "ip"), ("region", "phone")):
        if option in spec and kind != only:
            raise check.fail(f"{where}.{option}", f"only {only} identifiers take '{option}'")
    if kind == "device" and "type" not in spec:
        raise check.fail(f"{where}.type", "device identifiers need a type (imei, idfa, gaid, "
                                          "mac, guid, other) or {column: ...}")
    split = spec.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise check.fail(f"{where}.split", "expected a separator such as ';'")
    return Identifier(
        column=check.text(f"{where}.column", spec.get("column"), column=True), kind=kind, of=of,
        type=check.cell(f"{where}.type", spec["type"]) if "type" in spec else None,
        event=check.cell(f"{where}.event", spec["event"]) if "event" in spec else None,
        region=check.text(f"{where}.region", spec["region"]) if "region" in spec else None,
        time=check.column_of(f"{where}.time", spec["time"]) if "time" in spec else None,
        split=split)


def mapping_from_dict(data: object, origin: str = "<mapping>") -> Mapping:
    """Validate a parsed mapping; every error names the key at fault (`identifiers[1].kind`)."""
    check = _Check(origin)
    top = ("source", "format", "delimiter", "provider", "phone_region", "time", "entities",
           "identifiers")
    data = check.keys("", data, set(top))
    source = check.text("source", data.get("source"))
    provider = check.cell("provider", data["provider"]) if "provider" in data else None
    raw_entities = data.get("entities")
    if not isinstance(raw_entities, dict) or not raw_entities:
        raise check.fail("entities", "expected a mapping of entity names to their columns")
    entities = {n: _entity(check, n, s, provider) for n, s in raw_entities.items()}
    accounts = tuple(n for n, e in entities.items() if e.kind == "account")
    for name, entity in entities.items():
        for used in entity.uses:
            if used not in accounts:
                raise check.fail(f"entities.{name}.uses", f"{used!r} is no account entity")
        if entity.kind == "person" and not entity.uses:
            entities[name] = Entity(name, entity.kind, entity.fields, uses=accounts)
    raw_ids = data.get("identifiers", [])
    if not isinstance(raw_ids, list):
        raise check.fail("identifiers", "expected a list")
    identifiers = tuple(_identifier(check, i, s, entities) for i, s in enumerate(raw_ids))
    fmt = data.get("format")
    if fmt is not None and fmt not in ("csv", "jsonl"):
        raise check.fail("format", f"expected csv or jsonl, got {fmt!r}")
    delimiter = data.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise check.fail("delimiter", "expected one character")
    regions = [("phone_region", data.get("phone_region", "US"))]
    regions += [(f"identifiers[{i}].region", ident.region) for i, ident in enumerate(identifiers)]
    for key, region in regions:
        if region is not None and str(region).upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise check.fail(key, f"not a region code phonenumbers knows: {region!r}")
    return Mapping(
        source=source, entities=tuple(entities.values()), identifiers=identifiers,
        time=check.column_of("time", data["time"]) if "time" in data else None, format=fmt,
        delimiter=delimiter, phone_region=check.text("phone_region", data.get("phone_region", "US")),
        origin=origin, columns=tuple(dict.fromkeys(check.columns)))


def load_mapping(path: Path) -> Mapping:
    """Read and validate a YAML mapping; errors name the file and the key (or YAML position)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise MalformedInput(str(path), where, f"not valid YAML: {exc.problem}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MalformedInput(str(path), "", f"not a readable YAML file: {exc}") from exc
    return mapping_from_dict(data, origin=str(path))


# --- rows ---------------------------------------------------------------------------------------


class _Row:
    """One input row: cell lookup by mapping column, and rejections that point back at it."""

    def __init__(self, file: str, number: int, values: dict[str, Any], source: str) -> None:
        self.file, self.number, self.values = file, number, values
        self.records = Records(f"table:{source}:{number}")

    def reject(self, column: str, reason: str, value: str | None) -> None:
        self.records.rejections.append(
            Rejection(self.file, f"row {self.number}", column, reason, value))

    def get(self, column: str | None) -> str:
        if column is None:
            return ""
        value = self.values.get(_fold(column))
        if value is None or isinstance(value, str):
            return (value or "").strip()
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, int | float):
            return str(value)
        self.reject(column, f"expected a single value, got JSON {type(value).__name__}", None)
        return ""

    def read(self, cell: Cell | None) -> str:
        return "" if cell is None else self.get(cell.column) if cell.column else cell.value or ""

    def time(self, column: str | None, cache: dict) -> tuple[list[datetime], bool]:
        if column not in cache:
            raw = self.get(column)
            cache[column] = ([], False)
            if raw:
                try:
                    when, assumed = normalise_timestamp(raw)
                    cache[column] = ([when], assumed)
                except InvalidIdentifier as exc:
                    self.reject(column or "", f"time not used: {exc.reason}", raw)
        return cache[column]


def _add_node(rec: Records, label: Label, key: str, props: dict, times: list[datetime],
              lists: dict | None = None) -> Node:
    node = Node(label, key, props, lists or {}, [rec.record], list(times))
    rec.nodes.append(node)
    return node


def _identifier_node(ident: Identifier, row: _Row, raw: str, region: str) -> tuple[str, dict]:
    """The key and properties of one identifier value; raises InvalidIdentifier."""
    if ident.kind == "ip":
        ip = normalise_ip(raw)
        return ip.key, {"kind": ip.kind}
    if ident.kind == "email":
        email = normalise_email(raw)
        return email.key, {"canonical": email.canonical}
    if ident.kind == "phone":
        return normalise_phone(raw, ident.region or region), {}
    id_type = row.read(ident.type)
    if not id_type:
        raise InvalidIdentifier("device", raw, "no device type in this row")
    key = normalise_device(id_type, raw)
    return key, {"type": key.split(":", 1)[0]}


def _account(entity: Entity, row: _Row) -> tuple[str, dict, dict] | tuple[str, str]:
    """Key, props and lists of the row's account, or the column and reason to refuse the row."""
    values = {f: row.get(c) for f, c in entity.fields.items()}
    id_column = entity.fields.get("id") or entity.fields["screen_name"]
    provider = row.read(entity.provider)
    if not provider:
        column = entity.provider.column if entity.provider else None
        return column or "", f"row not loaded: no provider for account {entity.name!r}"
    if not values.get("id") and not values.get("screen_name"):
        return id_column, f"row not loaded: no id for account {entity.name!r}"
    try:
        key = account_key(provider, values.get("id") or None, values.get("screen_name") or None)
        props: dict = {"provider": normalise_provider(provider)}
    except InvalidIdentifier as exc:
        return id_column, f"row not loaded: account {entity.name!r}: {exc.reason}"
    if values.get("id"):
        props["esp_id"] = values["id"]
    if values.get("service"):
        props["service"] = values["service"]
    lists = {name: [values[f]] for f, name in _ACCOUNT_LISTS.items() if values.get(f)}
    return key, props, lists


def _person_props(entity: Entity, row: _Row) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for prop, column in entity.fields.items():
        raw = row.get(column)
        if not raw:
            continue
        if prop == "date_of_birth":
            try:
                props[prop] = normalise_date(raw)
            except InvalidIdentifier as exc:
                row.reject(column, exc.reason, raw)
            continue
        props[prop] = raw  # kept as written, never evaluated (a leading "=" is just text)
    return props


def _identifiers(mapping: Mapping, row: _Row, cache: dict,
                 row_time: tuple[list[datetime], bool]) -> list[tuple[str, Edge]]:
    """Identifier nodes of the row, and their edges keyed by the entity name that will own them.

    The edges' start is filled in by the caller, once it knows which persons the row has.
    """
    found: list[tuple[str, Edge]] = []
    for ident in mapping.identifiers:
        cell = row.get(ident.column)
        when, flagged = row.time(ident.time, cache) if ident.time else row_time
        for raw in (p.strip() for p in (cell.split(ident.split) if ident.split else [cell])):
            if not raw:
                continue
            try:
                key, props = _identifier_node(ident, row, raw, mapping.phone_region)
            except InvalidIdentifier as exc:
                row.reject(ident.column, exc.reason, raw)
                continue
            rel, label = IDENTIFIER_KINDS[ident.kind]
            _add_node(row.records, label, key, props, when)
            edge = Edge(rel, (label, ""), (label, key), sources=[row.records.record],
                        times=list(when))
            event = row.read(ident.event)
            if event:
                edge.lists["events"] = [event]
            if flagged and when:
                edge.props["assumed_utc"] = True
            found.append((ident.of, edge))
    return found


def _row_records(mapping: Mapping, row: _Row) -> None:
    accounts: dict[str, tuple[str, dict, dict]] = {}
    for entity in mapping.entities:
        if entity.kind == "account":
            found = _account(entity, row)
            if len(found) == 2:
                row.reject(*found, None)
                return
            accounts[entity.name] = found
    rec = row.records
    cache: dict[str | None, tuple[list[datetime], bool]] = {}
    times, assumed = row.time(mapping.time, cache)
    owners = {n: _add_node(rec, Label.ACCOUNT, k, p, times, ls)
              for n, (k, p, ls) in accounts.items()}
    persons = [(e, _person_props(e, row)) for e in mapping.entities if e.kind == "person"]
    found_ids = _identifiers(mapping, row, cache, (times, assumed))
    for entity, props in persons:
        if props or any(of == entity.name for of, _ in found_ids):
            person = _add_node(rec, Label.PERSON, f"{rec.record}/{entity.name}", props, times)
            owners[entity.name] = person
            rec.edges.extend(
                Edge(Rel.USES, (Label.PERSON, person.key), (Label.ACCOUNT, owners[a].key),
                     sources=[rec.record], times=list(times)) for a in entity.uses)
    for of, edge in found_ids:
        owner = owners[of]
        edge.start = (owner.label, owner.key)
        owner.times.extend(t for t in edge.times if t not in owner.times)
        rec.edges.append(edge)


# --- files --------------------------------------------------------------------------------------


def _csv_rows(path: Path, delimiter: str, mapping: Mapping) -> Iterator[tuple[int, dict | str]]:
    """Rows numbered as a spreadsheet shows them (the header is row 1); a str is a refusal."""
    reader = csv.reader(utf8_lines(path), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return
        names = [_fold(h) for h in header]
        doubled = sorted({n for n in names if names.count(n) > 1 and n})
        if doubled:
            raise MalformedInput(str(path), "row 1", f"header repeats column(s) {doubled}")
        missing = [c for c in mapping.columns if _fold(c) not in names]
        if missing:
            raise MalformedInput(str(path), "row 1",
                                 f"header lacks column(s) {missing} named by {mapping.origin}")
        for number, cells in enumerate(reader, 2):
            if len(cells) > len(names):  # cells cannot be placed; short rows are padded
                yield number, f"{len(cells)} cells but the header has {len(names)} columns"
            elif any(c.strip() for c in cells):
                yield number, dict(zip(names, cells, strict=False))
    except csv.Error as exc:
        raise MalformedInput(str(path), f"row {reader.line_num}", f"not valid CSV: {exc}") from exc


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict | str]]:
    """Rows numbered by line; a line that is not a JSON object becomes a text reason."""
    for number, line in enumerate(utf8_lines(path), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(value, dict):
            yield number, f"expected a JSON object, got {type(value).__name__}"
            continue
        yield number, {_fold(k): v for k, v in value.items()}


def parse_table(path: Path, mapping: Path | Mapping) -> Iterator[Records]:
    """One `Records` per non-blank row; see docs/tabular.md for the mapping and the graph made.

    Raises MalformedInput for an unreadable mapping, a header lacking a mapped column, invalid
    UTF-8 or broken CSV quoting; rows yielded before the fault stand.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(Path(mapping))
    suffix = path.suffix.lower()
    fmt = mapping.format or ("jsonl" if suffix in (".jsonl", ".ndjson", ".json") else "csv")
    if fmt == "jsonl":
        rows: Iterator[tuple[int, Any]] = _jsonl_rows(path)
    else:
        delimiter = mapping.delimiter or ("\t" if suffix == ".tsv" else ",")
        rows = _csv_rows(path, delimiter, mapping)
    for number, values in rows:
        if isinstance(values, str):
            row = _Row(str(path), number, {}, mapping.source)
            row.reject("", f"row not loaded: {values}", None)
        else:
            row = _Row(str(path), number, values, mapping.source)
            _row_records(mapping, row)
        yield row.records
