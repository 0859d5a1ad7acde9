#!/usr/bin/env bash
# Every GPU measurement, ordered to fit one 15-minute GPU lease (start-up included, so about 11 minutes of work):
# correctness first, then the throughput ratios, then the wall time of the MNIST grid. One command runs the whole
# script (the device tool's limit is 10 minutes a command: give it timeout_s 600 and budget a rerun of one step).
# Each step has its own time limit, so one slow step cannot eat the others' time; a step that runs out says so in
# its output and the next one starts.
#
#   bash benchmarks/gpu_lease.sh              # all steps (~9 min), from the repository root, after pip install -e .
#   bash benchmarks/gpu_lease.sh fid          # one step again
#
# Results go to $OUT (the lease's output folder) or benchmarks/results; copy them to benchmarks/results and run
# `python benchmarks/render_results.py`, which writes them into benchmarks/RESULTS.md.
set -uo pipefail
out=${OUT:-benchmarks/results}
mkdir -p "$out"
export OMP_NUM_THREADS=4

correctness() {  # ~1.5 min: bf16 autocast, fused Adam, channels_last and compile against the fp32 path (CUDA tests)
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/nvidia-smi.txt"
    timeout 120 python -m pytest -q -p no:cacheprovider tests/test_fast_path.py 2>&1 | tail -5 | tee "$out/test_fast_path_cuda.txt"
}

fid() {  # ~2 min: our Inception features against pytorch-fid's in true fp32 (to 1e-4), then the speed ratio
    timeout 150 python benchmarks/fid_speed.py --device cuda --n 1000 --batch 500 --json "$out/fid_speed_cuda.json"
}

throughput() {  # ~3 min: our loop against pytorch/examples' DCGAN loop, measured in the same run, losses checked first
    timeout 180 python benchmarks/train_throughput.py --device cuda --steps 200 --variants fp32,bf16_cl,compile \
        --json "$out/train_throughput_cuda.json"
}

wallclock() {  # ~2.5 min: every grid cell's time per step at the full scale, and the MNIST grid's wall time
    timeout 150 python benchmarks/wallclock.py --device cuda --scales full --timed-steps 30 \
        --fid-json "$out/fid_speed_cuda.json" --json "$out/wallclock_cuda.json"
}

for step in ${@:-correctness fid throughput wallclock}; do
    start=$(date +%s)
    "$step" || echo "gpu_lease.sh: step $step failed or ran out of time"
    echo "gpu_lease.sh: step $step took $(( $(date +%s) - start )) s" | tee -a "$out/lease_steps.txt"
done
