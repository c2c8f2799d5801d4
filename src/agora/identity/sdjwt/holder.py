"""Presenting an SD-JWT: choosing disclosures and binding them to a key.

The holder reveals only the claims a verifier asks for and signs a Key
Binding JWT over the result (RFC 9901 §4.3), so that the presentation is
useless to anyone without the holder's key, for any other audience, or for
any other nonce. The package docstring of :mod:`agora.identity.sdjwt` walks
through a presentation.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from agora.identity.sdjwt.disclosures import (
    ARRAY_ELEMENT_KEY,
    SD_CLAIM,
    SEPARATOR,
    CombinedSdJwt,
    Disclosure,
    digest,
)
from agora.identity.sdjwt.errors import PresentationError, VerificationError
from agora.identity.sdjwt.jose import CompactJws, SigningKey

KEY_BINDING_TYPE = "kb+jwt"
"""The ``typ`` header of a Key Binding JWT (RFC 9901 §4.3)."""


def _referenced_digests(value: Any) -> list[str]:
    """Every digest in ``value``: ``_sd`` entries and ``{"...": d}`` elements."""
    found: list[str] = []
    if isinstance(value, dict):
        sd = value.get(SD_CLAIM)
        if isinstance(sd, list):
            found += [item for item in sd if isinstance(item, str)]
        if len(value) == 1 and isinstance(value.get(ARRAY_ELEMENT_KEY), str):
            found.append(value[ARRAY_ELEMENT_KEY])
        for name, child in value.items():
            if name != SD_CLAIM:
                found += _referenced_digests(child)
    elif isinstance(value, list):
        for child in value:
            found += _referenced_digests(child)
    return found


@dataclass(frozen=True)
class HeldCredential:
    """An issued SD-JWT in a holder's hands: signed JWT and all disclosures.

    The holder trusts its own issuer channel and does not verify the
    signature; ``parse_unverified`` says so.
    """

    issuer_jwt: str
    payload: dict[str, Any]
    disclosures: tuple[Disclosure, ...]

    @classmethod
    def parse_unverified(cls, serialized: str) -> "HeldCredential":
        """Parse ``<issuer JWT>~<disclosure>~…~`` without checking the signature.

        Raises :class:`PresentationError` when it is not a well-formed SD-JWT.
        """
        try:
            combined = CombinedSdJwt.split_unverified(serialized)
            jws = CompactJws.parse(combined.issuer_jwt, what="issuer JWT")
            disclosures = tuple(Disclosure.parse(d) for d in combined.disclosures)
        except VerificationError as exc:
            raise PresentationError(f"not a well-formed SD-JWT ({exc.rule})") from exc
        return cls(
            issuer_jwt=combined.issuer_jwt, payload=jws.payload, disclosures=disclosures
        )

    @property
    def claim_names(self) -> frozenset[str]:
        """Names of the top-level claims the holder may choose to disclose."""
        top_level = set(_referenced_digests({SD_CLAIM: self.payload.get(SD_CLAIM)}))
        return frozenset(
            d.name for d in self.disclosures if d.name and d.digest in top_level
        )

    def select(self, names: Iterable[str]) -> tuple[Disclosure, ...]:
        """The disclosures that reveal ``names`` and everything nested in them.

        Raises :class:`PresentationError` for a name the credential lacks.
        """
        wanted = set(names)
        missing = wanted - self.claim_names
        if missing:
            raise PresentationError(f"credential has no claims {sorted(missing)}")

        by_digest = {d.digest: d for d in self.disclosures}
        top_level = set(_referenced_digests({SD_CLAIM: self.payload.get(SD_CLAIM)}))
        chosen = [
            d for d in self.disclosures if d.digest in top_level and d.name in wanted
        ]

        # A revealed object or array reveals its own selectively disclosed parts.
        pending = list(chosen)
        while pending:
            for nested in _referenced_digests(pending.pop().value):
                disclosure = by_digest.get(nested)
                if disclosure is not None and disclosure not in chosen:
                    chosen.append(disclosure)
                    pending.append(disclosure)
        return tuple(chosen)

    def present(
        self,
        names: Iterable[str],
        *,
        holder_key: SigningKey,
        nonce: str,
        audience: str,
        clock: Callable[[], float] = time.time,
    ) -> str:
        """A presentation revealing ``names``, key-bound to ``nonce`` and ``audience``.

        Returns ``<issuer JWT>~<disclosure>~…~<KB-JWT>`` (RFC 9901 §4.3).
        """
        selected = self.select(names)
        without_key_binding = SEPARATOR.join(
            (self.issuer_jwt, *(d.encoded for d in selected), "")
        )
        key_binding_jwt = holder_key.sign_compact(
            {"typ": KEY_BINDING_TYPE},
            {
                "iat": int(clock()),
                "aud": audience,
                "nonce": nonce,
                "sd_hash": digest(without_key_binding),
            },
        )
        return without_key_binding + key_binding_jwt
