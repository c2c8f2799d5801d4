"""W3C Bitstring Status List v1.0: revocation and suspension, anchored.

An issuer keeps a pair of lists per URI (revocation, suspension), hands each
new credential a random index, publishes both lists as signed ``vc+jwt``
credentials and anchors their Merkle root with the ``Anchor`` contract. A
verifier's :class:`AnchoredStatusChecker` accepts only lists whose root is
the latest one anchored by the issuer's consortium account, and plugs into
:class:`~agora.identity.sdjwt.PresentationVerifier` as its status checker.

The public API is exactly what this module exports. ::

    >>> from agora.identity.sdjwt import Algorithm, SigningKey
    >>> key = SigningKey.generate(Algorithm.ES256)
    >>> lists = StatusListIssuer(
    ...     "https://bank.example/status/1", issuer="did:web:bank", key=key,
    ...     choose_index=lambda size: 7)
    >>> reference = lists.allocate()
    >>> lists.suspend(reference.index)
    >>> lists.status(reference.index)
    <CredentialStatus.SUSPENDED: 'suspended'>
    >>> lists.unsuspend(reference.index)
    >>> lists.revoke(reference.index)
    >>> lists.status(reference.index)
    <CredentialStatus.REVOKED: 'revoked'>
    >>> sorted(lists.publish().documents())  # doctest: +NORMALIZE_WHITESPACE
    ['https://bank.example/status/1/revocation',
     'https://bank.example/status/1/suspension']
"""

from agora.identity.status_list.bitstring import (
    MAX_ENTRIES,
    MIN_ENTRIES,
    Bitstring,
    StatusPurpose,
)
from agora.identity.status_list.checker import (
    AnchoredStatusChecker,
    Fetch,
    TrustedStatusList,
    read_status_list_credential,
)
from agora.identity.status_list.errors import (
    MalformedStatusListError,
    StatusIndexError,
    StatusListError,
    StatusRule,
    StatusTransitionError,
    StatusUnavailableError,
)
from agora.identity.status_list.publisher import (
    PublishedStatusList,
    StatusListIssuer,
    status_list_kind,
    status_list_root,
    status_list_url,
)

__all__ = [
    "MAX_ENTRIES",
    "MIN_ENTRIES",
    "AnchoredStatusChecker",
    "Bitstring",
    "Fetch",
    "MalformedStatusListError",
    "PublishedStatusList",
    "StatusIndexError",
    "StatusListError",
    "StatusListIssuer",
    "StatusPurpose",
    "StatusRule",
    "StatusTransitionError",
    "StatusUnavailableError",
    "TrustedStatusList",
    "read_status_list_credential",
    "status_list_kind",
    "status_list_root",
    "status_list_url",
]
