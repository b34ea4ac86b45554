"""multimodal_gaussian with the spline-flow whitening (seventh session): where the miss comes from.

Usage::

    OMP_NUM_THREADS=1 python mm_diag.py MODE [SEED]

MODE: ``default`` (the package: the flow fitted first, with early stopping, then frozen);
``joint`` (no separate first fit: flow and flow matching train together for every epoch).
Prints the first fit's epochs and scores, for all 10 observations (10,000 draws a side),
the model (``default``) and the whitening flow alone (``whiten``: flow matching replaced by
its input noise). Writes ``mm_<MODE>_seed<SEED>.json``.
"""

import json
import sys
import time

import numpy as np
import torch

from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.benchmarks._runner import _reference_rng
from sklearn_sbi.metrics import c2st
from sklearn_sbi.networks import FlowMatching
from sklearn_sbi.networks.inference import _whitening as W


def main() -> None:
    torch.set_num_threads(1)
    mode, seed = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if mode == "joint":
        W.WhitenedModule.needs_pretraining = property(lambda self: False)
    task = get_task("multimodal_gaussian")
    est = task.make_estimator(FlowMatching(), batch_size=256, random_state=seed)
    posterior = est[-1] if hasattr(est, "steps") else est
    X, y = task.simulate(10_000, random_state=seed)
    start = time.time()
    est.fit(X, y)
    scores = posterior.pretraining_validation_scores_
    print(
        mode,
        "trained",
        round(time.time() - start),
        "s; first fit",
        len(scores),
        "epochs, best",
        int(np.argmin(scores)) + 1 if scores else None,
        flush=True,
    )
    X_obs, _ = task.observations
    refs = [
        task.reference_posterior(X_obs[i], 10_000, random_state=_reference_rng(seed, i))
        for i in range(10)
    ]
    inner = posterior.network_.inference.inner
    results = {"pretraining_validation_scores": scores}
    for variant in ("default", "whiten"):
        if variant == "whiten":
            inner.sample = lambda context, noise: noise
        samples = est.sample(X_obs, 10_000, random_state=seed)
        results[variant] = [c2st(samples[i], refs[i], random_state=seed) for i in range(10)]
        print(
            variant,
            round(float(np.mean(results[variant])), 4),
            [round(s, 3) for s in results[variant]],
            flush=True,
        )
    with open(f"mm_{mode}_seed{seed}.json", "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
