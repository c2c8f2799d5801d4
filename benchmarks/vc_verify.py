"""Benchmark: SD-JWT VC presentation verification against the consortium.

A bank (an issuer listed in ``Consortium``, its key in ``DIDRegistry``, its
status list anchored in ``Anchor``) issues statement credentials; a holder
presents ``income_over_3000`` and ``currency`` to a lender, bound to the
lender's single-use nonce. Measured on the embedded chain, in this one
process (one core: verification is pure Python and single-threaded):

- ``verify_per_s`` and ``verify_p50_ms``: full verification (issuer
  signature, disclosures, key binding, nonce spent, trust, status and DID
  document from the verifier's caches), warm;
- ``cold_verify_p50_ms``: the same with every cache empty (a new verifier
  per presentation: DID history, trust list and anchor read from the chain,
  the status list fetched and checked against its anchor);
- ``issue_per_s``: credentials issued (status entry allocated, claims
  salted and digested, signed).

Prints one JSON object as its last line.

Usage: python benchmarks/vc_verify.py [--presentations N] [--cold N]
"""

import argparse
import json
import statistics
import time

from agora.identity.consortium import (
    DocumentHost,
    IssuerOrganisation,
    consortium_verifier,
    enroll_issuer,
)
from agora.identity.credentials import BANK_STATEMENT_VCT
from agora.identity.sdjwt import (
    Algorithm,
    HeldCredential,
    NonceStore,
    PresentationRequest,
    SigningKey,
)
from agora.ledger import connect, deploy
from agora.settings import Settings

LENDER = "did:web:lender.example"
CLAIMS = {
    "average_monthly_income": 61_000,
    "current_balance": 284_000,
    "account_age_months": 74,
    "currency": "TWD",
    "income_over_1000": True,
    "income_over_3000": True,
    "income_over_5000": True,
}
DISCLOSED = ["currency", "income_over_3000"]
RECHECK_S = 3600.0
"""Cache lifetime while measuring warm: nothing is re-read from the chain."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presentations", type=int, default=5000)
    parser.add_argument("--cold", type=int, default=50)
    args = parser.parse_args()

    # The consortium: one listed bank with a published key and status list.
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin)
    bank_account = chain.new_account("bank")
    enroll_issuer(
        ledger.consortium, bank_account, "bank", [BANK_STATEMENT_VCT], admin=admin
    )
    host = DocumentHost()
    bank = IssuerOrganisation.setup(
        ledger, bank_account, status_uri="https://bank.example/status/1", host=host
    )
    holder = SigningKey.generate(Algorithm.EDDSA)

    # Issuance rate.
    started = time.perf_counter()
    credentials = [
        bank.issue(
            BANK_STATEMENT_VCT,
            CLAIMS,
            holder_jwk=holder.public_jwk(),
            valid_for_s=86_400,
        )[0].serialized
        for _ in range(args.presentations)
    ]
    issue_s = time.perf_counter() - started
    bank.publish_status()

    # Presentations, each for its own nonce from the lender.
    nonces = NonceStore(ttl_s=3600, max_outstanding=args.presentations + args.cold)
    jobs = []
    for credential in credentials:
        nonce = nonces.issue()
        presentation = HeldCredential.parse_unverified(credential).present(
            DISCLOSED, holder_key=holder, nonce=nonce, audience=LENDER
        )
        request = PresentationRequest(
            nonce=nonce, audience=LENDER, required_claims=frozenset(DISCLOSED)
        )
        jobs.append((presentation, request))

    # Cold: a fresh verifier (empty caches) for each of the first few.
    cold_ms = []
    for presentation, request in jobs[: args.cold]:
        verifier = consortium_verifier(
            ledger, host.fetch, nonces=nonces, recheck_after_s=RECHECK_S
        )
        started = time.perf_counter()
        verifier.verify(presentation, request)
        cold_ms.append((time.perf_counter() - started) * 1000)

    # Warm: one verifier, caches filled by one verification.
    verifier = consortium_verifier(
        ledger, host.fetch, nonces=nonces, recheck_after_s=RECHECK_S
    )
    warm_jobs = jobs[args.cold :]
    verifier.verify(*warm_jobs[0])
    warm_ms = []
    started = time.perf_counter()
    for presentation, request in warm_jobs[1:]:
        one = time.perf_counter()
        verifier.verify(presentation, request)
        warm_ms.append((time.perf_counter() - one) * 1000)
    warm_s = time.perf_counter() - started

    print(
        json.dumps(
            {
                "benchmark": "vc_verify",
                "verify_per_s": round(len(warm_ms) / warm_s, 1),
                "verify_p50_ms": round(statistics.median(warm_ms), 4),
                "verify_p99_ms": round(statistics.quantiles(warm_ms, n=100)[98], 4),
                "cold_verify_p50_ms": round(statistics.median(cold_ms), 3),
                "issue_per_s": round(args.presentations / issue_s, 1),
                "presentations": len(warm_ms),
                "cold_presentations": len(cold_ms),
                "disclosed_claims": DISCLOSED,
                "issuer_key": "Ed25519 (EdDSA)",
                "holder_key": "Ed25519 (EdDSA)",
                "chain": "embedded py-evm",
            }
        )
    )


if __name__ == "__main__":
    main()
