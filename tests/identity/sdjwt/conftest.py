"""A small world of issuers, a holder and a verifier, at a fixed time."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from jwcrypto.jwk import JWK

from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    HeldCredential,
    InMemoryKeys,
    InMemoryStatusList,
    InMemoryTrustList,
    PresentationRequest,
    PresentationVerifier,
    SigningKey,
    StatusReference,
)
from agora.identity.sdjwt.disclosures import Disclosure, digest
from agora.identity.sdjwt.jose import b64url_encode

NOW = 1_800_000_000
ISSUER = "did:example:government"
KEY_ID = f"{ISSUER}#key-1"
VCT = "https://agora.example/vct/identity"
STATUS_URI = "https://government.example/status/1"
NONCE = "nonce-6f1c"
AUDIENCE = "did:example:lender-a"
CLAIMS = {
    "given_name": "Ada",
    "birth_date": "1990-01-01",
    "national_id": "X-123-456",
    "address": {"street": "1 Main St", "locality": "Springfield"},
    "age_over_18": True,
}


def counting_salt() -> Callable[[], bytes]:
    """Deterministic, distinct 16-byte salts."""
    counter = iter(range(1_000_000))
    return lambda: next(counter).to_bytes(16, "big")


def encode_segment(value: Any) -> str:
    return b64url_encode(json.dumps(value).encode())


@dataclass
class World:
    """Keys, collaborators and builders shared by the SD-JWT tests."""

    issuer_private: dict[str, str]
    holder_private: dict[str, str]
    issuer_key: SigningKey
    holder_key: SigningKey
    keys: InMemoryKeys
    trust: InMemoryTrustList
    status: InMemoryStatusList
    status_reference: StatusReference = field(
        default_factory=lambda: StatusReference(uri=STATUS_URI, index=3)
    )

    def issuer(self, **kwargs: Any) -> CredentialIssuer:
        kwargs.setdefault("clock", lambda: NOW)
        kwargs.setdefault("salt", counting_salt())
        return CredentialIssuer(ISSUER, self.issuer_key, **kwargs)

    def issue(self, claims: dict[str, Any] | None = None, **kwargs: Any) -> str:
        kwargs.setdefault("holder_jwk", self.holder_key.public_jwk())
        kwargs.setdefault("valid_for_s", 86_400)
        kwargs.setdefault("status", self.status_reference)
        credential = self.issuer().issue(VCT, claims or CLAIMS, **kwargs)
        return credential.serialized

    def present(
        self,
        credential: str | None = None,
        names: Iterable[str] = ("age_over_18", "given_name"),
        *,
        holder_key: SigningKey | None = None,
        nonce: str = NONCE,
        audience: str = AUDIENCE,
        at: float = NOW + 10,
    ) -> str:
        held = HeldCredential.parse_unverified(credential or self.issue())
        return held.present(
            names,
            holder_key=holder_key or self.holder_key,
            nonce=nonce,
            audience=audience,
            clock=lambda: at,
        )

    def sign_issuer_jwt(
        self,
        payload: dict[str, Any],
        *,
        header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """An issuer JWT over an arbitrary payload, signed correctly."""
        signer = key or self.issuer_key
        return signer.sign_compact(header or {"typ": "dc+sd-jwt"}, payload)

    def base_payload(self, digests: list[str]) -> dict[str, Any]:
        return {
            "iss": ISSUER,
            "vct": VCT,
            "iat": NOW,
            "exp": NOW + 86_400,
            "cnf": {"jwk": self.holder_key.public_jwk()},
            "status": self.status_reference.to_claim(),
            "_sd": sorted(digests),
            "_sd_alg": "sha-256",
        }

    def bind(
        self,
        issuer_jwt: str,
        disclosures: Iterable[str],
        *,
        holder_key: SigningKey | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """Assemble a presentation with a correct KB-JWT unless overridden."""
        without_kb = "~".join((issuer_jwt, *disclosures, ""))
        kb_claims = {
            "iat": NOW + 10,
            "aud": AUDIENCE,
            "nonce": NONCE,
            "sd_hash": digest(without_kb),
        }
        kb_claims.update(claims)
        signer = holder_key or self.holder_key
        return without_kb + signer.sign_compact(header or {"typ": "kb+jwt"}, kb_claims)

    def verifier(self, *, clock: Callable[[], float] = lambda: NOW + 20) -> Any:
        return PresentationVerifier(
            keys=self.keys, trust=self.trust, status=self.status, clock=clock
        )


def request(**kwargs: Any) -> PresentationRequest:
    kwargs.setdefault("nonce", NONCE)
    kwargs.setdefault("audience", AUDIENCE)
    kwargs.setdefault("required_claims", frozenset({"age_over_18"}))
    kwargs.setdefault("optional_claims", frozenset({"given_name"}))
    return PresentationRequest(**kwargs)


CURVES = {
    Algorithm.EDDSA: ("OKP", "Ed25519"),
    Algorithm.ES256: ("EC", "P-256"),
    Algorithm.ES256K: ("EC", "secp256k1"),
}


def private_jwk(algorithm: Algorithm) -> dict[str, str]:
    """A private JWK made by jwcrypto, for tests that hand keys to sd-jwt."""
    kty, crv = CURVES[algorithm]
    exported: dict[str, str] = JWK.generate(kty=kty, crv=crv).export_private(
        as_dict=True
    )
    return exported


def make_world(issuer_alg: Algorithm, holder_alg: Algorithm) -> World:
    issuer_private, holder_private = private_jwk(issuer_alg), private_jwk(holder_alg)
    issuer_key = SigningKey(issuer_private, key_id=KEY_ID)
    keys = InMemoryKeys()
    keys.add(ISSUER, issuer_key.public_jwk(), key_id=KEY_ID)
    return World(
        issuer_private=issuer_private,
        holder_private=holder_private,
        issuer_key=issuer_key,
        holder_key=SigningKey(holder_private),
        keys=keys,
        trust=InMemoryTrustList({ISSUER: [VCT]}),
        status=InMemoryStatusList([STATUS_URI]),
    )


@pytest.fixture(scope="session")
def world() -> World:
    """ES256 issuer, EdDSA holder; tests must not mutate its status list."""
    return make_world(Algorithm.ES256, Algorithm.EDDSA)


@pytest.fixture
def fresh_world() -> World:
    """A world whose status list a test may change."""
    return make_world(Algorithm.ES256, Algorithm.EDDSA)


def disclosure(name: str | None, value: Any, salt: int = 999) -> Disclosure:
    return Disclosure.create(salt.to_bytes(16, "big"), name, value)
