"""Credentials out of sight. A secret is written as a reference, ``{env:NAME}`` (an environment variable) or
``{secret:NAME}`` (a Prefect Secret block), and read only where it is used: when an engine is made for a database
URL, when a message is sent over a channel. Whatever shows a URL (an error, a summary, the ledger, a log) shows it
through ``redact``; a URL among a flow's parameters, which Prefect keeps, holds references only.
"""

from __future__ import annotations

import os
import re


REFERENCE = re.compile(r"\{(env|secret):([A-Za-z0-9_.-]+)\}")
MASK = "***"
# The password of 'scheme://user:password@host', up to the last '@' before the query: an '@' or a '/' left unencoded
# in a password is masked with it (SQLAlchemy's own parse stops at the first '@' and would show the rest as host).
_USERINFO = re.compile(r"^[A-Za-z][\w+.-]*://[^:/@?#]*:([^?#]*)@")
_USER = re.compile(r"^[A-Za-z][\w+.-]*://([^?#]*)@")  # 'user:password' of the same URL
# Query parameters that carry a credential (psycopg's password=, apprise's pass= and token= …).
_QUERY = re.compile(r"[?&](?:password|passwd|pass|pwd|secret|token|apikey|api_key|key)=([^&#]*)", re.IGNORECASE)


def _spans(url: str) -> list[tuple[int, int]]:
    """Where ``url`` holds a secret in clear (references alone are no secret)."""
    plain = REFERENCE.sub(lambda m: "R" * len(m[0]), url)  # a reference's ':' separates no user from a password
    found = [m.span(1) for m in (_USERINFO.match(plain), *_QUERY.finditer(plain)) if m is not None]
    return [(start, end) for start, end in found if REFERENCE.sub("", url[start:end])]


def redact(url: str, mask: str = MASK) -> str:
    """``url`` fit to be shown: each secret in clear replaced by ``mask``, references kept as written. A database
    URL and a channel's apprise URL alike."""
    for start, end in reversed(_spans(url)):
        url = url[:start] + mask + url[end:]
    return url


def has_clear_secret(url: str) -> bool:
    return bool(_spans(url))


def clear_secrets(url: str) -> list[str]:
    """The values ``redact`` hides in ``url``: what an error text quoting it must not show either."""
    return [url[start:end] for start, end in _spans(url)]


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` (a driver's or a server's error) with each of ``secrets`` masked."""
    for value in secrets:
        if value:
            text = text.replace(value, MASK)
    return text


def reference_form(url: str) -> str:
    """How to write ``url`` instead: each secret in clear replaced by a reference."""
    return redact(url, "{env:NAME}")


def userinfo_span(url: str) -> tuple[int, int] | None:
    """Where 'user:password' stands in ``url`` (a value put there is percent-encoded, as a URL carries it)."""
    m = _USER.match(REFERENCE.sub(lambda r: "R" * len(r[0]), url))
    return m.span(1) if m else None


def read_reference(kind: str, name: str) -> str | None:
    """The value a reference names: an environment variable, or a Prefect Secret block; None when it is not set."""
    if kind == "env":
        return os.environ.get(name)
    from models.config import configure_prefect

    configure_prefect()  # vanban's Prefect settings, whoever reads the block, before Prefect loads
    from prefect.blocks.system import Secret

    try:
        return Secret.load(name, _sync=True).get()
    except (ValueError, RuntimeError):  # Prefect raises ValueError for a block it does not have
        return None
