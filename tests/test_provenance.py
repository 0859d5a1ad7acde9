"""Run folders: writes are atomic (no temp files, the old file survives a failed write), JSON is strict, and a
manifest carries every provenance key."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from gan import provenance


def _strict_json(path: Path):
    def bad(c):
        raise ValueError(f"non-standard JSON constant {c}")

    return json.loads(path.read_text(), parse_constant=bad)


def test_atomic_writes_leave_only_the_file(tmp_path):
    provenance.atomic_write_text(tmp_path / "sub" / "a.txt", "hello")
    provenance.atomic_write_bytes(tmp_path / "sub" / "b.bin", b"\x00\x01")
    provenance.atomic_write_json(tmp_path / "sub" / "c.json", {"x": 1})
    provenance.atomic_torch_save({"t": torch.arange(3)}, tmp_path / "sub" / "d.pt")
    provenance.atomic_write_csv(tmp_path / "sub" / "e.csv", [{"a": 1}])
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.txt", "b.bin", "c.json", "d.pt", "e.csv"]
    assert (tmp_path / "sub" / "a.txt").read_text() == "hello"
    assert torch.equal(torch.load(tmp_path / "sub" / "d.pt", weights_only=True)["t"], torch.arange(3))


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("disk full (simulated, mid-write)")


def test_a_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "checkpoint.pt"
    provenance.atomic_torch_save({"step": 1}, p)
    before = p.read_bytes()
    # torch.save has already written part of the archive when the second object fails to pickle
    with pytest.raises(RuntimeError, match="disk full"):
        provenance.atomic_torch_save({"big": torch.zeros(10_000), "bad": _Unpicklable()}, p)
    assert p.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == ["checkpoint.pt"]

    j = tmp_path / "metrics.json"
    provenance.atomic_write_json(j, {"fid": 1.5})

    def half_then_die(f):
        f.write(b'{"fid": ')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        provenance._atomic(j, half_then_die)
    assert _strict_json(j) == {"fid": 1.5}
    assert sorted(x.name for x in tmp_path.iterdir()) == ["checkpoint.pt", "metrics.json"]


def test_json_nan_and_inf_become_null(tmp_path):
    obj = {"fid": float("nan"), "xs": [1.0, float("inf"), -float("inf")], "np": np.float64("nan"),
           "np_int": np.int64(3), "t": torch.tensor(2.5), "path": Path("/a/b"), "nested": {"k": (float("nan"), 2)},
           1: "int key"}
    provenance.atomic_write_json(tmp_path / "m.json", obj)
    got = _strict_json(tmp_path / "m.json")
    assert got == {"fid": None, "xs": [1.0, None, None], "np": None, "np_int": 3, "t": 2.5, "path": "/a/b",
                   "nested": {"k": [None, 2]}, "1": "int key"}
    assert provenance.read_json(tmp_path / "m.json") == got


def test_csv_columns_and_number_format(tmp_path):
    rows = [{"step": 1, "loss": 0.123456789, "acc": 1.0}, {"step": 2, "loss": float("nan"), "acc": 0.5, "extra": 9}]
    provenance.atomic_write_csv(tmp_path / "l.csv", rows, columns=["step", "loss", "acc"])
    with open(tmp_path / "l.csv") as f:
        got = list(csv.DictReader(f))
    assert got == [{"step": "1", "loss": "0.123457", "acc": "1"}, {"step": "2", "loss": "nan", "acc": "0.5"}]
    provenance.atomic_write_csv(tmp_path / "empty.csv", [])
    assert (tmp_path / "empty.csv").read_text() == "\n"


def test_savefig_is_atomic_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    provenance.atomic_savefig(fig, tmp_path / "f.png")
    plt.close(fig)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]


MANIFEST_KEYS = {"manifest_version", "experiment", "scale", "rule", "seed", "config", "git_commit", "dirty_files", "versions",
                 "device", "host", "slurm_job_id", "wall_time_s", "command", "finished_at"}


def test_manifest_has_every_provenance_key(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RULE", "depth_grid_cell")
    monkeypatch.setenv("GAN_COMMAND", "papermill analysis/train.ipynb ...")
    provenance.write_manifest(tmp_path, experiment="depth_grid", scale="smoke", config={"steps": 5, "lr": float("nan")},
                        seed=2, wall_time_s=1.25, fid_features="LeNet-FID")
    m = _strict_json(tmp_path / "manifest.json")
    assert MANIFEST_KEYS | {"fid_features"} == set(m)
    assert m["experiment"] == "depth_grid" and m["scale"] == "smoke" and m["seed"] == 2
    assert m["rule"] == "depth_grid_cell" and m["command"] == "papermill analysis/train.ipynb ..."
    assert m["config"] == {"steps": 5, "lr": None} and m["wall_time_s"] == 1.25
    assert set(m["versions"]) == {"python", "torch", "torchvision", "numpy", "gan"}
    assert m["versions"]["torch"] == torch.__version__
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?|unknown", m["git_commit"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}", m["finished_at"])
    assert m["device"].startswith("CPU") or "CUDA" in m["device"]
    assert m["fid_features"] == "LeNet-FID"


def test_git_commit_inside_and_outside_a_repository(tmp_path):
    here = provenance.git_commit(Path(__file__).parent)
    if here != "unknown":  # a source tarball has no .git
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", here)
    assert provenance.git_commit(tmp_path) == "unknown"
    assert provenance.git_state(tmp_path) == ("unknown", None)


def test_dirty_files_name_what_made_the_commit_dirty(tmp_path):
    """A changed or staged tracked file (a space in its name included) makes the commit '-dirty' and is named;
    results/ and untracked files do neither; a rename names its new path."""
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    for f in ("a.py", "b c.py", "results/x.json", "old.md"):
        (tmp_path / f).parent.mkdir(exist_ok=True)
        (tmp_path / f).write_text("1")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    sha = provenance.git_commit(tmp_path)
    assert re.fullmatch(r"[0-9a-f]{40}", sha) and provenance.git_state(tmp_path) == (sha, [])
    (tmp_path / "results/x.json").write_text("2")
    (tmp_path / "new.py").write_text("untracked")
    assert provenance.git_state(tmp_path) == (sha, [])
    (tmp_path / "b c.py").write_text("2")
    git("mv", "old.md", "renamed.md")
    (tmp_path / "a.py").write_text("2")
    git("add", "a.py")
    assert provenance.git_state(tmp_path) == (sha + "-dirty", ["a.py", "b c.py", "renamed.md"])


def test_json_arrays_and_tensors(tmp_path):
    provenance.atomic_write_json(tmp_path / "a.json", {"mu": np.array([1.0, np.nan]), "t": torch.tensor([[1, 2]]),
                                                 "s": np.float32(0.5), "z": torch.tensor(float("inf"))})
    assert _strict_json(tmp_path / "a.json") == {"mu": [1.0, None], "t": [[1, 2]], "s": 0.5, "z": None}


def test_clean_keeps_finite_floats_exact():
    assert provenance._clean(0.1) == 0.1 and provenance._clean(math.pi) == math.pi
    assert provenance._clean([np.float32(0.5)]) == [0.5]


def test_atomic_writes_get_the_usual_file_mode_not_mkstemps_0600(tmp_path):
    """mkstemp creates 0600 files; a result others cannot read breaks shared cluster folders and the book build."""
    import os

    mask = os.umask(0)
    os.umask(mask)
    p = provenance.atomic_write_text(tmp_path / "r.json", "{}")
    assert p.stat().st_mode & 0o777 == 0o666 & ~mask


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_a_saved_sample_grid_reads_back_image_for_image(tmp_path, channels, size):
    from gan.plots import read_image_grid, save_image_grid

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (12, channels, size, size), generator=g, dtype=torch.uint8)
    save_image_grid(images, str(tmp_path / "grid.png"), nrow=4)
    back = read_image_grid(tmp_path / "grid.png", size, nrow=4, rows=3, channels=channels)
    assert back.dtype == torch.uint8 and back.shape == images.shape
    assert torch.equal(back, images)


def test_a_cpu_device_names_the_processor_and_its_vector_instructions(monkeypatch):
    """Float sums differ between AVX2 and AVX512 kernels and a GAN run amplifies the difference, so a manifest that
    says only "x86_64" cannot tell a reader whether a rerun should match it bit for bit."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    d = provenance.device_description()
    assert d.startswith("CPU: ") and f", {torch.backends.cpu.get_cpu_capability()})" in d
    assert f"torch threads {torch.get_num_threads()}" in d


def test_provenance_box_names_the_dirty_files():
    from gan.report import provenance_md

    base = {"rule": "experiment", "scale": "smoke", "git_commit": "abc-dirty", "versions": {}, "config": {}}
    box = provenance_md({**base, "dirty_files": ["pilots/README.md"]}, "x.ipynb")
    assert "- **Commit:** `abc-dirty`; files that differed from it: `pilots/README.md`" in box
    for clean in ({**base, "dirty_files": []}, base):  # clean, or a manifest from before the key existed
        assert "- **Commit:** `abc-dirty`\n" in provenance_md(clean, "x.ipynb")
