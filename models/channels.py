"""Channels (kênh gửi): how an agency, a unit or an official receives documents, as apprise URLs.

A channel is stored as written in the directory, e.g. ``mailto:vanthu@sotttt.vinhlong.gov.vn`` (e-mail
through the installation's relay, ``VANBAN_SMTP_URL``), ``json://127.0.0.1:8030/inbox`` (a webhook), or any
other apprise URL. Credentials are never stored: a URL names them as references, ``{env:NAME}`` (an
environment variable) or ``{secret:NAME}`` (a Prefect Secret block), resolved only at the moment of
sending. A URL that carries a credential in clear is refused when it is added.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from datetime import date

from pydantic_core import PydanticCustomError
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, select

from models.config import get_settings
from models.secret_refs import REFERENCE, has_clear_secret, read_reference, redact, reference_form
from models.directory import Dated, in_force
from models.errors import RuleViolation
from models.legal_text import clean_text, short_date

_MARKER = "VANBANSECRETREF{}X"
URL_MAX = 600  # characters: a channel is a key of a PostgreSQL index, whose rows take about 2,700 bytes at most


class Channel(Dated, table=True):
    """One apprise URL of a recipient (``owner_kind`` agency, unit or official), in force for a time like every
    directory fact: a document is sent through the channels in force on the send date."""

    __table_args__ = (UniqueConstraint("owner_kind", "owner_id", "url"),)
    id: int | None = Field(default=None, primary_key=True)
    owner_kind: str = Field(index=True, description="'agency', 'unit' or 'official'")
    owner_id: int = Field(index=True)
    url: str = Field(description="Apprise URL; credentials only as {env:NAME} or {secret:NAME}")


@dataclass(frozen=True)
class ChannelError(Exception):
    """A channel that cannot be used as written: the rule broken and why (kept in the ledger)."""

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def is_address(url: str) -> bool:
    """'mailto:someone@host' (no '//'): an address that goes out through the relay."""
    return url.startswith("mailto:") and not url.startswith("mailto://")


def _with_markers(url: str) -> tuple[str, list[str]]:
    markers: list[str] = []

    def mark(_m: re.Match[str]) -> str:
        markers.append(_MARKER.format(len(markers)))
        return markers[-1]

    return REFERENCE.sub(mark, url), markers


def instantiate(url: str):  # noqa: ANN201 - an apprise plugin object
    """The apprise plugin for ``url`` (references already resolved), or ChannelError naming why not."""
    import apprise

    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = url.split(":", 1)[0] if ":" in url else url
        raise ChannelError("channel.malformed", f"'{redact(url)}' is not an apprise URL vanban can use "
                                                f"(scheme '{scheme}', or its host, path or query is incomplete)")
    return plugin


def check_url(url: str) -> None:
    """Refuse a URL apprise cannot parse, or one that carries a credential in clear instead of a reference."""
    if is_address(url):
        address = url[len("mailto:"):]
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", address):
            raise ChannelError("channel.malformed", f"'{url}' is not an e-mail address (mailto:name@domain)")
        return
    marked, markers = _with_markers(url)
    try:
        plugin = instantiate(marked)
    except ChannelError:
        if markers:  # a plugin that checks the shape of its token: known only when the secret is read, at sending
            return
        raise
    clear, private = plugin.url(privacy=False), plugin.url(privacy=True)
    matcher = difflib.SequenceMatcher(None, clear, private, autojunk=False)
    hidden = (clear[i1:i2] for tag, i1, i2, _j1, _j2 in matcher.get_opcodes() if tag != "equal")
    if has_clear_secret(url) or any(part and not any(part in m for m in markers) for part in hidden):
        shown = reference_form(url)
        raise ChannelError("channel.clear-credentials", "the URL carries a credential in clear; write it as a reference"
                           + (f": {shown}" if shown != url else ", {env:NAME} or {secret:NAME}")
                           + " (an environment variable, or a Prefect Secret block)")


def relay_url(relay: str | None = None) -> str | None:
    """The mail relay e-mail goes out through: ``relay`` (a flow's parameter) or VANBAN_SMTP_URL. One that carries
    a credential in clear is refused, with the form to write instead."""
    url = relay or get_settings().smtp_url
    if url:
        try:
            check_url(url)
        except ChannelError as exc:
            raise RuleViolation("relay" if relay else "VANBAN_SMTP_URL", exc.rule, exc.message) from None
    return url


def no_clear_relay(value: str | None) -> str | None:
    """A relay among a flow's parameters (Prefect keeps them in its own database): credentials as references only."""
    if value is not None:
        try:
            check_url(value)
        except ChannelError as exc:
            raise PydanticCustomError(exc.rule, exc.message) from None
    return value


def resolve(url: str, relay: str | None, known: dict[str, str] | None = None) -> tuple[str, list[str]]:
    """The URL to send through (references replaced by their values, an address routed via the relay),
    and the secret values in it, so that whatever quotes the URL can mask them. ``known``: values already
    read by the caller (a sender reads each Prefect Secret block once, not once per message)."""
    if is_address(url):
        if not relay:
            raise _no_relay()
        sep = "&" if "?" in relay else "?"
        url = f"{relay}{sep}to={url[len('mailto:'):]}"

    secrets: list[str] = []

    def value(m: re.Match[str]) -> str:
        kind, name = m[1], m[2]
        if kind == "secret" and known is not None and m[0] in known:
            found = known[m[0]]
        else:
            found = read_reference(kind, name)
            if found and kind == "secret" and known is not None:
                known[m[0]] = found
        if not found:
            raise _missing(kind, name)
        secrets.append(found)
        return found

    return REFERENCE.sub(value, url), secrets


def check_sending(url: str, relay: str | None) -> list[str]:
    """Whether ``url`` could be sent through now, found without reading a secret into anything: ChannelError,
    as sending would raise it, for an address with no relay or an environment variable (of the URL or of the
    relay) that is not set. Returns the {secret:NAME} references not checked: a Prefect Secret block is read
    only when sending (reading it may start Prefect's local server)."""
    if is_address(url):
        if not relay:
            raise _no_relay()
        url = relay  # what sending an address reads is the relay's references
    unchecked = []
    for m in REFERENCE.finditer(url):
        if m[1] == "secret":
            unchecked.append(m[0])
        elif not os.environ.get(m[2]):
            raise _missing(m[1], m[2])
    return unchecked


def _no_relay() -> ChannelError:
    return ChannelError("channel.no-relay", "e-mail addresses need VANBAN_SMTP_URL (the outgoing mail relay)")


def _missing(kind: str, name: str) -> ChannelError:
    where = "environment variable" if kind == "env" else "Prefect Secret block"
    return ChannelError("channel.secret-missing", f"the {where} '{name}' that the channel names is not set")


def add_channel(session: Session, owner_kind: str, owner_id: int, url: str, field: str = "channel") -> Channel:
    """Store one channel of a recipient after checking it (once: an existing one is returned)."""
    url = clean_text(url, field, max_length=URL_MAX)
    try:
        check_url(url)
    except ChannelError as exc:
        raise RuleViolation(field, exc.rule, exc.message) from None
    existing = session.exec(select(Channel).where(Channel.owner_kind == owner_kind, Channel.owner_id == owner_id,
                                                  Channel.url == url)).first()
    if existing:
        return existing
    channel = Channel(owner_kind=owner_kind, owner_id=owner_id, url=url)
    session.add(channel)
    session.flush()
    return channel


def channels_of(session: Session, owner_kind: str, owner_id: int, on: date | None = None) -> list[Channel]:
    """A recipient's channels in force on ``on`` (all of them when ``on`` is None)."""
    return list(session.exec(select(Channel).where(Channel.owner_kind == owner_kind, Channel.owner_id == owner_id,
                                                   in_force(Channel, on)).order_by(Channel.id)))


def end_channel(session: Session, owner_kind: str, owner_id: int, url: str, last_day: date,
                field: str = "channel") -> Channel:
    """A recipient's channel stops after ``last_day`` (kept, dated, for what was sent through it before)."""
    channel = session.exec(select(Channel).where(Channel.owner_kind == owner_kind, Channel.owner_id == owner_id,
                                                 Channel.url == url)).first()
    if channel is None:
        raise RuleViolation(field, "channel.unknown", f"no channel '{redact(url)}' for this recipient")
    if channel.valid_from and last_day < channel.valid_from:
        raise RuleViolation(field, "directory.dates", f"the channel is in force only from {short_date(channel.valid_from)}")
    channel.valid_until = last_day
    session.add(channel)
    session.flush()
    return channel
