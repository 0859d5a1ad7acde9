"""The workflow on a real SLURM cluster: `snakemake --cores 4 --profile slurm` sends a slice of the smoke DAG to
sbatch through snakemake-executor-plugin-slurm, and every job finishes on the cluster with the resources the
config gives it.

The cluster is the single-node one that `.ci/slurm-up` starts on localhost (Debian's slurm-wlm and munge). Its
GPUs are **stand-ins** (a gres backed by /dev/null and /dev/zero): they show that a job asking for a GPU, as every
training and analysis job does at scale `full`, is accepted by sbatch and scheduled; nothing computes on them.
The cluster has no accounting database, so the run passes `--slurm-status-command squeue` (the profile keeps the
plugin's default, sacct, for real clusters; docs/slurm.md). Without a cluster the cluster tests are skipped (set
GAN_REQUIRE_SLURM=1 to make that a failure instead).

The run happens in a temporary copy of the repository (tracked and untracked-but-not-ignored files, without
results/), so the working tree's results are never touched.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from test_workflow import copy_repo

REPO = Path(__file__).resolve().parents[1]
PROFILE = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
RUN_TIMEOUT_S = 420  # the slice takes about 2-3 minutes on 2 shared cores; a hung plugin ignores SIGTERM


# --- the profile (no cluster needed) ---------------------------------------------------------------------------------


def test_profile_is_found_as_typed(monkeypatch):
    """`snakemake --cores 4 --profile slurm`, from the repo root, finds ./slurm/config.yaml and every key it sets
    takes effect (the workflow profile profiles/default is read after it and must not override them)."""
    from snakemake.cli import parse_args

    monkeypatch.chdir(REPO)
    _, args = parse_args(["--cores", "4", "--profile", "slurm"])
    assert args.executor == "slurm"
    assert args.cores == 4
    for key, value in PROFILE.items():
        got = getattr(args, key.replace("-", "_"))
        assert got == value, (f"slurm/config.yaml sets {key}: {value!r}, but the command gets {got!r}: "
                              f"profiles/default/config.yaml (read after --profile) overrides it")


def test_profile_retries_and_status_command(monkeypatch):
    """Issue 3: a failed job is retried under --profile slurm (the workflow profile profiles/default sets
    `retries` for local and cluster runs alike; a papermill kernel can lose its port to a job starting beside it).
    The status command is the plugin's default (sacct), which real clusters support; the test cluster overrides it
    on the command line."""
    from snakemake.cli import parse_args

    monkeypatch.chdir(REPO)
    for argv in (["--cores", "4", "--profile", "slurm"], ["--cores", "2"]):
        assert parse_args(argv)[1].retries >= 1, argv
    assert isinstance(PROFILE["jobs"], int) and PROFILE["jobs"] >= 1
    assert PROFILE["latency-wait"] >= 30  # shared file systems on clusters lag
    assert "slurm-status-command" not in PROFILE
    assert PROFILE["slurm-init-seconds-before-status-checks"] > 0
    # no resources in the profile: they come from config/config.yaml, per kind of rule and scale
    assert not {"default-resources", "set-resources", "set-threads"} & set(PROFILE)


def test_gpu_resources_come_from_the_config():
    """At scale full, training and analysis jobs ask for a GPU in the config (the plugin turns `gpu` into
    sbatch --gpus); at smoke scale none does."""
    res = CONFIG["resources"]
    assert res["train"]["full"].get("gpu", 0) >= 1 and res["analysis"]["full"].get("gpu", 0) >= 1
    assert all(not res[kind]["smoke"].get("gpu") for kind in res)


# --- the cluster -----------------------------------------------------------------------------------------------------


def _sh(*cmd: str, timeout: int = 30) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def _job(jobid: str) -> dict[str, str]:
    """`scontrol show job -o <id>` (one line of Key=value fields) as a dict."""
    out = _sh("scontrol", "show", "job", "-o", jobid).stdout
    return dict(re.findall(r"(\S+?)=(\S*)", out))


@pytest.fixture(scope="module")
def cluster():
    """The running cluster: its default partition, stand-in GPU count and the status command the plugin can use."""
    reason = None
    if not shutil.which("sbatch"):
        reason = "no SLURM here (sbatch not found); run .ci/slurm-up to install and start a test cluster"
    else:
        try:
            p = _sh("sinfo", "-h", "-N", "-o", "%t %G", timeout=15)
        except subprocess.TimeoutExpired:
            p = None
        if p is None or p.returncode != 0 or not re.match(r"(idle|mix|alloc|comp)", p.stdout.strip()):
            said = (p.stdout + p.stderr).strip() if p else "timed out"
            reason = f"no SLURM cluster answers (sinfo: {said!r}); run .ci/slurm-up"
    if reason:
        if os.environ.get("GAN_REQUIRE_SLURM") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    gres = p.stdout.split()[1]
    gpus = int(m.group(1)) if (m := re.search(r"gpu:(?:\w+:)?(\d+)", gres)) else 0
    partition = next((n.rstrip("*") for n in _sh("sinfo", "-h", "-o", "%P").stdout.split() if n.endswith("*")), None)
    config = dict(re.findall(r"^(\w+)\s+=\s+(.*?)\s*$", _sh("scontrol", "show", "config").stdout, re.M))
    # sacct works only with an accounting database (slurmdbd); without one the plugin must poll squeue
    acct = _sh("sacct", "-n", "-X", "--starttime", "now-1hour")
    status = "sacct" if acct.returncode == 0 else "squeue"
    return {"partition": partition, "gpus": gpus, "config": config, "status_command": status}


@pytest.mark.slurm
def test_cluster_serves_the_profile(cluster, tmp_path):
    """The cluster can run what the profile sends: squeue status checks need finished jobs to stay visible for
    3 x the plugin's first-check delay (MinJobAge), and a job asking for a (stand-in) GPU is accepted and runs."""
    if cluster["status_command"] == "squeue":
        min_job_age = int(cluster["config"]["MinJobAge"].split()[0])
        assert min_job_age >= 3 * PROFILE["slurm-init-seconds-before-status-checks"]
    assert cluster["gpus"] >= 1, "the test cluster needs a (stand-in) GPU gres; see .ci/slurm-up"
    out = tmp_path / "gpu.out"
    p = _sh("sbatch", "--parsable", "--wait", "--gpus=1", "--time=1", "--mem=100", f"--output={out}",
            "--wrap", 'echo "CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"', timeout=120)
    assert p.returncode == 0, p.stderr
    jobid = p.stdout.strip().split(";")[0]
    job = _job(jobid)
    assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0"
    assert "gres:gpu:1" in job["TresPerJob"]
    # SLURM hands the job one GPU index, as on a real GPU node (the device behind it is /dev/null here)
    assert re.fullmatch(r"CUDA_VISIBLE_DEVICES=\d+", out.read_text().strip())


