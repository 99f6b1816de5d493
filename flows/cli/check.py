"""`vanban check`: Decree 30 conformance of any DOCX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from flows.cli.common import console, err

app = typer.Typer()

KIND_LABEL = {"decision": "Quyết định", "submission": "Tờ trình", "plan": "Kế hoạch", "report": "Báo cáo",
              "resolution": "Nghị quyết", "official_letter": "Công văn", "other": "document"}


@app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="DOCX files to check")],
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON for other programs")] = False,
) -> None:
    """Check DOCX files against the Decree 30/2020 format rules. Exit 0: no errors; 1: errors; 2: unreadable."""
    import json

    from doc_templates.docx_reader import UnreadableDocx
    from doc_templates.nd30_rules import check as check_docx

    results: list[dict[str, Any]] = []
    for path in files:
        try:
            report = check_docx(path.read_bytes())
        except (OSError, UnreadableDocx) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            results.append({"file": str(path), "error": f"cannot be read: {reason}"})
            continue
        results.append({"file": str(path), "kind": report.kind, "errors": report.errors, "warnings": report.warnings,
                        "findings": [f.as_dict() for f in report.findings]})
    checked = [r for r in results if "error" not in r]
    summary = {"files": len(results), "with_errors": sum(r["errors"] > 0 for r in checked),
               "errors": sum(r["errors"] for r in checked), "warnings": sum(r["warnings"] for r in checked),
               "unreadable": len(results) - len(checked)}
    if as_json:
        print(json.dumps({"files": results, "summary": summary}, ensure_ascii=False, indent=2))
    else:
        for r in results:
            if "error" in r:
                err.print(f"[bold red]{escape(r['file'])}[/]: {escape(r['error'])}")
                continue
            verdict = "[green]conforms[/]" if not r["errors"] else f"[red]{r['errors']} errors[/]"
            console.print(f"[bold]{escape(r['file'])}[/] ({KIND_LABEL.get(r['kind'], r['kind'])}): {verdict}"
                          + (f", {r['warnings']} warnings" if r["warnings"] else ""), markup=True)
            for f in r["findings"]:
                mark = "[red]error[/]" if f["severity"] == "error" else "[yellow]warning[/]"
                where = escape(f["component"] + (f" «{f['paragraph']}»" if f["paragraph"] else ""))
                console.print(f"  {mark} {f['rule']}  {where}", markup=True)
                console.print(f"      expected {f['expected']}; found {f['found']}")
        console.print(f"{summary['files']} files checked: {summary['with_errors']} with errors, {summary['errors']} errors, "
                      f"{summary['warnings']} warnings, {summary['unreadable']} unreadable")
    raise typer.Exit(2 if summary["unreadable"] else 1 if summary["errors"] else 0)

