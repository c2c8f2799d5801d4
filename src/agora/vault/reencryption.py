"""Data keys wrapped with Umbral threshold proxy re-encryption.

Umbral (Nuñez, "Umbral: a threshold proxy re-encryption scheme", NuCypher
2018; ``umbral-pre`` is its reference implementation) wraps an object's
:class:`~agora.vault.encryption.DataKey` to the owner's public key. To
share, the owner splits a re-encryption key for one grantee into ``n`` key
fragments (kfrags), one per proxy; any ``m`` proxies each turn the object's
capsule into a capsule fragment (cfrag), and the grantee combines ``m``
verified cfrags with their own secret key to recover the data key. Proxies
see capsules and kfrags only: never plaintext, never the data key.

Every step that receives something from another party verifies it first
and raises a specific error; ``umbral_pre`` exceptions stop here.

Example::

    >>> from agora.vault.encryption import DataKey
    >>> owner, grantee, signer = (SecretKey.random() for _ in range(3))
    >>> data_key = DataKey.generate()
    >>> wrapped = wrap_data_key(owner.public_key(), data_key)
    >>> policy = SharingPolicy(threshold=2, shares=3)
    >>> kfrags = generate_kfrags(owner, grantee.public_key(), signer, policy)
    >>> parties = Parties(
    ...     signer.public_key(), owner.public_key(), grantee.public_key()
    ... )
    >>> cfrags = [reencrypt(wrapped, kfrag) for kfrag in kfrags[:2]]
    >>> key = decrypt_reencrypted(grantee, wrapped, cfrags, parties=parties)
    >>> key.unsafe_bytes() == data_key.unsafe_bytes()
    True
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import umbral_pre
from umbral_pre import (
    Capsule,
    CapsuleFrag,
    KeyFrag,
    PublicKey,
    SecretKey,
    Signer,
    VerifiedCapsuleFrag,
    VerifiedKeyFrag,
    decrypt_original,
    encrypt,
)
from umbral_pre import (
    decrypt_reencrypted as umbral_decrypt_reencrypted,
)
from umbral_pre import (
    generate_kfrags as umbral_generate_kfrags,
)
from umbral_pre import (
    reencrypt as umbral_reencrypt,
)

from agora.vault.encryption import DataKey
from agora.vault.errors import (
    EnvelopeError,
    InvalidSharingPolicyError,
    KeyFragmentError,
    TooFewFragmentsError,
    WrongKeyError,
)

__all__ = [
    "Parties",
    "PublicKey",
    "SecretKey",
    "SharingPolicy",
    "VerifiedCapsuleFrag",
    "VerifiedKeyFrag",
    "WrappedKey",
    "decrypt_reencrypted",
    "generate_kfrags",
    "reencrypt",
    "unwrap_data_key",
    "verify_cfrag",
    "verify_kfrag",
    "wrap_data_key",
]

# umbral-pre 0.11.0 raises VerificationError from its Rust core but leaves it
# out of its type stub (__init__.pyi), hence the lookup by name.
_VerificationError: type[Exception] = vars(umbral_pre)["VerificationError"]

MAX_SHARES = 255
"""Umbral's fragment count is a byte (one kfrag id per share)."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted to its owner: the Umbral capsule and ciphertext.

    Neither field is secret in Umbral's model (only the owner's key or ``m``
    cfrags open them), but both stay out of reprs and logs all the same.
    """

    capsule: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)

    @cached_property
    def parsed_capsule(self) -> Capsule:
        """The capsule as an ``umbral_pre`` object (parsed once: a quarter
        of a millisecond, paid by every re-encryption, check and decryption
        otherwise)."""
        try:
            return Capsule.from_bytes(self.capsule)
        except ValueError as exc:
            raise EnvelopeError("the wrapped key's capsule is malformed") from exc


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """``threshold`` of ``shares`` proxies must re-encrypt (m-of-n)."""

    threshold: int
    shares: int

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= self.shares <= MAX_SHARES:
            raise InvalidSharingPolicyError(
                f"need 1 <= m <= n <= {MAX_SHARES},"
                f" got {self.threshold}-of-{self.shares}"
            )


@dataclass(frozen=True, slots=True)
class Parties:
    """The public keys a fragment is checked against.

    ``signer`` signed the kfrags (the owner's signing key); ``owner`` wrapped
    the data key; ``grantee`` is the one the fragments re-encrypt to.
    """

    signer: PublicKey
    owner: PublicKey
    grantee: PublicKey


def wrap_data_key(owner: PublicKey, data_key: DataKey) -> WrappedKey:
    """Encrypt ``data_key`` to ``owner`` (Umbral ``encrypt``)."""
    capsule, ciphertext = encrypt(owner, data_key.unsafe_bytes())
    return WrappedKey(bytes(capsule), ciphertext)


def unwrap_data_key(owner: SecretKey, wrapped: WrappedKey) -> DataKey:
    """The owner's path back to the data key.

    Raises :class:`WrongKeyError` if ``owner`` is not the key it was
    wrapped to (or the wrapped key was altered: Umbral cannot tell which).
    """
    try:
        secret = decrypt_original(owner, wrapped.parsed_capsule, wrapped.ciphertext)
    except ValueError as exc:
        raise WrongKeyError("this secret key does not unwrap the data key") from exc
    return DataKey(secret)


def generate_kfrags(
    owner: SecretKey,
    grantee: PublicKey,
    signer: SecretKey,
    policy: SharingPolicy,
) -> list[VerifiedKeyFrag]:
    """Split re-encryption from ``owner`` to ``grantee`` into ``policy.shares``
    kfrags, any ``policy.threshold`` of which suffice.

    The kfrags are signed by ``signer`` over both the owner's and the
    grantee's key, so a proxy can check it was handed a fragment for this
    pair by this owner (:func:`verify_kfrag`).
    """
    return umbral_generate_kfrags(
        delegating_sk=owner,
        receiving_pk=grantee,
        signer=Signer(signer),
        threshold=policy.threshold,
        shares=policy.shares,
        sign_delegating_key=True,
        sign_receiving_key=True,
    )


def verify_kfrag(kfrag: bytes, *, parties: Parties) -> VerifiedKeyFrag:
    """A proxy's check of a kfrag it received, as bytes, from an owner."""
    try:
        return KeyFrag.from_bytes(kfrag).verify(
            verifying_pk=parties.signer,
            delegating_pk=parties.owner,
            receiving_pk=parties.grantee,
        )
    except (ValueError, TypeError, _VerificationError) as exc:
        raise KeyFragmentError("key fragment failed verification") from exc


def reencrypt(wrapped: WrappedKey, kfrag: VerifiedKeyFrag) -> VerifiedCapsuleFrag:
    """A proxy's re-encryption of an object's capsule with its kfrag."""
    return umbral_reencrypt(capsule=wrapped.parsed_capsule, kfrag=kfrag)


def verify_cfrag(
    cfrag: bytes, wrapped: WrappedKey, *, parties: Parties
) -> VerifiedCapsuleFrag:
    """A grantee's check of a cfrag received, as bytes, from a proxy."""
    try:
        return CapsuleFrag.from_bytes(cfrag).verify(
            capsule=wrapped.parsed_capsule,
            verifying_pk=parties.signer,
            delegating_pk=parties.owner,
            receiving_pk=parties.grantee,
        )
    except (ValueError, TypeError, _VerificationError) as exc:
        raise KeyFragmentError("capsule fragment failed verification") from exc


def decrypt_reencrypted(
    grantee: SecretKey,
    wrapped: WrappedKey,
    cfrags: Sequence[VerifiedCapsuleFrag],
    *,
    parties: Parties,
) -> DataKey:
    """The grantee's path to the data key from verified cfrags.

    Raises :class:`TooFewFragmentsError` if the cfrags are fewer than the
    threshold (or do not combine), :class:`WrongKeyError` if ``grantee`` is
    not the key they were re-encrypted to.
    """
    if grantee.public_key().to_compressed_bytes() != (
        parties.grantee.to_compressed_bytes()
    ):
        raise WrongKeyError("this secret key is not the grantee's")
    try:
        secret = umbral_decrypt_reencrypted(
            receiving_sk=grantee,
            delegating_pk=parties.owner,
            capsule=wrapped.parsed_capsule,
            verified_cfrags=list(cfrags),
            ciphertext=wrapped.ciphertext,
        )
    except ValueError as exc:
        raise TooFewFragmentsError(
            f"{len(cfrags)} capsule fragment(s) do not open the data key"
        ) from exc
    if secret is None:
        raise TooFewFragmentsError("the capsule fragments do not open the data key")
    return DataKey(secret)
