"""C2ST of the consistency model's sampling steps, on one trained two_moons model.

Trains ``task.make_estimator("consistency", random_state=0)`` on 10,000
two_moons simulations exactly as the benchmark runner does, then samples the
10 task observations with each number of sampling steps from the same trained
weights and scores each against the exact posterior (C2ST, 10,000 draws a
side, the runner's seeds), through ``ConsistencyModule.set_sampling_steps``.

Usage::

    OMP_NUM_THREADS=1 python scripts/consistency_steps.py --steps 1 2 3
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.benchmarks._runner import _reference_rng
from sklearn_sbi.metrics import c2st


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()
    torch.set_num_threads(1)

    task = get_task("two_moons")
    X, y = task.simulate(10_000, random_state=0)
    estimator = task.make_estimator("consistency", random_state=0).fit(X, y)
    module = estimator.network_.inference
    module = getattr(module, "inner", module)  # behind the conditional whitening
    X_obs, _ = task.observations
    references = [
        task.reference_posterior(X_obs[i], args.draws, random_state=_reference_rng(0, i))
        for i in range(len(X_obs))
    ]
    results = {}
    for steps in args.steps:
        module.set_sampling_steps(steps)
        draws = estimator.sample(X_obs, args.draws, random_state=0)
        scores = [c2st(d, r, random_state=0) for d, r in zip(draws, references, strict=True)]
        results[steps] = scores
        print(f"{steps} steps: C2ST {np.mean(scores):.3f} {np.round(scores, 3).tolist()}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"settings": vars(args), "c2st": results}, handle, indent=1)


if __name__ == "__main__":
    main()
