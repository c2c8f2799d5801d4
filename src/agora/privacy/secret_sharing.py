"""Additive secret sharing: a sum learned, no addend revealed.

The querying platform learns the total an applicant owes at the other
platforms and none of their figures. Every other platform takes part,
holding a loan for the applicant or not (a zero), so the querier does not
even learn which of them lend to the applicant. Each responder splits its
figure into one uniformly random share per responder (in the ring of
integers modulo 2**64), keeps one and sends one to each other responder;
each then sends the querier the sum of the shares it holds. Any single share
or partial sum is uniformly random; the partial sums add up to the total.

Two limits, stated plainly: with two responders, a querier colluding with
one learns the other's figure (sum minus its own), which no protocol for a
sum avoids; and the responders learn that *someone* checked this applicant
(they must find the applicant's balance by the keyed hash), which the
applicant's consent covers. ::

    >>> shares = split(1_250, parties=3)
    >>> len(shares), reconstruct(shares)
    (3, 1250)
    >>> aggregate([100, 0, 250])
    350
"""

import secrets
from collections.abc import Callable, Sequence

from agora.privacy.errors import SharingError

MODULUS = 2**64
MAX_VALUE = 2**62
"""Largest figure shared; sums of up to four stay below 2**64."""

Random = Callable[[int], int]


def split(
    value: int, *, parties: int, randbelow: Random = secrets.randbelow
) -> list[int]:
    """``parties`` shares that sum to ``value`` modulo 2**64."""
    if parties < 2:
        raise SharingError("a value shared with fewer than two parties is revealed")
    if not 0 <= value <= MAX_VALUE:
        raise SharingError(f"a shared value is between 0 and {MAX_VALUE}")
    shares = [randbelow(MODULUS) for _ in range(parties - 1)]
    shares.append((value - sum(shares)) % MODULUS)
    return shares


def reconstruct(shares: Sequence[int]) -> int:
    """The value ``shares`` add up to."""
    return sum(shares) % MODULUS


def aggregate(figures: Sequence[int], *, randbelow: Random = secrets.randbelow) -> int:
    """The total of the responders' ``figures``, computed as the protocol
    does: each figure split among all responders, each responder's partial
    sum of the shares it received, the partial sums added."""
    responders = len(figures)
    outgoing = [
        split(figure, parties=responders, randbelow=randbelow) for figure in figures
    ]
    partials = [
        sum(outgoing[sender][receiver] for sender in range(responders)) % MODULUS
        for receiver in range(responders)
    ]
    return reconstruct(partials)
