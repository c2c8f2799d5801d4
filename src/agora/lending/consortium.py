"""The lending consortium in one process: three issuers, three platforms.

:meth:`LendingConsortium.setup` deploys the contracts and enrolls the
government, the school and the bank (each listed for its credential type,
its key and status list published) and three lending platforms, each a
:class:`~agora.lending.risk.PlatformNode` sharing the consortium's subject
key. The walk-through and ``agora demo lending`` build on it; a networked
deployment puts each member in its own node (issue 7).
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agora.identity.consortium import (
    CredentialRecord,
    DocumentHost,
    IssuerOrganisation,
    consortium_verifier,
    enroll_issuer,
)
from agora.identity.credentials import (
    BANK_STATEMENT_VCT,
    DEFAULT_VALIDITY_S,
    DEGREE_VCT,
    IDENTITY_VCT,
    BankStatementClaims,
    DegreeClaims,
    IdentityClaims,
)
from agora.identity.did_ethr import ethr_did
from agora.identity.document import Did
from agora.identity.sdjwt import NonceStore, PresentationVerifier
from agora.identity.wallet import Wallet
from agora.ledger import Account, Chain, Deployment, Role, connect, deploy
from agora.lending.application import LendingPlatform
from agora.lending.risk import PlatformNode, RiskChecker
from agora.privacy import SubjectKey
from agora.settings import Settings

logger = logging.getLogger(__name__)

Step = Callable[[str], None]
"""Told the name of each step as it starts, for progress display."""

ISSUERS = {
    "government": IDENTITY_VCT,
    "school": DEGREE_VCT,
    "bank": BANK_STATEMENT_VCT,
}
PLATFORMS = ("platform-a", "platform-b", "platform-c")


def no_step(name: str) -> None:
    """A :data:`Step` that shows nothing."""
    del name


@dataclass(frozen=True)
class BorrowerProfile:
    """What the three issuers know about one borrower (synthetic)."""

    identity: IdentityClaims
    degree: DegreeClaims
    statement: BankStatementClaims


class Blobs:
    """Content-addressed bytes in memory (PSI filters), by SHA-256."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    def publish(self, data: bytes) -> str:
        """Store ``data``; returns its address."""
        address = "sha256:" + hashlib.sha256(data).hexdigest()
        self._blobs[address] = data
        return address

    def fetch(self, address: str) -> bytes:
        """The bytes at ``address``; raises :class:`KeyError`."""
        return self._blobs[address]


@dataclass
class LendingConsortium:
    """Deployed contracts and every member's in-process side."""

    chain: Chain
    ledger: Deployment
    admin: Account
    host: DocumentHost
    blobs: Blobs
    subject_key: SubjectKey
    issuers: dict[str, IssuerOrganisation]
    platforms: dict[str, PlatformNode]
    _nonces: dict[str, NonceStore] = field(default_factory=dict)

    @classmethod
    def setup(
        cls, settings: Settings, *, on_step: Step = no_step
    ) -> "LendingConsortium":
        """Deploy and enroll everyone on the chain ``settings`` select."""
        on_step("deploy the consortium")
        chain = connect(settings)
        admin = chain.new_account("admin", ether=100)
        ledger = deploy(chain, admin)
        host, blobs, key = DocumentHost(), Blobs(), SubjectKey.generate()

        on_step("enroll issuers and platforms")
        issuers = {}
        for name, vct in ISSUERS.items():
            account = chain.new_account(name)
            enroll_issuer(ledger.consortium, account, name, [vct], admin=admin)
            issuers[name] = IssuerOrganisation.setup(
                ledger,
                account,
                status_uri=f"https://{name}.agora.example/status/1",
                host=host,
            )
        platforms = {}
        for name in PLATFORMS:
            account = chain.new_account(name)
            ledger.consortium.add_member(
                account.address, name, Role.PLATFORM, account=admin
            )
            did = ethr_did(chain.chain_id, account.address)
            platforms[name] = PlatformNode(
                name, account, did, ledger, key, blobs.publish
            )
        return cls(chain, ledger, admin, host, blobs, key, issuers, platforms)

    def nonces(self, platform: str) -> NonceStore:
        """The single-use nonces ``platform`` hands out."""
        return self._nonces.setdefault(platform, NonceStore())

    def verifier(self, platform: str) -> PresentationVerifier:
        """A verifier for ``platform``, reading the chain on every check."""
        return consortium_verifier(
            self.ledger,
            self.host.fetch,
            nonces=self.nonces(platform),
            recheck_after_s=0,
        )

    def lending_platform(self, name: str) -> LendingPlatform:
        """``name``'s side of loan applications."""
        return LendingPlatform(
            self.platforms[name].did, self.verifier(name), self.nonces(name)
        )

    def risk_checker(self, name: str, *, reveal_count: bool = True) -> RiskChecker:
        """``name`` checking applicants against the other platforms."""
        return RiskChecker(
            self.platforms[name],
            [node for other, node in self.platforms.items() if other != name],
            ledger=self.ledger,
            verifier=self.verifier(name),
            nonces=self.nonces(name),
            subject_key=self.subject_key,
            fetch=self.blobs.fetch,
            reveal_count=reveal_count,
        )

    def onboard(
        self, wallet: Wallet, profile: BorrowerProfile
    ) -> tuple[Did, dict[str, CredentialRecord]]:
        """A new DID in ``wallet`` and the three credentials for it; returns
        the DID and the issuers' records (to revoke by)."""
        holder = wallet.new_did()
        holder_jwk = wallet.public_jwk(holder)
        claims: dict[str, dict[str, Any]] = {
            IDENTITY_VCT: profile.identity.to_claims(today=datetime.now(UTC).date()),
            DEGREE_VCT: profile.degree.to_claims(),
            BANK_STATEMENT_VCT: profile.statement.to_claims(),
        }
        records = {}
        for name, vct in ISSUERS.items():
            credential, records[vct] = self.issuers[name].issue(
                vct,
                claims[vct],
                holder_jwk=holder_jwk,
                valid_for_s=DEFAULT_VALIDITY_S[vct],
            )
            wallet.add_credential(credential.serialized)
        return holder, records
