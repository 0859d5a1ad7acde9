# Shared by every rule: the config (validated once, up front, against config/schema.yaml and the registry of
# experiments in gan.experiments), the scale, result paths, the papermill command, job resources, and the training
# runs every experiment defines. Included first by the Snakefile.

import json
import shlex
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from gan import experiments as registry
from gan.config import ConfigError

validate(config, "../config/schema.yaml")

SCALES = list(registry.SCALES)
EXPERIMENTS = list(registry.REGISTRY)
CLAIMS = registry.claims()
# Every experiment writes these files into results/<scale>/<experiment>/; the book includes them.
FINAL_FILES = {"report": "report.md", "manifest": "manifest.json"}


def experiment_outputs(name, scale=None):
    """The declared outputs of an experiment's job (and the book's inputs): its report (with its provenance), its
    manifest, its executed notebook, and its verdict if it tests a claim of the thesis."""
    d = f"results/{scale or SCALE}/{name}"
    out = {**{k: f"{d}/{v}" for k, v in FINAL_FILES.items()}, "notebook": f"{d}/{name}.ipynb"}
    if name in CLAIMS:
        out["verdict"] = f"{d}/verdict.md"
    return out


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

try:  # every experiment's parameters at this scale, typed and checked: a bad value fails `snakemake -n` here
    PARAMS = registry.parse_all(config["experiments"], SCALE)
except ConfigError as e:
    raise WorkflowError(f"config/config.yaml (scale {SCALE}): {e}") from None


def params_of(name):
    """An experiment's parameters at this scale as the config writes them (`common` with the scale's block merged
    over it): what its notebook receives and its manifest records."""
    return registry.block_params(config["experiments"][name], SCALE)


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


def register_runs():
    """(experiment, run id) -> the run's spec, its train config checked in full (types, ranges, data set, model
    kwargs built on the meta device) now, so a bad value fails at `snakemake -n`, before any job starts."""
    from gan.checks import parse_train

    runs = {}
    for name, p in PARAMS.items():
        for run_id, spec in registry.get(name).run_specs(p).items():
            try:
                train = parse_train(spec.train).to_dict()
            except ConfigError as e:
                raise WorkflowError(f"config/config.yaml: experiments.{name} (run {run_id}, scale {SCALE}): {e}") from None
            runs[(name, run_id)] = {"train": train, "fid_samples": spec.fid_samples, "cell": spec.cell,
                                    "fid_reference": spec.fid_reference}
    return runs


RUNS = {} if BOOK_ONLY else register_runs()


# --- data: one receipt per data set a scale reads (rules/data.smk) -----------------------------------------------------


def data_key(d):
    """A data set's receipt name: the set, and where it lives when that is not the default place."""
    import hashlib

    return d["name"] if not d.get("root") else f"{d['name']}-{hashlib.sha1(str(d['root']).encode()).hexdigest()[:8]}"


def data_sources():
    """key -> the data config the data rule gets and checks (name, root, download), for every data set that a
    training run or a notebook of this scale reads."""
    found = {}
    wanted = [spec["train"]["data"] for spec in RUNS.values()] + [spec["fid_reference"] for spec in RUNS.values() if spec["fid_reference"]]
    wanted += [d for name, p in PARAMS.items() for d in registry.get(name).data(p)]
    for d in wanted:
        k = data_key(d)
        entry = {"name": d["name"], **({"root": d["root"]} if d.get("root") else {})}
        # downloads happen only where every reader of the set allows them
        entry["download"] = found.get(k, {}).get("download", True) and d.get("download", True)
        found[k] = entry
    return found


DATA = {} if BOOK_ONLY else data_sources()


def data_inputs(datas):
    return sorted({f"{R}/data/{data_key(d)}.json" for d in datas if d})


def run_outputs(name):
    """The metrics files of an experiment's training runs (the inputs of its aggregate)."""
    return [f"{R}/{e}/runs/{r}/metrics.json" for (e, r) in RUNS if e == name]


