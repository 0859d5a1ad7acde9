"""The registry of experiments (gan.experiments): one definition that the workflow, the notebooks and the book read.

Checked here: it imports no torch; every experiment of config/config.yaml parses at every scale; the runs it
defines are the thesis's grids; bad experiment-level values fail with a message that names the key; and the
parts of the package import one way (config.py is a leaf, no circle)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gan import experiments
from gan.config import ConfigError, deep_merge

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def params(name: str, scale: str = "mnist5k", **over):
    """An experiment's parameters at `scale`, `over` merged in (mappings named in REPLACED are replaced whole)."""
    block = experiments.block_params(CONFIG["experiments"][name], scale)
    merged = deep_merge(block, {k: v for k, v in over.items() if k not in REPLACED})
    return experiments.get(name).parse({**merged, **{k: v for k, v in over.items() if k in REPLACED}})


REPLACED = {"archs", "variants"}


def test_the_registry_imports_no_torch():
    code = "import sys, gan.experiments, gan.config, gan.data.catalog; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("scale", experiments.SCALES)
def test_every_config_block_parses_at_every_scale(scale):
    parsed = experiments.parse_all(CONFIG["experiments"], scale)
    assert set(parsed) == set(CONFIG["experiments"]) == set(experiments.REGISTRY)


@pytest.mark.parametrize("scale", ["mnist5k", "full"])
def test_the_grids_are_the_thesis_grids(scale):
    """The thesis's grids: 4 x 4 depths x 3 seeds; its 4 augmentations with 5 seeds, not its 3 (with 3 seeds per arm no
    exact permutation test can go below p = 0.05, and each augmentation claim compares two arms)."""
    grid = experiments.get("depth_grid").run_specs(params("depth_grid", scale))
    assert set(grid) == {f"g{g}_d{d}_s{s}" for g in (3, 4, 5, 6) for d in (3, 4, 5, 6) for s in (0, 1, 2)}
    spec = grid["g5_d3_s1"]
    assert spec.cell == {"g_depth": 5, "d_depth": 3, "seed": 1}
    assert spec.train["model_kwargs"]["g_depth"] == 5 and spec.train["seed"] == 1
    aug = experiments.get("augmentation").run_specs(params("augmentation", scale))
    assert {s.train["data"]["augment"] for s in aug.values()} == {"none", "rotation", "shift", "flip"}
    assert len(aug) == 4 * 5


def test_overrides_change_one_run_only():
    p = params("depth_grid", overrides={"g3_d4_s0": {"lr_g": 0.0001}})
    runs = experiments.get("depth_grid").run_specs(p)
    assert runs["g3_d4_s0"].train["lr_g"] == 0.0001
    assert all(s.train.get("lr_g") != 0.0001 for rid, s in runs.items() if rid != "g3_d4_s0")


# (experiment, values merged over its mnist5k block, words the message must contain)
BAD = [
    ("depth_grid", {"seeds": []}, ["experiments.depth_grid.seeds", "at least one seed"]),
    ("depth_grid", {"seeds": [0, 1, 1]}, ["seeds", "1 is listed twice"]),
    ("depth_grid", {"g_depths": [3, 12]}, ["g_depths", "12 is outside [3, 8]"]),
    ("depth_grid", {"d_depths": []}, ["d_depths", "must not be empty"]),
    ("depth_grid", {"fid_samples": 1}, ["fid_samples", "[2, 100000]"]),
    ("depth_grid", {"g_depth": [3]}, ["g_depth: unknown key", "did you mean 'g_depths'"]),
    ("depth_grid", {"overrides": {"g3_d9_s0": {"lr_g": 0.1}}}, ["overrides.g3_d9_s0: no such run"]),
    ("depth_grid", {"train": {"stepz": 5}}, ["train.stepz: unknown key", "did you mean 'steps'"]),
    ("depth_grid", {"train": {"data": {"name": "mnist5k", "limit": 9000}}}, ["train.data.limit", "5,000 images"]),
    ("augmentation", {"augmentations": ["none", "zoom"]}, ["augmentations", "unknown augmentation 'zoom'"]),
    ("augmentation", {"augmentations": ["rotation", "flip"]}, ["augmentations", "needs 'none'"]),
    ("dense_conv", {"archs": {"conv": {"model": "dcgan28"}}}, ["archs", "needs an entry 'dense'"]),
    ("feature_net", {"noise_floor_samples": [3000]}, ["noise_floor_samples", "5,000 images"]),
    ("vae", {"holdout": 5000}, ["holdout", "more than the 5,000 images"]),
    ("cifar_study", {"claims": [{"claim": "x", "better": "dcgan9", "worse": "dcgan1", "seed_says": "y"}]},
     ["claims[0].better", "no model 'dcgan9'"]),
    ("accuracy_vs_quality", {"tail_fraction": 0}, ["tail_fraction", "(0, 1]"]),
    ("accuracy_vs_quality", {"settings": {"overpowered_d": {"lr_g": 0.01}}},
     ["settings.overpowered_d", "only D's strength (d_steps, lr_d)", "not lr_g"]),
    ("accuracy_vs_quality", {"settings": {"balanced": {"steps": 9}}}, ["settings.balanced: must be empty"]),
    ("accuracy_vs_quality", {"settings": {"overpowered_d": {"d_steps": 1, "lr_d": 0.0002}}},
     ["settings.overpowered_d", "no more steps (d_steps 1)", "raise one of them"]),
    ("saturating", {"optimizers": {"rmsprop": {"lr_g": 0.1, "lr_d": 0.1}}}, ["optimizers.rmsprop", "unknown optimiser"]),
    ("minimax", {"pairs": [{"data": {"normal": [0, 0]}, "g": {"normal": [0, 1]}}]}, ["pairs[0].data", "scales must be > 0"]),
    ("optimal_d", {"toy": {"stepsd": 3}}, ["toy.stepsd: unknown key", "did you mean 'steps_d'"]),
    ("face_preprocessing", {"variants": {"raw": {"name": "faces_standin_raw"}}}, ["variants", "needs an entry 'preprocessed'"]),
]


@pytest.mark.parametrize("name,over,words", BAD, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(BAD)])
def test_bad_experiment_values_name_the_key(name, over, words):
    with pytest.raises(ConfigError) as e:
        params(name, **over)
    for w in words:
        assert w in str(e.value), f"{w!r} not in {str(e.value)!r}"


def test_config_and_registry_name_the_same_experiments():
    with pytest.raises(ConfigError, match="no such experiment.*did you mean 'depth_grid'"):
        experiments.parse_all({**CONFIG["experiments"], "depth_gird": {"common": {}}}, "smoke")
    missing = {k: v for k, v in CONFIG["experiments"].items() if k != "nce"}
    with pytest.raises(ConfigError, match="no block for nce"):
        experiments.parse_all(missing, "smoke")


def _imports(path: Path) -> set[str]:
    """The gan modules a file imports, at any depth of its code."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gan"):
            base = node.module
            out |= {f"{base}.{a.name}" for a in node.names} | {base}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("gan")}
    return out


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_gan_imports_one_way():
    """No circle among gan's modules; config.py imports nothing of gan; the registry and the data catalogue
    import no torch (checked above) and nothing above them."""
    files = {(_module(p)): p for p in (ROOT / "gan").rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in files and i != m} for m, p in files.items()}
    # a package's __init__ that only re-exports its own modules is not an edge back into them
    assert graph["gan.config"] == set(), graph["gan.config"]
    assert not {i for i in graph["gan.data.catalog"] if i != "gan.config"}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if n.startswith(m + "."):  # a package importing its own submodules
                continue
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join(path + [n]))
            if n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
