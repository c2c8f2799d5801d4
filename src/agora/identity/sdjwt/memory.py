"""In-memory key resolver, trust list and status list.

Stand-ins for the DID resolver, the Consortium trust list and the anchored
status lists, for tests, examples and demos. Each satisfies the matching
protocol of :mod:`agora.identity.sdjwt.verifier`.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from agora.identity.sdjwt.issuer import StatusReference
from agora.identity.sdjwt.verifier import CredentialStatus


class InMemoryKeys:
    """Issuer keys by ``(issuer, kid)``; a ``kid`` of ``None`` is the default."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str | None], dict[str, Any]] = {}

    def add(self, issuer: str, jwk: Mapping[str, Any], *, key_id: str | None) -> None:
        """Register ``jwk`` for ``issuer`` under ``key_id``."""
        self._keys[(issuer, key_id)] = dict(jwk)

    def resolve_issuer_key(self, issuer: str, key_id: str | None) -> Mapping[str, Any]:
        """The registered key; raises :class:`KeyError` (a ``LookupError``)."""
        return self._keys[(issuer, key_id)]


class InMemoryTrustList:
    """Which credential types each issuer may issue."""

    def __init__(self, entries: Mapping[str, Iterable[str]] | None = None) -> None:
        self._entries = {
            issuer: frozenset(vcts) for issuer, vcts in (entries or {}).items()
        }

    def may_issue(self, issuer: str, vct: str) -> bool:
        """Whether ``issuer`` is listed for ``vct``."""
        return vct in self._entries.get(issuer, frozenset())


class InMemoryStatusList:
    """Status list entries; every index of a known list starts out valid."""

    def __init__(self, uris: Iterable[str] = ()) -> None:
        self._lists: dict[str, dict[int, CredentialStatus]] = {uri: {} for uri in uris}

    def set_status(self, reference: StatusReference, status: CredentialStatus) -> None:
        """Revoke, suspend or reinstate one entry, creating its list if new."""
        self._lists.setdefault(reference.uri, {})[reference.index] = status

    def status_of(self, reference: StatusReference) -> CredentialStatus:
        """The entry's status; raises :class:`KeyError` for an unknown list."""
        entries = self._lists[reference.uri]
        return entries.get(reference.index, CredentialStatus.VALID)
