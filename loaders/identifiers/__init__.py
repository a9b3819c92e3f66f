"""One normaliser per identifier kind: the only place where a node key is made from raw text.

Two reports name the same email, phone or device only if their normalised keys are equal, so every
parser, hash-set loader and tabular import goes through these functions. Each one either returns a
key or raises `InvalidIdentifier` with a reason an analyst can act on; none guesses (a US/EU
ambiguous date, a port glued to an address, an IMEI whose check digit fails are rejected, not
repaired), because a wrong key silently merges strangers or splits one offender.

The kinds live in submodules (`contact`, `network`, `device`, `hashes`, `names`, `times`, with the
shared Unicode folding in `text`); import from `loaders.identifiers`, which re-exports the API.
"""

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

from loaders.identifiers import contact, device, hashes, names, network, times
from loaders.identifiers.contact import EmailId
from loaders.identifiers.device import DeviceType
from loaders.identifiers.hashes import HashAlgo, file_key
from loaders.identifiers.network import IpId, IpKind

F = TypeVar("F", bound=Callable[..., Any])


def _remembered(func: F) -> F:
    """Referrals repeat the same providers, addresses and times thousands of times: normalise each
    distinct text once. Results are immutable; errors are not cached (they are raised again)."""
    cached = lru_cache(maxsize=1 << 16)(func)

    @wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return cached(*args, **kwargs)
        except TypeError:  # an unhashable argument: let the normaliser itself say what is wrong
            return func(*args, **kwargs)

    return call  # type: ignore[return-value]


normalise_email = _remembered(contact.normalise_email)
normalise_phone = _remembered(contact.normalise_phone)
normalise_device = _remembered(device.normalise_device)
normalise_ip = _remembered(network.normalise_ip)
normalise_hash = _remembered(hashes.normalise_hash)
normalise_provider = _remembered(names.normalise_provider)
normalise_screen_name = _remembered(names.normalise_screen_name)
account_key = _remembered(names.account_key)
location_key = _remembered(names.location_key)
normalise_timestamp = _remembered(times.normalise_timestamp)
normalise_date = _remembered(times.normalise_date)

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
