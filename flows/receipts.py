"""The receipt endpoint: a recipient's system acknowledges a document (đã nhận) with the receipt token its
message carried.

``POST /receipts`` with ``{"message_id": "<…@vanban.local>", "token": "K5QX…", "by": "Văn thư Sở Nội vụ"}`` →
200 and the acknowledgement recorded once (a repeat is harmless); 403 for a missing or wrong token (recorded in
the audit log as ``receipt_refused``); 404 for a message id vanban never gave; 409 for a message that was never
sent; 400 for a body that is not such JSON; 411 without a Content-Length; 413 for a body over ``MAX_BODY``
bytes, refused before it is read.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy.engine import Engine

from models.errors import RuleViolation
from models.legal_text import clean_text
from models.receipts import acknowledge_with_token

MAX_BODY = 4096  # a receipt is a few hundred bytes
READ_TIMEOUT = 10  # seconds a client may take to send its request


def receipt_server(engine: Engine, host: str = "127.0.0.1", port: int = 8030) -> ThreadingHTTPServer:
    """A server bound to (host, port), not yet serving: call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        timeout = READ_TIMEOUT

        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/receipts":
                return self._answer(404, {"error": "POST /receipts"})
            length = self.headers.get("Content-Length")
            if length is None:
                return self._answer(411, {"error": "a Content-Length is required"})
            if not length.strip().isdigit():
                return self._answer(400, {"error": "the Content-Length is not a number"})
            if int(length) > MAX_BODY:
                return self._answer(413, {"error": f"a receipt has at most {MAX_BODY} bytes"})
            try:
                data = json.loads(self.rfile.read(int(length)) or b"{}")
                mid, token = str(data["message_id"]), data.get("token")
                by = clean_text(str(data.get("by") or ""), "by") or None
                if token is not None and not isinstance(token, str):
                    raise TypeError("token")
                clean_text(mid, "message_id")
            except (ValueError, KeyError, TypeError, RuleViolation):
                return self._answer(400, {"error": 'the body must be JSON {"message_id": "<…>", "token": "…", "by": "…"}'})
            try:
                row, fresh = acknowledge_with_token(engine, mid, token, by=by, source=self.client_address[0])
            except RuleViolation as exc:
                code = 403 if exc.rule.startswith("receipt.token") else 404 if exc.rule == "delivery.unknown-message" \
                    else 400 if exc.rule == "receipt.message-id-length" else 409
                return self._answer(code, {"error": exc.message, "rule": exc.rule})
            self._answer(200, {"message_id": row.message_id, "recipient": row.recipient_code, "acknowledged": True,
                               "first_time": bool(fresh)})

        def _answer(self, code: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if code in (400, 411, 413):  # what is left of the request is not read: the connection ends
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:  # the ledger and the audit log keep the record
            pass

    return ThreadingHTTPServer((host, port), Handler)
