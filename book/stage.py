"""Stage one scale's results for the book: copy what the notebooks wrote into book/_generated/ and write the banner.

The book never computes. Each experiment's notebook writes, under results/<scale>/<exp>/, a `report.md` (MyST,
headings from level 3, figures by relative path), a `provenance.md` (a dropdown admonition), optionally a
one-line `verdict.md`, its figures and data, and the executed notebook `<exp>.ipynb`. This script copies those
top-level files (never the per-run folders, except files a report links to) into book/_generated/<exp>/ and
makes them includable from any page:

- local paths in the staged markdown (images, `{figure}`, `{download}`, links, `:file:` options) are rewritten to
  source-root paths (`/_generated/<exp>/heatmap.png`), which Sphinx resolves the same from every page;
  a path that points at no file stops the staging with a clear message, before Sphinx runs;
- headings are shifted so that a report's top level is `###` (the pages put each report under a `##`);
- `section.md` (report, downloads, provenance) is what a page includes for an experiment;
- `banner.md` says which scale, data set(s) and FID feature network(s) the numbers come from, and says loudly
  that smoke numbers are pipeline checks; `notebooks.md` lists every executed notebook for download;
- an experiment with no results folder gets a report that says it was not run at this scale, so the book still
  builds and says so.

Plain Python (standard library only): the book rule runs it without torch. Usage:
    python book/stage.py --results results/<scale> --scale <scale> --out book/_generated --scale-info '<json>'
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Experiment -> (the page that includes it, a short title). One folder under results/<scale>/ each.
EXPERIMENTS: dict[str, tuple[str, str]] = {
    "nce": ("background/nce", "Noise-contrastive estimation"),
    "vae": ("background/vae", "Variational autoencoder"),
    "diffusion": ("background/diffusion", "Diffusion model"),
    "minimax": ("theory/objective", "The optimal discriminator and C(G), checked numerically"),
    "saturating": ("theory/saturating", "Saturating vs non-saturating generator loss"),
    "optimal_d": ("theory/training_process", "A one-dimensional GAN in the distribution view"),
    "accuracy_vs_quality": ("theory/evaluation", "Discriminator accuracy vs sample quality"),
    "feature_net": ("theory/evaluation", "The LeNet-FID feature network"),
    "cifar_study": ("results/model_selection", "The CIFAR-10 DCGAN study"),
    "seminar": ("results/model_selection", "The seminar's MNIST GAN"),
    "lecture_gan": ("results/model_selection", "The lecture's GAN"),
    "lecture_autoencoders": ("results/model_selection", "The lecture's autoencoders"),
    "face_preprocessing": ("results/model_selection", "Face preprocessing"),
    "model_selection": ("results/model_selection", "All models side by side"),
    "dense_conv": ("results/dense_conv", "Dense vs convolutional layers"),
    "depth_grid": ("results/depth_grid", "Generator depth x discriminator depth"),
    "augmentation": ("results/augmentation", "Data augmentation"),
    "afhq": ("results/afhq", "Animal Faces-HQ cats"),
}
# The thesis's claims, whose one-line verdicts the discussion includes (verdict.md; a placeholder when missing).
VERDICTS = ["dense_conv", "depth_grid", "augmentation", "afhq"]

TOP_LEVEL = ("report.md", "provenance.md", "verdict.md")
SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".csv", ".json", ".ipynb")
DATA_SUFFIXES = (".csv", ".json")
MARKER = ".staged-by-book-stage"
NOT_EXPERIMENTS = {"logs", "benchmarks"}  # folders under results/<scale>/ that are not experiments

SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
# Directives whose content is literal (code, maths, CSV): nothing inside them is rewritten.
LITERAL_DIRECTIVES = {"code", "code-block", "sourcecode", "code-cell", "math", "csv-table", "raw", "literalinclude"}
PATH_DIRECTIVES = {"figure", "image", "include", "literalinclude"}
INLINE = re.compile(
    r"(?P<role>\{download\}`(?P<rtext>[^`]*?)(?:<(?P<rdest>[^>`]+)>)?`)"
    r"|(?P<code>``[^`]*``|`[^`]*`)"
    r"|(?P<image>!\[(?P<alt>[^\]]*)\]\((?P<idest><[^>]*>|[^()\s]+)(?P<ititle>\s+\"[^\"]*\")?\))"
    r"|(?P<link>\[(?P<ltext>[^\]]*)\]\((?P<ldest><[^>]*>|[^()\s]+)(?P<ltitle>\s+\"[^\"]*\")?\))"
    r"|(?P<img>(?P<ipre><img\b[^>]*?\bsrc=\")(?P<hdest>[^\"]+)\")"
)
HEADING = re.compile(r"^(#{1,6})(\s)")
LABELS = re.compile(r"^\s*:name:\s*(\S+)|^\((\S+)\)=\s*$", re.M)


class StageError(RuntimeError):
    """A staged file points at something that does not exist, or the output folder is not ours to replace."""


@dataclass
class Staged:
    """What one call of `stage` did (the tests and the log read it)."""

    scale: str
    present: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)  # folder exists, report.md does not
    unlisted: list[str] = field(default_factory=list)  # results folders no page includes
    warnings: list[str] = field(default_factory=list)


# --- rewriting local paths ----------------------------------------------------------------------------------------


def _is_local(dest: str) -> bool:
    return bool(dest) and not dest.startswith(("/", "#", "{")) and not SCHEME.match(dest)


class _Rewriter:
    """Rewrites relative paths in one staged markdown file to source-root paths, and records what they point at."""

    def __init__(self, exp: str, prefix: str) -> None:
        self.exp, self.prefix = exp, prefix
        self.targets: list[str] = []  # paths relative to the staging root, e.g. "dense_conv/heatmap.png"

    def path(self, dest: str) -> str:
        if not _is_local(dest):
            return dest
        dest, _, anchor = dest.partition("#")
        rel = posixpath.normpath(posixpath.join(self.exp, dest))
        self.targets.append(rel)
        return f"{self.prefix}/{rel}" + (f"#{anchor}" if anchor else "")

    def inline(self, line: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group("role"):
                text, dest = m.group("rtext"), m.group("rdest")
                if dest is None:  # {download}`file.csv`
                    return f"{{download}}`{text} <{self.path(text.strip())}>`" if _is_local(text.strip()) else m.group(0)
                return f"{{download}}`{text}<{self.path(dest.strip())}>`"
            if m.group("code"):
                return m.group(0)
            if m.group("image"):
                dest = m.group("idest").strip("<>")
                return f"![{m.group('alt')}]({self.path(dest)}{m.group('ititle') or ''})"
            if m.group("link"):
                dest = m.group("ldest").strip("<>")
                if dest.startswith("path:"):
                    return f"[{m.group('ltext')}](path:{self.path(dest[5:])}{m.group('ltitle') or ''})"
                if not _is_local(dest) or dest.split("#")[0].endswith((".md", ".html")):
                    return m.group(0)
                # a link to a staged data file becomes a download
                return f"[{m.group('ltext')}](path:{self.path(dest)}{m.group('ltitle') or ''})"
            return f"{m.group('ipre')}{self.path(m.group('hdest'))}\""

        return INLINE.sub(sub, line)

    def text(self, text: str) -> str:
        """Walk the file line by line, keeping a stack of open fences; code and maths are left alone."""
        out: list[str] = []
        stack: list[tuple[str, int, bool, bool]] = []  # (fence char, fence length, literal content, is a directive)
        opt = re.compile(r"^(\s*:file:\s+)(\S+)\s*$")  # a directive option naming a file (csv-table)
        for line in text.split("\n"):
            m = FENCE.match(line)
            if stack and stack[-1][2]:  # inside a literal block: only its closing fence (and :file:) matter
                if m and m.group("fence")[0] == stack[-1][0] and len(m.group("fence")) >= stack[-1][1] and not m.group("info").strip():
                    stack.pop()
                elif stack[-1][3] and opt.match(line):
                    line = opt.sub(lambda o: o.group(1) + self.path(o.group(2)), line)
                out.append(line)
                continue
            if m:
                fence, info = m.group("fence"), m.group("info").strip()
                if stack and not info and fence[0] == stack[-1][0] and len(fence) >= stack[-1][1]:
                    stack.pop()
                    out.append(line)
                    continue
                d = re.match(r"^\{([\w:-]+)\}\s*(.*)$", info)
                name = d.group(1) if d else None
                if name in PATH_DIRECTIVES and d.group(2).strip():
                    line = f"{m.group('indent')}{fence}{{{name}}} {self.path(d.group(2).strip())}"
                stack.append((fence[0], len(fence), name is None or name in LITERAL_DIRECTIVES, name is not None))
                out.append(line)
                continue
            if stack and opt.match(line):
                out.append(opt.sub(lambda o: o.group(1) + self.path(o.group(2)), line))
                continue
            out.append(self.inline(line))
        return "\n".join(out)


def normalize_headings(text: str, top: int = 3) -> tuple[str, int]:
    """Shift every heading (outside code) so that the shallowest one is `top`; returns the text and the shift."""
    lines = text.split("\n")
    levels, fence = [], None
    for line in lines:
        m = FENCE.match(line)
        if m:
            fence = None if fence and line.strip().startswith(fence) else (fence or m.group("fence"))
            continue
        h = HEADING.match(line)
        if h and fence is None:
            levels.append(len(h.group(1)))
    if not levels or min(levels) == top:
        return text, 0
    shift = top - min(levels)
    if max(levels) + shift > 6:
        raise StageError(f"headings nest too deeply to start at level {top}")
    out, fence = [], None
    for line in lines:
        m = FENCE.match(line)
        if m:
            fence = None if fence and line.strip().startswith(fence) else (fence or m.group("fence"))
        h = HEADING.match(line) if fence is None and not m else None
        out.append("#" * (len(h.group(1)) + shift) + line[len(h.group(1)):] if h else line)
    return "\n".join(out), shift


# --- generated pages ------------------------------------------------------------------------------------------------


def _as_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [str(v.get("name") or v.get("label") or json.dumps(v, sort_keys=True))]
    if isinstance(v, (list, tuple)):
        return [s for x in v for s in _as_list(x)]
    return [str(v)]


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in items:
        seen.setdefault(i.strip(), None)
    return [i for i in seen if i]


def _code(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def banner_md(scale: str, info: dict[str, Any], manifests: dict[str, dict[str, Any]], results_label: str,
              missing: list[str]) -> str:
    """The admonition at the top of every page: which scale, data set(s) and feature network(s) made the numbers.

    Data sets and feature networks come from the experiments' manifests (what actually ran) and, where no manifest
    names any, from the config's description of the scale (`--scale-info`)."""
    datasets = _unique([d for m in manifests.values() for d in _as_list(m.get("datasets"))]) or _unique(
        _as_list(info.get("dataset")) + _as_list(info.get("datasets")))
    nets = _unique([f for m in manifests.values() for f in _as_list(m.get("fid_features"))]) or _unique(
        _as_list(info.get("feature_network")) + _as_list(info.get("fid_features")))
    commits = _unique([str(m["git_commit"]) for m in manifests.values() if m.get("git_commit")])
    description = " ".join(str(info.get("description") or "").split())

    if scale == "smoke":
        head = ":::{admonition} Smoke-scale build: these numbers are pipeline checks, not results\n:class: danger\n"
        lead = ("**Do not read any FID, time or verdict on this page as a finding.** The `smoke` scale runs a few "
                "training steps per experiment only to show that every step of the workflow works; read the committed "
                "`mnist5k` results or a `full` run instead.")
        description = description or "Pipeline check on offline data with a few training steps per run."
    else:
        head = f":::{{admonition}} Where the numbers come from: scale {scale}\n:class: important\n"
        lead = f"Every number, table and figure computed on this page comes from scale **`{scale}`**."
    items = [f"- **Scale:** `{scale}` (`{results_label}`)" + (f": {description}" if description else ".")]
    if datasets:
        items.append("- **Data:** " + "; ".join(datasets) + ".")
    if nets:
        line = "- **FID feature network:** " + "; ".join(nets) + "."
        if any("inception" not in n.lower() for n in nets):  # LeNet-FID or another stand-in network
            line += (" FIDs outside Inception-v3 space (such as LeNet-FID) are on their own scale: **not comparable with "
                     "published Inception FIDs** or the thesis's, nor with the Inception rules of thumb.")
        if any("inception" in n.lower() for n in nets):
            line += (" Inception FIDs are comparable with published values only for the same weights, image resolution "
                     "and number of samples.")
        items.append(line)
    items.append("- **Published numbers** beside ours are labelled as published.")
    if commits:
        items.append(("- **Commit:** " + _code([c[:12] for c in commits]) + ".") if len(commits) <= 3
                     else f"- **Commits:** {len(commits)} (each section's provenance names its own).")
    if missing:
        items.append("- **Not run at this scale:** " + _code(missing) + " (their sections say so).")
    return head + "\n" + lead + "\n\n" + "\n".join(items) + "\n:::\n"


