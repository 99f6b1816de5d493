"""The receipt endpoint: a recipient's system acknowledges a document (đã nhận) by its message id.

``POST /receipts`` with ``{"message_id": "<…@vanban.local>", "by": "Văn thư Sở Nội vụ"}`` → 200 and the
acknowledgement recorded once (a repeat is harmless); 404 for an unknown message id; 400 for a body that
is not such JSON; 409 for a message that was never sent.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy.engine import Engine

from models.db import session_scope
from models.deliveries import acknowledge, find_by_message_id
from models.document import Document
from models.errors import RuleViolation
from models.legal_text import clean_text


def receipt_server(engine: Engine, host: str = "127.0.0.1", port: int = 8030) -> ThreadingHTTPServer:
    """A server bound to (host, port), not yet serving: call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            if self.path.rstrip("/") != "/receipts":
                return self._answer(404, {"error": "POST /receipts"})
            try:
                data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                mid, by = data["message_id"], clean_text(str(data.get("by") or ""), "by") or None
            except (ValueError, KeyError, TypeError, RuleViolation):
                return self._answer(400, {"error": 'the body must be JSON {"message_id": "<…>", "by": "…"}'})
            try:
                with session_scope(engine) as session:
                    row = find_by_message_id(session, str(mid))
                    fresh = acknowledge(session, session.get(Document, row.document_id), row.recipient_code,
                                        by=by or row.recipient_code)
                    body = {"message_id": row.message_id, "recipient": row.recipient_code, "acknowledged": True,
                            "first_time": bool(fresh)}
            except RuleViolation as exc:
                return self._answer(404 if exc.rule == "delivery.unknown-message" else 409,
                                    {"error": exc.message, "rule": exc.rule})
            self._answer(200, body)

        def _answer(self, code: int, body: dict) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:  # the ledger and the audit log keep the record
            pass

    return ThreadingHTTPServer((host, port), Handler)
