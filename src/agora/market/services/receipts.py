"""Signed receipts as files: what a consumer hands a provider to settle.

A signed receipt travels as JSON (``agora-receipt/v1``)::

    {"format": "agora-receipt/v1",
     "receipt": {"service": 1, "consumer": "0x…", "calls": 2, "nonce": 0},
     "signature": "0x…"}

``receipt`` is exactly what a service's answer carries; ``signature`` the
consumer's EIP-712 signature of it
(:meth:`agora.ledger.ServiceMarketClient.sign`). Reading one checks its
shape only: the contract checks the signature when it is settled.
"""

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from web3 import Web3

from agora.errors import DataError
from agora.ledger import Receipt

RECEIPT_FORMAT = "agora-receipt/v1"


class _ReceiptDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service: int = Field(ge=1)
    consumer: str
    calls: int = Field(ge=1)
    nonce: int = Field(ge=0)

    @field_validator("consumer")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if not Web3.is_address(value):
            raise ValueError("the consumer is an Ethereum address")
        return value


class _SignedDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["agora-receipt/v1"]
    receipt: _ReceiptDocument
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


@dataclass(frozen=True)
class SignedReceipt:
    """A receipt and the consumer's signature of it."""

    receipt: Receipt
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "receipt": {
                "service": self.receipt.service,
                "consumer": self.receipt.consumer,
                "calls": self.receipt.calls,
                "nonce": self.receipt.nonce,
            },
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: object) -> "SignedReceipt":
        """The signed receipt :meth:`to_json` wrote; :class:`DataError`
        saying what is wrong otherwise."""
        try:
            document = _SignedDocument.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}"
                for e in exc.errors()
            )
            raise DataError(f"not an {RECEIPT_FORMAT} document: {problems}") from None
        receipt = document.receipt
        return cls(
            Receipt(
                receipt.service,
                Web3.to_checksum_address(receipt.consumer),
                receipt.calls,
                receipt.nonce,
            ),
            bytes.fromhex(document.signature[2:]),
        )
