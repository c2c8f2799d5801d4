"""Who is who in the node tests, and tokens made by hand."""

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from agora.identity.did_key import did_key_from_key_pair
from agora.identity.keys import KeyPair, KeyType, b64url_encode, ethereum_address
from agora.node.auth import HEADER_TYP, default_key_id, mint_token

NOW = 1_900_000_000.0
"""The wall clock of the in-process nodes (Unix seconds)."""


class Clock:
    """A settable clock for token expiry."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(frozen=True)
class Person:
    """A DID and its key."""

    pair: KeyPair = field(repr=False)
    did: str

    @classmethod
    def new(cls, key_type: KeyType = KeyType.ED25519) -> "Person":
        pair = KeyPair.generate(key_type)
        return cls(pair, did_key_from_key_pair(pair))

    def address(self) -> str:
        """The account of a secp256k1 key."""
        return ethereum_address(self.pair.public_key)

    def token(self, audience: str, *, now: float = NOW, **kwargs: Any) -> str:
        return mint_token(self.pair, self.did, audience, now=now, **kwargs)

    def headers(self, audience: str, *, now: float = NOW) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(audience, now=now)}"}


def forge(pair: KeyPair, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A compact JWS with exactly ``header``, signed by ``pair`` (whatever
    ``alg`` the header names)."""
    signing_input = ".".join(
        b64url_encode(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, payload)
    )
    signature = pair.sign(signing_input.encode())
    return f"{signing_input}.{b64url_encode(signature)}"


def claims(issuer: str, audience: str, *, now: float = NOW) -> dict[str, Any]:
    """A valid payload."""
    return {
        "iss": issuer,
        "aud": audience,
        "iat": int(now),
        "exp": int(now) + 60,
        "jti": secrets.token_urlsafe(24),
    }


def header_of(person: Person, **overrides: Any) -> dict[str, Any]:
    """A valid header for ``person``'s key."""
    return {
        "alg": person.pair.algorithm,
        "typ": HEADER_TYP,
        "kid": default_key_id(person.did),
        **overrides,
    }


def refusal(client: TestClient, path: str, token: str) -> tuple[int, str]:
    """Status and ``error`` code of ``GET path`` with ``token``."""
    answer = client.get(path, headers={"Authorization": f"Bearer {token}"})
    return answer.status_code, answer.json().get("error", "")
