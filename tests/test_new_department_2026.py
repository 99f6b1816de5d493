"""Issue 11's "done when", as a clerk of the new Sở Khoa học và Công nghệ does it, through the `vanban` command:
load the 2025 sample, add an official, draft, sign and issue a 2026 Công văn numbered from the 2026 register that
opens by itself, distribute it (a real SMTP server on loopback), and track a deadline across Tết 2026."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from flows.outbox import Outbox, OutboxHandler
from tests.test_cli import vanban

LETTER = {
    "kind": "official_letter", "issuer": "skhcn", "field_abbreviation": "VP", "signer": "gd-skhcn",
    "subject": "Về việc cử cán bộ tham gia tập huấn chuyển đổi số năm 2026",
    "kinh_gui": [{"text": "Sở Nội vụ", "targets": ["agency:snv"]}],
    "body": {"intro": ["Sở Khoa học và Công nghệ đề nghị Sở Nội vụ cử 02 cán bộ tham gia tập huấn."]},
    "recipients": [{"text": "Như trên", "targets": ["above"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
}

DECISION = {
    "kind": "decision", "issuer": "ubnd-tinh", "competence": "head", "signer": "pct-khcn", "authority_form": "KT.",
    "subject": "Giao nhiệm vụ xây dựng Kế hoạch chuyển đổi số năm 2026",
    "legal_bases": [[{"law": "Luật Tổ chức chính quyền địa phương", "date": "16/6/2025"}]],
    "body": {"assignments": [{"lead": "skhcn", "task": "xây dựng Kế hoạch chuyển đổi số năm 2026 và báo cáo kết quả",
                              "due": "27/02/2026"}]},
    "executors": [{"text": "Chánh Văn phòng UBND tỉnh", "targets": ["head:vp-ubnd"]},
                  {"text": "Giám đốc Sở Khoa học và Công nghệ", "targets": ["head:skhcn"]}],
    "effective": "kể từ ngày ký",
    "recipients": [{"text": "Như Điều 2", "targets": ["article:2"]}, {"text": "Lưu: VT", "targets": ["archive"]}],
}


def test_a_clerk_of_the_new_department_works_in_2026(tmp_path: Path) -> None:
    (tmp_path / "letter.yaml").write_text(yaml.safe_dump(LETTER, allow_unicode=True), encoding="utf-8")
    (tmp_path / "decision.yaml").write_text(yaml.safe_dump(DECISION, allow_unicode=True), encoding="utf-8")
    handler = OutboxHandler(None)
    with Outbox(handler=handler) as box:
        env = {"VANBAN_HOME": str(tmp_path / "home"), "VANBAN_SMTP_URL": box.url, "VANBAN_TODAY": "2026-02-05",
               "PREFECT_LOGGING_LEVEL": "CRITICAL"}

        loaded = vanban("directory", "load-sample", "--year", "2025", env=env)
        assert loaded.returncode == 0, loaded.stderr
        assert "reorganised from 01/3/2025: Hợp nhất Sở Thông tin và Truyền thông vào Sở Khoa học và Công nghệ" in loaded.stdout

        added = vanban("directory", "add-official", "cv-skhcn", "--as", "vt-skhcn", "--name", "Trương Văn Uy",
                       "--agency", "skhcn", "--title", "Chuyên viên", "--from", "02/01/2026",
                       "--channel", "mailto:cv-skhcn@vinhlong.example", env=env)
        assert added.returncode == 0, added.stderr
        staff = json.loads(vanban("directory", "officials", "--json", env=env).stdout)
        assert "cv-skhcn" in {o["code"] for o in staff} and "ct-ubnd" not in {o["code"] for o in staff}

        # the signers' own keys, and the issuing agencies' (the log's checkpoints at issue)
        enrolled = vanban("keys", "init", "gd-skhcn", "pct-khcn", "skhcn", "ubnd-tinh", "--as", "vt-skhcn", env=env)
        assert enrolled.returncode == 0, enrolled.stderr
        drafted = vanban("draft", str(tmp_path / "letter.yaml"), "--as", "cv-skhcn", env=env)
        assert drafted.returncode == 0, drafted.stderr
        assert vanban("sign", "1", env=env).returncode == 0
        issued = vanban("issue", "1", "--as", "vt-skhcn", env=env)
        assert issued.returncode == 0, issued.stderr
        assert "issued as 01/SKHCN-VP on 05/02/2026" in issued.stdout  # numbering starts at 01 in 2026
        registers = json.loads(vanban("register", "list", "skhcn", "--json", env=env).stdout)
        assert [(r["year"], r["last_number"]) for r in registers] == [(2025, 0), (2026, 1)]
        assert "2025" in str(registers[1])  # opened by itself from the 2025 register, and says so

        sent = vanban("distribute", "1", "--as", "vt-skhcn", env=env)
        assert sent.returncode == 0, sent.stderr
        assert "completed" in sent.stdout
        assert [m["To"] for m in handler.messages] == ["snv@vinhlong.example"]
        assert "01/SKHCN-VP" in handler.messages[0]["Subject"]

        assert vanban("draft", str(tmp_path / "decision.yaml"), "--as", "cv-vhxh", env=env).returncode == 0
        assert vanban("sign", "2", env=env).returncode == 0
        decided = vanban("issue", "2", "--as", "vt-ubnd", env=env)
        assert decided.returncode == 0, decided.stderr
        # Friday 13/02/2026 is five working days before Friday 27/02/2026: Tết Bính Ngọ (16-20/02) is skipped.
        counted = vanban("calendar", "add", "27/02/2026", "-5", env=env)
        assert counted.returncode == 0 and "13/02/2026" in counted.stdout
        tracked = vanban("track", "--on", "13/02/2026", env=env)
        assert tracked.returncode == 0, tracked.stderr
        assert "reminder for assignment #1 (13/02/2026) to skhcn: sent" in tracked.stdout
        assert "no public-sector announcement" in tracked.stderr  # 2026 counted from the statutory holidays, said so
    reminders = [m for m in handler.messages if m["To"] == "skhcn@vinhlong.example"]
    assert len(reminders) == 1
    assert "Hạn báo cáo: ngày 27 tháng 02 năm 2026; còn 05 ngày làm việc." in \
        reminders[0].get_body(preferencelist=("plain",)).get_content()
