"""The malformed-input corpus (tests/data/bad/cases.txt): drafts, flow specs, directory, reorganisation, calendar
and register files, command-line arguments and answers at a human step, each refused with one line naming its
rule, no traceback, and the database (every table) and the file store as they were."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from models.approvals import pending, submit
from models.db import make_engine, session_scope
from models.document import Document
from models.drafting import draft_document, parse_create
from models.yaml_files import read_yaml
from tests.test_directory import use_database

BAD = Path(__file__).parent / "data" / "bad"
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|x([0-9a-fA-F]{2}))")


def _cases() -> list[tuple[str, str]]:
    lines = (line for line in (BAD / "cases.txt").read_text(encoding="utf-8").splitlines())
    return [tuple(line.split(None, 1)) for line in lines if line.strip() and not line.startswith("#")]


CASES = _cases()


@pytest.fixture(scope="module")
def shared(_chain_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, dict[str, str]]]:
    """One database for every case (none may change it): the seed chain issued, and a new Công văn submitted, its
    first step waiting for cvp."""
    folder = tmp_path_factory.mktemp("bad-input")
    shutil.copytree(_chain_template, folder / "db")
    engine = make_engine(f"sqlite:///{folder / 'db' / 'vanban.db'}")
    with session_scope(engine) as session:
        draft = draft_document(session, read_yaml(BAD / "draft-ok.yaml"), actor="cv-vhxh")
        step = submit(session, draft, actor="cv-vhxh")
    yield engine, {"step": str(step.id), "draft": str(draft.id), "long": "x" * 10_001}
    engine.dispose()


def _rows(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in SQLModel.metadata.sorted_tables}


def _arguments(text: str, values: dict[str, str]) -> list[str]:
    text = _ESCAPE.sub(lambda m: chr(int(m[1] or m[2] or m[3], 16)), text.format(**values))
    return [str(BAD / word[1:]) if word.startswith("@") else word for word in shlex.split(text)]


def test_the_corpus_is_large_and_its_base_is_valid(shared: tuple[Engine, dict[str, str]]) -> None:
    assert len(CASES) >= 60
    assert {rule for rule, _ in CASES} >= {"text.too-long", "text.control-characters", "text.noncharacters",
                                           "file.yaml-duplicate-key", "file.yaml-depth", "file.yaml-size",
                                           "file.encoding", "date.exists", "file.write", "channel.clear-credentials",
                                           "input.extra_forbidden", "usage"}
    parse_create(read_yaml(BAD / "draft-ok.yaml"))  # each draft-*.yaml case is this one, broken in one place
    engine, values = shared
    with Session(engine) as session:
        assert [str(s.id) for s in pending(session)] == [values["step"]]


@pytest.mark.parametrize(("rule", "arguments"), CASES, ids=[f"{i:03d}-{args.split()[0]}" for i, (_, args) in
                                                              enumerate(CASES, start=1)])
def test_a_bad_input_is_one_line_and_changes_nothing(shared: tuple[Engine, dict[str, str]], rule: str,
                                                      arguments: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import app
    from models.config import get_settings

    engine, values = shared
    monkeypatch.setenv("COLUMNS", "80")  # a narrow terminal: a long error must still be one line
    use_database(engine.url.render_as_string(hide_password=False), monkeypatch)
    store = get_settings().files_dir
    before = _rows(engine)
    result = CliRunner().invoke(app, _arguments(arguments, values))
    assert isinstance(result.exception, SystemExit), result.exception  # anything else would be a traceback
    assert result.exit_code == 2 if rule == "usage" else result.exit_code in (1, 2), (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert rule == "usage" or f"({rule})" in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert _rows(engine) == before
    assert not store.exists() or not any(store.rglob("*.docx"))


# --- the limits are what rendering and the database take --------------------------------------------------------

def test_a_draft_at_every_limit_is_issued_and_conforms(chain_engine: Engine, tmp_path: Path) -> None:
    """A trích yếu of 255 characters (Vietnamese, so more bytes), a paragraph of 10,000, a symbol's abbreviation
    of 20: drafted, signed, issued, rendered, and the DOCX passes the checker; one character more is refused."""
    from doc_templates import render_document
    from doc_templates.nd30_rules import check
    from models.errors import RuleViolation
    from models.issuing import issue_document
    from models.legal_text import ABBREVIATION_MAX, NAME_MAX, TEXT_MAX
    from models.signing import sign_document

    spec = read_yaml(BAD / "draft-ok.yaml")
    spec["subject"] = ("về việc triển khai Kế hoạch thông tin cơ sở trên địa bàn tỉnh " * 5)[:NAME_MAX].strip()
    spec["subject"] += "ữ" * (NAME_MAX - len(spec["subject"]))
    spec["body"]["intro"] = [("Ủy ban nhân dân tỉnh đề nghị " * 400)[:TEXT_MAX - 1] + "."]
    spec["field_abbreviation"] = "VHXH" * (ABBREVIATION_MAX // 4)
    assert (len(spec["subject"]), len(spec["body"]["intro"][0])) == (NAME_MAX, TEXT_MAX)
    with session_scope(chain_engine) as session:
        doc = draft_document(session, spec)
        sign_document(session, doc)
        issue_document(session, doc, date(2024, 12, 20), tmp_path / "files")
        data = render_document(session, doc)
    assert check(data).findings == []
    for field, longer in (("subject", spec["subject"] + "a"), ("field_abbreviation", spec["field_abbreviation"] + "A")):
        with pytest.raises(RuleViolation) as exc, session_scope(chain_engine) as session:
            draft_document(session, {**spec, field: longer})
        assert (exc.value.field, exc.value.rule) == (field, "text.too-long")


def test_a_failed_issue_leaves_no_file_behind(chain_engine: Engine, tmp_path: Path) -> None:
    """The decision's DOCX is written, then its assignment's deadline (before the date of issue) stops the issue:
    the transaction rolls back and takes the numbered file with it."""
    from models.errors import RuleViolation
    from models.issuing import issue_document
    from models.signing import sign_document
    from tests.test_drafting import seed_spec

    spec = seed_spec("decision")
    spec["body"]["assignments"][0]["due"] = "01/3/2024"
    with session_scope(chain_engine) as session:
        doc_id = draft_document(session, spec).id
        sign_document(session, session.get(Document, doc_id))
    files = tmp_path / "files"
    with pytest.raises(RuleViolation) as exc, session_scope(chain_engine) as session:
        issue_document(session, session.get(Document, doc_id), date(2024, 3, 4), files)
    assert exc.value.rule == "assignment.due-before-issue", exc.value
    assert files.exists() and not any(files.rglob("*.docx"))  # written, then removed with the rollback
    with Session(chain_engine) as session:
        assert session.get(Document, doc_id).number is None


def test_the_checker_names_hidden_characters_without_printing_them(chain_engine: Engine, tmp_path: Path) -> None:
    import io

    import docx

    from doc_templates import render_document
    from flows.cli import app

    with Session(chain_engine) as session:
        decision = render_document(session, session.get(Document, 3))  # 374/QĐ-UBND
    document = docx.Document(io.BytesIO(decision))
    run = next(p for p in document.paragraphs if p.text.startswith("Giao Giám đốc")).runs[0]
    run.text = run.text[:4] + "\u202e" + run.text[4:]
    path = tmp_path / "hidden.docx"
    document.save(path)
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1, result.output
    assert "ND30-CHARACTERS" in result.output and "U+202E RIGHT-TO-LEFT OVERRIDE" in result.output
    assert "\u202e" not in result.output and "Giao⟦U+202E⟧" in result.output


def test_the_yaml_reader_limits_size_and_keeps_merges() -> None:
    from models.errors import RuleViolation
    from models.yaml_files import MAX_BYTES, load_yaml

    with pytest.raises(RuleViolation) as exc:
        load_yaml(b"#" * (MAX_BYTES + 1), "big.yaml")
    assert exc.value.rule == "file.too-large"
    # a merge key brings keys that the mapping may then give again: no duplicate
    assert load_yaml("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n", "m.yaml")["d"] == {"x": 3, "y": 2}
    assert load_yaml("\ufeffa: 04/3/2024\nb: 2024-03-04\n", "bom.yaml") == {"a": "04/3/2024", "b": date(2024, 3, 4)}
