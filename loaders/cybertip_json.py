"""CyberTipline reports in the law-enforcement JSON export.

A file holds one report object or an array of them. An array is read one report at a time (the
standard decoder on a sliding buffer), so a large export never sits in memory whole, and a syntax
error names its line and column. Fields map onto the same `Referral` as the XML, by the names in
`formats.md`; for the person and account details that page leaves implicit the XML schema's names
are accepted too (`firstName`, `lastName`, `dateOfBirth`, `age`, `address`, `espService`,
`displayName(s)`, `profileUrl(s)`, `estimatedLocation`, `priorCTReports`, `associatedAccounts`,
and per file `sha256`, `photoDna`, `pdq`, `fileId`, `originalFileName`, `locationOfFile`,
`fileViewedByEsp`, `publiclyAvailable`, `industryClassification`, `uploadedToEspTimestamp`).
Any other field is kept, keyed by its path, in the Report's `extra_json`: nothing is dropped
silently. Two exceptions, on purpose: victims are only counted (`victim`/`victims` under
`reportedInformation`) and any other field whose name contains "victim" is left out, so their
details are never copied into the graph; the provider's staff (`reportingPerson`,
`contactPerson` under `reportingEsp`) are not loaded either, as in the XML.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from loaders.errors import MalformedInput
from loaders.model import Records
from loaders.referral import (
    AccountInfo,
    Contact,
    DeviceCapture,
    FileInfo,
    IpCapture,
    LocationInfo,
    Raw,
    Referral,
    UserInfo,
    build_records,
)

_CHUNK = 1 << 20
#: A single report larger than this is taken for a broken file rather than read into memory.
MAX_REPORT_CHARS = 64 << 20
_WHITESPACE = " \t\r\n"
_CAPTURE_KINDS = {"ipaddress": "ip", "ip": "ip", "deviceid": "device", "device": "device",
                  "emailaddress": "email", "email": "email", "phonenumber": "phone",
                  "phone": "phone"}
_HASH_FIELDS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "photodna": "photodna",
                "pdq": "pdq"}


def parse_cybertip_json(path: Path, *, provider: str | None = None,
                        default_region: str = "US") -> Iterator[Records]:
    """One `Records` per report object, in file order.

    Raises `MalformedInput` (file, "line L, column C", reason) on JSON that does not parse or a
    report that is not an object; reports before the fault have already been yielded.
    """
    path = Path(path)
    with open(path, "rb") as stream:
        reader = _Reader(stream, str(path))
        for count, (where, doc, bundled) in enumerate(_documents(reader), 1):
            if not isinstance(doc, dict):
                raise MalformedInput(str(path), where, "a report must be a JSON object")
            referral = _referral(doc, path, count, bundled)
            yield build_records(referral, provider=provider, default_region=default_region)


# -- reading JSON a report at a time ---------------------------------------------------------------

class _Reader:
    """A window on the file's text; `line`/`column` are where `buf[0]` sits in the file."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.stream, self.name = stream, name
        self.text = codecs.getincrementaldecoder("utf-8-sig")()
        self.decoder = json.JSONDecoder()
        self.buf, self.pos, self.eof = "", 0, False
        self.line, self.column, self.bytes_read = 1, 1, 0

    def where(self, index: int) -> str:
        line, column = self._position(index)
        return f"line {line}, column {column}"

    def _position(self, index: int) -> tuple[int, int]:
        newlines = self.buf.count("\n", 0, index)
        if not newlines:
            return self.line, self.column + index
        return self.line + newlines, index - self.buf.rfind("\n", 0, index)

    def fill(self) -> bool:
        """Drop what was read, add the next chunk; False once the file is exhausted."""
        if self.eof:
            return False
        self.line, self.column = self._position(self.pos)
        self.buf, self.pos = self.buf[self.pos:], 0
        if len(self.buf) > MAX_REPORT_CHARS:
            raise MalformedInput(self.name, self.where(0), "a report larger than "
                                 f"{MAX_REPORT_CHARS >> 20} MiB: is the file truncated?")
        data = self.stream.read(max(_CHUNK, len(self.buf)))
        try:
            self.buf += self.text.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise MalformedInput(self.name, f"byte {self.bytes_read + exc.start}",
                                 f"not UTF-8: {exc.reason}") from exc
        self.bytes_read += len(data)
        self.eof = not data
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def value(self) -> Any:
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            except RecursionError as exc:
                raise self.fail("JSON nested too deeply") from exc
            except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
                if self.eof:
                    where = self.where(getattr(exc, "pos", self.pos))
                    raise MalformedInput(self.name, where, getattr(exc, "msg", str(exc))) from exc
            self.fill()  # the value may only be cut by the end of the buffer: read on

    def fail(self, reason: str) -> MalformedInput:
        return MalformedInput(self.name, self.where(self.pos), reason)


