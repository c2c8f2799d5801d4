"""Vault throughput, memory and sharing rate (issue 4's targets).

Encrypts a file of ``--size-mb`` random bytes into a folder blockstore
(AES-256-GCM segments, UnixFS DAG, one file per block), reads it back with
every block and segment verified, and reports both beside the same run's
plain AES-256-GCM and SHA-256 rates over the same 256 KiB pieces: the
physical limits of this machine. Then times whole shares: kfrags (2-of-3),
two re-encryptions, two cfrag verifications and the grantee's decryption;
and whole reads by consent on the embedded chain (``consent_reads_per_s``:
proxies' on-chain and signature checks included).

Prints one JSON object as its last line. Peak RSS is the whole process's
(``getrusage``), imports included; the file and the blocks go through the
page cache, which RSS does not count. ``put_without_storing_mb_per_s``
repeats the put with blocks dropped, separating the pipeline's own cost
from the filesystem's (one file created per 256 KiB block).

    .venv/bin/python benchmarks/vault.py --size-mb 1024
"""

import argparse
import hashlib
import json
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agora.vault.blockstore import BlockRef, BlockStore
from agora.vault.encryption import DataKey
from agora.vault.objects import get_decrypted, put_encrypted
from agora.vault.reencryption import (
    Parties,
    SecretKey,
    SharingPolicy,
    WrappedKey,
    decrypt_reencrypted,
    generate_kfrags,
    reencrypt,
    verify_cfrag,
    wrap_data_key,
)
from agora.vault.unixfs import CHUNK_SIZE

MIB = 1024 * 1024


class DiscardingBackend:
    """Takes blocks and keeps none: isolates encrypt + CID from storage."""

    def put_block(self, ref: BlockRef, *parts: bytes | memoryview) -> None:
        """Drop the block."""

    def get_block(self, ref: BlockRef) -> bytes:
        raise NotImplementedError

    def has_block(self, ref: BlockRef) -> bool:
        return False

    def pin(self, ref: BlockRef) -> None:
        """Nothing to keep."""


def write_random_file(path: Path, size: int) -> None:
    """``size`` random bytes, written one MiB at a time."""
    with path.open("wb") as sink:
        for start in range(0, size, MIB):
            sink.write(os.urandom(min(MIB, size - start)))


