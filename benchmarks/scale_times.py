"""How long a scale took, per experiment, from the manifests its jobs wrote (each records its own wall time).

    python benchmarks/scale_times.py results/mnist5k [--elapsed 9876]

Prints a markdown table: per experiment, its jobs (training runs and its notebook), the sum of their wall times
(core-time when jobs ran side by side) and the longest job. `--elapsed` (seconds, from the run's start to its
end) adds the measured wall time of the whole scale. The README's table of the committed scale is this output.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path


def experiment_times(results: Path) -> dict[str, dict[str, float]]:
    """Experiment -> {jobs, runs, seconds (sum of job wall times), longest (s)}."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "runs": 0, "seconds": 0.0, "longest": 0.0})
    for m in sorted(results.glob("*/manifest.json")) + sorted(results.glob("*/runs/*/manifest.json")):
        j = json.loads(m.read_text())
        s = float(j.get("wall_time_s") or 0.0)
        e = out[j.get("experiment") or m.parts[len(results.parts)]]
        e["jobs"] += 1
        e["runs"] += "runs" in m.parts
        e["seconds"] += s
        e["longest"] = max(e["longest"], s)
    return dict(out)


def table(times: dict[str, dict[str, float]], elapsed: float | None = None, cores: int = 2) -> str:
    rows = ["| experiment | GAN runs | job time (min) | longest job (min) |", "| :--- | ---: | ---: | ---: |"]
    for name, t in sorted(times.items(), key=lambda kv: -kv[1]["seconds"]):
        rows.append(f"| `{name}` | {int(t['runs'])} | {t['seconds'] / 60:.1f} | {t['longest'] / 60:.1f} |")
    total = sum(t["seconds"] for t in times.values())
    rows.append(f"| all ({sum(int(t['jobs']) for t in times.values())} jobs) | {sum(int(t['runs']) for t in times.values())} | "
                f"{total / 60:.1f} | |")
    text = "\n".join(rows)
    if elapsed:
        text += (f"\n\nWall time of the whole scale, start to end: **{elapsed / 60:.0f} min** on {cores} cores "
                 f"(job time / wall time = {total / elapsed:.2f}; the data rules and the book are in the wall time only).")
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("--elapsed", type=float, default=None, help="seconds from the run's start to its end")
    ap.add_argument("--cores", type=int, default=2)
    a = ap.parse_args()
    print(table(experiment_times(a.results), a.elapsed, a.cores))


if __name__ == "__main__":
    main()
