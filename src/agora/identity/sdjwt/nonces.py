"""Single-use nonces: what stops a presentation from being replayed.

A verifier hands out a fresh nonce with each :class:`PresentationRequest`;
the holder's Key Binding JWT signs it. Accepting a nonce once and only once,
and only while it is young, is what makes a captured presentation useless
to anyone else (RFC 9901 §9.5): :class:`NonceStore` remembers each nonce it
issued until it is spent or expires.
"""

import secrets
import threading
import time
from collections.abc import Callable

from agora.identity.sdjwt.errors import Rule, VerificationError

NONCE_BYTES = 24
"""192 random bits per nonce, as URL-safe base64 (32 characters)."""


class NonceStore:
    """Nonces issued by one verifier, each accepted once within ``ttl_s``.

    Thread-safe. Spent nonces are remembered until they would have expired,
    so a replay is reported as such rather than as an unknown nonce. At
    most ``max_outstanding`` nonces may be live; older ones are dropped
    first when more are asked for.
    """

    def __init__(
        self,
        *,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_outstanding: int = 100_000,
    ) -> None:
        if ttl_s <= 0 or max_outstanding <= 0:
            raise ValueError("ttl_s and max_outstanding must be positive")
        self._ttl_s = ttl_s
        self._clock = clock
        self._max_outstanding = max_outstanding
        self._issued: dict[str, float] = {}
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        """A fresh nonce, valid for one presentation within ``ttl_s``."""
        nonce = secrets.token_urlsafe(NONCE_BYTES)
        with self._lock:
            now = self._clock()
            self._prune(now)
            while len(self._issued) >= self._max_outstanding:
                # Dicts keep insertion order: the first key is the oldest.
                del self._issued[next(iter(self._issued))]
            self._issued[nonce] = now + self._ttl_s
        return nonce

    def consume(self, nonce: str) -> None:
        """Spend ``nonce``; raises :class:`VerificationError` under
        ``replayed_nonce`` if it was spent already, ``nonce`` if it was never
        issued here or has expired."""
        with self._lock:
            now = self._clock()
            if nonce in self._spent and self._spent[nonce] > now:
                raise VerificationError(Rule.REPLAYED_NONCE, "nonce was already used")
            expires_at = self._issued.pop(nonce, None)
            if expires_at is None:
                raise VerificationError(Rule.NONCE, "nonce was not issued here")
            if expires_at <= now:
                raise VerificationError(Rule.NONCE, "nonce has expired")
            self._spent[nonce] = expires_at

    def export_state(self) -> dict[str, dict[str, float]]:
        """Live and spent nonces with their expiry times, to keep the store
        across runs; meaningful only with a wall ``clock`` such as
        :func:`time.time` (the default monotonic clock restarts at boot)."""
        with self._lock:
            self._prune(self._clock())
            return {"issued": dict(self._issued), "spent": dict(self._spent)}

    @classmethod
    def restore(
        cls,
        state: dict[str, dict[str, float]],
        *,
        ttl_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> "NonceStore":
        """A store holding what :meth:`export_state` returned."""
        store = cls(ttl_s=ttl_s, clock=clock)
        store._issued = {str(k): float(v) for k, v in state.get("issued", {}).items()}
        store._spent = {str(k): float(v) for k, v in state.get("spent", {}).items()}
        return store

    def __len__(self) -> int:
        """Nonces issued and not yet spent (some may have expired)."""
        return len(self._issued)

    def _prune(self, now: float) -> None:
        # Issued nonces expire in the order they were issued (one ttl for
        # all), so the expired ones are a prefix of the dict.
        while self._issued:
            oldest = next(iter(self._issued))
            if self._issued[oldest] > now:
                break
            del self._issued[oldest]

        # Spent ones are ordered by spending, not expiry: sweep them only
        # when they outnumber the live ones, amortised O(1) per call.
        if len(self._spent) > max(len(self._issued), 1024):
            for nonce in [n for n, until in self._spent.items() if until <= now]:
                del self._spent[nonce]