def downloads_md(exp: str, files: list[str], prefix: str) -> str:
    nb = f"{exp}.ipynb"
    items = []
    if nb in files:
        items.append(f"the executed notebook {{download}}`{nb} <{prefix}/{exp}/{nb}>`")
    data = [f for f in files if f.endswith(DATA_SUFFIXES)]
    if data:
        items.append("its data " + ", ".join(f"{{download}}`{f} <{prefix}/{exp}/{f}>`" for f in data))
    if not items:
        return f"_No executed notebook or data files for `{exp}` at this scale._\n"
    return "**Downloads:** " + "; ".join(items) + ".\n"


def section_md(exp: str, prefix: str, has_provenance: bool) -> str:
    inc = [f"```{{include}} {prefix}/{exp}/report.md\n```\n", f"```{{include}} {prefix}/{exp}/downloads.md\n```\n"]
    if has_provenance:
        inc.append(f"```{{include}} {prefix}/{exp}/provenance.md\n```\n")
    return "\n".join(inc)


def missing_report_md(exp: str, scale: str, results_label: str, why: str) -> str:
    return (f"### Not run at this scale\n\n:::{{warning}}\n{why.format(exp=exp, scale=scale, results=results_label)} "
            "This section therefore has no figures, tables or verdict; it is not a result.\n:::\n")


