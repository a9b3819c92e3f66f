"""One normaliser per identifier kind: the only place where a node key is made from raw text.

Two reports name the same email, phone or device only if their normalised keys are equal, so every
parser, hash-set loader and tabular import goes through these functions. Each one either returns a
key or raises `InvalidIdentifier` with a reason an analyst can act on; none guesses (a US/EU
ambiguous date, a port glued to an address, an IMEI whose check digit fails are rejected, not
repaired), because a wrong key silently merges strangers or splits one offender.

The kinds live in submodules (`contact`, `network`, `device`, `hashes`, `names`, `times`, with the
shared Unicode folding in `text`); import from `loaders.identifiers`, which re-exports the API.
"""

from loaders.identifiers.contact import EmailId, normalise_email, normalise_phone
from loaders.identifiers.device import DeviceType, normalise_device
from loaders.identifiers.hashes import HashAlgo, file_key, normalise_hash
from loaders.identifiers.names import (
    account_key,
    location_key,
    normalise_provider,
    normalise_screen_name,
)
from loaders.identifiers.network import IpId, IpKind, normalise_ip
from loaders.identifiers.times import normalise_date, normalise_timestamp

__all__ = [
    "DeviceType",
    "EmailId",
    "HashAlgo",
    "IpId",
    "IpKind",
    "account_key",
    "file_key",
    "location_key",
    "normalise_date",
    "normalise_device",
    "normalise_email",
    "normalise_hash",
    "normalise_ip",
    "normalise_phone",
    "normalise_provider",
    "normalise_screen_name",
    "normalise_timestamp",
]
