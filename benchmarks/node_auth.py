"""Benchmark: what a node's bearer-token check costs per request.

Measured in this one process, on the embedded chain, with the node's
spent-token store in SQLite (or ``--db-url``, e.g. a PostgreSQL database):

- ``verify_p50_ms``: :meth:`TokenVerifier.verify` per key type of the
  caller's ``did:key`` (parse, resolve, signature, ``jti`` spent in the
  database), and for a ``did:ethr`` resolved from ``DIDRegistry`` (read
  again from the chain at most every ``DID_RECHECK_S``, as the node does);
- ``request_p50_ms``: a whole ``GET /v1/jobs`` on a hospital node (same
  database) through
  FastAPI's in-process client (token minted, verified, the staff check, an
  empty job list read from the chain); ``request_per_s`` its inverse.

Prints one JSON object as its last line.

Usage: python benchmarks/node_auth.py [--tokens N] [--db-url URL]
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from agora.identity.did_ethr import EthrResolver, ethr_did
from agora.identity.did_key import did_key_from_key_pair
from agora.identity.keys import KeyPair, KeyType, ethereum_address
from agora.identity.resolver import DidResolver
from agora.identity.wallet import Wallet
from agora.identity.wallet.store import ScryptParameters
from agora.ledger import Role
from agora.ledger.local import LocalLedger
from agora.node import NodeConfig, NodeDatabase, NodeRole, NodeRuntime, node_app
from agora.node.app import DID_RECHECK_S
from agora.node.auth import TokenVerifier, mint_token
from agora.node.db import sqlite_url
from agora.settings import Settings

NODE = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


def _p50_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def _verify_times(
    verifier: TokenVerifier, pair: KeyPair, did: str, count: int
) -> list[float]:
    tokens = [mint_token(pair, did, verifier.audience) for _ in range(count)]
    times = []
    for token in tokens:
        started = time.perf_counter()
        verifier.verify(f"Bearer {token}")
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="agora-node-bench-"))
    settings = Settings(state_dir=folder / "state", chain_url=None)
    ledger = LocalLedger.init(settings)
    database = NodeDatabase.connect(args.db_url or sqlite_url(folder))
    registry = ledger.deployment.did_registry
    resolver = DidResolver(ethr=EthrResolver(registry, recheck_after_s=DID_RECHECK_S))
    verifier = TokenVerifier(NODE, resolver=resolver, spent=database)

    # Token verification per kind of caller DID.
    verify_p50 = {}
    for key_type in KeyType:
        pair = KeyPair.generate(key_type)
        times = _verify_times(verifier, pair, did_key_from_key_pair(pair), args.tokens)
        verify_p50[f"did:key {key_type.value}"] = _p50_ms(times)
    pair = KeyPair.generate(KeyType.SECP256K1)
    did = ethr_did(ledger.chain.chain_id, ethereum_address(pair.public_key))
    verify_p50["did:ethr"] = _p50_ms(_verify_times(verifier, pair, did, args.tokens))

    # Whole requests to a hospital node, as its staff.
    hospital, staff = (
        KeyPair.generate(KeyType.SECP256K1),
        KeyPair.generate(KeyType.ED25519),
    )
    hospital_did, staff_did = (
        did_key_from_key_pair(hospital),
        did_key_from_key_pair(staff),
    )
    wallet = folder / "hospital.wallet"
    cheap = ScryptParameters(n=2**4, r=8, p=1)
    Wallet.create(wallet, "pw", kdf=cheap).add_key(hospital)
    account = ledger.account(hospital.private_bytes(), "hospital")
    ledger.deployment.consortium.add_member(
        account.address, "hospital", Role.HOSPITAL, account=ledger.admin
    )
    runtime = NodeRuntime(
        name="bench",
        config=NodeConfig(
            role=NodeRole.HOSPITAL, did=hospital_did, wallet=wallet, staff=(staff_did,)
        ),
        key=hospital,
        database=database,
        ledger=ledger,
        settings=settings,
    )
    request_times = []
    with TestClient(node_app(runtime)) as client:
        for _ in range(args.tokens):
            started = time.perf_counter()
            token = mint_token(staff, staff_did, hospital_did)
            answer = client.get(
                "/v1/jobs", headers={"Authorization": f"Bearer {token}"}
            )
            request_times.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise SystemExit(f"request refused: {answer.text}")
    runtime.close()

    request_p50 = _p50_ms(request_times)
    print(
        json.dumps(
            {
                "tokens": args.tokens,
                "database": "postgresql" if args.db_url else "sqlite",
                "verify_p50_ms": verify_p50,
                "request_p50_ms": request_p50,
                "request_per_s": round(1000 / request_p50, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
