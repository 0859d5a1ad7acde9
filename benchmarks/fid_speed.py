"""FID feature extraction speed: ours (`InceptionPool3` + `extract_features` on uint8 tensors) against the
pytorch-fid package (its `InceptionV3` and its own data path: PNG files -> PIL -> DataLoader -> `get_activations`),
on the same images and the same weights file.

No Inception weights can be downloaded here, so the script writes a random-init FID-Inception state dict to a
temporary folder, made non-degenerate first (fresh init gives pool3 features of about 1e-8 and every FID 0, see
/work/shared/notes/offline-data.md): every BatchNorm's running statistics are re-estimated from a few train-mode
passes over noise. Both implementations load that one file (pytorch-fid through a temporary torch hub folder,
where it looks for its weights before downloading). Speed does not depend on the weights' values.

Correctness first (the untimed warm-up pass): features of both implementations agree to 1e-4 relative on two
image sets (MNIST-5k and scikit-learn's upscaled digits), and the FID between the sets agrees, computed by
pytorch-fid's `calculate_frechet_distance` on its features and by `gan.metrics.fid` on ours. Then --repeats
interleaved rounds time each path on set A; the median is reported.

Clock: wall time on CUDA; on the CPU, by default, CPU time of this process and its DataLoader workers with one
torch thread (--clock cpu), because these machines' 2 cores are shared and wall time there measures the neighbours.

Both paths run in true fp32: the library turns TF32 off while it extracts features, and so does this script for
pytorch-fid (pass --tf32-theirs to time pytorch-fid with cuDNN's TF32 default instead; its features then differ
by more than 1e-4).

    python benchmarks/fid_speed.py                       # CPU: 100 images per set, about 2 minutes on 2 cores
    python benchmarks/fid_speed.py --device cuda --n 2000 --batch 500
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from common import clock, environment, load_average, median, print_header, resolve, set_clock, sync, write_json  # noqa: I001

import torch

from gan.config import DataConfig
from gan.data import load_dataset
from gan.metrics.features import FID_WEIGHTS_FILE, InceptionPool3, extract_features, write_standin_inception_weights
from gan.metrics.fid import fid_from_features


def write_pngs(images: torch.Tensor, folder: Path) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, im in enumerate(images):
        a = im.permute(1, 2, 0).numpy()
        f = folder / f"{i:06d}.png"
        Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a).save(f)
        files.append(f)
    return files


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    scale = float(np.abs(theirs).max())
    return {"max_abs_diff_over_max_abs": float(np.abs(ours - theirs).max() / scale),
            "rel_fro": float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)),
            "feature_mean": float(theirs.mean()),
            "constant_features": int((theirs.std(0) == 0).sum())}


class NCHWInception(InceptionPool3):
    """Our network without its channels_last layout: times that one change on its own."""

    def __init__(self, weights: Path) -> None:
        super().__init__(weights)
        self.to(memory_format=torch.contiguous_format)

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        return super().preprocess(images).contiguous()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--n", type=int, default=100, help="images per set (pytorch-fid takes ~3.6 s per 50 on 2 CPU cores)")
    p.add_argument("--batch", type=int, default=None, help="our batch size (default: 100 on CPU, 500 on CUDA)")
    p.add_argument("--batch-theirs", type=int, default=50, help="pytorch-fid's batch size (its default)")
    p.add_argument("--workers", type=int, default=None, help="pytorch-fid DataLoader workers "
                   "(default: 1 on CPU, get_activations' default; min(8, cpus) on CUDA, its command line's)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--no-nchw", action="store_true", help="skip timing our path without channels_last")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: 1 with --clock cpu, else torch's)")
    p.add_argument("--clock", default="auto", choices=["auto", "wall", "cpu"],
                   help="auto: wall time on CUDA, process CPU time on the CPU")
    p.add_argument("--tf32-theirs", action="store_true", help="leave cuDNN's TF32 default on for pytorch-fid")
    p.add_argument("--tol", type=float, default=1e-4, help="feature agreement: max |ours - theirs| / max |theirs|")
    p.add_argument("--fid-tol", type=float, default=1e-3, help="FID agreement, relative")
    p.add_argument("--json", default=None)
    a = p.parse_args()

    device = resolve(a.device)
    set_clock(a, device)
    a.batch = a.batch or (500 if device.type == "cuda" else 100)
    a.workers = a.workers if a.workers is not None else (min(8, os.cpu_count() or 1) if device.type == "cuda" else 1)
    env = environment(device)
    print_header(env)
    print(f"# {a.n} images per set; our batch {a.batch}, pytorch-fid batch {a.batch_theirs} with {a.workers} worker(s); "
          f"clock {a.clock}, torch threads {torch.get_num_threads()}")

    from pytorch_fid.fid_score import calculate_frechet_distance, get_activations
    from pytorch_fid.inception import InceptionV3

    set_a = load_dataset(DataConfig.from_dict({"name": "mnist5k"})).images[: a.n]
    set_b = load_dataset(DataConfig.from_dict({"name": "digits"})).images[: a.n]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        weights = tmp / "hub" / "checkpoints" / FID_WEIGHTS_FILE
        write_standin_inception_weights(weights)
        print(f"# stand-in weights written in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        files_a = write_pngs(set_a, tmp / "a")
        png_s = time.perf_counter() - t
        files_b = write_pngs(set_b, tmp / "b")
        print(f"# {a.n} PNGs per set written in {png_s:.2f} s (pytorch-fid needs files; not counted below)")

        torch.hub.set_dir(str(tmp / "hub"))  # pytorch-fid finds FID_WEIGHTS_FILE there and downloads nothing
        theirs_net = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).to(device).eval()
        ours_net = InceptionPool3(weights).to(device)
        nchw_net = None if a.no_nchw else NCHWInception(weights).to(device)
        if not a.tf32_theirs:
            torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False

        def theirs(files: list[Path]) -> np.ndarray:
            return get_activations(files, theirs_net, a.batch_theirs, 2048, device, a.workers)

        # --- correctness (also the warm-up) ---
        t = time.perf_counter()
        fa_t, fb_t = theirs(files_a), theirs(files_b)
        fa_o, fb_o = extract_features(ours_net, set_a, a.batch), extract_features(ours_net, set_b, a.batch)
        ca, cb = compare(fa_o, fa_t), compare(fb_o, fb_t)
        mu = lambda f: f.mean(0)  # noqa: E731
        cov = lambda f: np.cov(f, rowvar=False)  # noqa: E731
        fid_theirs = float(calculate_frechet_distance(mu(fa_t), cov(fa_t), mu(fb_t), cov(fb_t)))
        fid_ours = fid_from_features(fa_o, fb_o)
        fid_ours_on_theirs = fid_from_features(fa_t, fb_t)
        fid_rel = abs(fid_ours - fid_theirs) / abs(fid_theirs)
        checks = {"features_a": ca, "features_b": cb, "fid_pytorch_fid": fid_theirs, "fid_ours": fid_ours,
                  "fid_ours_distance_on_their_features": fid_ours_on_theirs, "fid_rel_diff": fid_rel}
        feat_ok = max(ca["max_abs_diff_over_max_abs"], cb["max_abs_diff_over_max_abs"]) <= a.tol
        fid_ok = fid_rel <= a.fid_tol and fid_theirs > 1e-3
        print(f"check {'PASS' if feat_ok else 'FAIL'}: features, max |ours - pytorch-fid| / max |pytorch-fid| = "
              f"{ca['max_abs_diff_over_max_abs']:.2e} (set A), {cb['max_abs_diff_over_max_abs']:.2e} (set B); "
              f"tolerance {a.tol:.0e}; mean feature {ca['feature_mean']:.3g}, "
              f"constant features {ca['constant_features']}/2048")
        print(f"check {'PASS' if fid_ok else 'FAIL'}: FID(A, B) pytorch-fid {fid_theirs:.6f}, ours {fid_ours:.6f} "
              f"(rel. diff {fid_rel:.1e}, tolerance {a.fid_tol:.0e}); our Frechet distance on pytorch-fid's "
              f"features {fid_ours_on_theirs:.6f}")
        print(f"# checks took {time.perf_counter() - t:.0f} s")
        if not (feat_ok and fid_ok):
            raise SystemExit("correctness check failed: not timing a path that computes something else")

        # --- timing, interleaved ---
        runs = [("pytorch-fid", lambda: theirs(files_a)),
                ("ours", lambda: extract_features(ours_net, set_a, a.batch))]
        if nchw_net is not None:
            runs.append(("ours_nchw", lambda: extract_features(nchw_net, set_a, a.batch)))
        times: dict[str, list[float]] = {n: [] for n, _ in runs}
        now = clock(a.clock)
        t_all = time.perf_counter()
        for rep in range(a.repeats):
            k = rep % len(runs)
            for name, fn in runs[k:] + runs[:k]:
                sync(device)
                t0 = now()
                fn()
                sync(device)
                times[name].append(now() - t0)
            print(f"# round {rep + 1}/{a.repeats} done ({time.perf_counter() - t_all:.0f} s, load {load_average()})",
                  flush=True)

    med = {n: median(ts) for n, ts in times.items()}
    what = {"pytorch-fid": f"InceptionV3 + get_activations over PNGs (batch {a.batch_theirs}, {a.workers} worker(s))",
            "ours": f"InceptionPool3 + extract_features on uint8 tensors (batch {a.batch}, channels_last)",
            "ours_nchw": f"the same without channels_last (batch {a.batch})"}
    rows = []
    print(f"\n| path | {a.clock} s per set (median) | min-max s | images/s | x vs pytorch-fid |")
    print("|---|---:|---:|---:|---:|")
    for n, ts in times.items():
        x = med["pytorch-fid"] / med[n]
        rows.append({"path": n, "seconds": med[n], "runs_s": ts, "images_per_s": a.n / med[n], "x_vs_pytorch_fid": x,
                     "what": what[n]})
        print(f"| {n} | {med[n]:.2f} | {min(ts):.2f}-{max(ts):.2f} | {a.n / med[n]:.1f} | {x:.2f} |")
    ratio = med["pytorch-fid"] / med["ours"]
    print(f"\nratio (images/s, ours / pytorch-fid): {ratio:.2f}x on {a.n} images; writing the PNGs that pytorch-fid "
          f"reads took another {png_s:.2f} s")
    env["load_after"] = load_average()
    print(f"# load after: {env['load_after']}")
    write_json(a.json, {"benchmark": "fid_speed", "env": env, "args": vars(a), "checks": checks, "rows": rows,
                        "png_write_s": png_s, "summary": {"x_vs_pytorch_fid": ratio}})


if __name__ == "__main__":
    main()
