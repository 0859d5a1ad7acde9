# Shared helpers for every rule: the config (validated once, up front), the scale, result paths, the papermill
# command, job resources, and the registry of training runs. Included first by the Snakefile.

import json
import shlex
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, "../config/schema.yaml")

SCALES = ["smoke", "mnist5k", "full"]
EXPERIMENTS = list(config["experiments"])
# Every experiment writes these four files into results/<scale>/<experiment>/; the book includes them.
FINAL_FILES = {"report": "report.md", "provenance": "provenance.md", "manifest": "manifest.json"}


def deep_merge(base, over):
    out = dict(base)
    for k, v in (over or {}).items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def experiment_outputs(name, scale=None):
    """The declared outputs of an experiment's aggregate rule (and the book's inputs)."""
    d = f"results/{scale or SCALE}/{name}"
    return {**{k: f"{d}/{v}" for k, v in FINAL_FILES.items()}, "notebook": f"{d}/{name}.ipynb"}


def complete(scale):
    return all(Path(p).exists() for e in EXPERIMENTS for p in experiment_outputs(e, scale).values())


def resolve_scale(requested):
    if requested != "auto":
        return requested
    return next((s for s in ("full", "mnist5k") if complete(s)), "smoke")


SCALE = resolve_scale(config["scale"])
R = f"results/{SCALE}"
# `scale: auto` that finds a complete scale only builds the book from it: the experiments' rules are not loaded,
# so their results are plain files and nothing can retrain - whatever the file times after a `git clone`. Naming
# a scale (`--config scale=mnist5k`) loads the whole DAG, with Snakemake's usual rules for what is out of date.
BOOK_ONLY = config["scale"] == "auto" and SCALE != "smoke"


def params_of(name):
    """An experiment's parameters at the current scale: `common` with the scale's block merged over it."""
    block = config["experiments"][name]
    return deep_merge(block["common"], block.get(SCALE, {}))


def fid_network():
    return config["fid"]["network"][SCALE]


def resources_of(kind):
    """Job resources (mem_mb, runtime, gpu, slurm_*) for a kind of rule at this scale, from the config."""
    return {k: v for k, v in config["resources"][kind][SCALE].items() if k != "threads"}


def threads_of(kind):
    return config["resources"][kind][SCALE].get("threads", 1)


# --- the papermill command --------------------------------------------------------------------------------------------


def papermill(notebook, out_notebook, rule, **params):
    """The shell command that runs `notebook` with papermill. Strings go as -r (raw), numbers and booleans as -p,
    everything else (lists, mappings, null) as one -y YAML mapping (written by PyYAML, so that it reads back
    exactly: JSON's 1e-05 would be a string to PyYAML), so the notebook's parameters cell gets native values.
    The command is exported as GAN_COMMAND, so each manifest records exactly what ran."""
    args = []
    structured = {}
    for k, v in params.items():
        if isinstance(v, bool) or isinstance(v, (int, float)):
            args += ["-p", k, str(v)]
        elif isinstance(v, str):
            args += ["-r", k, v]
        else:
            structured[k] = v
    if structured:
        args += ["-y", yaml.safe_dump(structured, default_flow_style=True, sort_keys=False, width=1 << 30).strip()]
    cmd = ["papermill", notebook, out_notebook, "-k", "python3", "--cwd", ".", "--log-output", "--no-progress-bar", *args]
    line = " ".join(shlex.quote(str(a)) for a in cmd)
    return f"GAN_RULE={shlex.quote(rule)} GAN_COMMAND={shlex.quote(line)} {line}"


# --- training runs ----------------------------------------------------------------------------------------------------

# (experiment, run id) -> everything the training notebook needs; filled by the rules files, validated here.
RUNS = {}


def register_runs(experiment, runs):
    """Register an experiment's training runs: {run_id: {"train": TrainConfig dict, "fid_samples": int,
    "cell": {labels for the aggregate}, optional "fid_reference": data config}}. Every train config is
    checked by gan.config now, so a bad value fails at `snakemake -n`, before any job starts."""
    from gan.config import ConfigError, TrainConfig

    for run_id, spec in runs.items():
        try:
            spec["train"] = TrainConfig.from_dict(spec["train"]).to_dict()
        except ConfigError as e:
            raise WorkflowError(f"config/config.yaml: experiments.{experiment} (run {run_id}, scale {SCALE}): {e}") from None
        RUNS[(experiment, run_id)] = spec
    return [f"{R}/{experiment}/runs/{r}/metrics.json" for r in runs]


def train_spec(experiment, params, run_id, seed, **train_updates):
    """A run's train config: the experiment's `train` block, the model, the seed, and the cell's own `overrides`."""
    t = deep_merge(params["train"], {"seed": seed, **train_updates})
    return deep_merge(t, params.get("overrides", {}).get(run_id, {}))


# Rule params are functions of the wildcards only: Snakemake leaves params that take input, output or threads out
# of its params rerun-trigger, and these commands hold everything a job's result depends on.


def run_command(wildcards):
    spec = RUNS[(wildcards.experiment, wildcards.run_id)]
    train = dict(spec["train"], threads=threads_of("train"))
    out_dir = f"{R}/{wildcards.experiment}/runs/{wildcards.run_id}"
    return papermill(
        "analysis/train.ipynb", f"{out_dir}/run.ipynb", "train_run",
        experiment=wildcards.experiment, run_id=wildcards.run_id, scale=SCALE,
        out_dir=out_dir, train_config=train, cell=spec.get("cell", {}),
        fid_network=fid_network(), fid_samples=spec["fid_samples"], fid_reference=spec.get("fid_reference"),
        inception_weights=config["fid"].get("inception_weights"),
    )


def anchors():
    return config["anchors"]


def experiment_command(name, **extra):
    """Run analysis/<name>.ipynb for an experiment: its parameters at this scale, the published anchors, and its
    output folder results/<scale>/<name>; `extra` adds notebook parameters (e.g. the run ids to aggregate)."""
    return papermill(f"analysis/{name}.ipynb", experiment_outputs(name)["notebook"], name, scale=SCALE,
                     out_dir=f"{R}/{name}", params=params_of(name), anchors=anchors(), **extra)


def run_ids(run_outputs):
    """The run ids of the metrics paths that register_runs returned."""
    return [Path(p).parent.name for p in run_outputs]


def check_data_of_jobs_to_run():
    """Before any job starts (real runs only): every data set a training job will read must be there, else stop
    with a message that says how to get it, instead of failing jobs one by one on the cluster."""
    from gan.data import DataUnavailable, check_available

    problems = {}
    for job in workflow.dag.needrun_jobs():
        if job.rule.name == "train_run":
            spec = RUNS[(job.wildcards.experiment, job.wildcards.run_id)]
            for data in (spec["train"]["data"], spec.get("fid_reference")):
                try:
                    if data is not None:
                        check_available(data)
                except DataUnavailable as e:
                    problems.setdefault(str(e), []).append(f"{job.wildcards.experiment}/{job.wildcards.run_id}")
    if problems:
        msg = "\n".join(f"- {p} (needed by {len(jobs)} run(s), e.g. {jobs[0]})" for p, jobs in problems.items())
        raise WorkflowError(f"Missing data; no job was started:\n{msg}")


onstart:
    check_data_of_jobs_to_run()