def _num(v: Any, fmt: str) -> str:
    return format(v, fmt) if isinstance(v, (int, float)) and not isinstance(v, bool) else "n/a"


def verdict_from_json(claims: Any) -> str:
    """One line per claim that a notebook decided, from its verdict.json (as `gan.stats.Comparison.to_dict` writes
    it): used when the notebook wrote no verdict.md. Only formats what the notebook computed."""
    words = {"supported": "support", "contradicted": "contradict", "inconclusive": "do not decide"}
    lines = []
    for c in claims if isinstance(claims, list) else []:
        if not isinstance(c, dict) or c.get("verdict") not in words or not c.get("claim"):
            continue
        parts = []
        for side in ("better", "worse"):
            s = c.get(f"{side}_summary")
            if isinstance(s, dict) and isinstance(s.get("mean"), (int, float)):
                parts.append(f"FID {c.get(side, side)} {_num(s['mean'], '.1f')} ± {_num(s.get('std'), '.1f')} (n={s.get('n')})")
        if c.get("test"):
            parts.append(str(c["test"]))
        if isinstance(c.get("p_value"), (int, float)):
            parts.append(f"one-sided p = {_num(c['p_value'], '.2g')}")
        if c["verdict"] == "contradicted" and isinstance(c.get("p_value_opposite"), (int, float)):
            parts.append(f"opposite direction p = {_num(c['p_value_opposite'], '.2g')}")
        if isinstance(c.get("effect_size"), (int, float)):
            parts.append(f"Hedges' g = {_num(c['effect_size'], '.2f')}")
        lines.append(f"The data **{words[c['verdict']]}** the claim that {c['claim']}"
                     + (f" ({'; '.join(parts)})." if parts else "."))
    return "\n\n".join(lines) + "\n" if lines else ""


