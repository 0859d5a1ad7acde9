#!/usr/bin/env bash
# Every GPU measurement this folder needs, ordered to fit one 30-minute GPU lease: correctness first, then timing.
# Each step has its own time limit, so one slow step cannot eat the others' time; where one command may run at most
# 10 minutes, run the steps one per command (`bash benchmarks/gpu_lease.sh tests throughput`, then `fid wallclock`).
# Results go to $OUT (the lease's output folder) or benchmarks/results; copy them to benchmarks/results and run
# `python benchmarks/render_results.py`.
#
#   bash benchmarks/gpu_lease.sh                 # all steps, from the repository root, after pip install -e .
set -uo pipefail
out=${OUT:-benchmarks/results}
mkdir -p "$out"

tests() {  # the fast path's CUDA tests: fused Adam on, bf16 + channels_last tracks fp32 (about 1 minute)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
    timeout 240 python -m pytest -q tests/test_fast_path.py 2>&1 | tail -5 | tee "$out/test_fast_path_cuda.txt"
}

throughput() {  # our loop vs the pytorch/examples loop, every variant, losses checked against fp32 first (~6 min)
    timeout 330 python benchmarks/train_throughput.py --device cuda --json "$out/train_throughput_cuda.json"
    timeout 240 python benchmarks/train_throughput.py --device cuda --batch 128 --check-steps 0 \
        --variants fp32,bf16_cl,compile --json "$out/train_throughput_cuda_b128.json"
}

fid() {  # ours vs pytorch-fid on 2,000 images, features to 1e-4 first (about 3 minutes)
    timeout 420 python benchmarks/fid_speed.py --device cuda --n 2000 --batch 500 --json "$out/fid_speed_cuda.json"
}

wallclock() {  # every grid cell's time per step at the full scale, and the extrapolated wall time (about 5 minutes)
    timeout 540 python benchmarks/wallclock.py --device cuda --scales full --timed-steps 50 \
        --fid-json "$out/fid_speed_cuda.json" --json "$out/wallclock_cuda.json"
}

for step in "${@:-tests throughput fid wallclock}"; do
    for s in $step; do "$s"; done
done
