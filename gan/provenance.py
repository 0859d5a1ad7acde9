"""Run folders: atomic writes, manifests (provenance) and the standard artifacts of a training run.

Every file a run writes goes through a temporary file and `os.replace`, so a job killed mid-write leaves either
the old file or the new one, never half of one; Snakemake then sees a missing output, not a corrupt one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import torch

MANIFEST_VERSION = 1


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _atomic(path: str | Path, write) -> Path:  # type: ignore[no-untyped-def]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are shared (cluster groups, the book build)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return _atomic(path, lambda f: f.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _clean(o: Any) -> Any:
    """JSON has no NaN or infinity: write them as null, so every consumer can parse the file."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, Path):
        return str(o)
    if getattr(o, "ndim", 0) > 0 and callable(getattr(o, "tolist", None)):  # numpy arrays / torch tensors
        return _clean(o.tolist())
    if hasattr(o, "item") and callable(o.item):  # numpy / torch scalars
        return _clean(o.item())
    return o


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(_clean(obj), indent=2, sort_keys=False, allow_nan=False) + "\n")


def atomic_write_csv(path: str | Path, rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """Write rows as CSV; a path ending in .gz is gzip-compressed (with a fixed header time, so the same rows
    always give the same bytes)."""
    rows = list(rows)
    columns = columns or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _fmt(r.get(k)) for k in columns})
    data = buf.getvalue().encode("utf-8")
    if str(path).endswith(".gz"):
        import gzip

        data = gzip.compress(data, mtime=0)
    return atomic_write_bytes(path, data)


def _fmt(v: Any) -> Any:
    return f"{v:.6g}" if isinstance(v, float) else v


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    return _atomic(path, lambda f: torch.save(obj, f))


def atomic_savefig(fig: Any, path: str | Path, **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically (format from the suffix)."""
    path = Path(path)
    kwargs.setdefault("dpi", 100)
    kwargs.setdefault("bbox_inches", "tight")
    return _atomic(path, lambda f: fig.savefig(f, format=path.suffix.lstrip("."), **kwargs))


# --- provenance -----------------------------------------------------------------------------------------------


def _git(args: list[str], cwd: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True).stdout


# results/ is what runs write, not what made them: outputs being rewritten do not make the code dirty
_CODE_STATUS = ["status", "--porcelain", "--untracked-files=no", "-z", "--", ":(top,exclude)results"]


def git_state(repo: str | Path | None = None) -> tuple[str, list[str] | None]:
    """The commit the code came from, with '-dirty' if tracked files (outside results/) differ from it, and those
    files, relative to the repository's root, so a '-dirty' commit says what made it so: ('unknown', None)
    outside git."""
    cwd = str(repo or Path(__file__).resolve().parent)
    try:
        sha = _git(["rev-parse", "HEAD"], cwd).strip()
        # -z: NUL-separated "XY path" entries, paths unquoted (a rename adds its old path as an entry of its own)
        entries = [e for e in _git(_CODE_STATUS, cwd).split("\0") if e]
    except Exception:
        return "unknown", None
    paths, i = [], 0
    while i < len(entries):
        paths.append(entries[i][3:])
        i += 2 if set(entries[i][:2]) & {"R", "C"} else 1
    return sha + ("-dirty" if paths else ""), sorted(paths)


def git_commit(repo: str | Path | None = None) -> str:
    """The commit the code came from, with '-dirty' if tracked files differ from it; 'unknown' outside git."""
    return git_state(repo)[0]


def versions() -> dict[str, str]:
    import numpy
    import torchvision

    from gan import __version__

    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "numpy": numpy.__version__, "gan": __version__}


def _cpu_model() -> str:
    """The processor's model name (Linux: /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_description() -> str:
    """Where a job ran. On a CPU it names the processor and the vector instructions torch's kernels use (AVX2,
    AVX512...): floating-point sums differ between them, and a GAN run amplifies the difference, so a run is
    bit-for-bit repeatable only on the same kind of processor with the same thread count."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CUDA {torch.version.cuda})"
    return (f"CPU: {_cpu_model()} ({platform.machine()}, {torch.backends.cpu.get_cpu_capability()}), {os.cpu_count()} cores, "
            f"torch threads {torch.get_num_threads()}")


def manifest(*, experiment: str, scale: str, config: dict[str, Any], seed: int | None = None,
             wall_time_s: float | None = None, command: str | None = None, **extra: Any) -> dict[str, Any]:
    """What ran, with what, where and how long: stored beside every run's and every experiment's outputs."""
    commit, dirty = git_state()
    return {
        "manifest_version": MANIFEST_VERSION,
        "experiment": experiment,
        "scale": scale,
        "rule": os.environ.get("GAN_RULE", experiment),
        "seed": seed,
        "config": config,
        "git_commit": commit,
        "dirty_files": dirty,
        "versions": versions(),
        "device": device_description(),
        "host": socket.gethostname(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "wall_time_s": wall_time_s,
        "command": command or os.environ.get("GAN_COMMAND") or " ".join(sys.argv),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **extra,
    }


def write_manifest(out_dir: str | Path, **kwargs: Any) -> Path:
    return atomic_write_json(Path(out_dir) / "manifest.json", manifest(**kwargs))


def read_json(path: str | Path) -> Any:
    with open(path) as f:
        return json.load(f)
