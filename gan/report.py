"""The markdown the book includes, written by the notebooks: tables, figures, verdicts and provenance.

The book never computes; the notebooks do, and each writes what it found as one MyST file next to its figures,
`report.md`: the body, then the downloads and the provenance box. Every path in it is relative to the report
(`![...](fid.png)`, `[runs.csv](./runs.csv)`), so a page includes it as it is, with MyST's
`{include}` options `:relative-images:` and `:relative-docs: ./`; nothing rewrites it on the way (see
book/README.md). Figures are `figure-md` blocks, whose markdown image MyST rewrites for the including page (a
`{figure}` directive's path would be read from the page's folder instead), and whose alt text says what is shown.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from gan.provenance import atomic_write_text

# Under a chapter's verdicts on the thesis's headline claims: they are tested one at a time there, and corrected
# together (Holm) by the synthesis, whose verdicts can differ and are the book's: it writes them per chapter
# (corrected_<experiment>.md), and the chapter's page and the discussion include them.
BEFORE_CORRECTION = ("Each verdict above holds for its claim alone (α = 0.05), before the correction for testing the "
                     "thesis's headline claims together; the corrected verdicts, which the book stands by, close this "
                     "chapter's results and are gathered in {doc}`/synthesis`.")


def md_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, align: str | None = None) -> str:
    """A GitHub/MyST pipe table from a list of dicts (values printed as they are; format them first)."""
    if not rows:
        return "_(no rows)_\n"
    columns = list(columns or rows[0].keys())
    align = align or "l" + "r" * (len(columns) - 1)
    if len(align) != len(columns):  # a separator row of another width breaks the table in every renderer
        raise ValueError(f"align {align!r} has {len(align)} letters for {len(columns)} columns ({', '.join(map(str, columns))})")
    sep = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(str(c).replace("|", "\\|") for c in columns) + " |", "| " + " | ".join(sep[a] for a in align) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(str(r.get(c, "")).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines) + "\n"


def figure(path: str, caption: str, name: str | None = None, width: str = "100%", alt: str | None = None,
           grid: bool = False) -> str:
    """A MyST figure with a caption, a label and alt text (by default the caption's first sentence); `path` is
    relative to the report file. `grid`: a photo-like sample grid, which the browser check lets the column scale
    below 60 % of its natural width (its cells stay legible)."""
    alt = (alt or caption.split(". ")[0]).replace("[", "(").replace("]", ")").rstrip(".")
    cls = ":class: sample-grid\n" if grid else ""
    return f":::{{figure-md}} {name or ''}\n{cls}:width: {width}\n\n![{alt}]({path})\n\n{caption}\n:::\n"


def downloads_md(files: Sequence[str]) -> str:
    """A line of links to the executed notebook and the data files beside the report."""
    links = [f"[{f}](path:./{f})" for f in files]  # path: a download, even for a notebook (a source suffix)
    return ("**Downloads:** " + ", ".join(links) + ".\n") if links else ""


def provenance_md(manifest: dict[str, Any], notebook: str, runs: int | None = None) -> str:
    """Which rule, config, seeds, commit and device made an experiment's numbers, and its executed notebook."""
    cfg = json.dumps(manifest.get("config", {}), indent=1, sort_keys=True)
    seeds = manifest.get("seeds", manifest.get("seed"))
    lines = [
        ":::{admonition} Provenance\n:class: note dropdown\n",
        f"- **Rule:** `{manifest.get('rule')}` at scale `{manifest.get('scale')}`",
        f"- **Seeds:** {seeds}" if seeds is not None else "",
        f"- **Runs aggregated:** {runs}" if runs is not None else "",
        f"- **Commit:** `{manifest.get('git_commit')}`"
        + ("; files that differed from it: " + ", ".join(f"`{f}`" for f in manifest["dirty_files"]) if manifest.get("dirty_files") else ""),
        "- **Runs made at commit(s):** " + ", ".join(f"`{c}`" for c in manifest["run_commits"]) if manifest.get("run_commits") else "",
        f"- **Device:** {manifest.get('device')}",
        "- **Runs trained on:** " + "; ".join(manifest["run_devices"]) if manifest.get("run_devices") else "",
        f"- **Training wall time, all runs:** {manifest['runs_wall_time_s']:.0f} s" if manifest.get("runs_wall_time_s") else "",
        "- **Versions:** " + ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items()),
        f"- **Wall time:** {manifest['wall_time_s']:.0f} s" if manifest.get("wall_time_s") is not None else "",
        f"- **Command:** `{manifest.get('command')}`",
        f"- **Executed notebook:** [{notebook}](path:./{notebook})",
        "",
        "```json",
        cfg,
        "```",
        ":::",
    ]
    return "\n".join(l for l in lines if l != "") + "\n"


def write_report(out_dir: str | Path, body: str, manifest: dict[str, Any], notebook: str, runs: int | None = None) -> None:
    """report.md: the body, then the downloads (the executed notebook and the data files in the folder) and the
    provenance box."""
    out = Path(out_dir)
    data = sorted(p.name for p in out.iterdir() if p.suffix in (".csv", ".json") and p.is_file())
    text = body.rstrip() + "\n\n" + downloads_md([notebook, *data]) + "\n" + provenance_md(manifest, notebook, runs)
    atomic_write_text(out / "report.md", text)


def for_notebook(body: str) -> str:
    """The report as plain markdown for the executed notebook's last cell: each `figure-md` block becomes its image
    and caption, the image linked, not embedded (the notebook is written beside report.md, so the report's relative
    paths hold; the PNGs are committed once, not again as base64 inside the notebook); other directive blocks are
    dropped."""
    out: list[str] = []
    block: list[str] | None = None  # the lines of the directive block being read; None outside one
    for line in body.splitlines():
        if block is None:
            if line.startswith(("```{", ":::{")):
                block = [line]
            else:
                out.append(line)
        elif line.startswith(("```", ":::")):
            if block[0].startswith(":::{figure-md}"):
                text = [l for l in block[1:] if not l.startswith(":")]  # its options (:width:, :class:) go
                out.append("\n".join(text).strip())
            block = None
        else:
            block.append(line)
    return "\n".join(out)
