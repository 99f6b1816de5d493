"""Receipt tokens (mã xác nhận đã nhận): what a recipient must give back to acknowledge a document.

Every message carries a token of 128 bits: the HMAC-SHA256 of its message id under the receipt key. An HMAC
rather than a random value stored hashed, because a message sent again (one a crashed run had in flight, or a
clerk's redelivery) carries the same message id and must carry the same token, whichever copy the recipient
answers; a stored hash cannot give the token back for the resend, and a token stored in clear could be read
from the database. The key is a file outside the database (``VANBAN_RECEIPT_KEY_FILE``, default
``$VANBAN_HOME/receipt.key``, mode 0600, made on first use), so whoever can read the database or a backup of it
cannot compute a token; message ids, which can be worked out from a document's number, prove nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import select

from models.audit import Action, record
from models.config import get_settings
from models.db import session_scope
from models.deliveries import Delivery, acknowledge, find_by_message_id, rows_for
from models.document import Document
from models.errors import RuleViolation, VanbanError

KEY_BYTES = 32
TOKEN_BYTES = 16  # 128 bits
MAX_MESSAGE_ID = 255  # longer than any id vanban gives


def receipt_key(path: Path | None = None) -> bytes:
    """The key, made (atomically, readable by its owner only) the first time any process needs it."""
    path = path or get_settings().receipt_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            os.link(fresh, path)  # fails if another process made it first: then theirs is the key
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise VanbanError(f"the receipt key {path} is not a key vanban wrote ({KEY_BYTES * 2} hex digits)")
    return key


def receipt_token(message_id: str, key: bytes | None = None) -> str:
    """'K5QXG3DFON2GK4TTMVZXG5DFON2A': 26 letters and digits, the same for every copy of a message."""
    digest = hmac.new(key or receipt_key(), b"receipt\0" + message_id.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:TOKEN_BYTES]).decode().rstrip("=")


def token_matches(message_id: str, token: str) -> bool:
    given = "".join(token.split()).replace("-", "").upper()
    return hmac.compare_digest(given.encode(), receipt_token(message_id).encode())


def _refuse(engine: Engine, message_id: str, *, why: str, by: str | None, source: str, actor: str) -> RuleViolation:
    """Record a refused acknowledgement in a transaction of its own (nothing else is written) and say why."""
    with session_scope(engine) as session:
        document_id = session.exec(select(Delivery.document_id).where(Delivery.message_id == message_id)).first()
        record(session, Action.RECEIPT_REFUSED, actor=actor, document_id=document_id,
               details={"message_id": message_id[:MAX_MESSAGE_ID], "claimed_by": by, "from": source, "rule": why})
    return RuleViolation("token", why, "the receipt token does not match this message: acknowledgement refused"
                         if why == "receipt.token-mismatch" else "an acknowledgement needs the message's receipt token")


def acknowledge_with_token(engine: Engine, message_id: str, token: str | None, *, by: str | None, source: str,
                           actor: str = "system") -> tuple[Delivery, list[Delivery]]:
    """A recipient acknowledges with the token its message carried: (its row, the rows newly acknowledged).
    A missing or wrong token is refused and recorded (``receipt.token-missing``, ``receipt.token-mismatch``)."""
    message_id = message_id if message_id.startswith("<") else f"<{message_id}>"
    if len(message_id) > MAX_MESSAGE_ID:
        raise RuleViolation("message_id", "receipt.message-id-length", f"a message id has at most {MAX_MESSAGE_ID} characters")
    if not token:
        raise _refuse(engine, message_id, why="receipt.token-missing", by=by, source=source, actor=actor)
    if not token_matches(message_id, token):
        raise _refuse(engine, message_id, why="receipt.token-mismatch", by=by, source=source, actor=actor)
    with session_scope(engine) as session:
        row = find_by_message_id(session, message_id)
        fresh = acknowledge(session, session.get(Document, row.document_id), row.recipient_code,
                            by=by or row.recipient_code, proof="token", actor=actor)
    return row, fresh


def acknowledge_as_clerk(engine: Engine, document_id: int, code: str, *, token: str | None,
                         actor: str) -> list[Delivery]:
    """``vanban ack``: with the recipient's token, as the recipient's own acknowledgement; without it, as a
    clerk's manual record (the recipient confirmed by phone, on paper), made under the clerk's name."""
    if token is None:
        if actor == "system":
            raise RuleViolation("as", "receipt.manual-needs-clerk",
                                "an acknowledgement without the recipient's token is a clerk's record: "
                                "name the clerk with --as (or give --token)")
        with session_scope(engine) as session:
            return acknowledge(session, session.get(Document, document_id), code, proof="clerk", actor=actor)
    with session_scope(engine) as session:
        message_id = rows_for(session, document_id, code)[0].message_id
    return acknowledge_with_token(engine, message_id, token, by=code, source="vanban ack", actor=actor)[1]
