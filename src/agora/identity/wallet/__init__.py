"""The holder's wallet: DID key pairs and SD-JWT VCs, encrypted at rest.

One file holds everything, sealed with AES-256-GCM under a key that scrypt
derives from a password (see :mod:`agora.identity.wallet.envelope` for the
format). The public API is exactly what this module exports. ::

    >>> import tempfile, pathlib
    >>> from agora.identity.sdjwt import Algorithm, CredentialIssuer, SigningKey
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> cheap = ScryptParameters(n=2**4)  # production keeps the default
    >>> wallet = Wallet.create(folder / "wallet", "correct horse", kdf=cheap)
    >>> did = wallet.new_did()

A bank issues a credential to that DID's key; the wallet keeps it:

    >>> bank = CredentialIssuer(
    ...     "did:web:bank", SigningKey.generate(Algorithm.ES256), clock=lambda: 1.8e9
    ... )
    >>> issued = bank.issue(
    ...     "https://agora.example/vct/bank-statement",
    ...     {"income_over_3000": True, "current_balance": 12_000},
    ...     holder_jwk=wallet.public_jwk(did),
    ... )
    >>> summary = wallet.add_credential(issued.serialized)
    >>> summary.claim_names
    ('current_balance', 'income_over_3000')

Reopened with the password, it presents one claim to a lender:

    >>> wallet = Wallet.open(folder / "wallet", "correct horse")
    >>> presentation = wallet.present(
    ...     summary.id, ["income_over_3000"], nonce="n-1", audience="did:web:lender"
    ... )
    >>> presentation.count("~")
    2
"""

from agora.identity.wallet.envelope import ScryptParameters
from agora.identity.wallet.errors import (
    DuplicateCredentialError,
    DuplicateKeyError,
    FileRule,
    InvalidCredentialError,
    InvalidKdfParametersError,
    InvalidPasswordError,
    NoHolderKeyError,
    UnknownCredentialError,
    UnknownKeyError,
    UnsupportedWalletVersionError,
    WalletError,
    WalletExistsError,
    WalletNotFoundError,
    WalletStorageError,
    WalletTamperedError,
    WrongPasswordError,
)
from agora.identity.wallet.store import CredentialSummary, Wallet, credential_id

__all__ = [
    "CredentialSummary",
    "DuplicateCredentialError",
    "DuplicateKeyError",
    "FileRule",
    "InvalidCredentialError",
    "InvalidKdfParametersError",
    "InvalidPasswordError",
    "NoHolderKeyError",
    "ScryptParameters",
    "UnknownCredentialError",
    "UnknownKeyError",
    "UnsupportedWalletVersionError",
    "Wallet",
    "WalletError",
    "WalletExistsError",
    "WalletNotFoundError",
    "WalletStorageError",
    "WalletTamperedError",
    "WrongPasswordError",
    "credential_id",
]
