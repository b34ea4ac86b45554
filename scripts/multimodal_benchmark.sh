#!/usr/bin/env bash
# Issue 5's targets on multimodal_gaussian (10,000 simulations), the exact commands
# run for benchmarks_results/MULTIMODAL.md. One process at a time, torch on one thread.
#
#   bash scripts/multimodal_benchmark.sh          # everything (about 45 min on 2 shared cores)
#   bash scripts/multimodal_benchmark.sh final    # only the 10-observation C2ST run
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out=benchmarks_results
mkdir -p "$out"
only="${1:-}"

# benchmark TAG MAX_EPOCHS BATCH_SIZE N_OBSERVATIONS N_POSTERIOR_SAMPLES
# AmortizedPosterior(inference_net="flow_matching", summary_net=task.make_summary_net())
# with the estimator's defaults except max_epochs / batch_size; writes
# $out/multimodal_TAG.json with every estimator parameter (inference_net__* included,
# so a change of the flow-matching defaults shows up in the record).
benchmark() {
    [[ -n "$only" && "$only" != "$1" ]] && return 0
    python - "$@" <<'EOF'
import json
import sys

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.benchmarks import format_report, get_task, run_benchmark

tag, max_epochs, batch_size, n_obs, n_samples = sys.argv[1], *map(int, sys.argv[2:6])
task = get_task("multimodal_gaussian")
est = AmortizedPosterior(
    inference_net="flow_matching",
    summary_net=task.make_summary_net(),
    max_epochs=max_epochs,
    batch_size=batch_size,
    random_state=0,
)
params = {k: repr(v) for k, v in est.get_params(deep=True).items() if k != "summary_net"}
print("estimator params:", params, flush=True)
result = run_benchmark(
    task, est, 10_000, n_observations=n_obs, n_posterior_samples=n_samples,
    random_state=0, verbose=True,
)
print(format_report(result))
result.update(
    tag=tag, estimator_params=params, stop_reason=est.stop_reason_,
    best_epoch=int(est.best_epoch_), validation_scores=[float(v) for v in est.validation_scores_],
)
with open(f"benchmarks_results/multimodal_{tag}.json", "w") as handle:
    json.dump(result, handle, indent=1)
EOF
}

# Runs tagged *_head used make_summary_net() with head=MLP(widths=(128, 128), output_dim=6)
# (its version before this change); the others use the current one (no head).
# Screening: 3 observations, 5,000 draws a side.
benchmark screen_b256_e100_head 100 256 3 5000

# Does the inference network reach the target from exact sufficient statistics?
# Same flow matching and settings, X = (sum of the 25 iid draws, sum of their
# squares): no summary network involved.
if [[ -z "$only" || "$only" == "sufficient_stats" ]]; then
python - <<'EOF'
import json

import numpy as np

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.metrics import c2st

task = get_task("multimodal_gaussian")


def statistics(X):
    draws = np.concatenate(
        [X["observables_a"], np.diff(X["observables_b"], axis=1, prepend=0.0)], axis=1
    )
    return np.column_stack([draws.sum(axis=1), (draws**2).sum(axis=(1, 2))])


X, y = task.simulate(10_000, random_state=0)
X_obs, _ = task.observations
est = AmortizedPosterior(max_epochs=100, batch_size=256, random_state=0).fit(statistics(X), y)
samples = est.sample(statistics(X_obs[:3]), 5000, random_state=0)
scores = []
for i in range(3):
    reference = task.reference_posterior(X_obs[i], 5000, random_state=np.random.default_rng([0, i]))
    scores.append(c2st(samples[i], reference, random_state=0))
    print(f"obs {i + 1}: mean {samples[i].mean(0).round(3)} vs {reference.mean(0).round(3)}, "
          f"sd {samples[i].std(0).round(3)} vs {reference.std(0).round(3)}, C2ST {scores[-1]:.3f}")
print(f"C2ST mean {np.mean(scores):.3f} sd {np.std(scores):.3f}; "
      f"{est.training_seconds_:.0f} s, {est.n_iter_} epochs")
with open("benchmarks_results/multimodal_sufficient_stats.json", "w") as handle:
    json.dump({"c2st": scores, "training_seconds": est.training_seconds_,
               "n_epochs": int(est.n_iter_), "max_epochs": 100, "batch_size": 256}, handle, indent=1)
EOF
fi

# Target 2: fused vs single-experiment posteriors on the same simulations.
# (multimodal_contraction_head.json: this command before the change, file renamed.)
if [[ -z "$only" || "$only" == "contraction" ]]; then
    python scripts/multimodal_contraction.py --max-epochs 100 --batch-size 256 \
        --json "$out/multimodal_contraction.json"
fi

# Target 1, final number: all 10 observations, 10,000 draws a side.
benchmark final_head 100 256 10 10000
benchmark final 100 256 10 10000
