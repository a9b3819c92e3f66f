"""CyberTipline reports in XML (NCMEC's ESP report schema and law-enforcement exports).

Streaming: `lxml.etree.iterparse` hands over one `report` element at a time, which is lifted into
a `Referral` and then cleared and detached, so memory stays flat on a 1 GB bundle. Elements are
matched by local name (any namespace). Entities are never expanded and nothing is fetched: a file
with a document type declaration (the only place entities or an external DTD can be declared) is
refused as a whole before any report is yielded. Elements `formats.md` does not name are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree
from lxml.etree import _Element as Element

from loaders.errors import MalformedInput
from loaders.model import Records
from loaders.referral import (
    AccountInfo,
    Contact,
    DeviceCapture,
    FileInfo,
    IpCapture,
    LocationInfo,
    PersonInfo,
    Raw,
    Referral,
    UserInfo,
    build_records,
)

#: Elements that may repeat: their paths always carry a 1-based index, e.g. `ipCaptureEvent[2]`.
_REPEATED = frozenset({
    "personOrUserReported", "ipCaptureEvent", "deviceId", "email", "phone", "address",
    "screenName", "displayName", "profileUrl", "associatedAccount", "reportId", "fileDetails",
    "uploadedFile", "originalFileHash", "details", "nameValuePair", "url",
})
_CHANNELS = {
    "webPageIncident": "web page", "emailIncident": "email", "newsgroupIncident": "newsgroup",
    "chatImIncident": "chat/im", "onlineGamingIncident": "online gaming",
    "cellPhoneIncident": "cell phone", "nonInternetIncident": "non-internet",
    "peer2peerIncident": "peer-to-peer",
}
_HASH_ELEMENTS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "photodna": "photodna",
                  "photoDna": "photodna", "pdq": "pdq"}
_LXML_POSITION = re.compile(r", line \d+, column \d+$")
_DTD_REASON = ("document type declaration (DOCTYPE) refused: entities and external DTDs are "
               "never expanded, so the file is not loaded")


def parse_cybertip(path: Path, *, provider: str | None = None,
                   default_region: str = "US") -> Iterator[Records]:
    """One `Records` per `report` element, in document order.

    Raises `MalformedInput` (file, "line L, column C", reason) on XML that does not parse; reports
    completed before the fault have already been yielded, and the caller decides whether to keep
    them. A DOCTYPE raises before anything is yielded. `provider` names the reporting provider
    when a report does not; `default_region` reads phone numbers written without a country code.
    """
    path = Path(path)
    name = str(path)
    with open(path, "rb") as stream:
        events = etree.iterparse(
            stream, events=("start", "end"), tag="{*}report", resolve_entities=False,
            no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
            remove_pis=True,
        )
        count = 0
        try:
            for event, elem in events:
                if count == 0:
                    _refuse_doctype(elem, path)
                if event == "start":
                    continue
                count += 1
                referral = _referral(elem, path, count)
                _release(elem)
                yield build_records(referral, provider=provider, default_region=default_region)
        except etree.XMLSyntaxError as exc:
            line, column = exc.position or (exc.lineno or 1, 1)
            # libxml2 says line 0 for an empty document; keep positions 1-based like editors.
            raise MalformedInput(name, f"line {max(line, 1)}, column {max(column, 1)}",
                                 _LXML_POSITION.sub("", exc.msg)) from exc
        if count == 0:  # no report at all: the document may still have declared a DTD
            _refuse_doctype(events.root, path)


def _refuse_doctype(elem: Element, path: Path) -> None:
    info = elem.getroottree().docinfo
    if info.doctype or info.internalDTD is not None or info.system_url or info.public_id:
        raise MalformedInput(str(path), _doctype_position(path), _DTD_REASON)


def _doctype_position(path: Path) -> str:
    """Where the DOCTYPE starts, for the message; lxml does not say."""
    with open(path, "rb") as stream:
        head = stream.read(65536)
    at = head.find(b"<!DOCTYPE")
    if at < 0:
        return "prolog"
    line = head.count(b"\n", 0, at) + 1
    column = at - head.rfind(b"\n", 0, at)
    return f"line {line}, column {column}"


def _release(elem: Element) -> None:
    """Free the finished report and the siblings before it (lxml keeps them in the tree)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


# -- reading elements ------------------------------------------------------------------------------

