"""The directory from the command line: listings as of a date, one entry in full, changes one at a time (each
audited with who made it), refused changes that write nothing, the YAML file that round trips, and documents
that follow the directory of their day."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from models.audit import AuditEntry
from models.channels import Channel
from models.config import get_settings
from models.directory import (
    Agency, AgencyGroup, AgencyGroupMember, AgencyVersion, Official, Position, SigningAuthority, Unit,
)
from tests.docx_reading import lines, open_docx
from tests.test_drafting import seed_spec

TABLES = (Agency, AgencyVersion, Unit, Official, Position, SigningAuthority, AgencyGroup, AgencyGroupMember, Channel,
          AuditEntry)


def use_database(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI in this process on the database at ``url``, with the sample keys beside it (sample_database)."""
    from sqlalchemy.engine import make_url

    from models.db import get_engine

    monkeypatch.setenv("VANBAN_DATABASE_URL", url)
    if url.startswith("sqlite:"):  # (a test may hand over a URL SQLAlchemy cannot even read)
        monkeypatch.setenv("VANBAN_KEYSTORE", str(Path(make_url(url).database).parent / "keys"))
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The `vanban` app in this process, on the sample directory's database."""
    monkeypatch.setenv("COLUMNS", "200")
    use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    return CliRunner()


def run(cli: CliRunner, *args: str) -> Result:
    from flows.cli import app

    return cli.invoke(app, list(args))


def ok(cli: CliRunner, *args: str) -> Result:
    result = run(cli, *args)
    assert result.exit_code == 0, result.output
    return result


def counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in TABLES)


