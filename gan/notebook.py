"""The setup and the end of every experiment notebook, so that a notebook is its parameters, a few calls, and its
pictures.

    ex = open_experiment("depth_grid", scale=scale, out_dir=out_dir, params=params, run_ids=run_ids)
    ex.params   # typed, checked (gan.experiments)        ex.runs   # the runs' metrics, one row per run
    ...
    ex.finish(body, verdicts=[...], verdict_md=...)     # report.md, manifest.json, runs.csv, verdict.*

With a notebook's tiny default parameters (`run_ids` empty), `open_experiment` trains the experiment's own runs
(the registry's `runs`, the same definition the workflow schedules) into a temporary folder, through the same
`gan.run.run_training` that every workflow job calls: nbval checks the real code path in seconds.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import torch

from gan import aggregate, experiments


@dataclass
class OpenExperiment:
    name: str
    scale: str
    params: Any  # the typed parameters (gan.experiments)
    raw_params: dict[str, Any]  # as the config or the notebook gave them: what the manifest records
    dir: Path  # results/<scale>/<name>, or a temporary folder for a demo
    run_ids: list[str]
    runs: pd.DataFrame | None  # one row per training run (gan.aggregate.load_runs), None if it trains none
    anchors: dict[str, Any] = field(default_factory=dict)
    t0: float = field(default_factory=time.time)

    @property
    def demo(self) -> bool:
        return self.scale == "demo"

    def finish(self, body: str, *, df: pd.DataFrame | None = None, verdicts: Sequence[Any] = (),
               verdict_md: str | None = None, **extra: Any) -> dict[str, Any]:
        """Write report.md (body, downloads, provenance), manifest.json, runs.csv, verdict.json and verdict.md."""
        return aggregate.write_experiment(self.dir, experiment=self.name, scale=self.scale, params=self.raw_params,
                                          body=body, df=self.runs if df is None else df, verdicts=verdicts,
                                          verdict_md=verdict_md, wall_time_s=time.time() - self.t0, **extra)


def open_experiment(name: str, *, scale: str, out_dir: str | Path, params: dict[str, Any],
                    run_ids: Sequence[str] = (), anchors: dict[str, Any] | None = None,
                    threads: int | None = None) -> OpenExperiment:
    """Parse the notebook's parameters with the experiment's registry entry, make its folder, and load its runs
    (training them first when the notebook runs with its demo defaults)."""
    t0 = time.time()
    exp = experiments.get(name)
    p = exp.parse(params, where=f"{name} params.")
    if threads or getattr(p, "threads", None):
        torch.set_num_threads(threads or p.threads)
    d = Path(out_dir or tempfile.mkdtemp(prefix=f"gan-{name}-"))
    d.mkdir(parents=True, exist_ok=True)
    ids, runs = list(run_ids), None
    if exp.runs is not None:
        if not ids:  # a demo: train the experiment's own runs, tiny, through the workflow's code path
            from gan.run import run_training

            for rid, spec in exp.run_specs(p).items():
                run_training(d / "runs" / rid, experiment=name, run_id=rid, scale=scale, train_config=spec.train,
                             cell=spec.cell, fid_samples=spec.fid_samples, fid_reference=spec.fid_reference,
                             progress=False)
                ids.append(rid)
        runs = aggregate.load_runs(d, ids)
    return OpenExperiment(name, scale, p, dict(params), d, ids, runs, anchors or {}, t0)
