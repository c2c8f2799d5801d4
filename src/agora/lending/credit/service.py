"""Credit scoring as a service: the federated credit model behind HTTP.

The application's handler for the market's service runtime
(:func:`agora.market.services.create_service_app`), as the layers go: the
application uses the market, not the other way round.

Input: JSON, one credit file with the Taiwan table's columns by their UCI
names (:data:`COLUMNS`, in the order of the CSV's ``X1..X23``; the table
itself skips ``PAY_1``), all whole numbers::

    {"LIMIT_BAL": 20000, "SEX": 2, "EDUCATION": 2, "MARRIAGE": 1, "AGE": 24,
     "PAY_0": 2, "PAY_2": 2, "PAY_3": -1, "PAY_4": -1, "PAY_5": -2,
     "PAY_6": -2, "BILL_AMT1": 3913, …, "PAY_AMT6": 0}

A missing, unknown, mistyped or out-of-range field is 422 with a message
naming the field and the rule, never the value sent. Output: the
``probability_of_default``, the ``decision`` (``approve`` when the
probability is at most ``threshold``, by default the lending policy's
:attr:`~agora.lending.decision.LendingPolicy.max_default_probability`,
0.35; otherwise ``decline``), the threshold and the model's CID.
"""

import json
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agora.lending.credit.bundle import CreditModel
from agora.lending.credit.data import CreditTable
from agora.lending.credit.model import predict_proba
from agora.lending.decision import LendingPolicy
from agora.market.services.errors import UnusableInputError
from agora.market.services.runtime import Caller

MAX_BODY_BYTES = 16 * 1024
MAX_AMOUNT = 10**10
"""NT$; the table's largest credit limit is 1,000,000 and largest bill
under 2,000,000. Larger values are refused, not extrapolated."""

Amount = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
Paid = Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
Status = Annotated[int, Field(ge=-2, le=9)]
"""-2 no consumption, -1 paid in full, 0 revolving, 1..9 months late."""


class CreditFileIn(BaseModel):
    """One borrower's credit file, as a row of the Taiwan table."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    LIMIT_BAL: int = Field(ge=1, le=MAX_AMOUNT)
    SEX: Literal[1, 2]
    EDUCATION: int = Field(ge=0, le=6)
    MARRIAGE: int = Field(ge=0, le=3)
    AGE: int = Field(ge=18, le=120)
    PAY_0: Status
    PAY_2: Status
    PAY_3: Status
    PAY_4: Status
    PAY_5: Status
    PAY_6: Status
    BILL_AMT1: Amount
    BILL_AMT2: Amount
    BILL_AMT3: Amount
    BILL_AMT4: Amount
    BILL_AMT5: Amount
    BILL_AMT6: Amount
    PAY_AMT1: Paid
    PAY_AMT2: Paid
    PAY_AMT3: Paid
    PAY_AMT4: Paid
    PAY_AMT5: Paid
    PAY_AMT6: Paid

    def table(self) -> CreditTable:
        """The file as a one-row table (label unknown: 0)."""
        row = [getattr(self, column) for column in COLUMNS]
        return CreditTable(
            np.array([row], np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64)
        )

    @classmethod
    def of_row(cls, table: CreditTable, index: int) -> "CreditFileIn":
        """Row ``index`` of ``table`` as a credit file."""
        values = (int(value) for value in table.features[index])
        return cls.model_validate(dict(zip(COLUMNS, values, strict=True)))


COLUMNS = tuple(CreditFileIn.model_fields)
"""The input's field names, in the order of the CSV's ``X1..X23``."""


class CreditScoringService:
    """A :class:`~agora.market.services.runtime.ServiceHandler`."""

    name: str = "credit-scoring"
    description: str = (
        "A credit file (the Taiwan credit-default table's columns) to a "
        "probability of default and a decision (model trained federated by "
        "three lending platforms)."
    )
    accepts: tuple[str, ...] = ("application/json",)

    def __init__(
        self,
        model: CreditModel,
        *,
        model_cid: str,
        threshold: float = LendingPolicy().max_default_probability,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must lie in (0, 1)")
        self._model = model
        self._network = model.network()
        self.model_cid = model_cid
        self.threshold = threshold

    def answer(
        self, body: bytes, content_type: str, *, caller: Caller
    ) -> dict[str, Any]:
        del caller  # anyone with a deposit may ask
        credit_file = self.parse(body, content_type)
        probability = self.score(credit_file)
        return {
            "probability_of_default": probability,
            "decision": "approve" if probability <= self.threshold else "decline",
            "threshold": self.threshold,
            "model_cid": self.model_cid,
        }

    def score(self, credit_file: CreditFileIn) -> float:
        """The model's default probability for ``credit_file``."""
        inputs = self._model.encoder.encode(credit_file.table())
        return float(predict_proba(self._network, inputs)[0])

    @staticmethod
    def parse(body: bytes, content_type: str) -> CreditFileIn:
        """The credit file in ``body``; raises :class:`UnusableInputError`
        naming the fields at fault (never their values)."""
        if content_type != "application/json":
            raise UnusableInputError("Content-Type must be application/json")
        if len(body) > MAX_BODY_BYTES:
            raise UnusableInputError(f"the body is at most {MAX_BODY_BYTES} bytes")
        try:
            value = json.loads(body)
        except ValueError:
            raise UnusableInputError("the body is not JSON") from None
        if not isinstance(value, dict):
            raise UnusableInputError("send one credit file as a JSON object")
        try:
            return CreditFileIn.model_validate(value)
        except ValidationError as exc:
            raise UnusableInputError(_describe(exc)) from None


def _describe(error: ValidationError) -> str:
    # Pydantic's messages state the rule ("Input should be less than or
    # equal to 120"); the input itself is left out on purpose, and so is
    # the name of an unknown field, which is the caller's text.
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        if item["type"] == "extra_forbidden":
            problems.append(f"an unknown field: send only {COLUMNS[0]} … {COLUMNS[-1]}")
        else:
            field = ".".join(str(part) for part in item["loc"])
            problems.append(f"{field}: {item['msg']}")
    shown = "; ".join(problems[:5])
    more = len(problems) - 5
    return shown + (f"; and {more} more" if more > 0 else "")
