"""A mail server on loopback that writes every message it accepts as an .eml file: the demo's outbox, and
the tests' receiving end. Built on aiosmtpd."""

from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class OutboxHandler:
    """Accepts every message; ``refuse`` (RCPT address → SMTP reply) lets a test make the server say no."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:  # noqa: ANN001, N802
        reply = self.refuse.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
            n = len(self.messages)
        if self.folder is not None:
            slug = re.sub(r"[^A-Za-z0-9.-]+", "_", (message.get("X-Vanban-Message-Id") or str(n)).strip("<>"))
            (self.folder / f"{n:04d}-{slug}.eml").write_bytes(envelope.content)
        self.received(message)
        return "250 Message accepted"

    def received(self, message: EmailMessage) -> None:
        """Called after each accepted message (a test hooks here)."""


def free_port() -> int:
    """A loopback port nobody listens on now (aiosmtpd needs the number before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Outbox:
    """``with Outbox(folder) as box: box.url`` → an apprise mailto URL of a running loopback server."""

    def __init__(self, folder: Path | None = None, handler: OutboxHandler | None = None,
                 sender: str = "vanthu@vinhlong.example") -> None:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self.handler = handler or OutboxHandler(folder)
        self.handler.folder = folder if handler is None else handler.folder
        self.sender = sender
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=free_port())

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def url(self) -> str:
        return f"mailto://127.0.0.1:{self._controller.port}?from={self.sender}"

    def __enter__(self) -> "Outbox":
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
