"""Sharing records by consent: the owner's and the grantee's recipes.

- :func:`share` (owner): writes the grant on chain, splits a re-encryption
  key to the grantee into m-of-n kfrags (default 2-of-3), sends one to each
  proxy sealed to that proxy and signed by the owner's account, and labels
  the shared records. It returns a :class:`Share`, everything the grantee
  needs and nothing secret.
- :func:`revoke` (owner): ends the grant on chain; proxies refuse from the
  next block on, and are told to drop their fragments.
- :func:`read_shared` (grantee): asks the proxies for capsule fragments,
  verifies them, combines ``m`` into the data key and decrypts the record.

Who owns a grant: the account that sends it. A patient's DID maps to that
account by :func:`owner_address`: the address of a ``did:ethr``, or of a
secp256k1 ``did:key`` (the same key signs transactions). Plaintext and data
keys never leave the owner's or the grantee's process.
"""

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_typing import ChecksumAddress
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from umbral_pre import SecretKeyFactory
from web3 import Web3

from agora.identity.did_ethr import parse_ethr_did
from agora.identity.did_key import did_key_from_key_pair, public_key_from_did_key
from agora.identity.errors import IdentityError
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.ledger import Account, Category, Deployment, GrantId, grantee_hash
from agora.ledger import purpose_code as to_purpose_code
from agora.vault.blockstore import BlockBackend, Cid, parse_block_ref
from agora.vault.errors import (
    ConsentRefusedError,
    InvalidSharingPolicyError,
    KeyFragmentError,
    OutOfScopeError,
    OwnerDidError,
    ShareFormatError,
    TooFewFragmentsError,
    VaultError,
)
from agora.vault.objects import decrypt_to_file, read_envelope
from agora.vault.proxy import FragmentDelivery, ProxyEndpoint, sign_request
from agora.vault.reencryption import (
    Parties,
    PublicKey,
    SecretKey,
    SharingPolicy,
    VerifiedCapsuleFrag,
    decrypt_reencrypted,
    generate_kfrags,
    verify_cfrag,
)
from agora.vault.scope import (
    InclusionProof,
    RecordId,
    RecordLabel,
    Scope,
    record_proof,
)

logger = logging.getLogger(__name__)

DEFAULT_POLICY = SharingPolicy(threshold=2, shares=3)


def owner_address(did: str) -> ChecksumAddress:
    """The account that owns grants for ``did``.

    ``did:ethr:<chain>:<address>`` (or without the chain) is its address; a
    ``did:key`` of a secp256k1 key is that key's address. Any other DID
    (an Ed25519 ``did:key``) names no account: :class:`OwnerDidError`.
    """
    try:
        if did.startswith("did:ethr:"):
            return parse_ethr_did(did)[1]
        return ethereum_address(public_key_from_did_key(did))
    except IdentityError as exc:
        raise OwnerDidError(
            "grants are owned by the account of a did:ethr or secp256k1 did:key"
        ) from exc


_DERIVATION_INFO = b"agora-vault/v1 umbral keys"


def derive_umbral_key(secret: bytes, label: str) -> SecretKey:
    """An Umbral key derived from another key's 32-byte ``secret``.

    HKDF-SHA256 (RFC 5869) of ``secret`` seeds Umbral's
    ``SecretKeyFactory``, which derives one key per ``label``: keys of
    different labels, or of different secrets, are unrelated, and none
    reveals ``secret``. The DID or account key stays the only secret to keep.
    """
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=SecretKeyFactory.seed_size(),
        salt=None,
        info=_DERIVATION_INFO,
    ).derive(secret)
    factory = SecretKeyFactory.from_secure_randomness(seed)
    return factory.make_key(label.encode())


