"""``agora vc``: issuers, credentials, presentation requests and verification.

Issuers are organisations of the local consortium (``agora ledger init``):
``agora vc issuer create`` enrolls one and lists it for its credential
types. A verifier asks with ``agora vc request`` (a fresh single-use nonce)
and checks the answer with ``agora vc verify``, which prints the verified
claims as JSON, or ``{"error": <rule>, "detail": …}`` and exits 9.
"""

import json
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from agora.cli.common import JsonOption, failing_cleanly
from agora.cli.exit_codes import ExitCode
from agora.cli.wallet import echo_json, read_text_input, wallet_password
from agora.errors import DataError
from agora.identity.consortium import consortium_verifier
from agora.identity.credentials import (
    BANK_STATEMENT_VCT,
    CREDENTIAL_TYPES,
    DEFAULT_VALIDITY_S,
    DEGREE_VCT,
    IDENTITY_VCT,
    IdentityClaims,
)
from agora.identity.did_key import public_key_from_did_key
from agora.identity.errors import IdentityError
from agora.identity.issuer_store import (
    create_issuer,
    documents_host,
    issuer_names,
    open_issuer,
)
from agora.identity.sdjwt import NonceStore, PresentationRequest, VerificationError
from agora.identity.wallet import credential_id
from agora.ledger.local import LocalLedger
from agora.settings import Settings, load_settings

vc_app = typer.Typer(help="Verifiable credentials (SD-JWT VC).", no_args_is_help=True)
issuer_app = typer.Typer(help="Credential issuers.", no_args_is_help=True)
vc_app.add_typer(issuer_app, name="issuer")

NONCE_TTL_S = 600.0
"""How long a nonce from ``agora vc request`` may be answered."""


class CredentialType(StrEnum):
    IDENTITY = "identity"
    DEGREE = "degree"
    BANK_STATEMENT = "bank-statement"

    @property
    def vct(self) -> str:
        return {
            CredentialType.IDENTITY: IDENTITY_VCT,
            CredentialType.DEGREE: DEGREE_VCT,
            CredentialType.BANK_STATEMENT: BANK_STATEMENT_VCT,
        }[self]


IssuerOption = Annotated[str, typer.Option("--issuer", help="Issuer name.")]
CredentialArgument = Annotated[str, typer.Argument(help="Credential id.")]


def _names(value: str) -> frozenset[str]:
    return frozenset(name.strip() for name in value.split(",") if name.strip())


