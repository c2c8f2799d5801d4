"""Issuer side: keep a status list pair, publish it, anchor its hash.

Each list URI names a pair of Bitstring Status List credentials sharing one
index space: one for ``revocation``, one for ``suspension`` (W3C Bitstring
Status List v1.0 §2.1 gives each list a single purpose). Both are signed as
JWTs by the issuer (VC-JOSE-COSE §3.1, media type ``vc+jwt``) with its
:class:`~agora.identity.sdjwt.SigningKey`, and anchored in one transaction:
the root is the RFC 6962 Merkle root over the two JWTs, in that order.
"""

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agora.federated.merkle import merkle_root
from agora.identity.sdjwt import CredentialStatus, SigningKey, StatusReference
from agora.identity.status_list.bitstring import MIN_ENTRIES, Bitstring, StatusPurpose
from agora.identity.status_list.errors import (
    MalformedStatusListError,
    StatusRule,
    StatusTransitionError,
)
from agora.ledger import Account, AnchorClient, AnchorId, anchor_kind

logger = logging.getLogger(__name__)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
STATUS_LIST_TYPE = "BitstringStatusList"
JWT_TYPE = "vc+jwt"
"""``typ`` of a status list credential (VC-JOSE-COSE §3.1.1)."""

PURPOSES = (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
"""The pair's purposes, in the order their JWTs enter the Merkle root."""


def status_list_url(uri: str, purpose: StatusPurpose) -> str:
    """Where the ``purpose`` credential of list ``uri`` is published."""
    return f"{uri}/{purpose.value}"


def status_list_kind(uri: str) -> bytes:
    """The Anchor ``kind`` under which list ``uri`` is anchored."""
    return anchor_kind(f"{STATUS_LIST_TYPE}:{uri}")


def status_list_root(revocation: bytes, suspension: bytes) -> bytes:
    """The anchored root: RFC 6962 Merkle root over the pair's JWTs, as
    served (ASCII bytes)."""
    return merkle_root([revocation, suspension])


@dataclass(frozen=True)
class PublishedStatusList:
    """A signed list pair, ready to serve and anchor."""

    uri: str
    revocation_jwt: str
    suspension_jwt: str

    @property
    def root(self) -> bytes:
        """What :meth:`StatusListIssuer.anchor` writes on chain."""
        return status_list_root(
            self.revocation_jwt.encode(), self.suspension_jwt.encode()
        )

    def documents(self) -> dict[str, bytes]:
        """The bytes to serve, by URL (see :func:`status_list_url`)."""
        return {
            status_list_url(self.uri, StatusPurpose.REVOCATION): (
                self.revocation_jwt.encode()
            ),
            status_list_url(self.uri, StatusPurpose.SUSPENSION): (
                self.suspension_jwt.encode()
            ),
        }


class StatusListIssuer:
    """An issuer's status list pair at ``uri``.

    Indexes are handed out at random (§6.2, so that an index reveals
    nothing about issuance order). A revocation is final: nothing here
    clears a revocation bit; a suspension can be lifted.
    """

    def __init__(
        self,
        uri: str,
        *,
        issuer: str,
        key: SigningKey,
        size: int = MIN_ENTRIES,
        clock: Callable[[], float] = time.time,
        choose_index: Callable[[int], int] = secrets.randbelow,
    ) -> None:
        self.uri = uri
        self.issuer = issuer
        self._key = key
        self._clock = clock
        self._choose_index = choose_index
        self._lists = {purpose: Bitstring(size) for purpose in PURPOSES}
        self._allocated: set[int] = set()

    def export_state(self) -> dict[str, Any]:
        """The list's state, for an issuer to keep between runs: both
        bitstrings and the indexes handed out. No key, no claims."""
        return {
            "uri": self.uri,
            "issuer": self.issuer,
            "lists": {p.value: self._lists[p].encode() for p in PURPOSES},
            "allocated": sorted(self._allocated),
        }

    @classmethod
    def restore(
        cls,
        state: Mapping[str, Any],
        *,
        key: SigningKey,
        clock: Callable[[], float] = time.time,
    ) -> "StatusListIssuer":
        """The list :meth:`export_state` described, signing with ``key``;
        raises :class:`MalformedStatusListError` for a damaged state."""
        try:
            lists = {p: Bitstring.decode(state["lists"][p.value]) for p in PURPOSES}
            allocated = {int(index) for index in state["allocated"]}
            issuer = cls(str(state["uri"]), issuer=str(state["issuer"]), key=key)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedStatusListError(
                StatusRule.CREDENTIAL, "status list state is incomplete"
            ) from exc
        size = lists[StatusPurpose.REVOCATION].size
        if lists[StatusPurpose.SUSPENSION].size != size or any(
            not 0 <= index < size for index in allocated
        ):
            raise MalformedStatusListError(
                StatusRule.LENGTH, "status list state is inconsistent"
            )
        issuer._lists, issuer._allocated, issuer._clock = lists, allocated, clock
        return issuer

    @property
    def size(self) -> int:
        """How many credentials the list can track."""
        return self._lists[StatusPurpose.REVOCATION].size

    def allocate(self) -> StatusReference:
        """A fresh, unused entry for a new credential."""
        if len(self._allocated) >= self.size:
            raise StatusTransitionError(StatusRule.LENGTH, "the list is full")
        while (index := self._choose_index(self.size)) in self._allocated:
            continue
        self._allocated.add(index)
        return StatusReference(uri=self.uri, index=index)

    def status(self, index: int) -> CredentialStatus:
        """The entry's current status here (published or not)."""
        if self._lists[StatusPurpose.REVOCATION].get(index):
            return CredentialStatus.REVOKED
        if self._lists[StatusPurpose.SUSPENSION].get(index):
            return CredentialStatus.SUSPENDED
        return CredentialStatus.VALID

    def revoke(self, index: int) -> None:
        """Revoke the credential at ``index`` for good."""
        self._lists[StatusPurpose.REVOCATION].set(index)

    def suspend(self, index: int) -> None:
        """Suspend the credential at ``index``; a revoked one cannot be."""
        if self._lists[StatusPurpose.REVOCATION].get(index):
            raise StatusTransitionError(
                StatusRule.PURPOSE, f"entry {index} is revoked, not suspendable"
            )
        self._lists[StatusPurpose.SUSPENSION].set(index)

    def unsuspend(self, index: int) -> None:
        """Lift a suspension; a revocation stays."""
        self._lists[StatusPurpose.SUSPENSION].set(index, False)

    def publish(self) -> PublishedStatusList:
        """Sign both lists as they stand now."""
        valid_from = datetime.fromtimestamp(self._clock(), UTC)
        revocation, suspension = (
            self._key.sign_compact(
                {"typ": JWT_TYPE}, self._credential(purpose, valid_from)
            )
            for purpose in PURPOSES
        )
        return PublishedStatusList(self.uri, revocation, suspension)

    def anchor(
        self, published: PublishedStatusList, client: AnchorClient, *, account: Account
    ) -> AnchorId:
        """Anchor ``published`` from ``account``, the issuer's consortium
        member account that verifiers trust for this list."""
        anchor_id = client.anchor(
            published.root, status_list_kind(self.uri), self.uri, account=account
        )
        logger.info("status list %s anchored as %s", self.uri, anchor_id)
        return anchor_id

    def _credential(
        self, purpose: StatusPurpose, valid_from: datetime
    ) -> Mapping[str, Any]:
        url = status_list_url(self.uri, purpose)
        return {
            "@context": [VC_CONTEXT],
            "id": url,
            "type": ["VerifiableCredential", STATUS_LIST_CREDENTIAL_TYPE],
            "issuer": self.issuer,
            "validFrom": valid_from.isoformat(timespec="seconds").replace(
                "+00:00", "Z"
            ),
            "credentialSubject": {
                "id": f"{url}#list",
                "type": STATUS_LIST_TYPE,
                "statusPurpose": purpose.value,
                "encodedList": self._lists[purpose].encode(),
            },
        }
