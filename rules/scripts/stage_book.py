"""Stage one scale's results for the book: copy, write the banner and the "not run" placeholders. Nothing else.

Each experiment's notebook writes, under results/<scale>/<exp>/, a `report.md` that needs no rewriting (paths
relative to itself; a page includes it with MyST's `:relative-images:` and `:relative-docs: ./`), its figures
and data, its executed notebook, its manifest and, for a claim of the thesis, `verdict.md`. This script copies
those top-level files (never the per-run folders) into book/_generated/<exp>/, for every experiment of the
registry (`gan.experiments`), and writes:

- `banners/<page>.md`: for each page with results, which scale, data sets and FID feature networks its numbers
  come from (from its experiments' manifests), in at most two lines; `scale.md`: the same for the whole build,
  with the commits, for the appendix that explains the scales;
- for an experiment that was not run at this scale, or did not finish, a `report.md` that says so, for a claim
  a `verdict.md` that says so, and for any other of its files that a page includes (read from the pages' own
  `{include}` lines) a line that says so: the book still builds, and says what is missing;
- for an experiment whose notebook (analysis/<exp>.ipynb) has changed since the commit its manifest records, a
  warning under its page's banner and a line in `scale.md` naming the commits that changed it: its section is the
  older notebook's until it is run again. Git tells; where it cannot (no repository, or a commit it does not
  hold), nothing is said.

Plain Python plus the torch-free registry. Usage (the workflow's book rule):
    python rules/scripts/stage_book.py --results results/<scale> --scale <scale> --out book/_generated --scale-info '<json>'
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this repository's gan, whatever else is installed
from gan.experiments import REGISTRY, claims  # noqa: E402

SUFFIXES = (".md", ".png", ".svg", ".jpg", ".jpeg", ".gif", ".csv", ".json", ".ipynb")
MARKER = ".staged-by-stage-book"
NOT_EXPERIMENTS = {"logs", "benchmarks", "data"}  # folders under results/<scale>/ that are not experiments


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
    stale: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # exp -> (its commit, later notebook changes)


def not_run_md(exp: str, scale: str, results: str, why: str) -> str:
    return (f"### Not run at this scale\n\n:::{{warning}}\n{why.format(exp=exp, scale=scale, results=results)} "
            "This section therefore has no figures, tables or verdict; it is not a result.\n:::\n")


def no_verdict_md(exp: str, scale: str) -> str:
    return f"_No verdict: `{exp}` was not run at scale `{scale}`._\n"


def no_section_md(exp: str, name: str, scale: str) -> str:
    return f"_Not available: `{exp}` wrote no `{name}` at scale `{scale}`._\n"


INCLUDE = re.compile(r"^```\{include\}\s+/_generated/([A-Za-z0-9_]+)/([A-Za-z0-9_.-]+\.md)\s*$", re.M)


def included(book: Path) -> dict[str, set[str]]:
    """Experiment -> the markdown files of its results that the book's pages include."""
    out: dict[str, set[str]] = {}
    for page in book.rglob("*.md"):
        if "_build" in page.parts or "_generated" in page.parts:
            continue
        for exp, name in INCLUDE.findall(page.read_text()):
            out.setdefault(exp, set()).add(name)
    return out


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


def _short_net(name: str) -> str:
    """'LeNet-FID (classifier on MNIST-5k ...)' -> 'LeNet-FID'; Inception keeps what its weights are."""
    return name if name.startswith("Inception") else name.split(" (")[0]


