"""Linking each imported patient to the DID that owns their record.

The caller says which DID a patient is, as a mapping or a function of the
Patient's resource id. :class:`NewDidKeys` mints a fresh ``did:key``
(Ed25519) per patient, for tests and the command line, and keeps the key
pairs for the caller to hand to a wallet. ::

    >>> keys = NewDidKeys(random_bytes=lambda size: bytes(size))
    >>> keys("patient-1")
    'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp'
"""

import re
import secrets
from collections.abc import Callable, Mapping

from agora.health.fhir.errors import FhirRule, PatientLinkError
from agora.identity.did_key import did_key_from_key_pair
from agora.identity.document import Did
from agora.identity.keys import KeyPair, KeyType

PatientDids = Mapping[str, Did] | Callable[[str], Did]
"""The DID of each patient, keyed by their Patient resource id."""

# W3C DID Core §3.1: did:<method-name>:<method-specific-id>, the id being
# *( *idchar ":" ) 1*idchar, an idchar ALPHA / DIGIT / "." / "-" / "_" or
# pct-encoded.
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID_SYNTAX = re.compile(rf"did:[a-z0-9]+:(?:{_IDCHAR}|:)*{_IDCHAR}")


def link_patient(patient_id: str, dids: PatientDids, *, where: str) -> Did:
    """The DID of ``patient_id``; raises :class:`PatientLinkError`.

    ``where`` says which Bundle the patient came from, for the message: the
    patient id itself is a medical record number and never goes in one.
    """
    if callable(dids):
        did = dids(patient_id)
    else:
        found = dids.get(patient_id)
        if found is None:
            raise PatientLinkError(
                FhirRule.NO_DID, f"no DID for the Patient of {where}"
            )
        did = found
    if not isinstance(did, str) or not _DID_SYNTAX.fullmatch(did):
        raise PatientLinkError(
            FhirRule.INVALID_DID, f"the DID for the Patient of {where} is not a DID"
        )
    return did


class NewDidKeys:
    """A new Ed25519 ``did:key`` for each patient id it is asked about; the
    same id gets the same DID again."""

    def __init__(
        self, *, random_bytes: Callable[[int], bytes] = secrets.token_bytes
    ) -> None:
        self._random_bytes = random_bytes
        self._pairs: dict[str, KeyPair] = {}

    def __call__(self, patient_id: str) -> Did:
        return did_key_from_key_pair(self.key_pair(patient_id))

    def key_pair(self, patient_id: str) -> KeyPair:
        """The key pair behind the patient's DID, made on first use."""
        pair = self._pairs.get(patient_id)
        if pair is None:
            secret = self._random_bytes(32)
            pair = KeyPair.from_private_bytes(KeyType.ED25519, secret)
            self._pairs[patient_id] = pair
        return pair
