"""Privacy-preserving computation between consortium members.

- :mod:`agora.privacy.keyed_hash`: identity numbers as HMAC subjects;
- :mod:`agora.privacy.psi`: private set intersection (multi-lending checks);
- :mod:`agora.privacy.secret_sharing`: sums without addends (debt totals).
"""

from agora.privacy.errors import (
    FilterMismatchError,
    MalformedPsiMessageError,
    PrivacyError,
    SharingError,
)
from agora.privacy.keyed_hash import SubjectKey
from agora.privacy.psi import (
    FALSE_POSITIVE_RATE,
    FILTER_KIND,
    BorrowerFilter,
    FilterReader,
    MembershipQuery,
    PublishedFilter,
    anchor_filter,
)
from agora.privacy.secret_sharing import aggregate, reconstruct, split

__all__ = [
    "FALSE_POSITIVE_RATE",
    "FILTER_KIND",
    "BorrowerFilter",
    "FilterMismatchError",
    "FilterReader",
    "MalformedPsiMessageError",
    "MembershipQuery",
    "PrivacyError",
    "PublishedFilter",
    "SharingError",
    "SubjectKey",
    "aggregate",
    "anchor_filter",
    "reconstruct",
    "split",
]