#: Local names by tag, so a namespaced tag is split once per document rather than once per element.
_LOCAL_NAMES: dict[str, str] = {}


def _local(elem: Element) -> str:
    tag = elem.tag
    if type(tag) is not str:  # comments and processing instructions have no name
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = _LOCAL_NAMES[tag] = tag.rpartition("}")[2]
    return name


def _text(elem: Element) -> str | None:
    text = (elem.text or "").strip()
    return text or None


def _raw(elem: Element, path: str) -> Raw | None:
    text = _text(elem)
    return None if text is None else Raw(path, text)


def _attr(elem: Element, name: str, path: str) -> Raw | None:
    value = elem.get(name)
    return None if value is None or not value.strip() else Raw(f"{path}/@{name}", value)


def _children(elem: Element, base: str) -> Iterator[tuple[str, str, Element]]:
    """(local name, path, child) of each element child; repeatable names get their index."""
    counts: dict[str, int] = {}
    prefix = base + "/" if base else ""
    for child in elem:
        tag = child.tag
        name = _LOCAL_NAMES.get(tag) if type(tag) is str else ""
        if name is None:
            name = _local(child)
        if not name:
            continue
        if name in _REPEATED:
            counts[name] = number = counts.get(name, 0) + 1
            yield name, f"{prefix}{name}[{number}]", child
        else:
            yield name, prefix + name, child


def _fields(elem: Element, base: str) -> dict[str, tuple[str, Element]]:
    """First child of each name, for elements whose fields do not repeat."""
    found: dict[str, tuple[str, Element]] = {}
    for name, path, child in _children(elem, base):
        found.setdefault(name, (path, child))
    return found


def _field_raw(fields: dict[str, tuple[str, Element]], name: str) -> Raw | None:
    got = fields.get(name)
    return None if got is None else _raw(got[1], got[0])


def _field_text(fields: dict[str, tuple[str, Element]], name: str) -> str | None:
    got = fields.get(name)
    return None if got is None else _text(got[1])


# -- the report --------------------------------------------------------------------------------

def _report_id(elem: Element, path: Path, count: int) -> str:
    for child in elem:
        if _local(child) == "reportId" and (text := _text(child)):
            return text
    return path.stem if elem.getparent() is None else f"{path.stem}#{count}"


def _referral(elem: Element, path: Path, count: int) -> Referral:
    referral = Referral(_report_id(elem, path, count), str(path))
    for name, sub, child in _children(elem, ""):
        if name == "incidentSummary":
            fields = _fields(child, sub)
            referral.incident_type = _field_text(fields, "incidentType")
            referral.incident_at = _field_raw(fields, "incidentDateTime")
        elif name == "internetDetails":
            _internet(child, referral)
        elif name == "reporter":
            referral.provider = _provider(child, sub)
        elif name == "personOrUserReported":
            referral.users.append(_user(child, sub))
        elif name == "victim":
            referral.victim_count += 1  # counted only: victims' data is never loaded
        elif name in ("fileDetails", "uploadedFile"):
            referral.files.append(_file(child, sub))
    return referral


def _internet(elem: Element, referral: Referral) -> None:
    for name, _, child in _children(elem, ""):
        if name.endswith("Incident"):
            referral.channels.append(_CHANNELS.get(name, name.removesuffix("Incident")))
            referral.urls += [t for url in child.iter("{*}url") if (t := _text(url))]


def _provider(elem: Element, base: str) -> Raw | None:
    fields = _fields(elem, base)
    esp = fields.get("reportingEsp")
    if esp is not None:
        name = _field_raw(_fields(esp[1], esp[0]), "espName")
        if name is not None:
            return name
    return _field_raw(fields, "companyTemplate")


def _user(elem: Element, base: str) -> UserInfo:
    user = UserInfo(base)
    for name, sub, child in _children(elem, base):
        if name == "personOrUserReportedPerson":
            _person(child, sub, user.person)
        elif name == "associatedAccount":
            user.associated.append(_account(child, sub))
        elif name == "estimatedLocation":
            fields = _fields(child, sub)
            user.location = LocationInfo(sub, _field_text(fields, "countryCode"),
                                         _field_text(fields, "region"),
                                         _field_text(fields, "city"))
        elif name == "priorCTReports":
            user.prior_reports += [raw for n, p, c in _children(child, sub)
                                   if n == "reportId" and (raw := _raw(c, p))]
        else:
            _account_field(name, sub, child, user.account)
    return user


