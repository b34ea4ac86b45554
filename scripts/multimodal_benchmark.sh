#!/usr/bin/env bash
# Issue 5's targets on multimodal_gaussian (10,000 simulations), the exact commands
# run for benchmarks_results/MULTIMODAL.md. One process at a time, torch on one thread.
#
#   bash scripts/multimodal_benchmark.sh              # both targets (about 25 min on 2 cores)
#   bash scripts/multimodal_benchmark.sh final        # only the 10-observation C2ST run
#   bash scripts/multimodal_benchmark.sh contraction  # only fused vs single experiments
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out=benchmarks_results
mkdir -p "$out"
only="${1:-}"

# Target 1: C2ST of task.make_estimator() (B differenced, the task's summary network,
# flow matching defaults) with batch 256, all 10 observations, 10,000 draws a side.
if [[ -z "$only" || "$only" == "final" ]]; then
python - <<'EOF'
import json

from sklearn_sbi.benchmarks import format_report, get_task, run_benchmark

task = get_task("multimodal_gaussian")
est = task.make_estimator("flow_matching", batch_size=256, random_state=0)
posterior = est[-1]
params = {k: repr(v) for k, v in posterior.get_params(deep=True).items() if k != "summary_net"}
print("estimator params:", params, flush=True)
result = run_benchmark(task, est, 10_000, random_state=0, verbose=True)
print(format_report(result))
result.update(tag="final", estimator_params=params, stop_reason=posterior.stop_reason_)
with open("benchmarks_results/multimodal_final.json", "w") as handle:
    json.dump(result, handle, indent=1)
EOF
fi

# Target 2: fused vs single-experiment posteriors on the same simulations.
if [[ -z "$only" || "$only" == "contraction" ]]; then
    python scripts/multimodal_contraction.py --batch-size 256 \
        --json "$out/multimodal_contraction.json"
fi