def verdict_placeholder(exp: str, scale: str, present: bool) -> str:
    page = EXPERIMENTS[exp][0]
    if present:
        return (f"_The `{exp}` notebook wrote no one-line verdict at scale `{scale}`; its full report is in "
                f"{{doc}}`/{page}`._\n")
    return f"_Not run at scale `{scale}`: no verdict._\n"


def notebooks_md(staged: dict[str, list[str]], prefix: str) -> str:
    rows = ["| Experiment | Section | Executed notebook |", "| :--- | :--- | :--- |"]
    for exp, (page, _title) in EXPERIMENTS.items():
        nb = f"{exp}.ipynb"
        link = f"{{download}}`{nb} <{prefix}/{exp}/{nb}>`" if nb in staged.get(exp, []) else "_not run at this scale_"
        rows.append(f"| `{exp}` | {{doc}}`/{page}` | {link} |")
    return "\n".join(rows) + "\n"


# --- staging --------------------------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict[str, Any]:
    v = _read_json_any(path)
    return v if isinstance(v, dict) else {}


def _read_json_any(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _copy(src: Path, dst: Path) -> None:
    # copyfile, not copy2: fresh modification times make Sphinx rebuild every page that includes a changed file
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _stage_markdown(exp: str, name: str, results: Path, root: Path, prefix: str, labels: dict[str, str],
                    report: Staged) -> list[str]:
    """Make one staged markdown file includable from any page; returns what is wrong with it (broken paths,
    figure labels used twice). Files it shows from elsewhere in results/ (runs/<run>/samples.png) are copied."""
    src, path = results / exp / name, root / exp / name
    text, errors = path.read_text(), []
    if name == "report.md":
        text, shift = normalize_headings(text)
        if shift:
            report.warnings.append(f"{src}: headings shifted by {shift:+d} to start at ###")
        for a, b in LABELS.findall(text):
            if (a or b) in labels:
                errors.append(f"{src}: label {a or b!r} is also used by {labels[a or b]}")
            labels[a or b] = str(src)
    rw = _Rewriter(exp, prefix)
    text = rw.text(text)
    for target in rw.targets:
        if (root / target).is_file():
            continue
        source = (results / target).resolve()
        if source.is_file() and results.resolve() in source.parents:
            _copy(source, root / target)
        else:
            errors.append(f"{src} refers to {target!r}, which {results} does not contain")
    path.write_text(text.rstrip("\n") + "\n")
    return errors


def stage(results: Path, scale: str, out: Path, scale_info: dict[str, Any] | None = None,
          strict: bool = False) -> Staged:
    """Stage results/<scale>/ into `out` (a folder directly under the book's root, e.g. book/_generated)."""
    results, out = Path(results), Path(out)
    info = scale_info or {}
    prefix = "/" + out.name
    label = results.as_posix()
    report = Staged(scale=scale)
    if not results.is_dir():
        raise StageError(f"no results folder {results}: run the workflow for scale {scale!r} first")
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise StageError(f"{out} exists and was not made by book/stage.py; refusing to replace it")

    tmp = out.parent / f".{out.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / MARKER).write_text("book/_generated is rebuilt by book/stage.py on every book build; do not edit.\n")

    try:
        manifests: dict[str, dict[str, Any]] = {}
        staged: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        missing_refs: list[str] = []
        for exp in EXPERIMENTS:
            src, dst = results / exp, tmp / exp
            dst.mkdir()
            if not src.is_dir():
                report.missing.append(exp)
                (dst / "report.md").write_text(missing_report_md(
                    exp, scale, label, "There are no results for `{exp}` under `{results}/{exp}/`: this experiment was "
                    "not run at scale `{scale}`."))
                (dst / "downloads.md").write_text(downloads_md(exp, [], prefix))
                (dst / "section.md").write_text(section_md(exp, prefix, has_provenance=False))
                staged[exp] = []
                continue
            report.present.append(exp)
            files = sorted(p.name for p in src.iterdir() if p.is_file() and (p.name in TOP_LEVEL or p.suffix.lower() in SUFFIXES))
            for name in files:
                _copy(src / name, dst / name)
            if (src / "manifest.json").is_file():
                manifests[exp] = _read_json(src / "manifest.json")
            if "report.md" not in files:
                report.incomplete.append(exp)
                report.warnings.append(f"{src}/report.md is missing: its section says the experiment is incomplete")
                (dst / "report.md").write_text(missing_report_md(
                    exp, scale, label, "The folder `{results}/{exp}/` exists but its notebook wrote no `report.md`: "
                    "the experiment did not finish at scale `{scale}`."))
            for name in ("report.md", "provenance.md", "verdict.md"):
                if name in files:
                    missing_refs += _stage_markdown(exp, name, results, tmp, prefix, labels, report)
            if "provenance.md" not in files:
                report.warnings.append(f"{src}/provenance.md is missing")
            if f"{exp}.ipynb" not in files:
                report.warnings.append(f"{src}/{exp}.ipynb (the executed notebook) is missing")
            (dst / "downloads.md").write_text(downloads_md(exp, files, prefix))
            (dst / "section.md").write_text(section_md(exp, prefix, has_provenance="provenance.md" in files))
            staged[exp] = files

        for exp in VERDICTS:
            if not (tmp / exp / "verdict.md").exists():
                line = verdict_from_json(_read_json_any(tmp / exp / "verdict.json")) if exp in report.present else ""
                (tmp / exp / "verdict.md").write_text(line or verdict_placeholder(exp, scale, exp in report.present))
        report.unlisted = sorted(p.name for p in results.iterdir() if p.is_dir() and p.name not in EXPERIMENTS
                                 and p.name not in NOT_EXPERIMENTS and not p.name.startswith("."))
        for name in report.unlisted:
            report.warnings.append(f"{results}/{name} is not an experiment any page includes; not staged")

        if missing_refs:
            raise StageError("staged markdown refers to files that do not exist:\n  " + "\n  ".join(missing_refs))
        if strict and (report.missing or report.incomplete or report.warnings):
            raise StageError("--strict: " + "; ".join(report.warnings + [f"not run: {', '.join(report.missing)}"]))

        (tmp / "banner.md").write_text(banner_md(scale, info, manifests, label, report.missing))
        (tmp / "notebooks.md").write_text(notebooks_md(staged, prefix))
        (tmp / "scale.json").write_text(json.dumps(
            {"scale": scale, "results": label, "scale_info": info, "present": report.present, "missing": report.missing,
             "incomplete": report.incomplete}, indent=1) + "\n")
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
    ap.add_argument("--scale-info", default="{}", help="JSON object from the config's scales.<scale> (keys optional)")
    ap.add_argument("--strict", action="store_true", help="fail when an experiment or a file is missing")
    a = ap.parse_args(argv)
    try:
        info = json.loads(a.scale_info or "{}")
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except ValueError as e:
        print(f"stage.py: --scale-info must be a JSON object ({e})", file=sys.stderr)
        return 2
    try:
        r = stage(a.results, a.scale, a.out, info, strict=a.strict)
    except StageError as e:
        print(f"stage.py: {e}", file=sys.stderr)
        return 1
    for w in r.warnings:
        print(f"stage.py: warning: {w}", file=sys.stderr)
    print(f"stage.py: staged {len(r.present)} experiments from {a.results} (scale {a.scale}) into {a.out}"
          + (f"; not run: {', '.join(r.missing)}" if r.missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
