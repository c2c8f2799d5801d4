"""Credit scoring over HTTP: a model trained here on the real Taiwan table,
published as one artefact by CID, scoring credit files sent by column name
exactly as the model scores the table's rows; bad fields are 422, uncharged,
without their values quoted."""

import csv
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from agora.errors import DataError
from agora.identity.did_ethr import ethr_did
from agora.ledger import Receipt
from agora.lending.credit import CreditTrainConfig, state_to_arrays
from agora.lending.credit.bundle import CreditModel
from agora.lending.credit.data import FEATURE_COLUMNS
from agora.lending.credit.model import train_centralized
from agora.lending.credit.service import COLUMNS, CreditFileIn, CreditScoringService
from agora.lending.credit_job import CreditData, CreditScorer, prepare_credit_data
from agora.market.services import CallAuthenticator, Meter, create_service_app
from agora.vault.blockstore import BlockStore

from .support import CALLS_FUNDED, FUNDS, PRICE, Caller, Deployed

DATA_DIR = Path(
    os.environ.get(
        "AGORA_DATA_DIR", Path(__file__).parents[3].parent / "shared" / "data"
    )
)
CONFIG = CreditTrainConfig()
UCI_NAMES = {
    "X1": "LIMIT_BAL",
    "X2": "SEX",
    "X3": "EDUCATION",
    "X4": "MARRIAGE",
    "X5": "AGE",
    "X6": "PAY_0",
    **{f"X{6 + month}": f"PAY_{month + 1}" for month in range(1, 6)},
    **{f"X{11 + month}": f"BILL_AMT{month}" for month in range(1, 7)},
    **{f"X{17 + month}": f"PAY_AMT{month}" for month in range(1, 7)},
}
"""The CSV's columns under the names of the UCI table's second header row."""


@pytest.fixture(scope="module")
def data() -> CreditData:
    return prepare_credit_data(DATA_DIR, seed=7)


@pytest.fixture(scope="module")
def model(data: CreditData) -> CreditModel:
    # Three epochs on a fifth of the train rows: seconds, and well above chance.
    rows = data.splits.train.subset(np.arange(4_000))
    network = train_centralized(
        data.encoder.encode(rows), rows.labels, config=CONFIG, rounds=3, seed=0
    )
    return CreditModel(dict(state_to_arrays(network)), data.encoder)


@pytest.fixture(scope="module")
def csv_rows() -> dict[int, dict[str, str]]:
    with (DATA_DIR / "credit_default_taiwan.csv").open(encoding="utf-8") as stream:
        return {int(row["ID"]): row for row in csv.DictReader(stream)}


def _credit_file(row: dict[str, str]) -> dict[str, int]:
    return {name: int(float(row[column])) for column, name in UCI_NAMES.items()}


@dataclass
class Platform:
    caller: Caller
    model_cid: str


@pytest.fixture
def platform(
    deployed: Deployed, model: CreditModel, tmp_path: Path
) -> Iterator[Platform]:
    snapshot = deployed.chain.snapshot()
    chain, ledger = deployed.chain, deployed.ledger
    store = BlockStore(tmp_path / "blocks")
    model_cid = model.publish(store)
    service_id = ledger.service_market.list_service(
        model_cid, PRICE, 3000, deployed.job_id, account=deployed.buyer
    )
    account = chain.new_account("platform-a")
    ledger.token.mint(account.address, FUNDS, account=deployed.admin)
    ledger.token.approve(ledger.service_market.address, FUNDS, account=account)
    ledger.service_market.deposit(FUNDS, account=account)

    # The service loads the model from its CID, as listed.
    handler = CreditScoringService(
        CreditModel.fetch(store, model_cid), model_cid=model_cid
    )
    app = create_service_app(
        handler,
        authenticator=CallAuthenticator(service_id, ledger.did_registry),
        meter=Meter(ledger.service_market, service_id, refresh_s=0),
        model_cid=model_cid,
    )
    caller = Caller(
        account,
        ethr_did(chain.chain_id, account.address),
        TestClient(app),
        service_id,
        ledger.service_market,
    )
    yield Platform(caller, model_cid)
    chain.revert(snapshot)


def _score(platform: Platform, credit_file: Mapping[str, object]) -> dict[str, object]:
    status, payload = platform.caller.call(
        json.dumps(credit_file).encode(), "application/json"
    )
    assert status == 200, payload
    answer = payload["answer"]
    assert isinstance(answer, dict)
    return answer


def test_the_service_scores_as_the_model_does_and_is_metered(
    platform: Platform,
    deployed: Deployed,
    model: CreditModel,
    data: CreditData,
    csv_rows: dict[int, dict[str, str]],
) -> None:
    scorer = CreditScorer(model.arrays, model.encoder, data.splits.test, CONFIG)
    for index in (0, 1):
        row = csv_rows[int(data.splits.test.ids[index])]
        answer = _score(platform, _credit_file(row))
        assert answer["probability_of_default"] == scorer(index)
        expected = "approve" if scorer(index) <= 0.35 else "decline"
        assert answer["decision"] == expected
        assert answer["threshold"] == 0.35
        assert answer["model_cid"] == platform.model_cid
    assert platform.caller.last_receipt is not None
    assert platform.caller.last_receipt["calls"] == 2

    # The listing's provider settles the two calls against the deposit.
    services = deployed.ledger.service_market
    receipt = Receipt(**platform.caller.last_receipt)  # type: ignore[arg-type]
    signature = services.sign(receipt, platform.caller.account)
    services.settle(receipt, signature, account=deployed.buyer)
    deposit = services.deposit_of(platform.caller.account.address)
    assert deposit == PRICE * (CALLS_FUNDED - 2)


