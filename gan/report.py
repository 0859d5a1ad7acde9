"""Markdown snippets that the book includes: tables, verdicts and provenance, written by the notebooks.

The book never computes; the notebooks do, and they write what they found as small MyST files next to their
figures (`report.md`, `provenance.md`). This module keeps those files uniform across experiments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from gan.runs import atomic_write_text


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, align: str | None = None) -> str:
    """A GitHub/MyST pipe table from a list of dicts (values printed as they are; format them first)."""
    if not rows:
        return "_(no rows)_\n"
    columns = list(columns or rows[0].keys())
    align = align or "l" + "r" * (len(columns) - 1)
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(str(c).replace("|", "\\|") for c in columns) + " |", "| " + " | ".join(sep[a] for a in align) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def figure(path: str, caption: str, name: str | None = None, width: str = "100%") -> str:
    """A MyST figure directive; `path` is relative to the report file."""
    label = f":name: {name}\n" if name else ""
    return f"```{{figure}} {path}\n{label}:width: {width}\n\n{caption}\n```\n"


def provenance_md(manifest: dict[str, Any], notebook: str, runs: int | None = None) -> str:
    """Which rule, config, seeds, commit and device made an experiment's numbers, and its executed notebook."""
    cfg = json.dumps(manifest.get("config", {}), indent=1, sort_keys=True)
    seeds = manifest.get("seeds", manifest.get("seed"))
    lines = [
        ":::{admonition} Provenance\n:class: note dropdown\n",
        f"- **Rule:** `{manifest.get('rule')}` at scale `{manifest.get('scale')}`",
        f"- **Seeds:** {seeds}" if seeds is not None else "",
        f"- **Runs aggregated:** {runs}" if runs is not None else "",
        f"- **Commit:** `{manifest.get('git_commit')}`",
        "- **Runs made at commit(s):** " + ", ".join(f"`{c}`" for c in manifest["run_commits"]) if manifest.get("run_commits") else "",
        f"- **Device:** {manifest.get('device')}",
        "- **Runs trained on:** " + "; ".join(manifest["run_devices"]) if manifest.get("run_devices") else "",
        f"- **Training wall time, all runs:** {manifest['runs_wall_time_s']:.0f} s" if manifest.get("runs_wall_time_s") else "",
        "- **Versions:** " + ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items()),
        f"- **Wall time:** {manifest['wall_time_s']:.0f} s" if manifest.get("wall_time_s") is not None else "",
        f"- **Command:** `{manifest.get('command')}`",
        f"- **Executed notebook:** {{download}}`{notebook} <{notebook}>`",
        "",
        "```json",
        cfg,
        "```",
        ":::",
    ]
    return "\n".join(l for l in lines if l != "") + "\n"


def write_report(out_dir: str | Path, body: str, manifest: dict[str, Any], notebook: str, runs: int | None = None) -> None:
    out = Path(out_dir)
    atomic_write_text(out / "report.md", body.rstrip() + "\n")
    atomic_write_text(out / "provenance.md", provenance_md(manifest, notebook, runs))


def without_directives(body: str) -> str:
    """The report without its MyST directive blocks (figures), for display in a notebook beside the images."""
    out, skip = [], False
    for line in body.splitlines():
        if line.startswith("```{"):
            skip = True
            continue
        if skip and line.startswith("```"):
            skip = False
            continue
        if not skip:
            out.append(line)
    return "\n".join(out)