@dataclass(frozen=True)
class OwnerKeys:
    """An owner's keys: the account that owns grants and signs labels and
    deliveries, the Umbral key records are wrapped to, and the Umbral key
    that signs kfrags."""

    account: Account = field(repr=False)
    umbral: SecretKey = field(repr=False)
    signer: SecretKey = field(repr=False)

    @classmethod
    def generate(cls, account: Account) -> "OwnerKeys":
        """Fresh Umbral keys for ``account``."""
        return cls(account, SecretKey.random(), SecretKey.random())

    @classmethod
    def derive(cls, account: Account) -> "OwnerKeys":
        """The Umbral keys derived from ``account``'s private key
        (:func:`derive_umbral_key`): whoever holds the account, in a wallet
        say, holds the vault; nothing else needs keeping."""
        secret = bytes(account.key)
        return cls(
            account,
            derive_umbral_key(secret, "owner"),
            derive_umbral_key(secret, "kfrag-signer"),
        )

    @property
    def public_key(self) -> PublicKey:
        """What :func:`agora.vault.put_encrypted` wraps data keys to."""
        return self.umbral.public_key()

    def __repr__(self) -> str:
        return f"OwnerKeys({self.account.address})"


@dataclass(frozen=True)
class GranteeKeys:
    """A grantee's DID key (it signs requests) and Umbral key (fragments
    are re-encrypted to it)."""

    did: str
    method_id: str
    key: KeyPair = field(repr=False)
    umbral: SecretKey = field(repr=False)

    @classmethod
    def generate(cls, key_type: KeyType = KeyType.ED25519) -> "GranteeKeys":
        """A new ``did:key`` and Umbral key."""
        pair = KeyPair.generate(key_type)
        did = did_key_from_key_pair(pair)
        method_id = f"{did}#{did.removeprefix('did:key:')}"
        return cls(did, method_id, pair, SecretKey.random())

    @classmethod
    def derive(cls, pair: KeyPair) -> "GranteeKeys":
        """The ``did:key`` of ``pair`` and the Umbral key derived from it
        (:func:`derive_umbral_key`)."""
        did = did_key_from_key_pair(pair)
        method_id = f"{did}#{did.removeprefix('did:key:')}"
        umbral = derive_umbral_key(pair.private_bytes(), "grantee")
        return cls(did, method_id, pair, umbral)

    @property
    def public_key(self) -> PublicKey:
        """What the owner generates kfrags to."""
        return self.umbral.public_key()


@dataclass(frozen=True)
class SharedRecord:
    """A record of the owner's catalog: id, category, and where it is."""

    record_id: RecordId
    category: Category
    envelope: Cid


@dataclass(frozen=True)
class Share:
    """What the grantee receives: no secret, only what it must present.

    :meth:`to_json` and :meth:`from_json` carry it between processes.
    """

    grant_id: GrantId
    threshold: int
    proxies: tuple[ChecksumAddress, ...]
    signer: PublicKey
    """The owner's kfrag-signing key, that capsule fragments verify under."""
    labels: Mapping[RecordId, RecordLabel]
    proofs: Mapping[RecordId, InclusionProof]
    """Inclusion proofs of the records the grant covers by id."""

    def to_json(self) -> dict[str, Any]:
        """The share as a JSON object (``agora-consent-share/v1``)."""
        document = _ShareDocument(
            format=SHARE_FORMAT,
            grant_id=self.grant_id,
            threshold=self.threshold,
            proxies=list(self.proxies),
            signer=self.signer.to_compressed_bytes().hex(),
            labels=[
                _LabelDocument(
                    record=label.record_id,
                    category=int(label.category),
                    envelope=label.envelope,
                    signature=label.signature.hex(),
                )
                for label in self.labels.values()
            ],
            proofs={
                record_id: _ProofDocument(
                    index=proof.index,
                    tree_size=proof.tree_size,
                    path=[node.hex() for node in proof.path],
                )
                for record_id, proof in self.proofs.items()
            },
        )
        return document.model_dump()

    @classmethod
    def from_json(cls, data: object) -> "Share":
        """The share :meth:`to_json` wrote; :class:`ShareFormatError` if
        ``data`` is not one. Labels and proofs are checked by the proxies,
        not here."""
        try:
            document = _ShareDocument.model_validate(data)
            signer = PublicKey.from_compressed_bytes(bytes.fromhex(document.signer))
        except (ValidationError, ValueError) as exc:
            raise ShareFormatError(f"not an {SHARE_FORMAT} document") from exc
        return cls(
            grant_id=GrantId(document.grant_id),
            threshold=document.threshold,
            proxies=tuple(Web3.to_checksum_address(p) for p in document.proxies),
            signer=signer,
            labels={
                RecordId(label.record): RecordLabel(
                    RecordId(label.record),
                    Category(label.category),
                    Cid(label.envelope),
                    bytes.fromhex(label.signature),
                )
                for label in document.labels
            },
            proofs={
                RecordId(record_id): InclusionProof(
                    proof.index,
                    proof.tree_size,
                    tuple(bytes.fromhex(node) for node in proof.path),
                )
                for record_id, proof in document.proofs.items()
            },
        )


