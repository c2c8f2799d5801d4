"""Benchmark: multi-lending checks by PSI against three platforms' books.

Three platforms each hold ``--borrowers`` active borrowers (random keyed
hashes; the applicant is among two of them). Each builds its PSI filter (its
setup message) in its own process, timed there: ``setup_s_per_million``.
Then one applicant is checked ``--checks`` times against all three, as
:class:`agora.lending.risk.RiskChecker` does it (a fresh client key, the
blinded request, each platform's answer, the intersection with its filter,
every message serialised and parsed): ``check_p50_ms`` and ``check_p99_ms``.
For comparison, ``full_psi_s``: one full PSI of two platforms' whole books
(client request over every borrower, server answer, intersection), which
is what a check per applicant avoids.

Prints one JSON object as its last line.

Usage: python benchmarks/antifraud.py [--borrowers N] [--checks N] [--skip-full]
"""

import argparse
import json
import os
import secrets
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import private_set_intersection.python as psi

from agora.privacy import BorrowerFilter, MembershipQuery
from agora.privacy.psi import FALSE_POSITIVE_RATE

PLATFORMS = 3


def _book(size: int, applicant: bytes, holds: bool) -> list[bytes]:
    book = [secrets.token_bytes(32) for _ in range(size - 1)]
    book.append(applicant if holds else secrets.token_bytes(32))
    return book


def _build(args: tuple[int, bytes, bool]) -> tuple[bytes, bytes, float]:
    """In a worker: a platform's key, setup message and setup seconds."""
    size, applicant, holds = args
    book = _book(size, applicant, holds)
    key = secrets.token_bytes(32)
    started = time.perf_counter()
    published = BorrowerFilter(key=key).build(book, lambda data: "unused")
    return key, published.setup, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--borrowers", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    applicant = secrets.token_bytes(32)

    # Setup: each platform builds its filter in its own process.
    jobs = [(args.borrowers, applicant, index < 2) for index in range(PLATFORMS)]
    workers = min(PLATFORMS, os.cpu_count() or 1)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        built = list(pool.map(_build, jobs))
    servers = [BorrowerFilter(key=key) for key, _, _ in built]
    setups = []
    for _, setup_bytes, _ in built:
        setup = psi.ServerSetup()
        setup.ParseFromString(setup_bytes)
        setups.append(setup)
    setup_seconds = [seconds for _, _, seconds in built]

    # Checks: one applicant against all three, end to end over bytes.
    check_ms = []
    found = 0
    for _ in range(args.checks):
        started = time.perf_counter()
        query = MembershipQuery(applicant)
        blinded = query.request()
        holding = sum(
            query.holds(setup, server.answer(blinded))
            for server, setup in zip(servers, setups, strict=True)
        )
        check_ms.append((time.perf_counter() - started) * 1000)
        found = holding

    # For comparison: a full PSI of two whole books.
    full_psi_s = None
    if not args.skip_full:
        client_book = [item.hex() for item in _book(args.borrowers, applicant, True)]
        server_book = [item.hex() for item in _book(args.borrowers, applicant, True)]
        started = time.perf_counter()
        server = psi.server.CreateWithNewKey(True)
        client = psi.client.CreateWithNewKey(True)
        setup = server.CreateSetupMessage(
            FALSE_POSITIVE_RATE,
            len(client_book),
            server_book,
            psi.DataStructure.BLOOM_FILTER,
        )
        response = server.ProcessRequest(client.CreateRequest(client_book))
        intersection = client.GetIntersection(setup, response)
        full_psi_s = time.perf_counter() - started
        if not intersection:
            raise SystemExit("the full PSI missed the applicant both books hold")

    million = args.borrowers / 1_000_000
    print(
        json.dumps(
            {
                "benchmark": "antifraud",
                "check_p50_ms": round(statistics.median(check_ms), 3),
                "check_p99_ms": round(statistics.quantiles(check_ms, n=100)[98], 3),
                "setup_s_per_million": round(max(setup_seconds) / million, 1),
                "full_psi_s": None if full_psi_s is None else round(full_psi_s, 1),
                "platforms": PLATFORMS,
                "borrowers_per_platform": args.borrowers,
                "checks": args.checks,
                "platforms_holding_applicant": found,
                "setup_s_each": [round(s, 1) for s in setup_seconds],
                "setup_workers": workers,
                "false_positive_rate": FALSE_POSITIVE_RATE,
            }
        )
    )


if __name__ == "__main__":
    main()
