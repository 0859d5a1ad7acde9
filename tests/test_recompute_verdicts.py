"""The examiner's check in the book's appendix (book/appendix/recompute_verdicts.py): recomputed from the committed
runs with pandas and SciPy alone, every verdict on trained runs (on FID, and the saturating chapter's paired
claims) agrees with the book's, and a changed FID or gradient norm is caught."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "book/appendix/recompute_verdicts.py"
COMMITTED = REPO / "results/mnist5k"
SOURCES = ["dense_conv", "depth_grid", "augmentation", "accuracy_vs_quality"]  # the headline family's chapters

pytestmark = pytest.mark.skipif(not (COMMITTED / "synthesis/verdict.json").is_file(),
                                reason="no committed mnist5k results")


def recompute(results: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(results)], capture_output=True, text=True, timeout=120)


def test_every_committed_verdict_on_runs_recomputes_from_the_runs():
    p = recompute(COMMITTED)
    assert p.returncode == 0, p.stdout + p.stderr
    chapters = [c for e in [*SOURCES, "cifar_study", "face_preprocessing"]
                for c in json.loads((COMMITTED / e / "verdict.json").read_text()) if c.get("metric") == "FID"]
    paired = json.loads((COMMITTED / "saturating/verdict.json").read_text())
    assert paired and all(c["paired"] for c in paired)
    chapters += paired
    headline = [c for c in json.loads((COMMITTED / "synthesis/verdict.json").read_text())
                if c.get("headline") and c.get("metric") == "FID"]
    assert len(headline) >= 2 and any(c["verdict"] == "not testable" for c in chapters)
    lines = p.stdout.splitlines()
    assert sum(line.lstrip().startswith("agrees ") for line in lines) == len(chapters) + len(headline), p.stdout
    assert "DIFFERS" not in p.stdout and "every verdict and number agrees with the book" in p.stdout


def copy_results(dest: Path) -> Path:
    """The files the check reads: each source's runs.csv, verdict.json and runs' metrics, and the synthesis's
    verdicts."""
    read = ("runs.csv", "verdict.json", "metrics.json")
    for name in [*SOURCES, "saturating"]:
        shutil.copytree(COMMITTED / name, dest / name,
                        ignore=lambda d, files: [f for f in files if not (Path(d, f).is_dir() or f in read)])
    (dest / "synthesis").mkdir()
    shutil.copy(COMMITTED / "synthesis/verdict.json", dest / "synthesis/verdict.json")
    return dest


def test_a_changed_fid_is_caught(tmp_path):
    results = copy_results(tmp_path / "results")
    assert recompute(results).returncode == 0
    m = results / "augmentation/runs/shift_s0/metrics.json"
    metrics = json.loads(m.read_text())
    metrics["fid"] += 1.0
    m.write_text(json.dumps(metrics))
    p = recompute(results)
    assert p.returncode == 1, p.stdout
    assert "DIFFERS" in p.stdout and "none < shift" in p.stdout.split("DIFFERS", 1)[1].splitlines()[0]


def test_a_run_moved_out_of_the_tests_is_caught(tmp_path):
    """Which runs enter a test is part of the verdict: a failed run counted as a data point changes the numbers."""
    results = copy_results(tmp_path / "results")
    csv = results / "dense_conv/runs.csv"
    text = csv.read_text().splitlines()
    i = next(k for k, line in enumerate(text) if line.startswith("dense_s0,"))
    assert text[i].endswith(",True")
    text[i] = text[i][: -len("True")] + "False"
    csv.write_text("\n".join(text) + "\n")
    p = recompute(results)
    assert p.returncode == 1 and "DIFFERS" in p.stdout, p.stdout


def test_a_changed_gradient_in_a_pair_is_caught(tmp_path):
    """The saturating chapter's claims are tested on pairs: swapping one pair's two values changes the test (the
    gradient claim's unit is a seed, its pairs' means over the optimisers)."""
    results = copy_results(tmp_path / "results")
    m = results / "saturating/metrics.json"
    metrics = json.loads(m.read_text())
    first = {r["loss"]: r for r in metrics["runs"] if (r["optimizer"], r["seed"]) == ("sgd", 0)}
    a, b = first["minimax"], first["non_saturating"]
    a["g_grad_norm_first_step"], b["g_grad_norm_first_step"] = b["g_grad_norm_first_step"], a["g_grad_norm_first_step"]
    m.write_text(json.dumps(metrics))
    p = recompute(results)
    assert p.returncode == 1, p.stdout
    assert "log(1 − D) < −log D" in p.stdout.split("DIFFERS", 1)[1].splitlines()[0]
