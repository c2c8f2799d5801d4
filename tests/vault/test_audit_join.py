"""Accesses joined with the grants they relied on (``agora audit patient``)."""

import pytest
from eth_typing import ChecksumAddress

from agora.ledger import Category, GrantId
from agora.vault.audit import (
    AccessEntry,
    GrantEntry,
    RevocationEntry,
    accesses_with_grants,
    granted_access_to_json,
)

PROXY = ChecksumAddress("0x" + "11" * 20)
GRANT = GrantEntry(
    grant_id=GrantId(7),
    grantee="did:key:z6Mkdoctor",
    records_root=b"\x00" * 32,
    categories=Category.CONDITION,
    purpose="treatment",
    expiry=1_000,
    timestamp=100,
)


def _access(timestamp: int, grant_id: int = 7) -> AccessEntry:
    return AccessEntry(
        grant_id=GrantId(grant_id),
        record_id="Condition/c1",
        requester="did:key:z6Mkdoctor",
        proxy=PROXY,
        timestamp=timestamp,
        anchor_id=1,
    )


@pytest.mark.parametrize(
    ("rule", "access_at", "revoked_at", "within"),
    [
        ("in force", 500, None, True),
        ("served at the expiry second", 1_000, None, True),
        ("served after the expiry", 1_001, None, False),
        ("served before the revocation", 500, 600, True),
        ("served after the revocation", 700, 600, False),
    ],
)
def test_an_access_is_within_its_grant_only_while_it_is_in_force(
    rule: str, access_at: int, revoked_at: int | None, within: bool
) -> None:
    trail = [GRANT, _access(access_at)]
    if revoked_at is not None:
        trail.append(RevocationEntry(GrantId(7), GRANT.grantee, revoked_at))

    (joined,) = accesses_with_grants(trail)

    assert joined.grant == GRANT
    assert joined.revoked_at == revoked_at
    assert joined.within_grant is within, rule
    assert granted_access_to_json(joined)["within_grant"] is within


def test_an_access_without_a_grant_in_the_trail_is_outside_any_grant() -> None:
    (joined,) = accesses_with_grants([GRANT, _access(500, grant_id=8)])
    assert joined.grant is None and joined.within_grant is False
    assert granted_access_to_json(joined)["grant"] is None
