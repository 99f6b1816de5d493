"""The `vanban` command as a clerk runs it: a real process, real files, real SQLite."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.test_drafting import seed_spec


def vanban(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=300)


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    return {"VANBAN_HOME": str(tmp_path / "home")}


def test_demo_writes_the_three_documents_identically_twice(tmp_path: Path) -> None:
    first = vanban("demo", "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    names = sorted(p.name for p in (tmp_path / "a").glob("*.docx"))
    assert names == ["10-TTr-STTTT.docx", "11-KH-STTTT.docx", "12-BC-STTTT.docx", "374-QD-UBND.docx"]
    assert "374/QĐ-UBND" in first.stdout and "04/3/2024" in first.stdout
    assert "document-lifecycle run" in first.stdout and "report issued, accepted" in first.stdout
    assert "12/BC-STTTT  12/12/2024  issued  12-BC-STTTT.docx" in first.stdout
    # the chain's 20 entries, 3 distributions (a plan entry each, one per recipient: 3, 34, 3), the assignment
    # opened, reminded and reported, the Báo cáo's drafting to its receipt (9); the sample keys enrolled (1) and a
    # checkpoint at each of the 4 issues
    assert "pct-vhxh" in first.stdout and "audit log: 79 entries, intact" in first.stdout
    assert "outbox: 41 messages" in first.stdout
    assert "10/TTr-STTTT │ completed    │ 3 " in first.stdout and "374/QĐ-UBND  │ completed    │ 34 " in first.stdout
    assert "12/BC-STTTT  │ completed    │ 3 " in first.stdout
    assert "reported on time   reminded 09/12/2024   12/BC-STTTT (12/12/2024)" in first.stdout
    emails = sorted((tmp_path / "a" / "outbox").glob("*.eml"))
    attached = [e for e in emails if any(f in e.read_text() for f in ("374-QD-UBND.docx", "10-TTr-STTTT.docx",
                                                                      "12-BC-STTTT.docx"))]
    assert len(emails) == 41 and len(attached) == 40  # all but the reminder carry their document
    assert "Traceback" not in first.stdout  # (Prefect's temporary server may log its own shutdown on stderr)
    before = {name: (tmp_path / "a" / name).read_bytes() for name in names}
    again = vanban("demo", "--out", str(tmp_path / "a"))  # same folder: starts from a fresh database again
    assert again.returncode == 0, again.stderr
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == before[name]
    checked = vanban("check", *(str(tmp_path / "a" / name) for name in names))
    assert checked.returncode == 0 and "4 files checked: 0 with errors" in checked.stdout, checked.stdout


def test_a_clerk_drafts_signs_and_issues(tmp_path: Path, home: dict[str, str]) -> None:
    assert vanban("directory", "load-sample", env=home).returncode == 0
    spec = tmp_path / "ttr.yaml"
    spec.write_text(yaml.safe_dump(seed_spec("submission"), allow_unicode=True), encoding="utf-8")
    drafted = vanban("draft", str(spec), "--as", "cv-sttt", env=home)
    assert drafted.returncode == 0 and "draft #1" in drafted.stdout, drafted.stderr
    rendered = vanban("render", "1", "--out", str(tmp_path / "draft.docx"), env=home)
    assert rendered.returncode == 0 and (tmp_path / "draft.docx").stat().st_size > 5000
    # the director's own key, and Sở TTTT's, which the văn thư signs the log's checkpoint with at issue
    assert vanban("keys", "init", "gd-sttt", "sttt", "--as", "vt-sttt", env=home).returncode == 0
    assert vanban("sign", "1", env=home).returncode == 0
    issued = vanban("issue", "1", "--date", "20/02/2024", "--as", "vt-sttt", env=home)
    assert issued.returncode == 0, issued.stderr
    assert "10/TTr-STTTT" in issued.stdout and "10-TTr-STTTT.docx" in issued.stdout
    listing = vanban("documents", env=home)
    assert "10/TTr-STTTT" in listing.stdout and "issued" in listing.stdout
    shown = vanban("register", "show", "sttt", "--year", "2024", env=home)
    assert "10/TTr-STTTT" in shown.stdout and "SỔ ĐĂNG KÝ VĂN BẢN ĐI" in shown.stdout
    voided = vanban("void", "1", "--reason", "ban hành nhầm", "--as", "vt-sttt", env=home)
    assert voided.returncode == 0 and "voided" in voided.stdout
    assert "Hủy số: ban hành nhầm" in vanban("register", "show", "sttt", "--year", "2024", env=home).stdout
    trail = vanban("audit", "show", "10/TTr-STTTT", env=home).stdout
    assert [a for a in ("drafted", "signed", "number_allocated", "issued", "number_voided") if a in trail] == \
        ["drafted", "signed", "number_allocated", "issued", "number_voided"]
    assert "vt-sttt (Lý Thị Ngọc)" in trail


def test_registers_by_year_open_by_themselves_explicitly_and_from_a_legacy_file(tmp_path: Path,
                                                                                 home: dict[str, str]) -> None:
    assert vanban("directory", "load-sample", env=home).returncode == 0
    spec = tmp_path / "ttr.yaml"
    spec.write_text(yaml.safe_dump(seed_spec("submission"), allow_unicode=True), encoding="utf-8")
    assert vanban("draft", str(spec), "--as", "cv-sttt", env=home).returncode == 0
    # the director's own key, and Sở TTTT's, which the văn thư signs the log's checkpoint with at issue
    assert vanban("keys", "init", "gd-sttt", "sttt", "--as", "vt-sttt", env=home).returncode == 0
    assert vanban("sign", "1", env=home).returncode == 0
    issued = vanban("issue", "1", "--as", "vt-sttt", env={**home, "VANBAN_TODAY": "2026-01-05"})  # 2024 registers only
    assert issued.returncode == 0 and "01/TTr-STTTT" in issued.stdout, issued.stderr
    listed = json.loads(vanban("register", "list", "sttt", "--year", "2026", "--json", env=home).stdout)
    assert listed == [{"agency": "sttt", "year": 2026, "series": "chung", "kinds": "*", "last_number": 1,
                       "opened": "automatically from 2024", "imported": 0}]
    exported = json.loads(vanban("audit", "export", "--format", "json", env=home).stdout)
    opened = [json.loads(e["details"]) for e in exported if e["action"] == "register_opened"]
    assert opened == [{"agency": "sttt", "year": 2026, "series": "chung", "kinds": "*", "opening_number": 0,
                       "opened": "automatically from 2024"}]
    # UBND tỉnh keeps its decisions apart in 2026 and brings the numbers it gave before vanban
    made = vanban("register", "open", "ubnd-tinh", "--year", "2026", "--series", "qd", "--kinds", "decision",
                  "--as", "vt-ubnd", env=home)
    assert made.returncode == 0 and "next number 01" in made.stdout, made.stderr
    legacy = tmp_path / "so-qd-2026.csv"
    legacy.write_text("number,symbol,date,subject\n1,QĐ-UBND,02/01/2026,Quyết định A\n"
                      "2,QĐ-UBND,05/01/2026,Quyết định B\n", encoding="utf-8")
    imported = vanban("register", "import", "ubnd-tinh", str(legacy), "--year", "2026", "--series", "qd",
                      "--as", "vt-ubnd", env=home)
    assert imported.returncode == 0 and "numbers 01-02" in imported.stdout and "next number 03" in imported.stdout
    again = vanban("register", "import", "ubnd-tinh", str(legacy), "--year", "2026", "--series", "qd",
                   "--as", "vt-ubnd", env=home)
    assert again.returncode == 1 and len(again.stderr.strip().splitlines()) == 1 and "Traceback" not in again.stderr
    assert "line 2 (01/QĐ-UBND): the register 'qd' of 'ubnd-tinh' for 2026 has numbers 01, 02 already" in \
        " ".join(again.stderr.split())
    clash = vanban("register", "open", "ubnd-tinh", "--year", "2026", "--series", "qd2", "--kinds", "decision,plan",
                   "--as", "vt-ubnd", env=home)
    assert clash.returncode == 1 and "series 'qd2' and 'qd' of agency 'ubnd-tinh'" in " ".join(clash.stderr.split())
    with sqlite3.connect(Path(home["VANBAN_HOME"]) / "vanban.db") as conn:
        assert conn.execute("select count(*) from registerentry where imported").fetchone()[0] == 2
        assert conn.execute("select count(*) from outgoingregister where year = 2026").fetchone()[0] == 2
    book = json.loads(vanban("register", "show", "ubnd-tinh", "--year", "2026", "--json", env=home).stdout)
    assert [(e["Số, ký hiệu văn bản"], e["Ghi chú"]) for e in book["entries"]] == [
        ("01/QĐ-UBND", "(nhập từ sổ cũ)"), ("02/QĐ-UBND", "(nhập từ sổ cũ)")]


def _documents(home: dict[str, str]) -> int:
    db = Path(home["VANBAN_HOME"]) / "vanban.db"
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from document").fetchone()[0]


@pytest.mark.parametrize("mutate, expected", [
    (lambda s: s.update(issuer="so-khong-co"), "issuer: no agency with code 'so-khong-co'"),
    (lambda s: s.update(signer="ct-ubnd"), "signer: Chủ tịch Nguyễn Văn An (ct-ubnd) has no authority"),
    (lambda s: s["body"].update(assignments=[{"lead": "sttt", "task": "x", "due": "30/02/2024"}]),
     "body.assignments[0].due: 30/02/2024 is not a calendar date"),
    (lambda s: s.update(subject="Về việc\x1b[31m đỏ"), "subject: contains the control character U+001B"),
])
def test_bad_drafts_get_one_clear_line_and_nothing_is_written(tmp_path: Path, home: dict[str, str], mutate, expected: str) -> None:  # noqa: ANN001
    assert vanban("directory", "load-sample", env=home).returncode == 0
    spec = seed_spec("submission")
    mutate(spec)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = vanban("draft", str(path), env=home)
    assert result.returncode == 1
    assert expected in " ".join(result.stderr.split()), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert _documents(home) == 0


def test_user_mistakes_never_print_a_traceback(tmp_path: Path, home: dict[str, str]) -> None:
    (tmp_path / "notyaml.yaml").write_text("kind: [unclosed", encoding="utf-8")
    cases = [
        (("draft", str(tmp_path / "missing.yaml")), "cannot read"),
        (("draft", str(tmp_path / "notyaml.yaml")), "is not valid YAML"),
        (("issue", "7", "--date", "30/02/2024"), "date: 30/02/2024 is not a calendar date"),
        (("sign", "42"), "document: no document #42"),
        (("register", "show", "xyz"), "no agency with code 'xyz'"),
        (("audit", "show", "999/QĐ-UBND"), "no issued document 999/QĐ-UBND"),
        (("audit", "show", "abc"), "is neither an id nor a number and symbol"),
        (("draft", str(tmp_path / "notyaml.yaml"), "--as", "x"), "is not valid YAML"),
    ]
    for args, expected in cases:
        result = vanban(*args, env=home)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert expected in " ".join(result.stderr.split()), (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_the_directory_loads_once(home: dict[str, str]) -> None:
    assert vanban("directory", "load-sample", env=home).returncode == 0
    again = vanban("directory", "load-sample", env=home)
    assert again.returncode == 1 and "already" in again.stderr
    agencies = vanban("directory", "agencies", env=home).stdout
    for name in ("Sở Thông tin và Truyền thông", "Ủy ban nhân dân huyện Bình Tân", "Ban Quản lý các khu công nghiệp"):
        assert name in agencies


def test_an_unreachable_database_is_one_line(home: dict[str, str]) -> None:
    env = {**home, "VANBAN_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}
    result = vanban("documents", env=env)
    assert result.returncode == 1 and "database: cannot use" in result.stderr and "Traceback" not in result.stderr


def test_a_schema_from_a_newer_vanban_is_refused(home: dict[str, str]) -> None:
    assert vanban("db", "upgrade", env=home).returncode == 0
    with sqlite3.connect(Path(home["VANBAN_HOME"]) / "vanban.db") as conn:
        conn.execute("update alembic_version set version_num = '9999'")
    result = vanban("documents", env=home)
    assert result.returncode == 1 and "revision 9999, which this vanban does not know" in result.stderr


def test_brackets_in_data_print_as_they_are(tmp_path: Path, home: dict[str, str]) -> None:
    """Text from users and documents is never read as terminal markup."""
    assert vanban("directory", "load-sample", env=home).returncode == 0
    spec = seed_spec("submission")
    spec["subject"] = "Về việc [bold]thử nghiệm[/bold] kế hoạch"
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    assert vanban("draft", str(path), env=home).returncode == 0
    assert "[bold]thử nghiệm[/bold]" in vanban("documents", env=home).stdout
    spec["issuer"] = "so[red]x"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    refused = vanban("draft", str(path), env=home)
    assert refused.returncode == 1 and "no agency with code 'so[red]x'" in refused.stderr
