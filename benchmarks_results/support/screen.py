"""Screening driver of the third session's runs (the JSON files next to this script).

Usage::

    PYTHONPATH=. OMP_NUM_THREADS=1 python benchmarks_results/support/screen.py \\
        NAME TASK {fm,cm,affine,spline} "NET_KWARGS" "ESTIMATOR_KWARGS" [flags]

Flags: ``set`` (slcp: the 8 numbers as 4 draws of 2, the prototype of ``Unflatten``),
``deepset`` / ``mlp`` (that summary network), ``nobs=N``, ``ns=N`` (draws a side),
``nsim=N`` (simulations, 10,000 by default). The FiLM prototype runs (``tm_fm_film``,
``gm_fm_film``, ``gl_fm_film``) patched in the architecture that became
``FlowMatching(conditioning="film")``; today that is the default.
"""

import ast
import json
import sys
import time

import numpy as np
import torch
from sklearn.preprocessing import FunctionTransformer

from sklearn_sbi import AmortizedPosterior, Simulations
from sklearn_sbi.benchmarks import get_task, run_benchmark
from sklearn_sbi.networks import MLP, ConsistencyModel, CouplingFlow, DeepSet, FlowMatching
from sklearn_sbi.pipeline import make_posterior_pipeline


def flag_value(flags: list[str], key: str, default: int) -> int:
    values = [int(flag.split("=", 1)[1]) for flag in flags if flag.startswith(f"{key}=")]
    return values[-1] if values else default


def main() -> None:
    torch.set_num_threads(1)
    name, task_name, net = sys.argv[1:4]
    net_kw = ast.literal_eval(sys.argv[4]) if len(sys.argv) > 4 else {}
    est_kw = ast.literal_eval(sys.argv[5]) if len(sys.argv) > 5 else {}
    flags = sys.argv[6:]
    task = get_task(task_name)
    nets = {"fm": FlowMatching, "cm": ConsistencyModel}
    inference = nets[net](**net_kw) if net in nets else CouplingFlow(transform=net, **net_kw)
    summary = task.make_summary_net()
    if "deepset" in flags:
        summary = DeepSet()
    if "mlp" in flags:
        summary = MLP()
    estimator = AmortizedPosterior(
        inference_net=inference, summary_net=summary, random_state=0, **est_kw
    )
    if "set" in flags:
        as_set = FunctionTransformer(lambda X: Simulations(x=np.asarray(X).reshape(len(X), 4, 2)))
        estimator = make_posterior_pipeline(as_set, estimator)
    draws = flag_value(flags, "ns", 5000 if task.n_params < 8 else 2000)
    start = time.time()
    result = run_benchmark(
        task,
        estimator,
        flag_value(flags, "nsim", 10_000),
        n_observations=flag_value(flags, "nobs", 3),
        n_posterior_samples=draws,
        random_state=0,
    )
    result.update(
        name=name, net_kw=repr(net_kw), est_kw=repr(est_kw), flags=flags, wall=time.time() - start
    )
    with open(f"{name}.json", "w") as handle:
        json.dump(result, handle, indent=1, default=str)
    print(name, "C2ST", round(result["c2st_mean"], 4), [round(c, 3) for c in result["c2st"]])


if __name__ == "__main__":
    main()