def primitive_rates(sample_bytes: int) -> dict[str, float]:
    """MB/s of AES-256-GCM and SHA-256 alone over 256 KiB pieces."""
    piece = os.urandom(CHUNK_SIZE - 16)
    count = max(1, sample_bytes // len(piece))
    cipher = AESGCM(secrets.token_bytes(32))

    started = time.perf_counter()
    for index in range(count):
        cipher.encrypt(index.to_bytes(12, "big"), piece, b"aad")
    aes_s = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(count):
        hashlib.sha256(piece).digest()
    sha_s = time.perf_counter() - started

    megabytes = count * len(piece) / 1e6
    return {"aes_gcm_mb_per_s": megabytes / aes_s, "sha256_mb_per_s": megabytes / sha_s}


def shares_per_second(rounds: int, *, reuse_kfrags: bool) -> float:
    """Whole 2-of-3 shares per second on one core: kfrags (unless reused,
    as they can be for every object under one grant), two re-encryptions,
    two cfrag verifications and the grantee's decryption. Each party parses
    the capsule from bytes itself, as separate processes would."""
    owner, grantee, signer = (SecretKey.random() for _ in range(3))
    parties = Parties(signer.public_key(), owner.public_key(), grantee.public_key())
    stored = wrap_data_key(owner.public_key(), DataKey.generate())
    policy = SharingPolicy(threshold=2, shares=3)
    kfrags = generate_kfrags(owner, grantee.public_key(), signer, policy)

    started = time.perf_counter()
    for _ in range(rounds):
        if not reuse_kfrags:
            kfrags = generate_kfrags(owner, grantee.public_key(), signer, policy)
        cfrags = [
            bytes(reencrypt(WrappedKey(stored.capsule, stored.ciphertext), kfrag))
            for kfrag in kfrags[:2]
        ]
        wrapped = WrappedKey(stored.capsule, stored.ciphertext)
        verified = [verify_cfrag(cfrag, wrapped, parties=parties) for cfrag in cfrags]
        decrypt_reencrypted(grantee, wrapped, verified, parties=parties)
    return rounds / (time.perf_counter() - started)


def consent_reads_per_second(reads: int, folder: Path) -> float:
    """Whole reads of a 1 KiB record shared by consent, on the embedded
    chain: per read, two proxies each check the grant on chain, the
    grantee's DID signature and the owner's label, re-encrypt and log; the
    grantee verifies both cfrags and decrypts. Chain reads included."""
    # Imported here: the ledger's imports would count in the put/get peak RSS.
    import io

    from agora.ledger import Category, Role, build_contracts, connect, deploy
    from agora.vault.proxy import ProxyService
    from agora.vault.scope import RecordId, Scope
    from agora.vault.sharing import GranteeKeys, OwnerKeys, SharedRecord, share
    from agora.vault.sharing import read_shared as read_record

    chain = connect()
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts())
    store = BlockStore(folder / "consent-blocks")
    proxies = []
    for index in range(3):
        account = chain.new_account(f"proxy-{index}")
        ledger.consortium.add_member(
            account.address, f"proxy-{index}", Role.PROXY, account=admin
        )
        proxies.append(ProxyService(account=account, ledger=ledger, store=store))

    owner, grantee = (
        OwnerKeys.generate(chain.new_account("patient")),
        GranteeKeys.generate(),
    )
    envelope = put_encrypted(store, io.BytesIO(os.urandom(1024)), owner.public_key)
    record = SharedRecord(RecordId("Condition/c1"), Category.CONDITION, envelope)
    shared = share(
        ledger,
        owner,
        grantee=grantee.did,
        grantee_key=grantee.public_key,
        scope=Scope(categories=Category.CONDITION),
        purpose="treatment",
        expiry=chain.now() + 3600,
        proxies=proxies,
        records=[record],
    )
    reachable = {proxy.address: proxy for proxy in proxies}

    started = time.perf_counter()
    for _ in range(reads):
        read_record(
            store,
            shared,
            record.record_id,
            grantee,
            proxies=reachable,
            destination=folder / "consent-read",
        )
    return reads / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size, MiB")
    parser.add_argument("--shares", type=int, default=300, help="shares to time")
    parser.add_argument(
        "--consent-reads", type=int, default=50, help="reads by consent to time"
    )
    arguments = parser.parse_args()
    size = arguments.size_mb * MIB

    with tempfile.TemporaryDirectory(prefix="agora-vault-bench-") as folder:
        root = Path(folder)
        write_random_file(root / "source", size)
        store, owner = BlockStore(root / "blocks"), SecretKey.random()

        # Encrypt + CID + store, then read back + verify + decrypt.
        started, cpu = time.perf_counter(), time.process_time()
        with (root / "source").open("rb") as source:
            cid = put_encrypted(store, source, owner.public_key())
        put_s, put_cpu_s = time.perf_counter() - started, time.process_time() - cpu

        started, cpu = time.perf_counter(), time.process_time()
        get_decrypted(store, cid, owner, root / "back")
        get_s, get_cpu_s = time.perf_counter() - started, time.process_time() - cpu

        if (root / "back").stat().st_size != size:
            sys.exit("read back a different size")
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        # The same put with blocks dropped: what storing them costs.
        started = time.perf_counter()
        with (root / "source").open("rb") as source:
            put_encrypted(DiscardingBackend(), source, owner.public_key())
        unstored_s = time.perf_counter() - started

        consent_reads = consent_reads_per_second(arguments.consent_reads, root)

    result = {
        "size_mb": size / 1e6,
        "put_mb_per_s": size / 1e6 / put_s,
        "get_mb_per_s": size / 1e6 / get_s,
        "put_mb_per_cpu_s": size / 1e6 / put_cpu_s,
        "get_mb_per_cpu_s": size / 1e6 / get_cpu_s,
        "put_without_storing_mb_per_s": size / 1e6 / unstored_s,
        "peak_rss_mb": peak_rss_mb,
        **primitive_rates(min(size, 256 * MIB)),
        "shares_per_s": shares_per_second(arguments.shares, reuse_kfrags=False),
        "shares_reusing_kfrags_per_s": shares_per_second(
            arguments.shares, reuse_kfrags=True
        ),
        "consent_reads_per_s": consent_reads,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps({key: _rounded(value) for key, value in result.items()}))


def _rounded(value: float | int | None) -> float | int | None:
    return round(value, 1) if isinstance(value, float) else value


if __name__ == "__main__":
    main()