def _account(elem: Element, base: str) -> AccountInfo:
    account = AccountInfo(base)
    for name, sub, child in _children(elem, base):
        _account_field(name, sub, child, account)
    return account


def _account_field(name: str, path: str, elem: Element, account: AccountInfo) -> None:
    text = _text(elem)
    if name == "espIdentifier" and text:
        account.esp_id = Raw(path, text)
    elif name == "espService":
        account.service = text
    elif name == "screenName" and text:
        account.screen_names.append(Raw(path, text))
    elif name == "displayName" and text:
        account.display_names.append(text)
    elif name == "profileUrl" and text:
        account.profile_urls.append(text)
    elif name == "ipCaptureEvent":
        account.ips.append(_ip_capture(elem, path))
    elif name == "deviceId":
        account.devices.append(_device_capture(elem, path))


def _person(elem: Element, base: str, person: PersonInfo) -> None:
    for name, sub, child in _children(elem, base):
        text = _text(child)
        if name == "firstName":
            person.first_name = text
        elif name == "lastName":
            person.last_name = text
        elif name == "dateOfBirth" and text:
            person.date_of_birth = Raw(sub, text)
        elif name == "age" and text:
            person.age = Raw(sub, text)
        elif name == "address":
            address = _address(child)
            if address:
                person.addresses.append(address)
        elif name == "email" and text:
            person.emails.append(Contact(Raw(sub, text), _attr(child, "verified", sub)))
        elif name == "phone" and text:
            person.phones.append(Contact(Raw(sub, text), _attr(child, "verified", sub),
                                         child.get("countryCallingCode")))


def _address(elem: Element) -> str | None:
    """One line: NCMEC nests street, city, zipCode, state, country inside `address`."""
    parts = [t for child in elem.iter() if (t := _text(child))] if len(elem) else [_text(elem)]
    return ", ".join(p for p in parts if p) or None


def _ip_capture(elem: Element, base: str) -> IpCapture:
    fields = _fields(elem, base)
    return IpCapture(base, _field_raw(fields, "ipAddress"), _field_text(fields, "eventName"),
                     _field_raw(fields, "dateTime"), _field_raw(fields, "port"),
                     _field_raw(fields, "possibleProxy"))


def _device_capture(elem: Element, base: str) -> DeviceCapture:
    fields = _fields(elem, base)
    return DeviceCapture(base, _field_text(fields, "idType"), _field_raw(fields, "idValue"),
                         _field_text(fields, "eventName"), _field_raw(fields, "dateTime"))


def _file(elem: Element, base: str) -> FileInfo:
    info = FileInfo(base)
    for name, sub, child in _children(elem, base):
        text = _text(child)
        if name == "originalFileHash" and text:
            info.hashes.append((child.get("hashType", ""), Raw(sub, text)))
        elif name in _HASH_ELEMENTS and text:
            info.hashes.append((_HASH_ELEMENTS[name], Raw(sub, text)))
        elif name == "details":
            info.hashes += _detail_hashes(child, sub)
        elif name == "fileId":
            info.file_id = text
        elif name in ("originalFileName", "fileName"):
            info.original_file_name = text
        elif name == "locationOfFile":
            info.location_of_file = text
        elif name == "industryClassification":
            info.industry_classification = text
        elif name == "fileViewedByEsp" and text:
            info.viewed_by_esp = Raw(sub, text)
        elif name == "publiclyAvailable" and text:
            info.publicly_available = Raw(sub, text)
        elif name == "uploadedToEspTimestamp" and text:
            info.uploaded_at = Raw(sub, text)
        elif name == "ipCaptureEvent":
            info.ips.append(_ip_capture(child, sub))
        elif name == "deviceId":
            info.devices.append(_device_capture(child, sub))
    return info


def _detail_hashes(elem: Element, base: str) -> list[tuple[str, Raw]]:
    """`nameValuePair` entries typed HASH (on the pair or on its `details`): name is the algo."""
    found = []
    for name, sub, pair in _children(elem, base):
        kind = pair.get("type") or elem.get("type") or ""
        if name != "nameValuePair" or kind.strip().upper() != "HASH":
            continue
        fields = _fields(pair, sub)
        value = _field_raw(fields, "value")
        if value is not None:
            found.append((_field_text(fields, "name") or "", value))
    return found
