"""Sending one message over one channel, and telling a passing error from a final one.

Every channel URL is parsed by apprise. E-mail (mailto/mailtos) then goes out over a connection this
sender keeps open per relay, with the message id as the Message-ID: apprise 2.0.1 opens a connection and
builds a TLS context for each message (26 ms each here, eight times the plain smtplib floor), gives every
message a random Message-ID, and does not say whether a refusal was 4xx or 5xx. Every other channel
(webhook, chat …) goes through apprise's own ``notify``, with the message id in a header where it has one.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from models.channels import ChannelError, instantiate, resolve
from models.deliveries import Outcome
from models.messages import DOCX_TYPE, Message

SMTP_TIMEOUT = 30


def smtp_outcome(code: int, text: str) -> Outcome:
    """4xx passes (retry later); 5xx is final (RFC 5321 §4.2.1)."""
    return Outcome(False, transient=400 <= code < 500, rule=f"smtp.{code}", error=f"{code} {text}".strip())


def http_outcome(log: str) -> Outcome:
    """An HTTP receiver's refusal from apprise's log: 5xx, 408, 429 and no connection pass; other 4xx are final."""
    m = re.search(r"error=(\d{3})", log)
    if m is None:
        return Outcome(False, transient=True, rule="http.unreachable", error=log or "the receiver did not answer")
    code = int(m[1])
    return Outcome(False, transient=code >= 500 or code in (408, 429), rule=f"http.{code}", error=log)


class Sender:
    """Sends messages over channels. One per worker thread: it keeps its SMTP connections open."""

    def __init__(self, relay: str | None, max_bytes: int) -> None:
        self.relay, self.max_bytes = relay, max_bytes
        self._smtp: dict[tuple, smtplib.SMTP] = {}
        self._tls: ssl.SSLContext | None = None
        self._files: dict[str, bytes] = {}
        self._secrets: dict[str, str] = {}  # Prefect Secret blocks read once per sender

    def send(self, channel_url: str, message: Message) -> Outcome:
        if message.size > self.max_bytes:
            return Outcome(False, rule="attachment.too-large",
                           error=f"the attachments weigh {message.size:,} bytes; the channel takes at most {self.max_bytes:,}")
        try:
            url, secrets = resolve(channel_url, self.relay, self._secrets)
            plugin = instantiate(url)
        except ChannelError as exc:
            return Outcome(False, rule=exc.rule, error=exc.message)
        from apprise.plugins.email.base import NotifyEmail

        try:
            outcome = self._email(plugin, message) if isinstance(plugin, NotifyEmail) else self._apprise(plugin, message)
        except Exception as exc:  # noqa: BLE001 - a plugin's own failure stays with its recipient, recorded
            outcome = Outcome(False, transient=True, rule="channel.error", error=f"{type(exc).__name__}: {exc}")
        if outcome.error and secrets:  # an error text never carries a secret into the ledger or the logs
            error = outcome.error
            for value in secrets:
                error = error.replace(value, "****")
            outcome = Outcome(outcome.ok, outcome.transient, outcome.rule, error)
        return outcome

    def close(self) -> None:
        for smtp in self._smtp.values():
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
        self._smtp.clear()

    # --- e-mail --------------------------------------------------------------------------------

    def _connection(self, plugin) -> tuple[tuple, smtplib.SMTP]:  # noqa: ANN001
        key = (plugin.smtp_host, plugin.port, plugin.secure_mode, plugin.user)
        if key not in self._smtp:
            if self._tls is None and plugin.secure_mode != "insecure":
                self._tls = ssl.create_default_context()  # once: building it costs ~17 ms
            if plugin.secure_mode == "ssl":
                smtp = smtplib.SMTP_SSL(plugin.smtp_host, plugin.port, timeout=SMTP_TIMEOUT, context=self._tls)
            else:
                smtp = smtplib.SMTP(plugin.smtp_host, plugin.port, timeout=SMTP_TIMEOUT)
                if plugin.secure_mode == "starttls":
                    smtp.starttls(context=self._tls)
            if plugin.user and plugin.password:
                smtp.login(plugin.user, plugin.password)
            self._smtp[key] = smtp
        return key, self._smtp[key]

    def _email(self, plugin, message: Message) -> Outcome:  # noqa: ANN001
        name, sender = plugin.from_addr[0], plugin.from_addr[1]
        recipients = [address for _name, address in plugin.targets]
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = formataddr((name if name and name != "Apprise" else None, sender))
        mail["To"] = ", ".join(recipients)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = message.message_id
        mail["X-Vanban-Message-Id"] = message.message_id
        if message.receipt_token:
            mail["X-Vanban-Receipt-Token"] = message.receipt_token
        mail.set_content(message.body)
        for a in message.attachments:
            mail.add_attachment(self._read(a.path), maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=a.filename)
        key = None
        try:
            key, smtp = self._connection(plugin)
            smtp.send_message(mail, from_addr=sender, to_addrs=recipients)
            return Outcome(True)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return smtp_outcome(code, text.decode(errors="replace") if isinstance(text, bytes) else str(text))
        except smtplib.SMTPResponseException as exc:
            self._drop(key)
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            return smtp_outcome(exc.smtp_code, text)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop(key)
            return Outcome(False, transient=True, rule="smtp.unreachable",
                           error=f"cannot reach the mail server {plugin.smtp_host}:{plugin.port}: {exc}")

    def _drop(self, key: tuple | None) -> None:
        smtp = self._smtp.pop(key, None) if key else None
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def _read(self, path) -> bytes:  # noqa: ANN001
        if str(path) not in self._files:
            self._files[str(path)] = path.read_bytes()
        return self._files[str(path)]

    # --- other channels (apprise) ----------------------------------------------------------------

    def _apprise(self, plugin, message: Message) -> Outcome:  # noqa: ANN001
        import apprise

        if isinstance(getattr(plugin, "headers", None), dict):
            plugin.headers["X-Vanban-Message-Id"] = message.message_id
            if message.receipt_token:
                plugin.headers["X-Vanban-Receipt-Token"] = message.receipt_token
        attach = apprise.AppriseAttachment([f"file://{a.path}?name={a.filename}" for a in message.attachments])
        with apprise.LogCapture(level=logging.WARNING) as log:
            ok = plugin.notify(body=message.body, title=message.subject, attach=attach)
        if ok:
            return Outcome(True)
        lines = [line for line in log.getvalue().splitlines() if line.strip()]
        return http_outcome(lines[-1].strip() if lines else "")
