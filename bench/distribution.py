"""Benchmark: one decision (374/QĐ-UBND, its DOCX and the plan's attached) to 1,000 synthetic recipients over
a loopback SMTP server (aiosmtpd, in a process of its own), through the `distribute` flow with Prefect's
server already up, against the floor: plain smtplib sending the same 1,000 messages over one connection.
Target: at most 1.5× the floor.

    .venv/bin/python bench/distribution.py [--recipients 1000] [--concurrency 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="vanban-bench-prefect-"))
os.environ.setdefault("VANBAN_HOME", tempfile.mkdtemp(prefix="vanban-bench-home-"))

import flows.runtime  # noqa: E402,F401  (Prefect configured as vanban runs it, before Prefect loads)
from sqlmodel import select  # noqa: E402

from models.channels import Channel  # noqa: E402
from bench.timing import fresh_database  # noqa: E402
from models.db import make_engine, session_scope  # noqa: E402
from models.directory import Agency, AgencyGroup, AgencyGroupMember  # noqa: E402
from models.document import Addressee, AddresseeRole, Document  # noqa: E402
from models.messages import DOCX_TYPE, document_message  # noqa: E402
from models.receipts import receipt_key, receipt_token  # noqa: E402

SERVER = """
import sys, time
from flows.outbox import Outbox
with Outbox() as box:
    print(box.url, flush=True)
    sys.stdin.read()
"""


def prepared(recipients: int) -> tuple[str, Path, int, int]:
    """A database with the seed chain issued, the decision's Nơi nhận pointed at ``recipients`` synthetic
    agencies (each with an e-mail channel) and the archive line. Returns url, files, decision and submission."""
    url, files = fresh_database(chain=True)
    engine = make_engine(url)
    with session_scope(engine) as session:
        group = AgencyGroup(code="bench", name="bench")
        session.add(group)
        session.flush()
        for i in range(recipients):
            agency = Agency(code=f"bench-{i}", name=f"Cơ quan thử {i}", abbreviation="CQT", header_name="CƠ QUAN THỬ",
                            place="Vĩnh Long", head_title="Thủ trưởng")
            session.add(agency)
            session.flush()
            session.add(AgencyGroupMember(group_id=group.id, agency_id=agency.id))
            session.add(Channel(owner_kind="agency", owner_id=agency.id, url=f"mailto:bench-{i}@vinhlong.example"))
        decision = session.exec(select(Document).where(Document.symbol == "QĐ-UBND")).one()
        submission = session.exec(select(Document).where(Document.symbol == "TTr-STTTT")).one()
        for line in session.exec(select(Addressee).where(Addressee.document_id == decision.id,
                                                         Addressee.role == AddresseeRole.RECIPIENT)):
            session.delete(line)
        session.flush()
        session.add(Addressee(document_id=decision.id, role=AddresseeRole.RECIPIENT, position=0,
                              text="Các cơ quan thử", targets=[{"type": "group", "code": "bench"}]))
        session.add(Addressee(document_id=decision.id, role=AddresseeRole.RECIPIENT, position=1,
                              text="Lưu: VT", targets=[{"type": "archive"}]))
        ids = decision.id, submission.id
    engine.dispose()
    return url, files, *ids


def floor(relay_port: int, url: str, files: Path, decision_id: int, recipients: int) -> float:
    """Plain smtplib: the same messages (subject, body, both DOCX) over one connection."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        shared = document_message(session, session.get(Document, decision_id), files)
    engine.dispose()
    data = {a.filename: a.path.read_bytes() for a in shared.attachments}
    key = receipt_key()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", relay_port) as smtp:
        for i in range(recipients):
            msg = shared.to(f"Thủ trưởng Cơ quan thử {i}", f"<floor.{i}@vanban.local>",
                            receipt_token(f"<floor.{i}@vanban.local>", key))
            mail = EmailMessage()
            mail["Subject"], mail["From"], mail["To"] = msg.subject, "vanthu@vinhlong.example", f"bench-{i}@vinhlong.example"
            mail["Message-ID"] = msg.message_id
            mail.set_content(msg.body)
            for name, content in data.items():
                mail.add_attachment(content, maintype=DOCX_TYPE[0], subtype=DOCX_TYPE[1], filename=name)
            smtp.send_message(mail)
    return time.perf_counter() - start


def through_flow(relay: str, url: str, files: Path, document_id: int, concurrency: int) -> tuple[float, dict]:
    from flows.distribute import Distribution, distribute
    from flows.runtime import prefect_settings

    start = time.perf_counter()
    with prefect_settings():
        result = distribute(Distribution(document=document_id, relay=relay, concurrency=concurrency))
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    relay = server.stdout.readline().strip()
    port = int(relay.split(":")[2].split("?")[0])
    try:
        flow_s, floor_s = [], []
        warm_url, warm_files, _, warm_submission = prepared(1)
        through_flow(relay, warm_url, warm_files, warm_submission, args.concurrency)  # Prefect's server starts here
        for _ in range(args.rounds):
            url, files, decision_id, _ = prepared(args.recipients)
            seconds, result = through_flow(relay, url, files, decision_id, args.concurrency)
            assert result["deliveries"] == {"sent": args.recipients, "archived": 1}, result
            flow_s.append(seconds)
            floor_s.append(floor(port, url, files, decision_id, args.recipients))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    flow_m, floor_m = statistics.median(flow_s), statistics.median(floor_s)
    ratio = flow_m / floor_m
    print(f"recipients: {args.recipients}, concurrency {args.concurrency}, median of {args.rounds} rounds")
    print(f"distribute flow (warm): {flow_m:7.2f} s   {args.recipients / flow_m:7.1f} messages/s")
    print(f"floor, plain smtplib:   {floor_m:7.2f} s   {args.recipients / floor_m:7.1f} messages/s")
    print(f"flow/floor = {ratio:.2f}x (target <= 1.50x: {'met' if ratio <= 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
