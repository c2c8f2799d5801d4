"""Errors raised by :mod:`agora.identity.wallet`.

``cryptography`` and ``OSError`` exceptions are translated into these once,
where the file is read, decrypted or written, always ``from`` the original.
No message ever quotes a password, a key, a credential or a claim value.
"""

from enum import StrEnum

from agora.identity.errors import IdentityError


class WalletError(IdentityError):
    """Root of every error the wallet raises."""


class FileRule(StrEnum):
    """The check a wallet file failed, as a stable machine-readable code."""

    TRUNCATED = "truncated"
    MAGIC = "magic"
    CHECKSUM = "checksum"
    HEADER = "header"
    KDF_PARAMETERS = "kdf_parameters"
    AUTHENTICATION = "authentication"
    CONTENTS = "contents"


class WalletTamperedError(WalletError):
    """The file is truncated, corrupted or altered; ``rule`` names the check.

    Nothing of the wallet is returned: no partial and no empty wallet.
    """

    def __init__(self, rule: FileRule, detail: str) -> None:
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule.value}: {detail}")


class UnsupportedWalletVersionError(WalletError):
    """The file is in a format version this Agora cannot read."""


class WrongPasswordError(WalletError):
    """The password does not open this wallet."""


class WalletExistsError(WalletError, FileExistsError):
    """``create`` was asked to overwrite an existing file."""


class WalletNotFoundError(WalletError, FileNotFoundError):
    """There is no wallet file at the path."""


class WalletStorageError(WalletError, OSError):
    """The wallet could not be written; the previous file is left intact."""


class InvalidPasswordError(WalletError, ValueError):
    """A new password is unacceptable (empty)."""


class InvalidKdfParametersError(WalletError, ValueError):
    """Scrypt parameters out of the accepted bounds."""


class UnknownKeyError(WalletError, LookupError):
    """No key pair for that DID in the wallet."""


class DuplicateKeyError(WalletError, ValueError):
    """The key pair is already in the wallet."""


class UnknownCredentialError(WalletError, LookupError):
    """No credential with that id in the wallet."""


class DuplicateCredentialError(WalletError, ValueError):
    """The credential is already in the wallet."""


class InvalidCredentialError(WalletError, ValueError):
    """A credential is not a well-formed SD-JWT VC."""


class NoHolderKeyError(WalletError, LookupError):
    """The wallet holds no key matching the credential's ``cnf`` key."""