@issuer_app.command("create")
def issuer_create(
    name: Annotated[str, typer.Argument(help="Issuer name, e.g. government.")],
    credential_type: Annotated[
        list[CredentialType],
        typer.Option("--type", help="A credential type it may issue (repeatable)."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Enroll an issuer in the consortium, list it for its types, publish
    its key and status list. Run by the consortium admin."""
    with failing_cleanly(as_json=as_json):
        if not name.isidentifier():
            raise IdentityError("an issuer name is letters, digits and underscores")
        settings = load_settings()
        password = wallet_password(settings, confirm=True)
        with LocalLedger.open(settings) as ledger:
            stored = create_issuer(
                ledger,
                settings.state_dir,
                name,
                [kind.vct for kind in credential_type],
                password=password,
            )
            typer.echo(stored.organisation.did)


@issuer_app.command("list")
def issuer_list(as_json: JsonOption = False) -> None:
    """Issuers kept in the state folder, with their DIDs."""
    with failing_cleanly(as_json=as_json):
        state_dir = load_settings().state_dir
        issuers = {
            name: json.loads((state_dir / "issuers" / f"{name}.json").read_text())[
                "did"
            ]
            for name in issuer_names(state_dir)
        }
        if as_json:
            echo_json(issuers)
            return
        for name, did in issuers.items():
            typer.echo(f"{name}  {did}")


def _holder_jwk(holder: str) -> dict[str, str]:
    if not holder.startswith("did:key:"):
        raise IdentityError("a holder is a did:key (its key binds the credential)")
    return public_key_from_did_key(holder).to_jwk()


def _claims(credential_type: CredentialType, source: str) -> dict[str, Any]:
    try:
        data = json.loads(read_text_input(source, "claims"))
    except json.JSONDecodeError as exc:
        raise DataError(f"the claims in {source} are not JSON: {exc.msg}") from None
    model = CREDENTIAL_TYPES[credential_type.vct].parse(data)
    if isinstance(model, IdentityClaims):
        return model.to_claims(today=datetime.now(UTC).date())
    return model.to_claims()


@vc_app.command("issue")
def issue(
    issuer: IssuerOption,
    credential_type: Annotated[
        CredentialType, typer.Option("--type", help="Credential type.")
    ],
    holder: Annotated[str, typer.Option(help="The holder's did:key.")],
    claims: Annotated[
        str, typer.Option(help="JSON file of the claims, or - for stdin.")
    ],
    valid_days: Annotated[
        int | None, typer.Option(min=1, max=36_500, help="Validity in days.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the credential here, not stdout.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a credential; prints it (or its id, with --out)."""
    with failing_cleanly(as_json=as_json):
        settings = load_settings()
        holder_jwk = _holder_jwk(holder)
        values = _claims(credential_type, claims)
        password = wallet_password(settings)
        with LocalLedger.open(settings) as ledger:
            stored = open_issuer(ledger, settings.state_dir, issuer, password=password)
            vct = credential_type.vct
            valid_for_s = valid_days * 86_400 if valid_days else DEFAULT_VALIDITY_S[vct]
            credential, record = stored.organisation.issue(
                vct, values, holder_jwk=holder_jwk, valid_for_s=valid_for_s
            )
            identifier = credential_id(credential.serialized)
            stored.records[identifier] = record
            stored.save()
        if out is None:
            typer.echo(credential.serialized)
        else:
            out.write_text(credential.serialized + "\n")
            typer.echo(identifier)


def _change_status(
    settings: Settings, issuer: str, identifier: str, change: str
) -> None:
    password = wallet_password(settings)
    with LocalLedger.open(settings) as ledger:
        stored = open_issuer(ledger, settings.state_dir, issuer, password=password)
        record = stored.record(identifier)
        getattr(stored.organisation, change)(record)
        stored.save()


@vc_app.command("revoke")
def revoke(
    identifier: CredentialArgument, issuer: IssuerOption, as_json: JsonOption = False
) -> None:
    """Revoke for good; published and anchored at once."""
    with failing_cleanly(as_json=as_json):
        _change_status(load_settings(), issuer, identifier, "revoke")
        typer.echo(f"revoked {identifier}")


@vc_app.command("suspend")
def suspend(
    identifier: CredentialArgument, issuer: IssuerOption, as_json: JsonOption = False
) -> None:
    """Suspend until ``unsuspend``; published and anchored at once."""
    with failing_cleanly(as_json=as_json):
        _change_status(load_settings(), issuer, identifier, "suspend")
        typer.echo(f"suspended {identifier}")


@vc_app.command("unsuspend")
def unsuspend(
    identifier: CredentialArgument, issuer: IssuerOption, as_json: JsonOption = False
) -> None:
    """Lift a suspension (a revocation stays)."""
    with failing_cleanly(as_json=as_json):
        _change_status(load_settings(), issuer, identifier, "unsuspend")
        typer.echo(f"reinstated {identifier}")


def _nonce_file(settings: Settings) -> Path:
    return settings.state_dir / "verifier" / "nonces.json"


def _load_nonces(settings: Settings) -> NonceStore:
    try:
        state = json.loads(_nonce_file(settings).read_text())
    except FileNotFoundError:
        state = {}
    except ValueError as exc:
        raise DataError(f"{_nonce_file(settings)} is damaged") from exc
    return NonceStore.restore(state, ttl_s=NONCE_TTL_S, clock=time.time)


def _save_nonces(settings: Settings, nonces: NonceStore) -> None:
    path = _nonce_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(nonces.export_state()))
    partial.replace(path)


RequireOption = Annotated[
    str, typer.Option("--require", help="Comma-separated claims that must be shown.")
]
OptionalOption = Annotated[
    str, typer.Option("--optional", help="Comma-separated claims that may be shown.")
]
TypeOption = Annotated[
    CredentialType | None, typer.Option("--type", help="Acceptable credential type.")
]


@vc_app.command("request")
def request(
    aud: Annotated[str, typer.Option(help="The verifier's id (audience).")],
    require: RequireOption = "",
    optional: OptionalOption = "",
    credential_type: TypeOption = None,
) -> None:
    """A presentation request with a fresh, single-use nonce, as JSON."""
    with failing_cleanly(as_json=True):
        settings = load_settings()
        nonces = _load_nonces(settings)
        nonce = nonces.issue()
        _save_nonces(settings, nonces)
        echo_json(
            {
                "nonce": nonce,
                "aud": aud,
                "required": sorted(_names(require)),
                "optional": sorted(_names(optional)),
                "type": credential_type.vct if credential_type else None,
                "expires_in_s": NONCE_TTL_S,
            }
        )


@vc_app.command("verify")
def verify(
    source: Annotated[
        str, typer.Argument(help="Presentation file, or - for stdin.")
    ] = "-",
    nonce: Annotated[str, typer.Option(help="Nonce from `agora vc request`.")] = "",
    aud: Annotated[str, typer.Option(help="Audience the holder bound to.")] = "",
    require: RequireOption = "",
    optional: OptionalOption = "",
    credential_type: TypeOption = None,
) -> None:
    """Verify a presentation against the consortium; prints the verified
    claims as JSON, or ``{"error": <rule>, "detail": …}`` and exits 9."""
    with failing_cleanly(as_json=True):
        if not nonce or not aud:
            _refuse("request", "--nonce and --aud are required")
        try:
            presentation = read_text_input(source, "presentation")
        except DataError as exc:
            _refuse("unreadable_input", str(exc), code=ExitCode.DATA)

        settings = load_settings()
        presentation_request = PresentationRequest(
            nonce=nonce,
            audience=aud,
            required_claims=_names(require),
            optional_claims=_names(optional),
            credential_types=(
                frozenset({credential_type.vct}) if credential_type else None
            ),
        )
        with LocalLedger.open(settings) as ledger:
            nonces = _load_nonces(settings)
            verifier = consortium_verifier(
                ledger.deployment,
                documents_host(settings.state_dir).fetch,
                nonces=nonces,
                recheck_after_s=0.0,
            )
            try:
                verified = verifier.verify(presentation, presentation_request)
            except VerificationError as exc:
                _refuse(exc.rule.value, exc.detail)
            finally:
                _save_nonces(settings, nonces)
        echo_json(
            {"issuer": verified.issuer, "type": verified.vct, "claims": verified.claims}
        )


def _refuse(
    error: str, detail: str, *, code: ExitCode = ExitCode.VERIFICATION
) -> NoReturn:
    typer.echo(json.dumps({"error": error, "detail": detail}))
    raise typer.Exit(int(code))
