"""Credentials verified against the consortium's contracts end to end:
issuer keys from DIDRegistry, trust from Consortium, status from Anchor."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from agora.identity.consortium import (
    ConsortiumTrustList,
    CredentialRecord,
    DocumentHost,
    IssuerOrganisation,
    consortium_verifier,
    enroll_issuer,
)
from agora.identity.credentials import DEGREE_VCT, IDENTITY_VCT, IdentityClaims
from agora.identity.did_key import did_key_from_key_pair
from agora.identity.keys import KeyPair, KeyType, PublicKey
from agora.identity.sdjwt import (
    Algorithm,
    CredentialIssuer,
    HeldCredential,
    NonceStore,
    PresentationRequest,
    Rule,
    SigningKey,
    StatusReference,
    VerificationError,
)
from agora.ledger import (
    Account,
    Chain,
    Deployment,
    build_contracts,
    bytes32,
    connect,
    deploy,
)
from agora.settings import Settings

LENDER = "did:web:lender-a.example"
TODAY = date(2026, 12, 3)
CLAIMS = IdentityClaims.parse(
    {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "birth_date": "1990-05-17",
        "national_id": "A123456789",
        "address": {
            "street": "1 Main St",
            "locality": "Taipei",
            "postal_code": "100",
            "country": "TW",
        },
    }
).to_claims(today=TODAY)


@dataclass
class Consortium:
    chain: Chain
    ledger: Deployment
    admin: Account
    government: IssuerOrganisation
    school: IssuerOrganisation
    host: DocumentHost
    holder_key: SigningKey


@pytest.fixture(scope="module")
def deployed() -> Consortium:
    settings = Settings(chain_url=None)
    chain = connect(settings)
    admin = chain.new_account("admin")
    ledger = deploy(chain, admin, artifacts=build_contracts(settings))
    host = DocumentHost()
    organisations = []
    for name, vct in (("government", IDENTITY_VCT), ("school", DEGREE_VCT)):
        account = chain.new_account(name)
        enroll_issuer(ledger.consortium, account, name, [vct], admin=admin)
        organisations.append(
            IssuerOrganisation.setup(
                ledger,
                account,
                status_uri=f"https://{name}.example/status/1",
                host=host,
            )
        )
    return Consortium(
        chain,
        ledger,
        admin,
        *organisations,
        host=host,
        holder_key=SigningKey.generate(Algorithm.EDDSA),
    )


@pytest.fixture
def consortium(deployed: Consortium) -> Iterator[Consortium]:
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


def _issue(
    consortium: Consortium, issuer: IssuerOrganisation | None = None, vct: str = ""
) -> tuple[str, CredentialRecord]:
    credential, record = (issuer or consortium.government).issue(
        vct or IDENTITY_VCT,
        CLAIMS,
        holder_jwk=consortium.holder_key.public_jwk(),
        valid_for_s=3600,
    )
    return credential.serialized, record


def _verify(consortium: Consortium, credential: str) -> dict[str, object]:
    nonces = NonceStore()
    nonce = nonces.issue()
    presentation = HeldCredential.parse_unverified(credential).present(
        ["age_over_18", "given_name"],
        holder_key=consortium.holder_key,
        nonce=nonce,
        audience=LENDER,
    )
    verifier = consortium_verifier(
        consortium.ledger, consortium.host.fetch, nonces=nonces, recheck_after_s=0
    )
    request = PresentationRequest(
        nonce=nonce, audience=LENDER, required_claims=frozenset({"age_over_18"})
    )
    return verifier.verify(presentation, request).claims


def _rule(consortium: Consortium, credential: str) -> Rule:
    with pytest.raises(VerificationError) as caught:
        _verify(consortium, credential)
    return caught.value.rule


def test_a_listed_issuer_s_credential_verifies(consortium: Consortium) -> None:
    credential, _ = _issue(consortium)

    assert _verify(consortium, credential) == {"age_over_18": True}


def test_issuer_trust_is_per_credential_type(consortium: Consortium) -> None:
    # The school is listed for degrees only.
    credential, _ = _issue(consortium, consortium.school, IDENTITY_VCT)

    assert _rule(consortium, credential) is Rule.ISSUER_TRUST


def test_distrusting_an_issuer_refuses_its_credentials(consortium: Consortium) -> None:
    credential, _ = _issue(consortium)
    consortium.ledger.consortium.distrust_issuer(
        consortium.government.account.address, IDENTITY_VCT, account=consortium.admin
    )

    assert _rule(consortium, credential) is Rule.ISSUER_TRUST


def test_removing_the_member_refuses_its_credentials(consortium: Consortium) -> None:
    credential, _ = _issue(consortium)
    consortium.ledger.consortium.remove_member(
        consortium.government.account.address, account=consortium.admin
    )

    assert _rule(consortium, credential) is Rule.ISSUER_TRUST


def test_revocation_takes_effect_once_anchored(consortium: Consortium) -> None:
    credential, record = _issue(consortium)
    consortium.government.revoke(record)

    assert _rule(consortium, credential) is Rule.REVOKED


def test_suspension_is_lifted(consortium: Consortium) -> None:
    credential, record = _issue(consortium)
    consortium.government.suspend(record)
    assert _rule(consortium, credential) is Rule.SUSPENDED

    consortium.government.unsuspend(record)
    assert _verify(consortium, credential) == {"age_over_18": True}


def test_a_deactivated_issuer_has_no_keys(consortium: Consortium) -> None:
    credential, _ = _issue(consortium)
    account = consortium.government.account
    consortium.ledger.did_registry.change_owner(
        account.address, "0x" + "00" * 20, account=account
    )

    assert _rule(consortium, credential) is Rule.ISSUER_KEY


def test_a_revoked_signing_key_verifies_nothing(consortium: Consortium) -> None:
    credential, _ = _issue(consortium)
    government = consortium.government
    consortium.ledger.did_registry.revoke_attribute(
        government.account.address,
        bytes32("did/pub/Ed25519/veriKey/hex"),
        PublicKey.from_jwk(government.public_jwk).raw,
        account=government.account,
    )

    assert _rule(consortium, credential) is Rule.ISSUER_KEY


def test_an_impostor_cannot_sign_for_a_listed_issuer(consortium: Consortium) -> None:
    government = consortium.government
    impostor_key = SigningKey.generate(Algorithm.EDDSA, key_id=government.key_id)
    forged = CredentialIssuer(government.did, impostor_key).issue(
        IDENTITY_VCT,
        CLAIMS,
        holder_jwk=consortium.holder_key.public_jwk(),
        valid_for_s=3600,
        status=StatusReference(uri="https://government.example/status/1", index=1),
    )

    assert _rule(consortium, forged.serialized) is Rule.ISSUER_SIGNATURE


def test_a_status_list_of_another_issuer_is_not_believed(
    consortium: Consortium,
) -> None:
    # A school points its degree at the government's list, where the entry
    # is valid: a list is believed only for credentials of its own issuer.
    pair = KeyPair.generate(KeyType.ED25519)
    account = consortium.chain.new_account("rogue-school")
    enroll_issuer(
        consortium.ledger.consortium,
        account,
        "rogue",
        [DEGREE_VCT],
        admin=consortium.admin,
    )
    school = IssuerOrganisation.setup(
        consortium.ledger,
        account,
        status_uri="https://rogue.example/status/1",
        host=consortium.host,
        key=pair,
    )
    signing_key = SigningKey(pair.private_jwk(), key_id=school.key_id)
    forged = CredentialIssuer(school.did, signing_key).issue(
        DEGREE_VCT,
        {"age_over_18": True, "given_name": "Ada"},
        holder_jwk=consortium.holder_key.public_jwk(),
        valid_for_s=3600,
        status=StatusReference(uri="https://government.example/status/1", index=1),
    )

    assert _rule(consortium, forged.serialized) is Rule.STATUS_UNAVAILABLE


def test_trust_list_answers_other_dids_untrusted(consortium: Consortium) -> None:
    trust = ConsortiumTrustList(consortium.ledger.consortium)
    did_key = did_key_from_key_pair(KeyPair.generate(KeyType.ED25519))
    other_chain = consortium.government.did.replace(":0x", ":0x7a69", 1)

    assert trust.may_issue(consortium.government.did, IDENTITY_VCT)
    assert not trust.may_issue(did_key, IDENTITY_VCT)
    assert not trust.may_issue(other_chain, IDENTITY_VCT)
