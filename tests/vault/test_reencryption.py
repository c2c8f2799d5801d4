"""Umbral wrapping of data keys and m-of-n re-encryption, rule by rule."""

import pytest

from agora.vault.encryption import DataKey
from agora.vault.errors import (
    InvalidSharingPolicyError,
    KeyFragmentError,
    TooFewFragmentsError,
    WrongKeyError,
)
from agora.vault.reencryption import (
    Parties,
    SecretKey,
    SharingPolicy,
    WrappedKey,
    decrypt_reencrypted,
    generate_kfrags,
    reencrypt,
    unwrap_data_key,
    verify_cfrag,
    verify_kfrag,
    wrap_data_key,
)

OWNER, GRANTEE, SIGNER, STRANGER = (SecretKey.random() for _ in range(4))
PARTIES = Parties(SIGNER.public_key(), OWNER.public_key(), GRANTEE.public_key())
POLICY = SharingPolicy(threshold=2, shares=3)


@pytest.fixture(scope="module")
def data_key() -> DataKey:
    return DataKey.generate()


@pytest.fixture(scope="module")
def wrapped(data_key: DataKey) -> WrappedKey:
    return wrap_data_key(OWNER.public_key(), data_key)


def _cfrag_bytes(wrapped: WrappedKey, count: int) -> list[bytes]:
    """What ``count`` proxies send back: each verified its kfrag first."""
    kfrags = generate_kfrags(OWNER, GRANTEE.public_key(), SIGNER, POLICY)
    received = [verify_kfrag(bytes(kfrag), parties=PARTIES) for kfrag in kfrags]
    return [bytes(reencrypt(wrapped, kfrag)) for kfrag in received[:count]]


def test_the_owner_unwraps_the_data_key(data_key: DataKey, wrapped: WrappedKey) -> None:
    assert unwrap_data_key(OWNER, wrapped).unsafe_bytes() == data_key.unsafe_bytes()


@pytest.mark.parametrize("count", [2, 3])
def test_threshold_cfrags_give_the_grantee_the_data_key(
    count: int, data_key: DataKey, wrapped: WrappedKey
) -> None:
    cfrags = [
        verify_cfrag(cfrag, wrapped, parties=PARTIES)
        for cfrag in _cfrag_bytes(wrapped, count)
    ]
    key = decrypt_reencrypted(GRANTEE, wrapped, cfrags, parties=PARTIES)
    assert key.unsafe_bytes() == data_key.unsafe_bytes()


def test_another_key_does_not_unwrap(wrapped: WrappedKey) -> None:
    with pytest.raises(WrongKeyError):
        unwrap_data_key(STRANGER, wrapped)


def test_too_few_cfrags_are_refused(wrapped: WrappedKey) -> None:
    one = [verify_cfrag(_cfrag_bytes(wrapped, 1)[0], wrapped, parties=PARTIES)]
    with pytest.raises(TooFewFragmentsError):
        decrypt_reencrypted(GRANTEE, wrapped, one, parties=PARTIES)


def test_the_same_cfrag_twice_is_too_few(wrapped: WrappedKey) -> None:
    cfrag = verify_cfrag(_cfrag_bytes(wrapped, 1)[0], wrapped, parties=PARTIES)
    with pytest.raises(TooFewFragmentsError):
        decrypt_reencrypted(GRANTEE, wrapped, [cfrag, cfrag], parties=PARTIES)


def test_someone_else_holding_the_cfrags_gets_nothing(wrapped: WrappedKey) -> None:
    cfrags = [
        verify_cfrag(cfrag, wrapped, parties=PARTIES)
        for cfrag in _cfrag_bytes(wrapped, 2)
    ]
    with pytest.raises(WrongKeyError):
        decrypt_reencrypted(STRANGER, wrapped, cfrags, parties=PARTIES)


def _flipped(fragment: bytes, position: int) -> bytes:
    altered = bytearray(fragment)
    altered[position] ^= 1
    return bytes(altered)


def test_a_forged_kfrag_is_refused_by_the_proxy() -> None:
    kfrag = generate_kfrags(OWNER, GRANTEE.public_key(), SIGNER, POLICY)[0]
    with pytest.raises(KeyFragmentError):
        verify_kfrag(_flipped(bytes(kfrag), 100), parties=PARTIES)


def test_a_kfrag_forged_in_its_receiver_signature_is_refused_by_the_grantee(
    wrapped: WrappedKey,
) -> None:
    # A kfrag carries two signatures: the proxy checks one, the
    # grantee checks the other through the cfrag. Bytes 244-307 of a
    # 310-byte kfrag are the receiver's signature, unseen by the proxy.
    kfrag = generate_kfrags(OWNER, GRANTEE.public_key(), SIGNER, POLICY)[0]
    forged = verify_kfrag(_flipped(bytes(kfrag), 250), parties=PARTIES)
    cfrag = bytes(reencrypt(wrapped, forged))
    with pytest.raises(KeyFragmentError):
        verify_cfrag(cfrag, wrapped, parties=PARTIES)


def test_a_kfrag_for_another_grantee_is_refused() -> None:
    kfrag = generate_kfrags(OWNER, STRANGER.public_key(), SIGNER, POLICY)[0]
    with pytest.raises(KeyFragmentError):
        verify_kfrag(bytes(kfrag), parties=PARTIES)


def test_a_kfrag_signed_by_someone_else_is_refused() -> None:
    kfrag = generate_kfrags(OWNER, GRANTEE.public_key(), STRANGER, POLICY)[0]
    with pytest.raises(KeyFragmentError):
        verify_kfrag(bytes(kfrag), parties=PARTIES)


def test_garbage_is_not_a_kfrag() -> None:
    with pytest.raises(KeyFragmentError):
        verify_kfrag(b"not a key fragment", parties=PARTIES)


def test_a_forged_cfrag_is_refused(wrapped: WrappedKey) -> None:
    cfrag = _cfrag_bytes(wrapped, 1)[0]
    with pytest.raises(KeyFragmentError):
        verify_cfrag(_flipped(cfrag, 100), wrapped, parties=PARTIES)


def test_a_cfrag_of_another_capsule_is_refused(
    data_key: DataKey, wrapped: WrappedKey
) -> None:
    other = wrap_data_key(OWNER.public_key(), data_key)
    with pytest.raises(KeyFragmentError):
        verify_cfrag(_cfrag_bytes(other, 1)[0], wrapped, parties=PARTIES)


@pytest.mark.parametrize(
    ("threshold", "shares"),
    [(0, 3), (4, 3), (1, 0), (2, 256), (-1, 1)],
    ids=[
        "zero-threshold",
        "threshold-above-shares",
        "no-shares",
        "too-many",
        "negative",
    ],
)
def test_sharing_policy_bounds(threshold: int, shares: int) -> None:
    with pytest.raises(InvalidSharingPolicyError):
        SharingPolicy(threshold=threshold, shares=shares)


def test_a_wrapped_key_never_shows_in_its_repr(wrapped: WrappedKey) -> None:
    assert wrapped.capsule.hex() not in repr(wrapped)
    assert str(wrapped.capsule)[2:20] not in repr(wrapped)
