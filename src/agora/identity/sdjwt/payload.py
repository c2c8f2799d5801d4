"""Rebuilding the disclosed claims from an SD-JWT payload (RFC 9901 §7.1).

Each digest in an ``_sd`` array or an ``{"...": digest}`` array element is
replaced by the claim its disclosure carries; digests with no disclosure
(undisclosed claims and decoys) vanish. Every presented disclosure must be
used exactly once and every digest may appear only once.
"""

from collections.abc import Sequence
from typing import Any

from agora.identity.sdjwt.disclosures import (
    ARRAY_ELEMENT_KEY,
    SD_ALG_CLAIM,
    SD_CLAIM,
    Disclosure,
)
from agora.identity.sdjwt.errors import Rule, VerificationError

REGISTERED_CLAIMS = frozenset(
    {"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}
)
"""Top-level claims that SD-JWT VC forbids to disclose selectively (§3.2.2.2)."""


class _Reconstruction:
    def __init__(self, disclosures: Sequence[Disclosure]) -> None:
        self.by_digest: dict[str, Disclosure] = {}
        for disclosure in disclosures:
            if disclosure.digest in self.by_digest:
                raise VerificationError(
                    Rule.DISCLOSURE_DUPLICATE, "a disclosure is presented twice"
                )
            self.by_digest[disclosure.digest] = disclosure
        self.seen_digests: set[str] = set()
        self.used: set[str] = set()

    def _take(self, digest: Any) -> Disclosure | None:
        if not isinstance(digest, str):
            raise VerificationError(Rule.DISCLOSURE_FORMAT, "a digest is not a string")
        # RFC 9901 §7.1 step 4: a digest may appear only once in the payload.
        if digest in self.seen_digests:
            raise VerificationError(
                Rule.DISCLOSURE_DUPLICATE, "a digest appears twice in the payload"
            )
        self.seen_digests.add(digest)
        disclosure = self.by_digest.get(digest)
        if disclosure is not None:
            self.used.add(digest)
        return disclosure

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.object(value)
        if isinstance(value, list):
            return self.array(value)
        return value

    def object(self, claims: dict[str, Any]) -> dict[str, Any]:
        output = {
            name: self.value(child)
            for name, child in claims.items()
            if name != SD_CLAIM
        }
        digests = claims.get(SD_CLAIM, [])
        if not isinstance(digests, list):
            raise VerificationError(Rule.DISCLOSURE_FORMAT, "_sd is not an array")

        for digest in digests:
            disclosure = self._take(digest)
            if disclosure is None:
                continue
            if disclosure.name is None:
                raise VerificationError(
                    Rule.DISCLOSURE_FORMAT, "array element disclosed as a property"
                )
            if disclosure.name in output:
                raise VerificationError(
                    Rule.CLAIM_COLLISION, f"claim {disclosure.name!r} is already set"
                )
            output[disclosure.name] = self.value(disclosure.value)
        return output

    def array(self, elements: list[Any]) -> list[Any]:
        output = []
        for element in elements:
            is_digest = (
                isinstance(element, dict)
                and len(element) == 1
                and ARRAY_ELEMENT_KEY in element
            )
            if not is_digest:
                output.append(self.value(element))
                continue
            disclosure = self._take(element[ARRAY_ELEMENT_KEY])
            if disclosure is None:
                continue
            if disclosure.name is not None:
                raise VerificationError(
                    Rule.DISCLOSURE_FORMAT, "property disclosed as an array element"
                )
            output.append(self.value(disclosure.value))
        return output


def reconstruct_claims(
    payload: dict[str, Any], disclosures: Sequence[Disclosure]
) -> dict[str, Any]:
    """The payload with disclosed claims in place and SD-JWT machinery removed.

    Raises :class:`VerificationError` with ``disclosure_duplicate``,
    ``disclosure_unreferenced``, ``disclosure_format``, ``claim_collision``
    or ``registered_claims``.
    """
    reconstruction = _Reconstruction(disclosures)
    top_level_names = {d.name for d in disclosures if d.name is not None}
    claims = reconstruction.object(payload)
    claims.pop(SD_ALG_CLAIM, None)

    unreferenced = reconstruction.by_digest.keys() - reconstruction.used
    if unreferenced:
        raise VerificationError(
            Rule.DISCLOSURE_UNREFERENCED,
            f"{len(unreferenced)} disclosure(s) match no digest",
        )
    # A disclosure may not smuggle in iss, exp, cnf, … (SD-JWT VC §3.2.2.2).
    smuggled = REGISTERED_CLAIMS & top_level_names & (claims.keys() - payload.keys())
    if smuggled:
        raise VerificationError(
            Rule.REGISTERED_CLAIMS, f"disclosed registered claims {sorted(smuggled)}"
        )
    return claims