SHARE_FORMAT = "agora-consent-share/v1"

_HEX = r"^(?:[0-9a-f]{2})*$"


class _LabelDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record: str = Field(min_length=1)
    category: int = Field(ge=1, le=max(Category) * 2 - 1)
    envelope: str
    signature: str = Field(pattern=_HEX)

    @field_validator("envelope")
    @classmethod
    def _envelope_is_a_cid(cls, value: str) -> str:
        return parse_block_ref(value).cid  # InvalidCidError is a ValueError


class _ProofDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    path: list[str] = Field(max_length=64)

    @field_validator("path")
    @classmethod
    def _nodes_are_digests(cls, value: list[str]) -> list[str]:
        if not all(re.fullmatch(r"[0-9a-f]{64}", node) for node in value):
            raise ValueError("a proof node is 32 bytes of hex")
        return value


class _ShareDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["agora-consent-share/v1"]
    grant_id: int = Field(ge=1)
    threshold: int = Field(ge=1, le=255)
    proxies: list[str] = Field(min_length=1, max_length=255)
    signer: str = Field(pattern=r"^0[23][0-9a-f]{64}$")
    labels: list[_LabelDocument]
    proofs: dict[str, _ProofDocument]

    @field_validator("proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        if not all(Web3.is_address(address) for address in value):
            raise ValueError("a proxy is an Ethereum address")
        return value


def share(
    ledger: Deployment,
    owner: OwnerKeys,
    *,
    grantee: str,
    grantee_key: PublicKey,
    scope: Scope,
    purpose: str,
    expiry: int,
    proxies: Sequence[ProxyEndpoint],
    records: Sequence[SharedRecord] = (),
    policy: SharingPolicy = DEFAULT_POLICY,
) -> Share:
    """Grant ``grantee`` (a DID) ``scope`` for ``purpose`` until ``expiry``
    (chain time) and hand one kfrag to each of ``proxies``.

    ``policy.shares`` must equal the number of proxies. The returned share
    labels each of ``records`` that ``scope`` covers; the others are left
    out, so a label never vouches for a record outside the grant. A proxy
    that refuses its fragment raises here, after the grant is on chain:
    revoke it, or share again.
    """
    if policy.shares != len(proxies):
        raise InvalidSharingPolicyError(
            f"a {policy.threshold}-of-{policy.shares} policy needs"
            f" {policy.shares} proxies, not {len(proxies)}"
        )

    # On chain first: proxies check the grant before taking a fragment.
    grant_id = ledger.consent.grant(
        grantee_hash(grantee),
        records_root=scope.root,
        categories=scope.categories,
        purpose=to_purpose_code(purpose),
        expiry=expiry,
        account=owner.account,
    )

    parties = Parties(owner.signer.public_key(), owner.public_key, grantee_key)
    kfrags = generate_kfrags(owner.umbral, grantee_key, owner.signer, policy)
    for kfrag, proxy in zip(kfrags, proxies, strict=True):
        proxy.accept(
            FragmentDelivery.seal(
                kfrag,
                grant_id=grant_id,
                proxy=proxy,
                parties=parties,
                owner_account=owner.account,
            )
        )

    covered = [r for r in records if scope.admits(r.record_id, r.category)]
    labels = {
        r.record_id: RecordLabel.sign(
            r.record_id, r.category, r.envelope, owner=owner.account
        )
        for r in covered
    }
    proofs = {
        r.record_id: record_proof(scope.records, r.record_id)
        for r in covered
        if r.record_id in scope.records
    }
    logger.info("grant %d shared through %d proxies", grant_id, len(proxies))
    return Share(
        grant_id=grant_id,
        threshold=policy.threshold,
        proxies=tuple(proxy.address for proxy in proxies),
        signer=owner.signer.public_key(),
        labels=labels,
        proofs=proofs,
    )


def revoke(
    ledger: Deployment,
    owner: OwnerKeys,
    grant_id: GrantId,
    *,
    proxies: Sequence[ProxyEndpoint] = (),
) -> None:
    """End ``grant_id`` on chain. The chain is what proxies obey; those in
    ``proxies`` are also asked to drop their fragment."""
    ledger.consent.revoke(grant_id, account=owner.account)
    for proxy in proxies:
        proxy.forget(grant_id)
    logger.info("grant %d revoked", grant_id)


def read_shared(
    store: BlockBackend,
    shared: Share,
    record_id: str,
    grantee: GranteeKeys,
    *,
    proxies: Mapping[ChecksumAddress, ProxyEndpoint],
    destination: Path,
    clock: Callable[[], float] = time.time,
) -> int:
    """The grantee's read of ``record_id`` into ``destination``; returns
    the plaintext size.

    Asks the share's proxies in turn (those reachable in ``proxies``) until
    ``threshold`` capsule fragments verify. If too few do, raises the first
    consent refusal a proxy gave (:class:`GrantRevokedError`, …) or else
    :class:`TooFewFragmentsError`. Nothing is written on failure.
    """
    label = shared.labels.get(RecordId(record_id))
    if label is None:
        raise OutOfScopeError("the share holds no label for this record")
    envelope = read_envelope(store, label.envelope)
    parties = Parties(shared.signer, envelope.owner_key, grantee.public_key)

    cfrags: list[VerifiedCapsuleFrag] = []
    failures: list[VaultError] = []
    for address in shared.proxies:
        proxy = proxies.get(address)
        if proxy is None:
            continue
        request = sign_request(
            shared.grant_id,
            label,
            proof=shared.proofs.get(label.record_id),
            proxy=address,
            requester=grantee.did,
            method_id=grantee.method_id,
            key=grantee.key,
            now=int(clock()),
        )
        try:
            cfrag = proxy.reencrypt(request)
            cfrags.append(verify_cfrag(cfrag, envelope.wrapped, parties=parties))
        except ConsentRefusedError as refused:
            # The grant's state, not a fault: raised below if it stops the read.
            logger.info("proxy %s refused: %s", address, refused.rule)
            failures.append(refused)
            continue
        except KeyFragmentError as forged:
            logger.warning("proxy %s gave a fragment that does not verify", address)
            failures.append(forged)
            continue
        if len(cfrags) == shared.threshold:
            break

    if len(cfrags) < shared.threshold:
        refusals = [f for f in failures if isinstance(f, ConsentRefusedError)]
        if refusals:
            raise refusals[0]
        raise TooFewFragmentsError(
            f"{len(cfrags)} verified capsule fragment(s), {shared.threshold} needed"
        ) from (failures[-1] if failures else None)

    data_key = decrypt_reencrypted(
        grantee.umbral, envelope.wrapped, cfrags, parties=parties
    )
    return decrypt_to_file(store, envelope, data_key, destination)
