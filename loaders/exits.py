"""VPN and Tor exit lists: `ip,provider` CSV files that say which addresses are shared exits.

An exit address links thousands of strangers, so it is noise to link analysis, not evidence; a
unit gets such lists from its VPN/Tor feeds (the synthetic generator writes `vpn_exits.csv`).
Loading one marks the IP nodes `exit_provider` (the newest list's provider name) and
`exit_lists` (every list that named it), and creates the addresses no report names yet, so that
later reports land on a node already known to be an exit, as hash sets do for files. The
supernode run (queries/supernodes.py) then marks them `supernode: true`.

Provenance is the list itself: every record is sourced `exits:<name>`. A bad row (an address that
does not normalise, a missing column) becomes a `Rejection` naming the file, the line and why, and
the rest of the list loads.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from loaders.errors import InvalidIdentifier
from loaders.identifiers import normalise_ip
from loaders.model import Label, Node, Records, Rejection
from loaders.tabular import utf8_lines

#: Rows per `Records`: a Tor list has a few thousand rows; one record each would be mostly overhead.
BATCH_SIZE = 1000
IP_COLUMN, PROVIDER_COLUMN = "ip", "provider"


def exit_list_source(name: str) -> str:
    return f"exits:{name}"


def parse_exits(path: Path, *, name: str | None = None, batch_size: int = BATCH_SIZE) -> Iterator[Records]:
    """IP nodes marked as exits, at most `batch_size` rows per `Records`.

    The first line may be a header naming `ip` and `provider` (in any order, any case); without
    one, the columns are taken as ip, provider. A row without a provider is kept with provider
    ``unknown``: the address is still an exit.
    """
    list_name = (path.stem if name is None else name).strip()
    if not list_name:
        raise ValueError("an exit list needs a non-empty name")
    source = exit_list_source(list_name)
    batch = Records(source)
    ip_at, provider_at = 0, 1
    for lineno, row in enumerate(csv.reader(utf8_lines(path)), 1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        folded = [cell.casefold() for cell in cells]
        if lineno == 1 and IP_COLUMN in folded:
            ip_at = folded.index(IP_COLUMN)
            provider_at = folded.index(PROVIDER_COLUMN) if PROVIDER_COLUMN in folded else -1
            continue
        _add_row(batch, str(path), lineno, cells, ip_at, provider_at, list_name)
        if len(batch.nodes) + len(batch.rejections) >= batch_size:
            yield batch
            batch = Records(source)
    yield batch


def _add_row(batch: Records, file: str, lineno: int, cells: list[str], ip_at: int, provider_at: int,
             list_name: str) -> None:
    where = f"line {lineno}"
    if ip_at >= len(cells) or not cells[ip_at]:
        batch.rejections.append(Rejection(file, where, IP_COLUMN, "no address in this row", ",".join(cells)))
        return
    raw = cells[ip_at]
    try:
        ip = normalise_ip(raw)
    except InvalidIdentifier as exc:
        batch.rejections.append(Rejection(file, where, IP_COLUMN, f"invalid ip: {exc.reason}", raw))
        return
    provider = cells[provider_at] if 0 <= provider_at < len(cells) and cells[provider_at] else "unknown"
    batch.nodes.append(Node(Label.IP, ip.key, {"kind": ip.kind, "exit_provider": provider},
                            {"exit_lists": [list_name]}, sources=[batch.record]))
