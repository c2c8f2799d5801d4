"""The three credential types of the lending application, and their claims.

A borrower proves who they are with a government identity credential, what
they studied with a school's degree credential and what they earn with a
bank's statement credential. Each type has a ``vct`` (the SD-JWT VC type
the consortium's trust list names), a pydantic model of what the issuer
attests, and the claims it signs, every one selectively disclosable.

Derived booleans let a borrower prove a predicate without the value behind
it: ``age_over_18`` instead of the birth date, ``income_over_3000`` instead
of the income. Issuers compute them at issuance, from their own records. ::

    >>> claims = IdentityClaims(
    ...     given_name="Ada", family_name="Lovelace", birth_date=date(1990, 1, 1),
    ...     national_id="A123456789",
    ...     address=PostalAddress(street="1 Main St", locality="Taipei",
    ...                           postal_code="100", country="TW"),
    ... )
    >>> claims.to_claims(today=date(2026, 12, 3))["age_over_18"]
    True
    >>> statement = BankStatementClaims(
    ...     monthly_incomes=(3200, 3100, 2900, 3300, 3500, 3000),
    ...     current_balance=12_000, account_age_months=40, currency="TWD")
    >>> {k: v for k, v in statement.to_claims().items() if k.startswith("income_over")}
    {'income_over_1000': True, 'income_over_3000': True, 'income_over_5000': False}
"""

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agora.identity.errors import IdentityError

VCT_BASE = "https://agora.example/vct"
IDENTITY_VCT = f"{VCT_BASE}/government-identity/v1"
DEGREE_VCT = f"{VCT_BASE}/school-degree/v1"
BANK_STATEMENT_VCT = f"{VCT_BASE}/bank-statement/v1"

INCOME_THRESHOLDS = (1000, 3000, 5000)
"""The ``income_over_<t>`` booleans a bank statement carries, in its currency."""

STATEMENT_MONTHS = 6
"""Months of income a statement averages over."""

_Name = Annotated[str, Field(min_length=1, max_length=100)]


class CredentialDataError(IdentityError, ValueError):
    """Claims an issuer was asked to sign are invalid.

    The message names the fields and what is wrong with them, never the
    values: an identity number must not reach a log through an error.
    """

    def __init__(self, credential: str, problems: list[str]) -> None:
        self.credential = credential
        self.problems = problems
        super().__init__(f"invalid {credential} claims: {'; '.join(problems)}")


def age_on(birth_date: date, today: date) -> int:
    """Whole years from ``birth_date`` to ``today`` (a 29 February birthday
    comes of age on 1 March in common years)."""
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


class _Claims(BaseModel):
    """What every credential's claim model shares."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    credential: ClassVar[str]

    @classmethod
    def parse(cls, data: Any) -> Self:
        """Validate ``data``; raises :class:`CredentialDataError` naming the
        fields at fault (pydantic's own messages would quote the input)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(part) for part in error['loc']) or 'claims'}: "
                f"{error['type']}"
                for error in exc.errors(include_input=False, include_url=False)
            ]
            raise CredentialDataError(cls.credential, problems) from None


class PostalAddress(_Claims):
    """A postal address, disclosed as one claim."""

    credential: ClassVar[str] = "address"
    street: _Name
    locality: _Name
    postal_code: Annotated[str, Field(min_length=1, max_length=16)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    """ISO 3166-1 alpha-2."""


class IdentityClaims(_Claims):
    """What a government attests about a citizen."""

    credential: ClassVar[str] = "identity"
    given_name: _Name
    family_name: _Name
    birth_date: date
    national_id: Annotated[str, Field(pattern=r"^[A-Z0-9-]{6,20}$")]
    address: PostalAddress

    @field_validator("birth_date")
    @classmethod
    def _born_in_the_past(cls, value: date) -> date:
        if value > date.today() or value.year < 1900:
            raise ValueError("birth date out of range")
        return value

    def to_claims(self, *, today: date) -> dict[str, Any]:
        """The signed claims, with ``age_over_18`` as of ``today``."""
        return {
            "given_name": self.given_name,
            "family_name": self.family_name,
            "birth_date": self.birth_date.isoformat(),
            "national_id": self.national_id,
            "address": self.address.model_dump(),
            "age_over_18": age_on(self.birth_date, today) >= 18,
        }


class DegreeClaims(_Claims):
    """What a school attests about a graduate."""

    credential: ClassVar[str] = "degree"
    institution: _Name
    degree: _Name
    """e.g. ``Bachelor of Science``."""
    field_of_study: _Name
    graduation_year: Annotated[int, Field(ge=1900, le=2100)]

    def to_claims(self) -> dict[str, Any]:
        """The signed claims."""
        return {
            "institution": self.institution,
            "degree": self.degree,
            "field": self.field_of_study,
            "graduation_year": self.graduation_year,
        }


class BankStatementClaims(_Claims):
    """What a bank attests about a customer's last six months."""

    credential: ClassVar[str] = "bank statement"
    monthly_incomes: Annotated[
        tuple[Annotated[int, Field(ge=0)], ...],
        Field(min_length=STATEMENT_MONTHS, max_length=STATEMENT_MONTHS),
    ]
    """Income credited in each of the last six months, oldest first, in
    whole units of ``currency``."""
    current_balance: int
    account_age_months: Annotated[int, Field(ge=0, le=1200)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    """ISO 4217."""

    @property
    def average_monthly_income(self) -> int:
        """The six-month average, rounded half to even to whole units."""
        average = Decimal(sum(self.monthly_incomes)) / STATEMENT_MONTHS
        return int(average.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))

    def to_claims(self) -> dict[str, Any]:
        """The signed claims, with one ``income_over_<t>`` per threshold
        (strictly over: an average of exactly 3000 is not over 3000)."""
        average = self.average_monthly_income
        claims: dict[str, Any] = {
            "average_monthly_income": average,
            "current_balance": self.current_balance,
            "account_age_months": self.account_age_months,
            "currency": self.currency,
        }
        for threshold in INCOME_THRESHOLDS:
            claims[f"income_over_{threshold}"] = average > threshold
        return claims


CREDENTIAL_TYPES: dict[
    str, type[IdentityClaims] | type[DegreeClaims] | type[BankStatementClaims]
] = {
    IDENTITY_VCT: IdentityClaims,
    DEGREE_VCT: DegreeClaims,
    BANK_STATEMENT_VCT: BankStatementClaims,
}
"""Each lending credential type and the model of its claims."""

DEFAULT_VALIDITY_S = {
    IDENTITY_VCT: 5 * 365 * 86_400,
    DEGREE_VCT: 50 * 365 * 86_400,
    BANK_STATEMENT_VCT: 30 * 86_400,
}
"""How long each type stays valid: a statement is a snapshot, a degree is
for life (its status list still revokes it)."""
