"""Single-use nonces: a presentation verifies once; its replay is refused."""

import pytest

from agora.identity.sdjwt import (
    Algorithm,
    NonceStore,
    PresentationVerifier,
    Rule,
    SigningKey,
    VerificationError,
)

from .conftest import NOW, World, request


def _verifier(world: World, nonces: NonceStore) -> PresentationVerifier:
    return PresentationVerifier(
        keys=world.keys,
        trust=world.trust,
        status=world.status,
        clock=lambda: NOW + 20,
        nonces=nonces,
    )


def test_a_presentation_verifies_once_and_its_replay_is_refused(
    world: World,
) -> None:
    nonces = NonceStore()
    nonce = nonces.issue()
    presentation = world.present(nonce=nonce)
    verifier = _verifier(world, nonces)

    assert verifier.verify(presentation, request(nonce=nonce)).claims
    with pytest.raises(VerificationError) as caught:
        verifier.verify(presentation, request(nonce=nonce))
    assert caught.value.rule is Rule.REPLAYED_NONCE


def test_a_nonce_not_issued_here_is_refused(world: World) -> None:
    nonces = NonceStore()
    presentation = world.present(nonce="chosen-by-the-holder")

    with pytest.raises(VerificationError) as caught:
        _verifier(world, nonces).verify(
            presentation, request(nonce="chosen-by-the-holder")
        )
    assert caught.value.rule is Rule.NONCE


def test_an_expired_nonce_is_refused() -> None:
    now = [0.0]
    nonces = NonceStore(ttl_s=60, clock=lambda: now[0])
    nonce = nonces.issue()
    now[0] = 60.0

    with pytest.raises(VerificationError) as caught:
        nonces.consume(nonce)
    assert caught.value.rule is Rule.NONCE


def test_a_failed_presentation_does_not_spend_the_nonce(world: World) -> None:
    nonces = NonceStore()
    nonce = nonces.issue()
    verifier = _verifier(world, nonces)
    impostor = SigningKey.generate(Algorithm.EDDSA)
    forged = world.present(nonce=nonce, holder_key=impostor)

    with pytest.raises(VerificationError) as caught:
        verifier.verify(forged, request(nonce=nonce))
    assert caught.value.rule is Rule.KEY_BINDING_SIGNATURE

    assert verifier.verify(world.present(nonce=nonce), request(nonce=nonce)).claims


def test_outstanding_nonces_are_bounded_oldest_first() -> None:
    nonces = NonceStore(max_outstanding=2)
    oldest, middle, newest = nonces.issue(), nonces.issue(), nonces.issue()

    assert len(nonces) == 2
    with pytest.raises(VerificationError):
        nonces.consume(oldest)
    nonces.consume(middle)
    nonces.consume(newest)


def test_nonces_are_distinct_and_unguessable() -> None:
    nonces = NonceStore()
    issued = {nonces.issue() for _ in range(1000)}
    assert len(issued) == 1000
    assert all(len(nonce) == 32 for nonce in issued)
