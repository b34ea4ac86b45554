#!/usr/bin/env bash
# Issue 3's benchmark targets with the package defaults, 10,000 simulations, all
# 10 observations; one process at a time (the CPU is shared). JSON lands in
# benchmarks_results/; see benchmarks_results/README.md for the measured table.
#
#   bash scripts/run_benchmarks.sh            # everything (hours on 2 shared cores)
#   bash scripts/run_benchmarks.sh two_moons  # only the two_moons rows
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out=benchmarks_results
mkdir -p "$out"
only="${1:-}"

run() {  # task net
    [[ -n "$only" && "$only" != "$1" ]] && return 0
    python -m sklearn_sbi.benchmarks --task "$1" --net "$2" --simulations 10000 \
        --observations 10 --json "$out/final_$1_$2.json"
}

run two_moons flow_matching
run two_moons spline_coupling
run two_moons consistency
run two_moons affine_coupling
run gaussian_linear flow_matching
run gaussian_mixture flow_matching
run slcp flow_matching

python scripts/solver_accuracy.py --observations 1 2 --json "$out/solver_accuracy.json"
python scripts/consistency_steps.py --steps 1 2 3 --json "$out/consistency_steps.json"
python scripts/sampling_speed.py --json "$out/sampling_speed.json"
python scripts/training_overhead.py --net flow_matching --json "$out/training_overhead_flow_matching.json"
python scripts/training_overhead.py --net affine_coupling --json "$out/training_overhead_affine_coupling.json"
