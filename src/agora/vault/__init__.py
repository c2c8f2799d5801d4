"""agora.vault: encrypted, content-addressed objects.

The safe recipes are :func:`put_encrypted` and :func:`get_decrypted`;
:mod:`agora.vault.reencryption` holds the sharing primitives and
:mod:`agora.vault.unixfs` plain (unencrypted) IPFS-compatible files.

Sharing by consent lives in its own modules, which need the ledger (and
so are not imported here): :mod:`agora.vault.sharing` (``share``,
``revoke``, ``read_shared``), :mod:`agora.vault.proxy` (the re-encryption
proxies), :mod:`agora.vault.access_log` and :mod:`agora.vault.audit`
(``audit_trail``); :mod:`agora.vault.local` keeps the command line's
proxies and owners' catalogs between runs.
"""

from agora.vault.blockstore import BlockBackend, BlockStore, Cid, open_blockstore
from agora.vault.objects import (
    Envelope,
    decrypt_to_file,
    get_decrypted,
    owner_data_key,
    put_encrypted,
    read_envelope,
)

__all__ = [
    "BlockBackend",
    "BlockStore",
    "Cid",
    "Envelope",
    "decrypt_to_file",
    "get_decrypted",
    "open_blockstore",
    "owner_data_key",
    "put_encrypted",
    "read_envelope",
]
