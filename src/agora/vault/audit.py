"""A patient's audit trail, read back from the chain.

:func:`audit_trail` gathers, for one owner account, every grant and
revocation (``Consent`` events) and every access a proxy served on one of
those grants (the access-log batches anchored in ``Anchor``, each fetched
by its CID and checked against its anchored root before any entry counts).
The chain names grantees by the hash of their DID; DIDs the owner knows
(``known_dids``) are named in full.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from eth_typing import ChecksumAddress

from agora.ledger import Category, Deployment, Granted, GrantId, grantee_hash
from agora.vault.access_log import anchored_batches
from agora.vault.blockstore import BlockBackend


@dataclass(frozen=True)
class GrantEntry:
    """The owner granted ``grantee`` a scope for ``purpose`` until ``expiry``."""

    grant_id: GrantId
    grantee: str
    """The grantee's DID if known, else its hash (``0x…``)."""
    records_root: bytes
    categories: Category
    purpose: str
    expiry: int
    timestamp: int


@dataclass(frozen=True)
class RevocationEntry:
    """The owner revoked ``grant_id``."""

    grant_id: GrantId
    grantee: str
    timestamp: int


@dataclass(frozen=True)
class AccessEntry:
    """``requester`` read ``record_id`` under ``grant_id`` through ``proxy``;
    ``anchor_id`` is the anchor its batch was verified against."""

    grant_id: GrantId
    record_id: str
    requester: str
    proxy: ChecksumAddress
    timestamp: int
    anchor_id: int


AuditEntry: TypeAlias = GrantEntry | RevocationEntry | AccessEntry
"""One line of an audit trail."""


def audit_trail(
    ledger: Deployment,
    store: BlockBackend,
    owner: ChecksumAddress,
    *,
    known_dids: Iterable[str] = (),
) -> list[AuditEntry]:
    """Every grant, revocation and access on ``owner``'s grants, by time.

    Raises :class:`~agora.vault.errors.AccessLogError` for an access-log
    batch that does not match its anchor (or blockstore errors for one
    that is missing): a trail with a hole is not returned.
    """
    names = {grantee_hash(did): did for did in known_dids}

    def name(hashed: bytes) -> str:
        return names.get(hashed, "0x" + hashed.hex())

    # Grants and revocations: the owner's events on Consent.
    trail: list[AuditEntry] = []
    for event in ledger.consent.events_of(owner):
        if isinstance(event, Granted):
            trail.append(
                GrantEntry(
                    grant_id=event.grant_id,
                    grantee=name(event.grantee_hash),
                    records_root=event.records_root,
                    categories=event.categories,
                    purpose=event.purpose.rstrip(b"\x00").decode(errors="replace"),
                    expiry=event.expiry,
                    timestamp=event.timestamp,
                )
            )
        else:
            trail.append(
                RevocationEntry(
                    event.grant_id, name(event.grantee_hash), event.timestamp
                )
            )
    owned = {entry.grant_id for entry in trail}

    # Accesses: every verified batch's entries on one of those grants.
    for anchored in anchored_batches(store, ledger.anchor):
        for access in anchored.batch.entries:
            if access.grant_id not in owned:
                continue
            trail.append(
                AccessEntry(
                    grant_id=GrantId(access.grant_id),
                    record_id=access.record_id,
                    requester=name(bytes.fromhex(access.requester_hash)),
                    proxy=anchored.proxy,
                    timestamp=access.timestamp,
                    anchor_id=anchored.anchor_id,
                )
            )

    # An access carries the time of the latest block when it was served,
    # which may be its grant's block: at equal times, grants come first
    # and revocations last.
    return sorted(trail, key=lambda entry: (entry.timestamp, _ORDER[type(entry)]))


_ORDER: dict[type, int] = {GrantEntry: 0, AccessEntry: 1, RevocationEntry: 2}


def entry_to_json(entry: AuditEntry) -> dict[str, Any]:
    """One line of a trail as a JSON object; ``event`` says which kind."""
    if isinstance(entry, GrantEntry):
        return {
            "event": "grant",
            "grant_id": int(entry.grant_id),
            "grantee": entry.grantee,
            "records_root": entry.records_root.hex(),
            "categories": [member.name for member in entry.categories],
            "purpose": entry.purpose,
            "expiry": entry.expiry,
            "timestamp": entry.timestamp,
        }
    if isinstance(entry, RevocationEntry):
        return {
            "event": "revocation",
            "grant_id": int(entry.grant_id),
            "grantee": entry.grantee,
            "timestamp": entry.timestamp,
        }
    return {
        "event": "access",
        "grant_id": int(entry.grant_id),
        "record_id": entry.record_id,
        "requester": entry.requester,
        "proxy": entry.proxy,
        "timestamp": entry.timestamp,
        "anchor_id": entry.anchor_id,
    }


@dataclass(frozen=True)
class GrantedAccess:
    """One access, beside the grant it relied on.

    ``within_grant`` is whether the access fell inside the grant's life as
    the chain records it (before its expiry and before any revocation);
    proxies refuse accesses outside it, so ``False`` means a proxy served
    what it should have refused.
    """

    access: AccessEntry
    grant: GrantEntry | None
    """``None`` when the trail holds no grant for the access (never, for a
    trail from :func:`audit_trail`, which keeps only the owner's grants)."""
    revoked_at: int | None

    @property
    def within_grant(self) -> bool:
        """Whether the grant was in force when the access was served."""
        if self.grant is None or self.access.timestamp > self.grant.expiry:
            return False
        return self.revoked_at is None or self.access.timestamp <= self.revoked_at


def accesses_with_grants(trail: Iterable[AuditEntry]) -> list[GrantedAccess]:
    """Every access of ``trail`` joined with its grant and revocation, by time."""
    entries = list(trail)
    grants = {e.grant_id: e for e in entries if isinstance(e, GrantEntry)}
    revoked = {
        e.grant_id: e.timestamp for e in entries if isinstance(e, RevocationEntry)
    }
    return [
        GrantedAccess(e, grants.get(e.grant_id), revoked.get(e.grant_id))
        for e in entries
        if isinstance(e, AccessEntry)
    ]


def granted_access_to_json(joined: GrantedAccess) -> dict[str, Any]:
    """One access and its grant as a JSON object."""
    access = entry_to_json(joined.access)
    del access["event"]
    return {
        **access,
        "within_grant": joined.within_grant,
        "grant": None if joined.grant is None else entry_to_json(joined.grant),
        "revoked_at": joined.revoked_at,
    }
