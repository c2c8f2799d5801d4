"""Errors raised by :mod:`agora.identity.status_list`.

A verifier that cannot learn a credential's status gets a
:class:`StatusUnavailableError`, a :class:`LookupError`, which is what the
SD-JWT verifier's ``StatusChecker`` protocol maps to its
``status_unavailable`` rule; its ``rule`` says why, for logs and tests.
"""

from enum import StrEnum

from agora.identity.errors import IdentityError


class StatusRule(StrEnum):
    """Why a status list was refused or an entry could not be read."""

    # Encoding (W3C Bitstring Status List v1.0 §2.1, §3.2)
    MULTIBASE = "multibase"
    BASE64URL = "base64url"
    GZIP = "gzip"
    LENGTH = "length"
    CREDENTIAL = "credential"
    PURPOSE = "purpose"

    # Verifier side
    UNKNOWN_LIST = "unknown_list"
    NOT_ANCHORED = "not_anchored"
    HASH_MISMATCH = "hash_mismatch"
    SIGNATURE = "signature"
    FETCH = "fetch"
    LEDGER = "ledger"
    REVOCATION_UNDONE = "revocation_undone"
    INDEX_RANGE = "index_range"


class StatusListError(IdentityError):
    """Root of every error the status list module raises."""

    def __init__(self, rule: StatusRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class MalformedStatusListError(StatusListError, ValueError):
    """An encoded list or status list credential breaks a rule of the spec."""


class StatusIndexError(StatusListError, IndexError):
    """An index outside the list (W3C Bitstring Status List §3.2: RANGE_ERROR)."""

    def __init__(self, index: int, size: int) -> None:
        super().__init__(
            StatusRule.INDEX_RANGE, f"index {index} is outside a list of {size}"
        )


class StatusTransitionError(StatusListError, ValueError):
    """A status change the purpose forbids, such as undoing a revocation."""


class StatusUnavailableError(StatusListError, LookupError):
    """A verifier cannot establish a credential's status: the list is unknown,
    not anchored, does not match its anchor, or cannot be fetched or read."""
