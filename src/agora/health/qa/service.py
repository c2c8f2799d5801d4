"""EHR question answering as a service, under the patient's consent.

The application's handler for the market's service runtime
(:func:`agora.market.services.create_service_app`), as the layers go: the
application uses the market, not the other way round.

Input: JSON ``{"patient": <DID>, "grant": <Consent grant id>, "question":
<text>}``. The service answers only when grant ``grant`` on ``Consent`` is
active (unrevoked, unexpired, read from chain on every call), is owned by
the patient's account, names the caller's ``did:ethr`` as grantee, and
covers by category every resource type the question reads (a search reads
those of its types the grant covers); otherwise 403 and the question is not
looked at further. A grant scoped by a records
root alone covers nothing here: the service cannot tell, without the
patient's proofs, which records it names. Then an unknown patient is 404.
The answer cites each resource it came from (type and id).
"""

import json
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.health.qa.engine import Intent, QaEngine, QuestionError, classify
from agora.health.qa.record import PatientRecord
from agora.ledger import Category, ConsentClient, GrantId, LedgerError, grantee_hash
from agora.ledger.errors import NotFoundError
from agora.market.services.errors import (
    ConsentRequiredError,
    UnknownSubjectError,
    UnusableInputError,
)
from agora.market.services.runtime import Caller
from agora.vault.errors import OwnerDidError
from agora.vault.sharing import owner_address

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024


class QuestionIn(BaseModel):
    """One question about one patient, under one grant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patient: str = Field(min_length=5, max_length=256)
    grant: int = Field(ge=1)
    question: str = Field(min_length=1)


class EhrQaService:
    """A :class:`~agora.market.services.runtime.ServiceHandler` over the
    records it holds, by patient DID."""

    name: str = "ehr-question-answering"
    description: str = (
        "Questions about a patient's FHIR record (medications, conditions, "
        "latest observations, immunizations, encounters), answered with the "
        "resources cited, only under the patient's active consent grant."
    )
    accepts: tuple[str, ...] = ("application/json",)

    def __init__(
        self,
        records: Mapping[str, PatientRecord],
        *,
        engine: QaEngine,
        consent: ConsentClient,
    ) -> None:
        self._records = records
        self._engine = engine
        self._consent = consent

    def answer(
        self, body: bytes, content_type: str, *, caller: Caller
    ) -> dict[str, Any]:
        asked = self.parse(body, content_type)
        try:
            question = self._engine.check(asked.question)
        except QuestionError as exc:
            raise UnusableInputError(str(exc)) from None
        reads = self._engine.needs(question)

        # Consent first: without it, not even whether the patient is known.
        # A search reads what the grant covers; other questions need all.
        reads = self.check_consent(
            asked, caller, reads, partial=classify(question) is Intent.SEARCH
        )
        record = self._records.get(asked.patient)
        if record is None:
            raise UnknownSubjectError("this service holds no record of the patient")

        try:
            answer = self._engine.answer(record, question, allowed=reads)
        except QuestionError as exc:
            raise UnusableInputError(str(exc)) from None
        logger.info("grant %d: answered a %s question", asked.grant, answer.intent)
        return {"patient": asked.patient, "grant": asked.grant, **answer.to_json()}

    @staticmethod
    def parse(body: bytes, content_type: str) -> QuestionIn:
        """The question in ``body``; raises :class:`UnusableInputError`."""
        if content_type != "application/json":
            raise UnusableInputError("Content-Type must be application/json")
        if len(body) > MAX_BODY_BYTES:
            raise UnusableInputError(f"the body is at most {MAX_BODY_BYTES} bytes")
        try:
            return QuestionIn.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            raise UnusableInputError(
                'send {"patient": DID, "grant": grant id, "question": text}'
            ) from None

    def check_consent(
        self,
        asked: QuestionIn,
        caller: Caller,
        reads: tuple[str, ...],
        *,
        partial: bool = False,
    ) -> tuple[str, ...]:
        """The resource types of ``reads`` that grant ``asked.grant`` lets
        ``caller`` read of the patient's record now; raises
        :class:`ConsentRequiredError` when it lets none, or (unless
        ``partial``) not all."""
        try:
            patient = owner_address(asked.patient)
        except OwnerDidError:
            raise UnusableInputError(
                "patient must be a did:ethr or a secp256k1 did:key"
            ) from None
        grant_id = GrantId(asked.grant)
        try:
            grant = self._consent.get(grant_id)
            active = self._consent.is_active(grant_id)
        except NotFoundError:
            raise ConsentRequiredError(f"there is no grant {grant_id}") from None
        except LedgerError as exc:
            # Cannot check consent, so no answer.
            raise ConsentRequiredError("the consent grant cannot be read now") from exc
        if grant.owner != patient:
            raise ConsentRequiredError(f"grant {grant_id} is not the patient's")
        if grant.grantee_hash != grantee_hash(caller.did):
            raise ConsentRequiredError(f"grant {grant_id} is not to {caller.did}")
        if not active:
            raise ConsentRequiredError(f"grant {grant_id} is revoked or expired")
        covered = tuple(k for k in reads if Category.of(k) & grant.categories)
        missing = [kind for kind in reads if kind not in covered]
        if not covered or (missing and not partial):
            raise ConsentRequiredError(
                f"grant {grant_id} does not cover {', '.join(missing)}"
            )
        return covered