def test_late_repayment_raises_the_probability(
    platform: Platform, data: CreditData
) -> None:
    # A borrower who paid every month in full, then the same file eight
    # months late on the latest bill.
    statuses = data.splits.test.features[:, 5:11]
    clean = int(np.flatnonzero((statuses == -1).all(axis=1))[0])
    credit_file = CreditFileIn.of_row(data.splits.test, clean).model_dump()
    late = {**credit_file, "PAY_0": 8}

    on_time = _score(platform, credit_file)["probability_of_default"]
    overdue = _score(platform, late)["probability_of_default"]
    assert isinstance(on_time, float) and isinstance(overdue, float)
    assert overdue > on_time + 0.1
    assert _score(platform, late)["decision"] == "decline"


GOOD = {
    "LIMIT_BAL": 50_000,
    "SEX": 2,
    "EDUCATION": 2,
    "MARRIAGE": 1,
    "AGE": 41,
    **{f"PAY_{month}": 0 for month in (0, 2, 3, 4, 5, 6)},
    **{f"BILL_AMT{month}": 20_000 for month in range(1, 7)},
    **{f"PAY_AMT{month}": 2_000 for month in range(1, 7)},
}


def _without(field: str) -> dict[str, object]:
    return {name: value for name, value in GOOD.items() if name != field}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        pytest.param(_without("PAY_0"), "PAY_0: Field required", id="missing"),
        pytest.param({**GOOD, "AGE": 17}, "AGE: Input should be greater", id="minor"),
        pytest.param({**GOOD, "AGE": 1000}, "AGE: Input should be less", id="age"),
        pytest.param({**GOOD, "SEX": 3}, "SEX: Input should be 1 or 2", id="sex"),
        pytest.param(
            {**GOOD, "LIMIT_BAL": 0}, "LIMIT_BAL: Input should be greater", id="limit"
        ),
        pytest.param(
            {**GOOD, "PAY_AMT3": -5}, "PAY_AMT3: Input should be greater", id="paid"
        ),
        pytest.param({**GOOD, "PAY_4": 10}, "PAY_4: Input should be less", id="status"),
        pytest.param(
            {**GOOD, "AGE": "41"}, "AGE: Input should be a valid integer", id="string"
        ),
        pytest.param(
            {**GOOD, "EDUCATION": 2.5}, "EDUCATION: Input should be a valid", id="float"
        ),
        pytest.param(
            {**GOOD, "MARRIAGE": True}, "MARRIAGE: Input should be a valid", id="bool"
        ),
        pytest.param(
            {**GOOD, "NAME": "Jane Doe"}, "an unknown field: send only", id="extra"
        ),
        pytest.param([GOOD], "one credit file as a JSON object", id="list"),
    ],
)
def test_bad_fields_are_unusable_and_not_charged(
    platform: Platform, body: object, words: str
) -> None:
    status, payload = platform.caller.call(
        json.dumps(body).encode(), "application/json"
    )
    assert status == 422, payload
    message = str(payload["message"])
    assert words in message
    assert "Jane" not in message and "1000" not in message and "'41'" not in message
    assert platform.caller.last_receipt is None  # refused calls are not counted


def test_a_body_that_is_not_json_is_unusable(platform: Platform) -> None:
    status, payload = platform.caller.call(b"LIMIT_BAL=5", "application/json")
    assert status == 422 and payload["message"] == "the body is not JSON"
    status, payload = platform.caller.call(b"{}", "text/csv")
    assert status == 422 and "application/json" in str(payload["message"])


def test_the_fields_are_the_table_columns_in_order() -> None:
    assert tuple(UCI_NAMES.values()) == COLUMNS
    assert list(UCI_NAMES) == list(FEATURE_COLUMNS)


def test_the_artefact_round_trips_and_refuses_other_blocks(
    model: CreditModel, data: CreditData
) -> None:
    read = CreditModel.from_bytes(model.to_bytes())
    rows = data.splits.val.subset(np.arange(200))
    assert np.array_equal(read.score(rows), model.score(rows))
    assert np.array_equal(read.encoder.mean, data.encoder.mean)

    with pytest.raises(DataError, match="not a credit model artefact"):
        CreditModel.from_bytes(b"not an npz")
    huge = CreditModel(dict(model.arrays), model.encoder, hidden=(10**9,))
    with pytest.raises(DataError, match="widths are out of range"):
        CreditModel.from_bytes(huge.to_bytes())
    arrays = dict(model.arrays)
    arrays.pop("layers.0.bias")
    with pytest.raises(DataError, match="missing"):
        CreditModel.from_bytes(CreditModel(arrays, model.encoder).to_bytes())
