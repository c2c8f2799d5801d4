"""Compile the Vyper contracts into ABI + bytecode artifacts, with a cache.

Artifacts are produced here and nowhere else: they are never edited by hand
nor committed. They are cached as one JSON file per set of sources under
``settings.cache_dir / "contracts"``, named by a SHA-256 over everything that
can change the output: the contract sources, the snekmate sources they may
import, and the vyper, snekmate and EVM versions. Editing any of those
selects a new file, so a stale artifact is never served.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import vyper
from eth_typing import ABI, HexStr
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import Settings as VyperSettings
from vyper.evm.opcodes import EVM_VERSIONS
from vyper.exceptions import VyperException, VyperInternalException

from agora.errors import ConfigurationError
from agora.ledger.errors import BuildError
from agora.settings import Settings

logger = logging.getLogger(__name__)

CONTRACTS_DIR = Path(__file__).parent / "contracts"
"""The product's contract sources (``Consortium.vy``, ``Token.vy`` …)."""


def _snekmate_dir() -> Path:
    # snekmate ships no __init__.py (a namespace package): find it by spec.
    spec = importlib.util.find_spec("snekmate")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("snekmate is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


_SNEKMATE_DIR = _snekmate_dir()

# Bump when the artifact JSON layout changes.
_FORMAT = 2  # 2: artifacts carry a checksum of their contents


@dataclass(frozen=True)
class ContractArtifact:
    """The compiler's output for one contract: enough to deploy and call it."""

    name: str
    abi: ABI
    bytecode: HexStr


@dataclass(frozen=True)
class Artifacts(Mapping[str, ContractArtifact]):
    """Compiled contracts by name (the source file's stem).

    ``compiled`` is ``False`` when the artifacts came from the cache.
    """

    contracts: Mapping[str, ContractArtifact]
    path: Path
    compiled: bool

    def __getitem__(self, name: str) -> ContractArtifact:
        return self.contracts[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.contracts)

    def __len__(self) -> int:
        return len(self.contracts)


def default_sources() -> list[Path]:
    """The product's contract sources, sorted by name."""
    return sorted(CONTRACTS_DIR.glob("*.vy"))


def build_contracts(
    settings: Settings | None = None,
    *,
    sources: Sequence[Path] | None = None,
    force: bool = False,
) -> Artifacts:
    """Return the compiled artifacts of ``sources``, compiling only if needed.

    ``sources`` defaults to :func:`default_sources`; imports resolve against
    each source's folder and the installed snekmate. ``force=True`` compiles
    even when a cached artifact exists (see :func:`rebuild_contracts`).

    Example::

        >>> artifacts = build_contracts()
        >>> sorted(artifacts)  # doctest: +NORMALIZE_WHITESPACE
        ['Anchor', 'Consent', 'Consortium', 'DIDRegistry', 'DataMarket',
         'FraudList', 'ServiceMarket', 'Token']
    """
    settings = settings or Settings()
    evm_version = settings.evm_version
    if evm_version not in EVM_VERSIONS:
        raise ConfigurationError(
            f"AGORA_EVM_VERSION={evm_version!r} is not one of {sorted(EVM_VERSIONS)}"
        )
    paths = sorted(Path(p).resolve() for p in (sources or default_sources()))
    if not paths:
        raise BuildError("no contract sources to build")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise BuildError(f"contract names must be unique: {names}")

    key = _cache_key(paths, evm_version)
    path = settings.cache_dir / "contracts" / f"{key}.json"
    if not force:
        cached = _load(path)
        if cached is not None and sorted(cached) != sorted(names):
            logger.warning("artifact cache %s lacks contracts; rebuilding", path)
            cached = None
        if cached is not None:
            logger.debug("contract artifacts from cache %s", path)
            return Artifacts(contracts=cached, path=path, compiled=False)

    contracts = {p.stem: _compile(p, evm_version) for p in paths}
    try:
        _store(path, contracts, evm_version)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write compiled contracts under AGORA_CACHE_DIR "
            f"({settings.cache_dir}): {exc.strerror or exc}"
        ) from exc
    logger.info("compiled %d contracts into %s", len(contracts), path)
    return Artifacts(contracts=contracts, path=path, compiled=True)


def rebuild_contracts(
    settings: Settings | None = None, *, sources: Sequence[Path] | None = None
) -> Artifacts:
    """Compile ``sources`` unconditionally and refresh the cache."""
    return build_contracts(settings, sources=sources, force=True)


def _cache_key(paths: Sequence[Path], evm_version: str) -> str:
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        # Length-prefix every field so that no two inputs hash alike.
        for part in (label.encode(), data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)

    feed("format", str(_FORMAT).encode())
    feed("vyper", vyper.__version__.encode())
    feed("snekmate", importlib.metadata.version("snekmate").encode())
    feed("evm", evm_version.encode())
    for path in paths:
        feed(f"source:{path.name}", path.read_bytes())
    # The whole snekmate tree, not only what is imported today: it is small,
    # and a locally patched module must never reuse an old artifact.
    for path in sorted(_SNEKMATE_DIR.rglob("*.vy*")):
        feed(f"snekmate:{path.relative_to(_SNEKMATE_DIR)}", path.read_bytes())
    return digest.hexdigest()


def _compile(path: Path, evm_version: str) -> ContractArtifact:
    # Search paths: the source's folder for sibling imports, and the folder
    # above snekmate so that `from snekmate.tokens import erc20` resolves.
    bundle = FilesystemInputBundle([_SNEKMATE_DIR.parent, path.parent])
    try:
        output = vyper.compile_code(
            path.read_text(encoding="utf-8"),
            contract_path=path.name,
            input_bundle=bundle,
            output_formats=["abi", "bytecode"],
            settings=VyperSettings(evm_version=evm_version),
        )
    except (VyperException, VyperInternalException) as exc:
        raise BuildError(f"{path.name} failed to compile: {exc}") from exc
    return ContractArtifact(
        name=path.stem, abi=output["abi"], bytecode=HexStr(output["bytecode"])
    )


def _checksum(contracts: Mapping[str, Any]) -> str:
    canonical = json.dumps(contracts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _load(path: Path) -> dict[str, ContractArtifact] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        contracts = cast(dict[str, dict[str, Any]], document["contracts"])
        # The file name is a key of the inputs, not of the outputs: the
        # checksum catches an artifact edited or damaged after it was written.
        if document["checksum"] != _checksum(contracts):
            raise ValueError("artifact checksum mismatch")
        artifacts = {
            name: ContractArtifact(
                name=name, abi=entry["abi"], bytecode=entry["bytecode"]
            )
            for name, entry in contracts.items()
        }
        for artifact in artifacts.values():
            if not isinstance(artifact.abi, list) or not artifact.bytecode.startswith(
                "0x"
            ):
                raise ValueError("malformed artifact")
            bytes.fromhex(artifact.bytecode[2:])
        return artifacts
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        # A corrupt cache entry is rebuilt, not fatal.
        logger.warning("ignoring unreadable artifact cache %s", path)
        return None


def _store(
    path: Path, contracts: Mapping[str, ContractArtifact], evm_version: str
) -> None:
    entries = {
        name: {"abi": artifact.abi, "bytecode": artifact.bytecode}
        for name, artifact in contracts.items()
    }
    document = {
        "format": _FORMAT,
        "vyper": vyper.__version__,
        "evm_version": evm_version,
        "checksum": _checksum(entries),
        "contracts": entries,
    }
    path.parent.mkdir(parents=True, exist_ok=True)

    # Write then rename, so a concurrent reader sees the old file or the
    # whole new one, never half of it.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