def refused(cli: CliRunner, engine: Engine, *args: str) -> str:
    """Run a change that must be refused: exit 1, one line, no traceback, nothing written."""
    before = counts(engine)
    result = run(cli, *args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert counts(engine) == before
    return result.stderr


def audited(engine: Engine, action: str = "directory_changed") -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = [e.as_dict() for e in s.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    return [r for r in rows if r["action"] == action]


def test_an_official_added_from_the_cli_is_in_show_and_the_listing(cli: CliRunner, engine: Engine) -> None:
    added = ok(cli, "directory", "add-official", "gd-snv", "--as", "vt-ubnd", "--name", "Trương Văn Phúc",
               "--agency", "snv", "--title", "Giám đốc", "--head", "--from", "01/01/2026",
               "--channel", "mailto:gd-snv@vinhlong.example")
    assert added.stdout.strip() == "official 'gd-snv' added: Giám đốc Trương Văn Phúc at 'snv'"
    shown = ok(cli, "directory", "show", "gd-snv").stdout
    assert "official gd-snv: Trương Văn Phúc — in force on" in shown
    assert "Giám đốc at snv (head), from 01/01/2026" in shown and "mailto:gd-snv@vinhlong.example" in shown
    listed = json.loads(ok(cli, "directory", "officials", "--json").stdout)
    assert {"code": "gd-snv", "agency": "snv", "title": "Giám đốc", "is_head": True,
            "valid_from": "2026-01-01"}.items() <= next(o for o in listed if o["code"] == "gd-snv").items()
    before = json.loads(ok(cli, "directory", "officials", "--on", "31/12/2025", "--json").stdout)
    assert "gd-snv" not in {o["code"] for o in before} and len(before) == 12
    agency = json.loads(ok(cli, "directory", "show", "snv", "--json").stdout)
    assert [o["official"] for o in agency["officials"]] == ["gd-snv"] and agency["groups"][0]["group"] == "so-ban-nganh"
    entry = audited(engine)[-1]
    assert entry["actor"] == "vt-ubnd" and json.loads(entry["details"])["code"] == "gd-snv"


def test_the_three_bad_inputs_are_refused_naming_the_code_and_writing_nothing(cli: CliRunner, engine: Engine) -> None:
    duplicate = refused(cli, engine, "directory", "add-agency", "sttt", "--as", "vt-ubnd", "--name", "Sở mới",
                        "--abbreviation", "SM", "--header", "SỞ MỚI", "--place", "Vĩnh Long", "--head-title", "Giám đốc")
    assert "'sttt' is an agency of the directory already" in duplicate and "(directory.duplicate)" in duplicate
    twice = refused(cli, engine, "directory", "appoint", "gd-sttt", "--as", "vt-ubnd", "--agency", "snv",
                    "--title", "Giám đốc", "--from", "01/01/2026")
    assert "official 'gd-sttt' holds 'Giám đốc' at 'sttt'" in twice and "(directory.position-conflict)" in twice
    ok(cli, "directory", "add-official", "gd-snv", "--as", "vt-ubnd", "--name", "Trương Văn Phúc", "--agency", "snv",
       "--title", "Giám đốc", "--head", "--from", "01/01/2026")
    outside = refused(cli, engine, "directory", "grant", "gd-snv", "snv", "--as", "vt-ubnd", "--form", "head",
                      "--from", "01/06/2025")
    assert "'gd-snv' would sign for 'snv' from 01/6/2025, outside the time it holds a position (from 01/01/2026)" \
        in outside and "(directory.authority-tenure)" in outside
    moved = ok(cli, "directory", "appoint", "gd-sttt", "--as", "vt-ubnd", "--agency", "snv", "--title", "Phó Giám đốc",
               "--leader", "--from", "01/02/2026", "--end-current").stdout
    assert "appointed Phó Giám đốc at 'snv' from 01/02/2026; ended: Giám đốc" in moved


def test_tuq_grants_need_a_written_delegation_by_the_head_never_passed_on(cli: CliRunner, engine: Engine) -> None:
    tuq = ["--as", "vt-ubnd", "--form", "TUQ.", "--kinds", "official_letter", "--from", "01/01/2026",
           "--until", "30/06/2026"]
    unwritten = refused(cli, engine, "directory", "grant", "pgd-sttt", "sttt", *tuq)
    assert "names the head who delegated" in unwritten and "(directory.delegation)" in unwritten
    by_deputy = refused(cli, engine, "directory", "grant", "cv-sttt", "sttt", *tuq, "--delegated-by", "pgd-sttt",
                        "--delegation", "Giấy ủy quyền số 05/GUQ-STTTT")
    assert "'pgd-sttt' does not head 'sttt' on 01/01/2026: only the head delegates" in by_deputy
    ok(cli, "directory", "grant", "pgd-sttt", "sttt", *tuq, "--delegated-by", "gd-sttt",
       "--delegation", "Giấy ủy quyền số 05/GUQ-STTTT")
    # the director leaves (his delegation ends with him); the deputy heads the department from February, still
    # holding his KT. and no authority of a head of his own, and tries to delegate
    ok(cli, "directory", "retire", "gd-sttt", "--as", "vt-ubnd", "--on", "31/01/2026")
    ok(cli, "directory", "appoint", "pgd-sttt", "--as", "vt-ubnd", "--agency", "sttt", "--title", "Giám đốc", "--head",
       "--from", "01/02/2026", "--end-current")
    passed_on = refused(cli, engine, "directory", "grant", "cv-sttt", "sttt", "--as", "vt-ubnd", "--form", "TUQ.",
                        "--kinds", "official_letter", "--from", "01/03/2026", "--until", "31/03/2026", "--delegated-by", "pgd-sttt",
                        "--delegation", "Giấy ủy quyền số 07/GUQ-STTTT")
    assert "'pgd-sttt' holds no authority of his own for 'sttt'" in passed_on and "(directory.re-delegation)" in passed_on
    ok(cli, "directory", "revoke", "pgd-sttt", "sttt", "--as", "vt-ubnd", "--form", "KT.", "--on", "31/01/2026")
    grants = json.loads(ok(cli, "directory", "show", "pgd-sttt", "--on", "15/03/2026", "--json").stdout)
    assert [(g["form"], g["delegated_by"], g["in_force"], g["valid_until"]) for g in grants["signing_authority"]] == \
        [("KT.", None, False, "2026-01-31"), ("TUQ.", "gd-sttt", False, "2026-01-31")]


def draft_and_render(cli: CliRunner, tmp_path: Path, dated: str) -> list[str]:
    spec = {**seed_spec("submission"), "dated": dated}
    path = tmp_path / f"draft-{dated.replace('/', '-')}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    drafted = ok(cli, "draft", str(path), "--as", "cv-sttt").stdout
    doc_id = drafted.split("draft #")[1].split()[0]
    out = tmp_path / f"{doc_id}.docx"
    ok(cli, "render", doc_id, "--out", str(out))
    return lines(open_docx(out.read_bytes()))


def test_a_renaming_applies_to_drafts_dated_from_its_day(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    changed = ok(cli, "directory", "change-agency", "sttt", "--as", "vt-ubnd", "--from", "01/03/2025",
                 "--name", "Sở Khoa học, Công nghệ và Chuyển đổi số", "--abbreviation", "SKHCNCĐS",
                 "--header", "SỞ KHOA HỌC, CÔNG NGHỆ\\nVÀ CHUYỂN ĐỔI SỐ")
    assert changed.stdout.strip() == "agency 'sttt' changed from 01/3/2025: abbreviation, header_name, name"
    before = draft_and_render(cli, tmp_path, "20/02/2025")
    after = draft_and_render(cli, tmp_path, "05/03/2025")
    assert "SỞ THÔNG TIN VÀ" in before and "TRUYỀN THÔNG" in before and "VÀ CHUYỂN ĐỔI SỐ" not in before
    assert "SỞ KHOA HỌC, CÔNG NGHỆ" in after and "VÀ CHUYỂN ĐỔI SỐ" in after and "SỞ THÔNG TIN VÀ" not in after
    shown = json.loads(ok(cli, "directory", "show", "sttt", "--on", "28/02/2025", "--json").stdout)
    assert shown["name"] == "Sở Thông tin và Truyền thông"
    assert [v["from"] for v in shown["versions"]] == ["founding", "from 01/3/2025"]
    agencies = json.loads(ok(cli, "directory", "agencies", "--json").stdout)
    assert next(a for a in agencies if a["code"] == "sttt")["abbreviation"] == "SKHCNCĐS"


def test_a_retired_agency_cannot_draft_after_its_last_day(cli: CliRunner, engine: Engine, tmp_path: Path) -> None:
    retired = ok(cli, "directory", "retire", "sttt", "--as", "vt-ubnd", "--on", "28/02/2025", "--successor", "skhcn")
    assert retired.stdout.strip() == "agency 'sttt' retired after 28/02/2025; its successor: 'skhcn'"
    spec = tmp_path / "late.yaml"
    spec.write_text(yaml.safe_dump({**seed_spec("submission"), "dated": "05/03/2025"}, allow_unicode=True), "utf-8")
    before = counts(engine)
    late = run(cli, "draft", str(spec), "--as", "cv-sttt")
    assert late.exit_code == 1 and "agency 'sttt' was retired after 28/02/2025 (its successor: 'skhcn')" in late.stderr
    assert "(directory.retired)" in late.stderr and counts(engine) == before
    assert "sttt" not in {a["code"] for a in json.loads(ok(cli, "directory", "agencies", "--json").stdout)}
    everything = json.loads(ok(cli, "directory", "agencies", "--all", "--json").stdout)
    assert next(a for a in everything if a["code"] == "sttt")["period"] == "until 28/02/2025"
    assert json.loads(ok(cli, "directory", "show", "skhcn", "--json").stdout)["predecessors"] == ["sttt"]
    wrong = refused(cli, engine, "directory", "retire", "gd-sttt", "--as", "vt-ubnd", "--on", "28/02/2025",
                    "--successor", "skhcn")
    assert "only an agency has a successor; 'gd-sttt' is of kind official (directory.successor)" in wrong


def test_every_change_is_audited_with_its_actor(cli: CliRunner, engine: Engine) -> None:
    changes = [
        ["add-agency", "scds", "--name", "Sở Chuyển đổi số", "--abbreviation", "SCĐS", "--header", "SỞ CHUYỂN ĐỔI SỐ",
         "--place", "Vĩnh Long", "--head-title", "Giám đốc", "--parent", "ubnd-tinh", "--category", "department",
         "--from", "01/01/2026"],
        ["add-unit", "scds", "VT", "Văn thư Sở", "--from", "01/01/2026"],
        ["add-official", "gd-scds", "--name", "Phan Văn Quang", "--agency", "scds", "--title", "Giám đốc", "--head",
         "--from", "01/01/2026"],
        ["appoint", "gd-scds", "--agency", "stp", "--title", "Thành viên Hội đồng", "--concurrent", "--from", "01/02/2026"],
        ["grant", "gd-scds", "scds", "--form", "head", "--from", "01/01/2026"],
        ["revoke", "gd-scds", "scds", "--on", "30/06/2026"],
        ["add-group", "cds", "các cơ quan chuyển đổi số", "--member", "sttt", "--from", "01/01/2026"],
        ["join-group", "cds", "scds", "--from", "01/01/2026"],
        ["add-channel", "scds", "mailto:scds@vinhlong.example", "--from", "01/01/2026"],
        ["retire-channel", "scds", "mailto:scds@vinhlong.example", "--on", "30/06/2026"],
        ["change-agency", "scds", "--from", "01/07/2026", "--head-title", "Giám đốc Sở"],
        ["retire", "scds/VT", "--on", "30/09/2026"],
    ]
    for args in changes:
        ok(cli, "directory", *args, "--as", "vt-ubnd")
    exported = json.loads(ok(cli, "audit", "export", "--format", "json").stdout)
    entries = [e for e in exported if e["action"] == "directory_changed"]
    details = [json.loads(e["details"]) if isinstance(e["details"], str) else e["details"] for e in entries]
    assert [d["change"] for d in details] == [args[0] for args in changes]
    assert {e["actor"] for e in entries} == {"vt-ubnd"} and details[0]["code"] == "scds"
    assert {"code": "gd-scds", "agency": "scds", "valid_until": "2026-06-30"}.items() <= details[5].items()
    assert ok(cli, "audit", "verify").exit_code == 0
    channel = json.loads(ok(cli, "directory", "show", "scds", "--json").stdout)["channels"]
    assert channel == [{"url": "mailto:scds@vinhlong.example", "valid_from": "2026-01-01", "valid_until": "2026-06-30",
                        "period": "from 01/01/2026 until 30/6/2026", "in_force": False}]
    unknown = refused(cli, engine, "directory", "retire", "nobody", "--as", "vt-ubnd", "--on", "30/06/2026")
    assert "no agency, official or group with code 'nobody'" in unknown
    stranger = refused(cli, engine, "directory", "add-unit", "scds", "P.X", "Phòng X", "--as", "nobody")
    assert "no official with code 'nobody'" in stranger


def test_the_yaml_file_round_trips_into_an_empty_database(cli: CliRunner, engine: Engine, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    round_trip(cli, tmp_path, monkeypatch, f"sqlite:///{tmp_path / 'fresh.db'}")  # empty: migrated on first use


def test_the_yaml_file_round_trips_into_postgresql(cli: CliRunner, pg_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    round_trip(cli, tmp_path, monkeypatch, pg_url)


def round_trip(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_url: str) -> None:
    """Export the changed sample, import it into the empty database ``fresh_url``, export again: the same file."""
    # facts of every kind with dates, so the round trip carries more than the undated sample
    ok(cli, "directory", "change-agency", "sttt", "--as", "vt-ubnd", "--from", "01/03/2025", "--name", "Sở mới",
       "--header", "SỞ MỚI")
    ok(cli, "directory", "add-official", "gd-snv", "--as", "vt-ubnd", "--name", "Trương Văn Phúc", "--agency", "snv",
       "--title", "Giám đốc", "--head", "--from", "01/01/2026", "--channel", "mailto:gd-snv@vinhlong.example")
    ok(cli, "directory", "grant", "pgd-sttt", "sttt", "--as", "vt-ubnd", "--form", "TUQ.", "--kinds", "official_letter",
       "--from", "01/01/2026", "--until", "30/06/2026", "--delegated-by", "gd-sttt", "--delegation", "Giấy ủy quyền số 05/GUQ-STTTT")
    ok(cli, "directory", "retire", "stp", "--as", "vt-ubnd", "--on", "30/06/2025", "--successor", "snv")
    ok(cli, "directory", "add-agency", "sdttg", "--as", "vt-ubnd", "--name", "Sở Dân tộc và Tôn giáo",
       "--abbreviation", "SDTTG", "--header", "SỞ DÂN TỘC\\nVÀ TÔN GIÁO", "--place", "Vĩnh Long", "--head-title",
       "Giám đốc", "--parent", "ubnd-tinh", "--category", "department", "--from", "01/03/2025")
    ok(cli, "directory", "add-unit", "sdttg", "VT", "Văn thư Sở", "--as", "vt-ubnd")  # from the day its agency starts
    ok(cli, "directory", "add-channel", "sdttg/VT", "mailto:vt.sdttg@vinhlong.example")
    first = tmp_path / "first.yaml"
    ok(cli, "directory", "export", "--out", str(first))

    use_database(fresh_url, monkeypatch)
    imported = ok(cli, "directory", "import", str(first), "--as", "vt-ubnd")
    assert imported.stdout.strip() == ("first.yaml imported: 29 agencies, 2 groups, 13 officials, "
                                       "12 signing_authority, 2 registers")
    second = ok(cli, "directory", "export").stdout
    assert yaml.safe_load(second) == yaml.safe_load(first.read_text(encoding="utf-8"))
    assert second == first.read_text(encoding="utf-8")
    again = run(cli, "directory", "import", str(first), "--as", "vt-ubnd")
    assert again.exit_code == 1 and "(directory.duplicate)" in again.stderr
    entries = [json.loads(e["details"]) | {"actor": e["actor"]}
               for e in json.loads(ok(cli, "audit", "export", "--format", "json").stdout)
               if e["action"] == "directory_imported"]
    assert entries == [{"file": "first.yaml", "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
                        "agencies": 29, "groups": 2, "officials": 13, "signing_authority": 12, "registers": 2,
                        "actor": "vt-ubnd"}]


def test_retiring_twice_an_unknown_code_and_a_channel_added_again_with_other_dates(cli: CliRunner, engine: Engine) -> None:
    ok(cli, "directory", "retire", "stp", "--as", "vt-ubnd", "--on", "30/06/2025")
    again = refused(cli, engine, "directory", "retire", "stp", "--as", "vt-ubnd", "--on", "31/12/2025")
    assert "agency 'stp' was retired after 30/6/2025 already (directory.retired)" in again
    unknown = refused(cli, engine, "directory", "retire", "nobody", "--as", "vt-ubnd", "--on", "31/12/2025")
    assert "'nobody'" in unknown
    ok(cli, "directory", "add-channel", "snv", "mailto:vanthu@snv.example", "--from", "01/01/2026")
    moved = refused(cli, engine, "directory", "add-channel", "snv", "mailto:vanthu@snv.example", "--from", "01/02/2026")
    assert "is recorded already, from 01/01/2026" in moved