def _documents(reader: _Reader) -> Iterator[tuple[str, Any, bool]]:
    """(position, value, is-in-an-array) of each report in the file."""
    first = reader.peek()
    if first == "":
        raise reader.fail("empty file: expected a report object or an array of reports")
    if first != "[":
        where = reader.where(reader.pos)
        value = reader.value()
        if reader.peek() != "":
            raise reader.fail("extra data after the report")
        yield where, value, False
        return
    reader.pos += 1
    if reader.peek() == "]":
        reader.pos += 1
    else:
        while True:
            reader.peek()
            yield reader.where(reader.pos), reader.value(), True
            after = reader.peek()
            if after not in (",", "]"):
                raise reader.fail("expected ',' or ']' after a report" if after
                                  else "unexpected end of file: the array is not closed")
            reader.pos += 1
            if after == "]":
                break
    if reader.peek() != "":
        raise reader.fail("extra data after the array of reports")


# -- mapping one report ----------------------------------------------------------------------------

def _short(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:200]


class _Obj:
    """One JSON object being read: fields are taken by name, the rest is kept as extra."""

    def __init__(self, value: dict[str, Any], path: str, referral: Referral) -> None:
        self.value, self.path, self.referral = value, path, referral
        self.taken: set[str] = set()

    def sub(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def keep(self, path: str, value: Any, reason: str) -> None:
        self.referral.problems.append((path, reason, _short(value)))
        self.referral.extra[path] = value

    def take(self, name: str) -> Any:
        self.taken.add(name)
        return self.value.get(name)

    def scalar(self, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | str):
            return str(value).strip() or None
        self.keep(path, value, "expected a single value")
        return None

    def text(self, name: str) -> str | None:
        return self.scalar(self.sub(name), self.take(name))

    def raw(self, name: str) -> Raw | None:
        text = self.text(name)
        return None if text is None else Raw(self.sub(name), text)

    def items(self, name: str) -> list[tuple[str, Any]]:
        """Elements of a list field with their paths; a lone value counts as a list of one."""
        value = self.take(name)
        if value is None:
            return []
        if not isinstance(value, list):
            return [(self.sub(name), value)]
        return [(f"{self.sub(name)}[{i}]", item) for i, item in enumerate(value)]

    def texts(self, name: str) -> list[Raw]:
        found = ((path, self.scalar(path, item)) for path, item in self.items(name))
        return [Raw(path, text) for path, text in found if text is not None]

    def objects(self, name: str) -> list[_Obj]:
        found = []
        for path, item in self.items(name):
            if isinstance(item, dict):
                found.append(_Obj(item, path, self.referral))
            elif item is not None:
                self.keep(path, item, "expected a JSON object")
        return found

    def obj(self, name: str) -> _Obj | None:
        value = self.take(name)
        if isinstance(value, dict):
            return _Obj(value, self.sub(name), self.referral)
        if value is not None:
            self.keep(self.sub(name), value, "expected a JSON object")
        return None

    def done(self) -> None:
        for name, value in self.value.items():
            # Victims' details never enter the graph, under whatever field name they arrive.
            if name not in self.taken and "victim" not in name.casefold():
                self.referral.extra[self.sub(name)] = value


def _referral(doc: dict[str, Any], path: Path, count: int, bundled: bool) -> Referral:
    referral = Referral("", str(path))
    top = _Obj(doc, "", referral)
    report_id = top.text("reportId")
    referral.report_id = report_id or (f"{path.stem}#{count}" if bundled else path.stem)
    referral.received_at = top.raw("dateReceived")
    info = top.obj("reportedInformation")
    if info is not None:
        _information(info, referral)
    top.done()
    return referral


def _information(info: _Obj, referral: Referral) -> None:
    esp = info.obj("reportingEsp")
    if esp is not None:
        referral.provider = esp.raw("espName")
        esp.take("reportingPerson")  # the provider's staff: not loaded (formats.md)
        esp.take("contactPerson")
        esp.done()
    summary = info.obj("incidentSummary")
    if summary is not None:
        referral.incident_type = summary.text("incidentType")
        referral.incident_at = summary.raw("incidentDateTime")
        summary.done()
    people = info.obj("reportedPeople")
    if people is not None:
        referral.users += [_user(person) for person in people.objects("reportedPersons")]
        people.done()
    files = info.obj("uploadedFiles")
    if files is not None:
        referral.files += [_file(item) for item in files.objects("uploadedFiles")]
        files.done()
    for name in ("victim", "victims"):  # counted only: victims' details never enter the graph
        referral.victim_count += len(info.items(name))
    info.done()


def _user(obj: _Obj) -> UserInfo:
    user = UserInfo(obj.path)
    person = user.person
    person.first_name, person.last_name = obj.text("firstName"), obj.text("lastName")
    person.date_of_birth, person.age = obj.raw("dateOfBirth"), obj.raw("age")
    person.addresses = [raw.value for raw in obj.texts("address")]
    person.emails = [c for path, item in obj.items("emails") if (c := _contact(obj, path, item))]
    person.phones = [c for path, item in obj.items("phones") if (c := _contact(obj, path, item))]
    _account_fields(obj, user.account)
    location = obj.obj("estimatedLocation")
    if location is not None:
        user.location = LocationInfo(location.path, location.text("countryCode"),
                                     location.text("region"), location.text("city"))
        location.done()
    user.prior_reports = obj.texts("priorCTReports")
    for other in obj.objects("associatedAccounts"):
        user.associated.append(AccountInfo(other.path))
        _account_fields(other, user.associated[-1])
        other.done()
    obj.done()
    return user


def _account_fields(obj: _Obj, account: AccountInfo) -> None:
    account.esp_id = obj.raw("espUserId")
    account.service = obj.text("espService")
    account.screen_names = obj.texts("screenName")
    for name in ("displayName", "displayNames"):
        account.display_names += [raw.value for raw in obj.texts(name)]
    for name in ("profileUrl", "profileUrls"):
        account.profile_urls += [raw.value for raw in obj.texts(name)]
    source = obj.obj("sourceInformation")
    if source is not None:
        for capture in source.objects("sourceCaptures"):
            _capture(capture, account.ips, account.devices, account)
        source.done()


def _contact(parent: _Obj, path: str, item: Any) -> Contact | None:
    """An email or phone written as text, or as an object with `value` and its attributes."""
    if not isinstance(item, dict):
        text = parent.scalar(path, item)
        return None if text is None else Contact(Raw(path, text))
    obj = _Obj(item, path, parent.referral)
    value = obj.raw("value")
    contact = None if value is None else Contact(value, obj.raw("verified"),
                                                 obj.text("countryCallingCode"))
    obj.done()
    return contact


def _capture(cap: _Obj, ips: list[IpCapture], devices: list[DeviceCapture],
             account: AccountInfo | None) -> None:
    written = cap.text("captureType") or ""
    kind = _CAPTURE_KINDS.get("".join(ch for ch in written.casefold() if ch.isalnum()))
    if kind == "ip":
        ips.append(IpCapture(cap.path, cap.raw("value"), cap.text("eventName"),
                             cap.raw("dateTime"), cap.raw("port"), cap.raw("possibleProxy")))
    elif kind == "device":
        id_types = [cap.text("deviceType"), cap.text("idType")]
        devices.append(DeviceCapture(cap.path, next((t for t in id_types if t), None),
                                     cap.raw("value"), cap.text("eventName"),
                                     cap.raw("dateTime")))
    elif kind in ("email", "phone") and account is not None:
        value = cap.raw("value")
        if value is not None:
            (account.emails if kind == "email" else account.phones).append(Contact(value))
    else:
        cap.keep(cap.path, cap.value, f"captureType {written!r} not loaded here")
        return
    cap.done()


def _file(obj: _Obj) -> FileInfo:
    info = FileInfo(obj.path)
    for name in list(obj.value):
        algo = _HASH_FIELDS.get(name.casefold())
        raw = obj.raw(name) if algo else None
        if algo and raw is not None:
            info.hashes.append((algo, raw))
    info.file_id = obj.text("fileId")
    names = [obj.text("fileName"), obj.text("originalFileName")]
    info.original_file_name = next((n for n in names if n), None)
    info.location_of_file = obj.text("locationOfFile")
    info.industry_classification = obj.text("industryClassification")
    info.viewed_by_esp = obj.raw("fileViewedByEsp")
    info.publicly_available = obj.raw("publiclyAvailable")
    info.uploaded_at = obj.raw("uploadedToEspTimestamp")
    for capture in obj.objects("sourceCaptures"):
        _capture(capture, info.ips, info.devices, None)
    obj.done()
    return info
