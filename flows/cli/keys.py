"""`vanban keys`: the credentials officials and agencies prove who they are with (models/credentials.py): enrol,
show, rotate, revoke; an authenticator for one-time codes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from flows.cli.common import Actor, add_row, console, passphrase, ready_engine, user_errors
from models.config import get_settings
from models.db import session_scope
from models.legal_text import parse_date

app = typer.Typer(help="Keys and certificates: who an official is, proved by a key only he holds.", no_args_is_help=True)

Code = Annotated[str, typer.Argument(help="Official code (cvp) or agency code (ubnd-tinh)")]


@app.command("init")
@user_errors
def init(codes: Annotated[list[str], typer.Argument(help="Official codes (cvp) or agency codes (ubnd-tinh)")], actor: Actor,
         years: Annotated[int | None, typer.Option(help="Years a certificate is valid; default 2 (an official), 5 (an agency)")] = None) -> None:
    """Enrol officials or agencies, all or none: a new key pair each in this keystore (VANBAN_KEYSTORE), encrypted
    with its passphrase; the certificate, issued by the agency's CA (made now when the agency has none), in the
    directory."""
    from models.credentials import describe, enrol

    keystore = get_settings().keystore_dir
    secret = passphrase(f"the keystore {keystore}")
    with session_scope(ready_engine()) as session:
        shown = [describe(session, c) for c in enrol(session, codes, keystore=keystore, passphrase=secret, actor=actor,
                                                     years=years)]
    for code, cert in zip(codes, shown, strict=True):
        console.print(f"{code}: certificate {cert['fingerprint'][:16]} ({cert['role']}) valid {cert['valid_from']} to "
                      f"{cert['valid_until']}, issued by {cert['issuer']}")
    console.print(f"private keys in {keystore}")


@app.command("show")
@user_errors
def show(code: Annotated[str | None, typer.Argument(help="Official or agency code; default all")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="As JSON for other programs")] = False) -> None:
    """The certificates in the directory (public parts), their state today, and whether this keystore holds the key."""
    import json

    from sqlmodel import select

    from models.credentials import Credential, credentials_of, describe, key_file, owner_name

    keystore = get_settings().keystore_dir
    with session_scope(ready_engine()) as session:
        rows = credentials_of(session, code) if code else list(session.exec(select(Credential).order_by(Credential.id)))
        shown = [{**describe(session, c), "key_here": key_file(keystore, owner_name(session, c), c.key_id).exists()}
                 for c in rows]
    if as_json:
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    table = Table("owner", "role", "fingerprint", "valid", "state", "key here", "subject")
    for c in shown:
        add_row(table, c["owner"], c["role"], c["fingerprint"][:16], f"{c['valid_from']} … {c['valid_until']}", c["state"],
                "yes" if c["key_here"] else "", c["subject"])
    console.print(table)


@app.command("rotate")
@user_errors
def rotate(code: Code, actor: Actor) -> None:
    """A new key and certificate from today; the one in force is revoked today ('rotated')."""
    from models.credentials import rotate as rotate_key

    keystore = get_settings().keystore_dir
    secret = passphrase(f"the keystore {keystore}")
    with session_scope(ready_engine()) as session:
        old, new = rotate_key(session, code, keystore=keystore, passphrase=secret, actor=actor)
    console.print(f"{code}: certificate {old.fingerprint[:16]} revoked (rotated), {new.fingerprint[:16]} in force "
                  f"until {new.valid_until.isoformat()}")


@app.command("revoke")
@user_errors
def revoke(code: Code, actor: Actor, reason: Annotated[str, typer.Option(help="Why (lost, left the post …)")],
           on: Annotated[str | None, typer.Option("--on", help="First day it no longer holds, DD/MM/YYYY; default today")] = None,
           fingerprint: Annotated[str | None, typer.Option(help="Which certificate (its fingerprint's start), when "
                                                                "several fit; a CA's too")] = None) -> None:
    """Revoke a certificate (thu hồi): no proof made with its key holds from that day."""
    from models.credentials import revoke as revoke_key

    with session_scope(ready_engine()) as session:
        revoked = revoke_key(session, code, reason=reason, actor=actor, on=parse_date(on, "on") if on else None,
                             fingerprint=fingerprint)
    console.print(f"{code}: certificate {revoked.fingerprint[:16]} revoked from {revoked.revoked_on.isoformat()}")


@app.command("totp-enrol")
@user_errors
def totp_enrol(code: Annotated[str, typer.Argument(help="Official code")], actor: Actor) -> None:
    """Enrol an official's authenticator (one-time codes, RFC 6238) for answers typed in the Prefect UI: prints the
    otpauth URI once, for the official's authenticator app; the secret is kept encrypted under VANBAN_SECRET_KEY."""
    from models.credentials import totp_enrol as enrol_totp

    with session_scope(ready_engine()) as session:
        uri = enrol_totp(session, code, actor=actor)
    console.print(uri)
