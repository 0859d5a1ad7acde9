"""The conda environments of the rules (envs/*.yaml) cannot be created here (conda's channels are unreachable),
so test what can be: each file parses as a conda environment, its pins are pyproject.toml's, it holds what its
rules import, and the stack these tests run on satisfies it."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ENVS = {"train": ROOT / "envs" / "train.yaml", "book": ROOT / "envs" / "book.yaml"}


def _pyproject() -> dict[str, dict[str, Requirement]]:
    """pyproject.toml's requirements by group ('' for the core dependencies, else the extra's name)."""
    p = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    groups = {"": p["dependencies"], **p.get("optional-dependencies", {})}
    out = {}
    for g, reqs in groups.items():
        rs = [Requirement(r) for r in reqs]
        out[g] = {canonicalize_name(r.name): r for r in rs if canonicalize_name(r.name) != "gan-thesis"}
    return out


def _env(path: Path) -> tuple[dict, dict[str, Requirement], list[str]]:
    env = yaml.safe_load(path.read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = [r for d in env["dependencies"] if isinstance(d, dict) for r in d["pip"]]
    reqs = {canonicalize_name(Requirement(r).name): Requirement(r) for r in pip}
    return env, reqs, conda


@pytest.mark.parametrize("kind", list(ENVS))
def test_env_file_is_a_conda_environment(kind):
    env, reqs, conda = _env(ENVS[kind])
    assert set(env) == {"name", "channels", "dependencies"}
    assert env["name"] == f"gan-{kind}"
    assert "conda-forge" in env["channels"]
    assert "pip" in conda
    py = [c for c in conda if c.startswith("python")]
    assert py == ["python=3.11"]
    # python 3.11 satisfies the package's requires-python
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert Requirement(f"python{requires}").specifier.contains("3.11")
    # no local paths or editable installs: Snakemake builds the environment from a copy of the file
    raw = [r for d in env["dependencies"] if isinstance(d, dict) for r in d["pip"]]
    assert not [r for r in raw if r.startswith("-") or "/" in r or r.startswith(".")]
    assert len(reqs) == len(raw), "a package is listed twice"


@pytest.mark.parametrize("kind", list(ENVS))
def test_env_pins_agree_with_pyproject(kind):
    _, reqs, _ = _env(ENVS[kind])
    declared = {}
    for group in _pyproject().values():
        declared.update(group)
    for name, r in reqs.items():
        assert name in declared, f"{ENVS[kind].name}: {name} is not declared in pyproject.toml"
        assert r.specifier == declared[name].specifier, (
            f"{ENVS[kind].name}: {r} but pyproject.toml says {declared[name]}")


def test_train_env_holds_the_library_and_the_notebook_runner():
    _, reqs, _ = _env(ENVS["train"])
    py = _pyproject()
    assert set(py[""]) <= set(reqs), f"missing from train.yaml: {set(py['']) - set(reqs)}"
    assert {"papermill", "ipykernel"} <= set(reqs)
    assert str(reqs["torch"].specifier) == "==2.14.1" and str(reqs["torchvision"].specifier) == "==0.29.1"


def test_book_env_holds_the_book_extra():
    _, reqs, _ = _env(ENVS["book"])
    py = _pyproject()
    assert set(py["book"]) <= set(reqs), f"missing from book.yaml: {set(py['book']) - set(reqs)}"
    assert "papermill" in reqs
    assert "torch" not in reqs  # the book never computes
    assert str(reqs["jupyter-book"].specifier) == "<2"


def test_rules_use_only_these_envs():
    used = set()
    for smk in [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]:
        if smk.exists():
            text = smk.read_text()
            used |= {part.split('"')[0] for part in text.split('"../envs/')[1:]}
            used |= {part.split('"')[0] for part in text.split('"envs/')[1:]}
    assert used <= {p.name for p in ENVS.values()}, f"rules name env files that do not exist: {used}"


@pytest.mark.parametrize("kind", list(ENVS))
def test_the_tested_stack_satisfies_the_env(kind):
    """The versions these tests run with are inside every range the env file allows."""
    _, reqs, _ = _env(ENVS[kind])
    for name, r in reqs.items():
        try:
            v = metadata.version(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} ({ENVS[kind].name}) is not installed: pip install -e .[dev]")
        assert r.specifier.contains(v, prereleases=True), f"{name} {v} is outside {r}"