def notebook_changes(exp: str, commit: str | None, repo: Path = ROOT) -> list[str] | None:
    """The commits after `commit` that changed analysis/<exp>.ipynb, newest first, as "<short hash> <subject>";
    None where git cannot tell (no commit recorded, git missing, not a repository, or a commit it does not hold)."""
    if not commit:
        return None
    try:
        p = subprocess.run(["git", "-C", str(repo), "log", "--format=%h %s", f"{commit}..HEAD", "--",
                            f"analysis/{exp}.ipynb"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.splitlines() if p.returncode == 0 else None


def stale_md(stale: dict[str, tuple[str, list[str]]]) -> str:
    """A warning for the sections made by an older version of their notebook: {exp: (commit, changes)}, not empty."""
    def change(c: str) -> str:
        h, _, subject = c.partition(" ")
        return f"`{h}` ({subject})" if subject else f"`{h}`"

    items = "\n".join(f"- `{exp}`: made at `{commit[:12]}`; its notebook changed since in " + "; ".join(map(change, changes))
                      for exp, (commit, changes) in stale.items())
    one = len(stale) == 1
    return (":::{warning}\n" + ("A section of this page was made by an older version of its notebook. Its text and numbers are "
                                "that notebook's" if one else "Sections of this page were made by older versions of their "
                                "notebooks. Their text and numbers are those notebooks'")
            + f", not those of the notebook in this repository, until the experiment is run again.\n\n{items}\n:::\n")


def page_banner_md(scale: str, manifests: dict[str, dict[str, Any]], missing: list[str],
                   stale: dict[str, tuple[str, list[str]]] | None = None) -> str:
    """The banner of one page with results, at most two lines: the scale, this page's data sets and feature
    networks (from its experiments' manifests: what ran), and a link to what the scales and commits are; under
    it, a warning naming the sections made by an older version of their notebook (`stale_md`)."""
    datasets = _unique([d for m in manifests.values() for d in _as_list(m.get("datasets"))])
    nets = _unique([_short_net(f) for m in manifests.values() for f in _as_list(m.get("fid_features"))])
    smoke = scale == "smoke"
    head = f"**Scale `{scale}`" + (": a pipeline check, not results. No number on this page is a finding.**" if smoke else "**")
    parts = [head]
    if datasets:
        parts.append("Data: " + "; ".join(datasets))
    if nets:
        lenet = any(not n.startswith("Inception") for n in nets)
        parts.append("FID in " + ", ".join(nets) + (" (its own scale: not comparable with Inception FIDs)" if lenet else ""))
    if missing:
        parts.append("not run here: " + ", ".join(f"`{m}`" for m in missing))
    parts.append("{ref}`about the scales <sec-scales>`")
    return (f":::{{container}} scale-banner{' smoke' if smoke else ''}\n" + " · ".join(parts) + "\n:::\n"
            + ("\n" + stale_md(stale) if stale else ""))


def scale_md(scale: str, info: dict[str, Any], manifests: dict[str, dict[str, Any]], results_label: str,
             missing: list[str], stale: dict[str, tuple[str, list[str]]] | None = None) -> str:
    """What the appendix says of this build: the scale, every data set and feature network, and the commits."""
    datasets = _unique([d for m in manifests.values() for d in _as_list(m.get("datasets"))]) or _unique(_as_list(info.get("dataset")))
    nets = _unique([f for m in manifests.values() for f in _as_list(m.get("fid_features"))])
    commits: dict[str, list[str]] = {}
    for exp, m in manifests.items():
        for c in [m.get("git_commit"), *_as_list(m.get("run_commits"))]:
            if c:
                commits.setdefault(str(c)[:12], []).append(exp)
    description = " ".join(str(info.get("description") or "").split())
    lines = [f"This book was built from scale **`{scale}`** (`{results_label}`)" + (f": {description}" if description else "."),
             "", "- **Data:** " + ("; ".join(datasets) or "none recorded") + ".",
             "- **FID feature networks:** " + ("; ".join(nets) or "none recorded") + "."]
    if any("inception" not in n.lower() for n in nets):
        lines.append("  FIDs outside Inception-v3 space (such as LeNet-FID) are on their own scale: not comparable with "
                     "published Inception FIDs or the thesis's, nor with the Inception rules of thumb.")
    if any("inception" in n.lower() for n in nets):
        lines.append("  Inception FIDs are comparable with published values only for the same weights, image resolution and "
                     "number of samples.")
    lines.append("- **Commits** that made the results (each experiment's provenance box names its own): "
                 + ("; ".join(f"`{c}` ({', '.join(sorted(set(e)))})" for c, e in commits.items()) or "none recorded") + ".")
    if missing:
        lines.append("- **Not run at this scale:** " + ", ".join(f"`{m}`" for m in missing) + " (their sections say so).")
    if stale:
        lines.append("- **Made by an older version of their notebook** (their pages say so): " + "; ".join(
            f"`{e}` (made at `{c[:12]}`; the notebook changed since in {len(ch)} commit{'s' * (len(ch) > 1)})"
            for e, (c, ch) in stale.items()) + ".")
    return "\n".join(lines) + "\n"


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
        includes = included(out.parent)
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
            for name in sorted(includes.get(exp, ())):
                if not (dst / name).is_file():
                    (dst / name).write_text(no_section_md(exp, name, scale))
        report.unlisted = sorted(p.name for p in results.iterdir() if p.is_dir() and p.name not in REGISTRY
                                 and p.name not in NOT_EXPERIMENTS and not p.name.startswith("."))
        not_run = report.missing + report.incomplete
        for exp in report.present:
            commit = manifests.get(exp, {}).get("git_commit")
            changes = notebook_changes(exp, commit)
            if changes:
                report.stale[exp] = (str(commit), changes)
        pages: dict[str, list[str]] = {}
        for exp, e in REGISTRY.items():
            for page in (e.page, *e.also_on):
                pages.setdefault(page, []).append(exp)
        for page, exps in pages.items():  # one banner per page with results: that page's scale, data and network
            f = tmp / "banners" / f"{page}.md"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(page_banner_md(scale, {e: manifests[e] for e in exps if e in manifests}, [e for e in exps if e in not_run],
                                        {e: report.stale[e] for e in exps if e in report.stale}))
        (tmp / "scale.md").write_text(scale_md(scale, scale_info or {}, manifests, label, not_run, report.stale))
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
          + (f"; incomplete: {', '.join(r.incomplete)}" if r.incomplete else "")
          + (f"; made by an older notebook: {', '.join(r.stale)}" if r.stale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
