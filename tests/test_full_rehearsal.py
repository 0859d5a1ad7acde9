"""The `full` scale, rehearsed on the CPU before a cluster ever sees it, and the data it refuses.

The rehearsal runs the `full` scale's whole DAG end to end: every experiment with its `full` model shapes, widths,
image sizes and FID network (Inception-v3, on weights in pytorch-fid's format), through one config overlay,
`FULL_REHEARSAL`, that changes only step counts and sample counts (seeds, samples, epochs). Its data are
format-exact stand-ins written by tests/standins.py: MNIST as torchvision's raw idx files, CIFAR-10 as its python
batches, an AFHQ tree of 512 x 512 JPEGs, raw and preprocessed face folders. It ends with the book built from
results/full, whose banner says `full` and names the Inception network (as stand-in weights).

The bad-input tests each break one thing in that setting (a typo'd Inception path, missing or partial MNIST,
an AFHQ folder with no cats, a corrupt image) and check that the run is refused before any job starts, naming
the path and what to do, with results/ untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standins  # noqa: E402
from test_workflow import copy_repo, job_counts  # noqa: E402

# The rehearsal aims at 10 minutes on 2 cores (README.md gives its measured time); this bound only stops a
# hang. Its wall time is written to results/ci-full-rehearsal-wall-time.txt and printed, never asserted (speed
# belongs in benchmarks/, not in a test that a busy machine turns red).
HANG_GUARD_S = 30 * 60
STEPS = {"steps": 2, "checkpoint_every": 1, "log_every": 1}
FULL_REHEARSAL = {"experiments": {
    "feature_net": {"full": {"noise_floor_samples": [20, 40]}},
    "dense_conv": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "depth_grid": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "augmentation": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "afhq": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "cifar_study": {"full": {"seeds": [0], "fid_samples": 8, "fid_demo": {"sample_counts": [8, 16]}, "train": STEPS}},
    "seminar": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "lecture_gan": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "face_preprocessing": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "accuracy_vs_quality": {"full": {"seeds": [0], "fid_samples": 8, "train": STEPS}},
    "nce": {"full": {"n_data": 200, "steps": 2, "gaussian_check": {"n_data": 200}}},
    "vae": {"full": {"holdout": 40, "fid_samples": 8, "models": [
        {"name": "latent 2", "code_dim": 2, "hidden": 512, "epochs": 1}, {"name": "latent 16", "code_dim": 16, "hidden": 512, "epochs": 1}]}},
    "diffusion": {"full": {"toy": {"n": 200, "steps": 2}, "mnist": {"steps": 2}, "forward_check": {"n": 200}}},
    "minimax": {"full": {"ascent": {"steps": 2, "nodes": 200}}},
    "saturating": {"full": {"rounds": 4, "every": 2, "seeds": [0], "toy": {"steps_b": 4}}},
    "optimal_d": {"full": {"seeds": [0], "toy": {"steps_a": 2, "steps_b": 2, "steps_c": 2, "steps_d": 2, "steps_final_d": 2}}},
    "lecture_autoencoders": {"full": {"holdout": 40, "shared": {"epochs": 1}}},
}}


def write_full_data(tree: Path, cache: Path) -> dict:
    """Every data set of the full scale, format-exact, where the config and torchvision look for them; returns
    the config overlay that points at them (the Inception weights file)."""
    standins.write_mnist(cache / "torchvision", n=200)
    standins.write_cifar10(cache / "torchvision", per_batch=40)
    standins.write_afhq(tree / "data" / "afhq", cats=130, dogs=3)
    standins.write_face_folders(tree / "data" / "faces" / "raw", tree / "data" / "faces" / "preprocessed", n=130)
    weights = standins.write_inception(cache / "pt_inception_standin.pth")
    return {"fid": {"inception_weights": str(weights)}}


def make_tree(tmp_path: Path, full_data, extra: dict | None = None) -> tuple[Path, dict]:
    data, cache, overlay = full_data
    tree = copy_repo(tmp_path / "repo")
    shutil.copytree(data, tree / "data")
    own_cache = tmp_path / "cache"
    shutil.copytree(cache, own_cache)
    weights = own_cache / Path(overlay["fid"]["inception_weights"]).name
    cfg = {**FULL_REHEARSAL, "scale": "full", "fid": {"network": {"full": "auto"}, "inception_weights": str(weights)}}
    for k, v in (extra or {}).items():
        cfg[k] = {**cfg.get(k, {}), **v} if isinstance(v, dict) else v
    (tree / "rehearsal.yaml").write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "GAN_CACHE_DIR": str(own_cache), "OMP_NUM_THREADS": "1", "PYTHONPATH": str(tree)}
    return tree, env


def run(tree: Path, env: dict, *args: str, timeout: int = HANG_GUARD_S) -> subprocess.CompletedProcess:
    """Snakemake on the rehearsal tree, on 2 cores. A training job claims the full scale's threads (4, a cluster
    node's); here each is granted one (`--set-threads`, a scheduling flag: the job's torch uses what it is granted)
    so that two run side by side, as the job's work is mostly one-threaded start-up at two steps per run."""
    cmd = ["timeout", "-k", "10", str(timeout), sys.executable, "-m", "snakemake", *args, "--cores", "2",
           "--set-threads", "train_run=1", "--configfile", "config/config.yaml", "rehearsal.yaml"]
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)