# Rule params are functions of the wildcards only: Snakemake leaves params that take input, output or threads out
# of its params rerun-trigger, and these commands hold everything a job's result depends on.


def run_command(wildcards):
    spec = RUNS[(wildcards.experiment, wildcards.run_id)]
    # the data rule got the data (rules/data.smk): a training job never downloads
    # torch's threads are the job's, as the scheduler grants them (`-p threads {threads}` in the rule's shell)
    train = dict(spec["train"], data=dict(spec["train"]["data"], download=False))
    out_dir = f"{R}/{wildcards.experiment}/runs/{wildcards.run_id}"
    return papermill(
        "analysis/train.ipynb", f"{out_dir}/run.ipynb", "train_run",
        experiment=wildcards.experiment, run_id=wildcards.run_id, scale=SCALE,
        out_dir=out_dir, train_config=train, cell=spec["cell"],
        fid_network=fid_network(), fid_samples=spec["fid_samples"], fid_reference=spec["fid_reference"],
        inception_weights=config["fid"].get("inception_weights"),
    )


def experiment_command(wildcards):
    """Run analysis/<name>.ipynb: its parameters at this scale, the published anchors, its output folder, and
    what the registry says it needs: its run ids, and the feature network for notebooks that score FIDs."""
    name = wildcards.experiment
    e = registry.get(name)
    extra = {}
    if e.runs is not None:
        extra["run_ids"] = [r for (x, r) in RUNS if x == name]
    if e.fid:
        extra.update(fid_network=fid_network(), inception_weights=config["fid"].get("inception_weights"))
    return papermill(f"analysis/{name}.ipynb", experiment_outputs(name)["notebook"], "experiment", scale=SCALE,
                     out_dir=f"{R}/{name}", params=params_of(name), anchors=config["anchors"], **extra)


def experiment_inputs(wildcards):
    """An experiment job's inputs: its notebook, its training runs' metrics, the manifests of the experiments
    whose results it reads (the registry's `needs`), and the repository files it reads (`reads`: pilots' logs)."""
    name = wildcards.experiment
    e = registry.get(name)
    inputs = {"notebook": f"analysis/{name}.ipynb"}
    data = data_inputs(e.data(PARAMS[name]))
    if data:
        inputs["data"] = data
    runs = run_outputs(name)
    if runs:
        inputs["runs"] = runs
    needs = [experiment_outputs(n)["manifest"] for n in e.needs(PARAMS[name])]
    if needs:
        inputs["needs"] = needs
    reads = list(e.reads(PARAMS[name]))
    if reads:
        inputs["reads"] = reads
    return inputs


def train_inputs(wildcards):
    """A training job's inputs besides its notebook: the receipts of its data and of the FID network's weights."""
    spec = RUNS[(wildcards.experiment, wildcards.run_id)]
    return data_inputs([spec["train"]["data"], spec["fid_reference"]]) + [f"{R}/data/fid_network.json"]


def check_data_before_any_job():
    """Before any job starts (real runs only): every data set a job of this run needs, and the FID weights, must be
    on disk or downloadable from here; else stop with what to do, instead of failing jobs one by one on a cluster.
    The data rules then check the files in full (a partial download, a corrupt image) before any training job."""
    from gan.config import DataConfig
    from gan.data.fetch import preflight
    from gan.metrics import weights

    keys = {Path(f).stem for job in workflow.dag.needrun_jobs() for f in job.output if "/data/" in str(f)}
    problems = [p for k in sorted(keys & set(DATA)) if (p := preflight(DataConfig.from_dict(DATA[k])))]
    if "fid_network" in keys:
        problems += [p for p in [weights.preflight(fid_network(), config["fid"].get("inception_weights"))] if p]
    if problems:
        raise WorkflowError("Missing data; no job was started:\n" + "\n".join(f"- {p}" for p in problems))


onstart:
    check_data_before_any_job()
