"""What every benchmark here shares: where it ran, the median of interleaved repeats, and result files.

A timing without its device, versions, date, command and machine load cannot be compared with anything, so
every script prints `environment()` first and writes it into its JSON result next to the numbers.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import statistics
import sys
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as `python benchmarks/x.py` from a checkout without `pip install -e .`
    sys.path.insert(0, str(REPO))


def load_average() -> str:
    """The 1/5/15-minute load averages (other people's jobs share these machines' cores)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {os.cpu_count()} cores visible, torch threads {torch.get_num_threads()}"


def environment(device: torch.device) -> dict[str, Any]:
    import torchvision

    try:
        import pytorch_fid

        fid_version = pytorch_fid.__version__
    except ImportError:
        fid_version = "not installed"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": device_name(device),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pytorch_fid": fid_version,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "python": platform.python_version(),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "load_before": load_average(),
    }


def resolve(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    return torch.device(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (DataLoader workers), user + system.

    On a CPU that other jobs share, wall time measures the neighbours as much as the code; the CPU time a
    single-threaded process spends is what the code costs, whatever else runs."""
    import time

    t = os.times()  # children: 10 ms ticks, counted once a worker has exited; this process: ns resolution
    return time.process_time() + t.children_user + t.children_system


def clock(kind: str):
    """`time.perf_counter` for wall time, `cpu_seconds` for CPU time."""
    import time

    return time.perf_counter if kind == "wall" else cpu_seconds


def set_clock(a: Any, device: torch.device) -> None:
    """Resolve the --clock and --threads options in place: wall time with syncs on CUDA; on the CPU, process CPU
    time with one torch thread, the cost of one job on an idle core whatever the neighbours do."""
    a.clock = a.clock if a.clock != "auto" else ("wall" if device.type == "cuda" else "cpu")
    if a.clock == "cpu" and device.type == "cuda":
        raise SystemExit("--clock cpu measures CPU time; GPU work needs --clock wall")
    a.threads = a.threads or (1 if a.clock == "cpu" else None)
    if a.threads:
        torch.set_num_threads(a.threads)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def print_header(env: dict[str, Any]) -> None:
    for k in ("date", "device", "torch", "torchvision", "pytorch_fid", "cuda", "command", "load_before"):
        if env.get(k) is not None:
            print(f"# {k}: {env[k]}")


def write_json(path: str | Path | None, payload: dict[str, Any]) -> None:
    if path is None:
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=str) + "\n")
    os.replace(tmp, p)
    print(f"# wrote {p}")