def rehearse(tmp: Path, full_data) -> tuple[Path, dict, str, float]:
    """Run the full scale's DAG once in a fresh tree: (tree, env, log, wall seconds). conftest.py's session fixture
    `full_rehearsal` calls this once for this module and the SLURM slice of tests/test_slurm.py."""
    tree, env = make_tree(tmp, full_data)
    t0 = time.time()
    p = run(tree, env)
    wall = time.time() - t0
    log = p.stdout + p.stderr
    assert p.returncode == 0, log[-8000:]
    print(f"\nfull rehearsal: {wall:.0f} s wall", file=sys.stderr)
    return tree, env, log, wall


@pytest.mark.slow
def test_the_full_scale_runs_end_to_end_on_the_cpu(full_rehearsal):
    tree, env, log, wall = full_rehearsal
    counts = job_counts(log)
    assert counts["data"] >= 4 and counts["fid_network"] == 1 and counts["book"] == 1, counts
    receipt = json.loads((tree / "results/full/data/fid_network.json").read_text())
    assert receipt["network"] == "inception" and not receipt["official"]
    runs = list((tree / "results/full").glob("*/runs/*/metrics.json"))
    assert len(runs) >= 30
    for m in runs:
        metrics = json.loads(m.read_text())
        assert metrics["fid_features"].startswith("Inception-v3 pool3 (stand-in weights"), m
    # torch ran on the threads the scheduler granted (--set-threads train_run=1), not the config's 4
    manifest = json.loads((tree / "results/full/depth_grid/runs/g3_d3_s0/manifest.json").read_text())
    assert manifest["config"]["threads"] == 1 and manifest["device_used"] == "cpu (1 threads)", manifest
    html = (tree / "book/_build/html/results/depth_grid.html").read_text()
    start = html.index('class="scale-banner')
    banner = re.sub(r"<[^>]+>", "", html[start:html.index("</div>", start)])
    assert "Scale full" in banner and "Inception-v3 pool3 (stand-in weights" in banner, banner
    root = Path(__file__).resolve().parents[1] / "results"
    root.mkdir(exist_ok=True)
    (root / "ci-full-rehearsal-wall-time.txt").write_text(f"full rehearsal: {wall:.0f} s\n")


def _break_inception(tree: Path, cache: Path) -> tuple[dict, str]:
    return {"fid": {"network": {"full": "auto"}, "inception_weights": str(cache / "pt_inceptoin.pth")}}, "pt_inceptoin.pth does not exist"


def _no_mnist(tree: Path, cache: Path) -> tuple[dict, str]:
    shutil.rmtree(cache / "torchvision" / "MNIST")
    overlay = {"experiments": {n: {"full": {"train": {"data": {"download": False}}}} for n in ("dense_conv", "depth_grid", "augmentation")}}
    return overlay, "MNIST/raw not found and data.download is false"


def _partial_mnist(tree: Path, cache: Path) -> tuple[dict, str]:
    f = cache / "torchvision" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:5000])  # a download cut short
    return {}, "train-images-idx3-ubyte is not a complete idx file"


def _partial_cifar(tree: Path, cache: Path) -> tuple[dict, str]:
    (cache / "torchvision" / "cifar-10-batches-py" / "data_batch_3").unlink()
    return {}, "cifar-10-batches-py/data_batch_3 is missing"


def _no_cats(tree: Path, cache: Path) -> tuple[dict, str]:
    shutil.rmtree(tree / "data" / "afhq" / "train" / "cat")
    return {}, "holds no cats"


def _corrupt_image(tree: Path, cache: Path) -> tuple[dict, str]:
    f = sorted((tree / "data" / "faces" / "raw").glob("*.png"))[3]
    f.write_bytes(f.read_bytes()[:60])
    return {}, f"{f.name} is not a readable image"


@pytest.mark.slow
@pytest.mark.parametrize("breakage", [_break_inception, _no_mnist, _partial_mnist, _partial_cifar, _no_cats, _corrupt_image],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_bad_data_is_refused_before_any_job(tmp_path, full_data, breakage):
    tree, env = make_tree(tmp_path, full_data)
    extra, words = breakage(tree, Path(env["GAN_CACHE_DIR"]))
    if extra:
        cfg = yaml.safe_load((tree / "rehearsal.yaml").read_text())
        from gan.config import deep_merge

        (tree / "rehearsal.yaml").write_text(yaml.safe_dump(deep_merge(cfg, extra)))
    p = run(tree, env, timeout=300)
    log = p.stdout + p.stderr
    assert p.returncode != 0, log[-3000:]
    assert "no job was started" in log and words in log, log[-4000:]
    assert not any((tree / "results").rglob("*.json")), "a refused run must leave results/ untouched"