def _runtime(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


@pytest.mark.slurm
@pytest.mark.slow
def test_smoke_slice_runs_through_sbatch(cluster, tmp_path):
    """feature_net (the LeNet-FID network), the four dense_conv training runs that depend on it, and their
    aggregate, at scale smoke, through `--profile slurm`. Every job of the plan is submitted once with sbatch and
    COMPLETED on the cluster, with the partition, memory, time limit and GPU the config gives it, and its outputs
    hold real results: the aggregate's table holds the FIDs the four cluster jobs wrote.

    To exercise the GPU path, the run asks for the GPUs the config gives these rules at scale full (an override
    config file, merged over config/config.yaml as a user's would be); the cluster's GPUs are stand-ins."""
    tree = copy_repo(tmp_path / "repo")
    full = CONFIG["resources"]
    gpus = {"train": full["train"]["full"]["gpu"], "analysis": full["analysis"]["full"]["gpu"]}
    assert max(gpus.values()) <= cluster["gpus"]
    (tree / "slurm_gpu.yaml").write_text(yaml.safe_dump(
        {"resources": {kind: {"smoke": {"gpu": n}} for kind, n in gpus.items()}}))
    smoke = CONFIG["experiments"]["dense_conv"]["smoke"]
    runs = sorted(f"{arch}_s{seed}" for arch in CONFIG["experiments"]["dense_conv"]["common"]["archs"]
                  for seed in smoke["seeds"])
    targets = ["results/smoke/feature_net/report.md", "results/smoke/dense_conv/report.md"]
    cmd = ["timeout", "-k", "10", str(RUN_TIMEOUT_S), sys.executable, "-m", "snakemake", *targets,
           "--cores", "4", "--profile", "slurm", "--config", "scale=smoke", "--configfile", "slurm_gpu.yaml",
           "--slurm-status-command", cluster["status_command"], "--slurm-init-seconds-before-status-checks", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    wall = time.monotonic() - t0
    log = p.stdout + p.stderr
    print(f"SLURM slice: {wall:.0f} s wall")
    assert p.returncode == 0, f"{' '.join(cmd)} failed ({p.returncode}) after {wall:.0f} s:\n{log[-8000:]}"

    # the plan: feature_net, the runs, the aggregate; each submitted exactly once (no job ran locally, none needed
    # a retry)
    m = re.search(r"Job stats:\njob\s+count\n[-\s]+\n(.*?)\ntotal\s+(\d+)", log, re.S)
    assert m, log[-4000:]
    plan = {name: int(n) for name, n in re.findall(r"^(\S+)\s+(\d+)\s*$", m.group(1), re.M)}
    # feature_net is an `experiment` job, dense_conv a `claim` (it tests the thesis's claim); the data rules are
    # local rules: they run on the submitting host, once, and are not submitted
    assert plan == {"data": 1, "fid_network": 1, "experiment": 1, "train_run": len(runs), "claim": 1}, plan
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$", log, re.M)
    assert len(submitted) == sum(plan.values()) - plan["data"] - plan["fid_network"], log[-4000:]
    assert "Trying to restart" not in log and "Error in rule" not in log

    # every job went through sbatch (a batch job, BatchFlag=1) and COMPLETED, with the config's resources
    rules_seen = []
    for jobid, slurm_log in submitted:
        job = _job(jobid)
        rule = re.match(r"rule_(\w+?)(_wildcards_.*)?$", job["Comment"]).group(1)
        rules_seen.append(rule)
        kind = "train" if rule == "train_run" else "analysis"
        res = CONFIG["resources"][kind]["smoke"]
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", (jobid, job)
        assert job["BatchFlag"] == "1"
        assert Path(job["WorkDir"]) == tree
        assert job["Partition"] == res.get("slurm_partition", cluster["partition"])
        assert job["TimeLimit"] == _runtime(res["runtime"])
        assert job["MinMemoryNode"] == f"{res['mem_mb']}M"
        assert job["NumCPUs"] == str(res.get("threads", 1))
        assert f"gres:gpu:{gpus[kind]}" in job["TresPerJob"]  # the (stand-in) GPU the full scale asks for
        text = Path(slurm_log).read_text()  # kept by slurm-keep-successful-logs
        assert f"rule {rule}:" in text and "Finished jobid" in text, text[-2000:]
    assert sorted(rules_seen) == sorted(r for r, n in plan.items() if r not in ("data", "fid_network") for _ in range(n))
    # the cluster ran the jobs: none is left in the queue
    ids = {j for j, _ in submitted}
    assert not ids & set(_sh("squeue", "-h", "-o", "%i").stdout.split())

    # the outputs hold results: a finite FID per run in LeNet-FID (the stand-in feature network of the smoke
    # scale), trained for the smoke scale's steps, each with its provenance
    assert sorted(p.name for p in (tree / "results/smoke/dense_conv/runs").iterdir()) == runs
    fids = {}
    for run in (tree / "results/smoke/dense_conv/runs" / r for r in runs):
        metrics = json.loads((run / "metrics.json").read_text())
        fids[run.name] = metrics["fid"]
        assert math.isfinite(metrics["fid"]) and metrics["fid"] > 0
        assert metrics["steps"] == smoke["train"]["steps"]
        assert metrics["fid_samples"] == smoke["fid_samples"]
        assert "LeNet-FID" in metrics["fid_features"]
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["scale"] == "smoke" and manifest["rule"] == "train_run"
        assert manifest["command"].startswith("papermill analysis/train.ipynb")
        assert manifest["config"]["steps"] == smoke["train"]["steps"]
    d = tree / "results/smoke/feature_net"
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["experiment"] == "feature_net" and manifest["scale"] == "smoke"
    assert "LeNet-FID" in (d / "report.md").read_text()
    d = tree / "results/smoke/dense_conv"
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["experiment"] == "dense_conv" and manifest["runs"] == len(runs)
    assert (d / "report.md").read_text().strip()
    table = {row["run_id"]: float(row["fid"]) for row in csv.DictReader((d / "runs.csv").open())}
    assert table.keys() == fids.keys()
    for r, fid in fids.items():
        assert table[r] == pytest.approx(fid, rel=1e-4)
    # a second run with nothing changed submits nothing
    again = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr[-4000:]
    assert "has been submitted" not in again.stdout + again.stderr
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slurm
@pytest.mark.slow
def test_full_rehearsal_slice_runs_through_sbatch(cluster, full_rehearsal, tmp_path):
    """The `full` rehearsal (tests/test_full_rehearsal.py) again through `--profile slurm`, for a slice with one job
    of every kind: the AFHQ data rule (a local rule: it runs on the submitting host, not through sbatch), the AFHQ
    training run at its full shape, its aggregate, the pages that read it (methods, synthesis), and the book. Every submitted job
    asks for the GPUs the config gives it (stand-ins here) and COMPLETES on the cluster."""
    src, env, _, _ = full_rehearsal
    tree = tmp_path / "tree"
    shutil.copytree(src, tree, symlinks=True)
    receipt = "results/full/data/" + next(p.name for p in (src / "results/full/data").glob("afhq_cat-*.json"))
    # a training job at full asks for 4 CPUs (a cluster node's); the test node has 2, where SLURM would hold it
    # pending for ever (PartitionConfig): grant it one, as the local rehearsal does (its torch uses what it gets)
    cmd = ["timeout", "-k", "10", str(RUN_TIMEOUT_S), sys.executable, "-m", "snakemake", "--forcerun", receipt, "--cores", "4",
           "--set-threads", "train_run=1",
           "--profile", "slurm", "--config", "scale=full", "--configfile", "config/config.yaml", "rehearsal.yaml",
           "--slurm-status-command", cluster["status_command"], "--slurm-init-seconds-before-status-checks", "1"]
    p = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, env=env)
    log = p.stdout + p.stderr
    assert p.returncode == 0, log[-8000:]
    m = re.search(r"Job stats:\njob\s+count\n[-\s]+\n(.*?)\ntotal\s+(\d+)", log, re.S)
    plan = {name: int(n) for name, n in re.findall(r"^(\S+)\s+(\d+)\s*$", m.group(1), re.M)}
    from gan.experiments import REGISTRY, parse_all

    params = parse_all(CONFIG["experiments"], "full")
    readers = sorted(n for n, e in REGISTRY.items() if "afhq" in e.needs(params[n]))  # methods, synthesis
    assert readers, "something reads the AFHQ results"
    assert plan == {"data": 1, "train_run": 1, "claim": 1, "experiment": len(readers), "book": 1, "all": 1}, plan
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", log)
    # train_run, claim (afhq), an experiment job per reader, book; not the data rule (a local rule)
    assert len(submitted) == 3 + len(readers), log[-4000:]
    for jobid in submitted:
        job = _job(jobid)
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", (jobid, job)
        rule = re.match(r"rule_(\w+?)(_wildcards_.*)?$", job["Comment"]).group(1)
        gpu = CONFIG["resources"]["train" if rule == "train_run" else "book" if rule == "book" else "analysis"]["full"].get("gpu")
        assert (f"gres:gpu:{gpu}" in job.get("TresPerJob", "")) if gpu else "gpu" not in job.get("TresPerJob", ""), job
        if rule == "train_run":
            assert job["NumCPUs"] == "1", job  # granted by --set-threads, and torch used as many
            manifest = json.loads((tree / "results/full/afhq/runs/s0/manifest.json").read_text())
            assert manifest["config"]["threads"] == 1 and manifest["slurm_job_id"] == jobid, manifest
    assert (tree / "book/_build/html/results/afhq.html").stat().st_mtime > (src / "book/_build/html/results/afhq.html").stat().st_mtime
