"""Train the benchmark estimator once (full protocol's fit), pickle it, then score sampling
variants on the task's observations without retraining.

Usage::

    [VARIANT=...] OMP_NUM_THREADS=1 python diag.py TASK NAME [variants...] [nobs=N] [seed=S]
        [net="{FlowMatching kwargs}"] [est="{AmortizedPosterior kwargs}"]

``VARIANT`` applies the patches of ``../whitening_flow/patches.py`` before training.

Variants: ``default``; ``steps=K`` (rk4 with K steps); ``whiten`` (the whitening stages alone:
the flow-matching network replaced by its input noise); ``inner`` (Student-t only: the spline
and flow matching bypassed).
"""

import ast
import json
import os
import pickle
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "whitening_flow"))
import patches  # noqa: F401  (applies the VARIANT patches on import)

from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.benchmarks._runner import HIGH_DIMENSION, _reference_rng
from sklearn_sbi.metrics import c2st
from sklearn_sbi.networks import FlowMatching

OPTIONS = ("nobs", "seed", "net", "est")


def main() -> None:
    torch.set_num_threads(1)
    task_name, name = sys.argv[1:3]
    args = sys.argv[3:]
    opts = dict(a.split("=", 1) for a in args if "=" in a and a.split("=")[0] in OPTIONS)
    variants = [a for a in args if a.split("=")[0] not in OPTIONS]
    nobs = int(opts.get("nobs", 10))
    seed = int(opts.get("seed", 0))
    task = get_task(task_name)
    path = f"{name}.pkl"
    if os.path.exists(path):
        with open(path, "rb") as handle:
            est = pickle.load(handle)
    else:
        net_kw = ast.literal_eval(opts.get("net", "{}"))
        est_kw = ast.literal_eval(opts.get("est", "{}"))
        est = task.make_estimator(FlowMatching(**net_kw), random_state=seed, **est_kw)
        X, y = task.simulate(10_000, random_state=seed)
        start = time.time()
        est.fit(X, y)
        seconds = round(time.time() - start, 1)
        print("trained", seconds, "s", os.environ.get("VARIANT"), opts, flush=True)
        with open(path, "wb") as handle:
            pickle.dump(est, handle)
    posterior = est[-1] if hasattr(est, "steps") else est
    module = posterior.network_.inference
    inner = module.inner
    X_obs, _ = task.observations
    n = 2_000 if task.n_params >= HIGH_DIMENSION else 10_000  # as run_benchmark
    refs = [
        task.reference_posterior(X_obs[i], n, random_state=_reference_rng(seed, i))
        for i in range(nobs)
    ]
    results = {}
    for variant in variants or ["default"]:
        original_steps, original_flow = inner.steps, module.flow
        if variant.startswith("steps="):
            inner.steps = int(variant.split("=")[1])
        elif variant in ("whiten", "inner"):
            inner.sample = lambda context, noise: noise
            if variant == "inner":
                module.flow = None
        try:
            samples = est.sample(X_obs[:nobs], n, random_state=seed)
        finally:
            inner.steps, module.flow = original_steps, original_flow
            inner.__dict__.pop("sample", None)  # the class's sample again
        scores = [c2st(samples[i], refs[i], random_state=seed) for i in range(nobs)]
        results[variant] = scores
        print(variant, round(float(np.mean(scores)), 4), [round(s, 3) for s in scores], flush=True)
    suffix = "_".join(v.replace("=", "") for v in variants or ["default"])
    with open(f"{name}_{suffix}.json", "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
