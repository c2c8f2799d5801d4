"""The lending credential types: claims, derived booleans, invalid data."""

from datetime import date
from typing import Any

import pytest

from agora.identity.credentials import (
    BankStatementClaims,
    CredentialDataError,
    DegreeClaims,
    IdentityClaims,
    age_on,
)

IDENTITY: dict[str, Any] = {
    "given_name": "Ada",
    "family_name": "Lovelace",
    "birth_date": "2008-12-03",
    "national_id": "A123456789",
    "address": {
        "street": "1 Main St",
        "locality": "Taipei",
        "postal_code": "100",
        "country": "TW",
    },
}


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (date(2008, 12, 3), date(2026, 12, 3), 18),
        (date(2008, 12, 4), date(2026, 12, 3), 17),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_counts_whole_years(born: date, today: date, age: int) -> None:
    assert age_on(born, today) == age


@pytest.mark.parametrize(
    ("today", "adult"), [(date(2026, 12, 3), True), (date(2026, 12, 2), False)]
)
def test_identity_claims_carry_age_over_18(today: date, adult: bool) -> None:
    claims = IdentityClaims.parse(IDENTITY).to_claims(today=today)

    assert claims["age_over_18"] is adult
    assert claims["birth_date"] == "2008-12-03"
    assert claims["national_id"] == "A123456789"
    assert claims["address"]["country"] == "TW"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"national_id": "a1"}, "national_id"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "not a date"}, "birth_date"),
        ({"given_name": ""}, "given_name"),
        ({"address": {"street": "x"}}, "address.locality"),
        ({"nickname": "Ada"}, "nickname"),
    ],
)
def test_invalid_identity_names_the_field_not_the_value(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(CredentialDataError) as caught:
        IdentityClaims.parse({**IDENTITY, **change})

    assert any(problem.startswith(field + ":") for problem in caught.value.problems)
    for value in change.values():
        if isinstance(value, str) and value:
            assert value not in str(caught.value)


def test_an_identity_number_never_appears_in_an_error() -> None:
    with pytest.raises(CredentialDataError) as caught:
        IdentityClaims.parse({**IDENTITY, "national_id": "lowercase-id-123"})

    assert "lowercase-id-123" not in str(caught.value)
    assert caught.value.problems == ["national_id: string_pattern_mismatch"]


def test_bank_statement_averages_six_months_and_derives_thresholds() -> None:
    statement = BankStatementClaims.parse(
        {
            "monthly_incomes": [3000, 3000, 3000, 3000, 3000, 3001],
            "current_balance": -200,
            "account_age_months": 40,
            "currency": "TWD",
        }
    )
    claims = statement.to_claims()

    assert claims["average_monthly_income"] == 3000
    # Over means strictly over: 3000.17 rounds to 3000, which is not over.
    assert claims["income_over_1000"] is True
    assert claims["income_over_3000"] is False
    assert claims["current_balance"] == -200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"monthly_incomes": [1, 2, 3]}, "monthly_incomes"),
        ({"monthly_incomes": [1, 2, 3, 4, 5, -6]}, "monthly_incomes.5"),
        ({"currency": "twd"}, "currency"),
        ({"account_age_months": -1}, "account_age_months"),
    ],
)
def test_invalid_bank_statement(change: dict[str, Any], field: str) -> None:
    data = {
        "monthly_incomes": [1, 2, 3, 4, 5, 6],
        "current_balance": 0,
        "account_age_months": 1,
        "currency": "TWD",
    }
    with pytest.raises(CredentialDataError) as caught:
        BankStatementClaims.parse({**data, **change})
    assert any(problem.startswith(field + ":") for problem in caught.value.problems)


def test_degree_claims() -> None:
    degree = DegreeClaims.parse(
        {
            "institution": "National Taiwan University",
            "degree": "Bachelor of Science",
            "field_of_study": "Computer Science",
            "graduation_year": 2012,
        }
    )

    assert degree.to_claims() == {
        "institution": "National Taiwan University",
        "degree": "Bachelor of Science",
        "field": "Computer Science",
        "graduation_year": 2012,
    }
