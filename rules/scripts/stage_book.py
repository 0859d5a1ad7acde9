"""Stage one scale's results for the book: copy, write the banner and the "not run" placeholders. Nothing else.

Each experiment's notebook writes, under results/<scale>/<exp>/, a `report.md` that needs no rewriting (paths
relative to itself; a page includes it with MyST's `:relative-images:` and `:relative-docs: ./`), its figures
and data, its executed notebook, its manifest and, for a claim of the thesis, `verdict.md`. This script copies
those top-level files (never the per-run folders) into book/_generated/<exp>/, for every experiment of the
registry (`gan.experiments`), and writes:

- `banner.md`: which scale, data sets and FID feature networks the numbers come from (from the manifests);
- for an experiment that was not run at this scale, or did not finish, a `report.md` that says so, and for a
  claim a `verdict.md` that says so: the book still builds, and says what is missing.

Plain Python plus the torch-free registry. Usage (the workflow's book rule):
    python rules/scripts/stage_book.py --results results/<scale> --scale <scale> --out book/_generated --scale-info '<json>'
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this repository's gan, whatever else is installed
from gan.experiments import REGISTRY, claims  # noqa: E402

SUFFIXES = (".md", ".png", ".svg", ".jpg", ".jpeg", ".gif", ".csv", ".json", ".ipynb")
MARKER = ".staged-by-stage-book"
NOT_EXPERIMENTS = {"logs", "benchmarks"}  # folders under results/<scale>/ that are not experiments


class StageError(RuntimeError):
    """The output folder is not ours to replace, or there are no results at all."""


@dataclass
class Staged:
    """What one call of `stage` did (the tests and the log read it)."""

    scale: str
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # folder exists, report.md does not
    unlisted: list[str] = field(default_factory=list)  # results folders that are no experiment of the registry


def not_run_md(exp: str, scale: str, results: str, why: str) -> str:
    return (f"### Not run at this scale\n\n:::{{warning}}\n{why.format(exp=exp, scale=scale, results=results)} "
            "This section therefore has no figures, tables or verdict; it is not a result.\n:::\n")


def no_verdict_md(exp: str, scale: str) -> str:
    return f"_No verdict: `{exp}` was not run at scale `{scale}`._\n"


def _as_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, (list, tuple)):
        return [s for x in v for s in _as_list(x)]
    return [str(v)]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in items if i.strip()))


def banner_md(scale: str, info: dict[str, Any], manifests: dict[str, dict[str, Any]], results_label: str,
              missing: list[str]) -> str:
    """The admonition at the top of every page: which scale, data set(s) and feature network(s) made the numbers.
    Data sets and feature networks come from the manifests (what actually ran), else from the config's
    description of the scale (`--scale-info`)."""
    datasets = _unique([d for m in manifests.values() for d in _as_list(m.get("datasets"))]) or _unique(
        _as_list(info.get("dataset")))
    nets = _unique([f for m in manifests.values() for f in _as_list(m.get("fid_features"))])
    commits = _unique([str(m["git_commit"]) for m in manifests.values() if m.get("git_commit")])
    description = " ".join(str(info.get("description") or "").split())
    if scale == "smoke":
        head = ":::{admonition} Smoke-scale build: these numbers are pipeline checks, not results\n:class: danger\n"
        lead = ("**Do not read any FID, time or verdict on this page as a finding.** The `smoke` scale runs a few "
                "training steps per experiment only to show that every step of the workflow works; read the committed "
                "`mnist5k` results or a `full` run instead.")
    else:
        head = f":::{{admonition}} Where the numbers come from: scale {scale}\n:class: important\n"
        lead = f"Every number, table and figure computed on this page comes from scale **`{scale}`**."
    items = [f"- **Scale:** `{scale}` (`{results_label}`)" + (f": {description}" if description else ".")]
    if datasets:
        items.append("- **Data:** " + "; ".join(datasets) + ".")
    if nets:
        line = "- **FID feature network:** " + "; ".join(nets) + "."
        if any("inception" not in n.lower() for n in nets):
            line += (" FIDs outside Inception-v3 space (such as LeNet-FID) are on their own scale: **not comparable with "
                     "published Inception FIDs** or the thesis's, nor with the Inception rules of thumb.")
        if any("inception" in n.lower() for n in nets):
            line += (" Inception FIDs are comparable with published values only for the same weights, image resolution "
                     "and number of samples.")
        items.append(line)
    items.append("- **Published numbers** beside ours are labelled as published.")
    if commits:
        items.append(("- **Commit:** " + ", ".join(f"`{c[:12]}`" for c in commits) + ".") if len(commits) <= 3
                     else f"- **Commits:** {len(commits)} (each section's provenance names its own).")
    if missing:
        items.append("- **Not run at this scale:** " + ", ".join(f"`{m}`" for m in missing) + " (their sections say so).")
    return head + "\n" + lead + "\n\n" + "\n".join(items) + "\n:::\n"


def stage(results: Path, scale: str, out: Path, scale_info: dict[str, Any] | None = None) -> Staged:
    """Stage results/<scale>/ into `out` (a folder directly under the book's root, e.g. book/_generated)."""
    results, out = Path(results), Path(out)
    report = Staged(scale=scale)
    if not results.is_dir():
        raise StageError(f"no results folder {results}: run the workflow for scale {scale!r} first")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise StageError(f"{out} exists and was not made by {Path(__file__).name}; refusing to replace it")
    label = results.as_posix()
    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        (tmp / MARKER).write_text("book/_generated is rebuilt by rules/scripts/stage_book.py on every book build.\n")
        manifests: dict[str, dict[str, Any]] = {}
        for exp in REGISTRY:
            src, dst = results / exp, tmp / exp
            dst.mkdir()
            if src.is_dir():
                for f in sorted(src.iterdir()):
                    if f.is_file() and f.suffix.lower() in SUFFIXES:
                        shutil.copyfile(f, dst / f.name)  # fresh times: Sphinx rebuilds the pages that include them
                if (src / "manifest.json").is_file():
                    manifests[exp] = json.loads((src / "manifest.json").read_text())
            if not src.is_dir():
                report.missing.append(exp)
                why = "There are no results for `{exp}` under `{results}/{exp}/`: it was not run at scale `{scale}`."
            elif not (src / "report.md").is_file():
                report.incomplete.append(exp)
                why = "The folder `{results}/{exp}/` exists but its notebook wrote no `report.md`: it did not finish at scale `{scale}`."
            else:
                report.present.append(exp)
                why = ""
            if why:
                (dst / "report.md").write_text(not_run_md(exp, scale, label, why))
            if exp in claims() and not (dst / "verdict.md").is_file():
                (dst / "verdict.md").write_text(no_verdict_md(exp, scale))
        report.unlisted = sorted(p.name for p in results.iterdir() if p.is_dir() and p.name not in REGISTRY
                                 and p.name not in NOT_EXPERIMENTS and not p.name.startswith("."))
        (tmp / "banner.md").write_text(banner_md(scale, scale_info or {}, manifests, label,
                                                 report.missing + report.incomplete))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # never leave a half-staged folder behind
        raise
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True, type=Path, help="results/<scale>")
    ap.add_argument("--scale", required=True, help="smoke | mnist5k | full")
    ap.add_argument("--out", required=True, type=Path, help="book/_generated (a folder directly under the book)")
    ap.add_argument("--scale-info", default="{}", help="JSON object: the config's scales.<scale> block")
    a = ap.parse_args(argv)
    try:
        info = json.loads(a.scale_info or "{}")
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        print(f"stage_book.py: --scale-info must be a JSON object ({e})", file=sys.stderr)
        return 2
    try:
        r = stage(a.results, a.scale, a.out, info)
    except StageError as e:
        print(f"stage_book.py: {e}", file=sys.stderr)
        return 1
    for name in r.unlisted:
        print(f"stage_book.py: warning: {a.results}/{name} is no experiment of gan.experiments; not staged", file=sys.stderr)
    print(f"stage_book.py: staged {len(r.present)} experiments from {a.results} (scale {a.scale}) into {a.out}"
          + (f"; not run: {', '.join(r.missing)}" if r.missing else "")
          + (f"; incomplete: {', '.join(r.incomplete)}" if r.incomplete else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
