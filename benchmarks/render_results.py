"""Write the measured numbers into benchmarks/RESULTS.md, from the JSON files the benchmarks wrote.

Numbers are never typed into RESULTS.md by hand: each benchmark writes benchmarks/results/<name>_<device>.json
(with device, versions, date, command and machine load), and this script renders every such file into the block
between the `results:begin` and `results:end` markers. The prose around the block is by hand and holds no numbers.

    python benchmarks/render_results.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- results:begin", "<!-- results:end -->"


def device_kind(j: dict) -> str:
    return "GPU" if j["env"].get("cuda") else "CPU"


def provenance(env: dict) -> list[str]:
    return [f"- date: {env['date']}; device: {env['device']}" + (f" (CUDA {env['cuda']})" if env.get("cuda") else ""),
            f"- versions: torch {env['torch']}, torchvision {env['torchvision']}, pytorch-fid {env['pytorch_fid']}, "
            f"Python {env['python']}",
            f"- command: `{env['command']}`",
            f"- load average (1/5/15 min) before: {env['load_before']}; after: {env.get('load_after', 'n/a')} "
            "(2 shared cores: other people's jobs ran alongside)"]


def checks_lines(checks) -> list[str]:
    if isinstance(checks, dict):  # fid_speed
        a, b = checks["features_a"], checks["features_b"]
        return [f"- check: features, max abs difference / max abs feature: {a['max_abs_diff_over_max_abs']:.1e} (set A), "
                f"{b['max_abs_diff_over_max_abs']:.1e} (set B); mean feature {a['feature_mean']:.3g}, "
                f"{a['constant_features']} of 2048 constant (random stand-in weights)",
                f"- check: FID(A, B) pytorch-fid {checks['fid_pytorch_fid']:.4f}, ours {checks['fid_ours']:.4f} "
                f"(relative difference {checks['fid_rel_diff']:.1e})"]
    return [f"- check {'PASS' if c['ok'] else 'FAIL'}: {c['what']}: max relative deviation {c['max_rel_dev']:.1e} "
            f"(tolerance {c['tolerance']:.0e})" for c in checks]


def train_throughput(j: dict) -> list[str]:
    a = j["args"]
    kw = f" {a['model_kwargs']}" if a["model_kwargs"] else ""
    out = [f"### Training throughput, {a['model']}{kw} on {j['data']}, batch {a['batch']} ({device_kind(j)})", "",
           *provenance(j["env"]),
           f"- protocol: {a['steps']} timed steps per run after warm-up, {a['repeats']} interleaved repeats, median of "
           f"{a['clock']} time, {a['threads'] or 'default'} torch thread(s); baseline DataLoader workers {a['workers']}",
           *checks_lines(j["checks"]), "",
           f"| loop | variant | what changed | {a['clock']} ms/step | steps/s | images/s | x vs examples |",
           "|---|---|---|---:|---:|---:|---:|"]
    for r in j["rows"]:
        out.append(f"| {r['loop']} | {r['variant']} | {r['what']} | {r['ms_per_step']:.1f} | {1000 / r['ms_per_step']:.1f} | "
                   f"{r['images_per_s']:.0f} | "
                   f"{r['x_vs_examples']:.2f} |")
    s = j["summary"]
    if s:
        out += ["", f"Ratio, ours / pytorch-examples loop: **{s['best_x']:.2f}x** (best variant, {s['best_variant']}); "
                f"{s['default_x']:.2f}x with the device's default ({s['default_variant']})"
                + "".join(f"; {v:.2f}x against {k.removeprefix('best_x_vs_')}" for k, v in s.items() if k.startswith("best_x_vs_"))
                + "."]
    return out


def fid_speed(j: dict) -> list[str]:
    a = j["args"]
    out = [f"### FID feature extraction, {a['n']} MNIST-5k images ({device_kind(j)})", "", *provenance(j["env"]),
           f"- protocol: {a['repeats']} interleaved repeats after an untimed correctness pass, median of {a['clock']} time "
           f"(process and DataLoader workers), {a['threads'] or 'default'} torch thread(s); writing the PNGs "
           f"pytorch-fid reads took {j['png_write_s']:.2f} s more (not counted)",
           *checks_lines(j["checks"]), "",
           f"| path | what | {a['clock']} s per set | images/s | x vs pytorch-fid |", "|---|---|---:|---:|---:|"]
    for r in j["rows"]:
        out.append(f"| {r['path']} | {r['what']} | {r['seconds']:.2f} | {r['images_per_s']:.1f} | {r['x_vs_pytorch_fid']:.2f} |")
    out += ["", f"Ratio, ours / pytorch-fid: **{j['summary']['x_vs_pytorch_fid']:.2f}x**."]
    return out


def wallclock(j: dict) -> list[str]:
    a = j["args"]
    out = [f"### Per-step times of every grid cell and the extrapolated wall time ({device_kind(j)})", "",
           *provenance(j["env"]), f"- clock: {a['clock']} time, {a['threads'] or 'default'} torch thread(s)", "",
           "The tables are in [thesis_wallclock.md](thesis_wallclock.md). Totals, one run after another:", ""]
    for scale in dict.fromkeys(r["scale"] for r in j["experiments"]):
        rows = [r for r in j["experiments"] if r["scale"] == scale]
        mnist = sum(r["train_s"] + r["fid_s"] + r["reference_once_s"] for r in rows if r["experiment"] != "afhq")
        out.append(f"- {scale}: MNIST experiments {mnist / 3600:.2f} h on this device (reference statistics cached; "
                   f"{len([r for r in rows if r['experiment'] != 'afhq'])} experiments, "
                   f"{sum(r['runs'] for r in rows if r['experiment'] != 'afhq')} runs)")
    return out


RENDER = {"train_throughput": train_throughput, "fid_speed": fid_speed, "wallclock": wallclock}


def main() -> None:
    parts = []
    for f in sorted((HERE / "results").glob("*.json")):
        j = json.loads(f.read_text())
        parts += RENDER[j["benchmark"]](j) + ["", f"(from `benchmarks/results/{f.name}`)", ""]
    path = HERE / "RESULTS.md"
    text = path.read_text()
    i, k = text.index(BEGIN), text.index(END)
    block = f"{BEGIN} (written by benchmarks/render_results.py from benchmarks/results/*.json) -->\n\n" + "\n".join(parts)
    path.write_text(text[:i] + block + text[k:])
    print(f"wrote {path} from {len(list((HERE / 'results').glob('*.json')))} result files")


if __name__ == "__main__":
    main()
