"""Two moons: four inference networks compared on the same simulations.

The two-moons walkthrough trains four "inference networks" (the part of the
model that represents ``p(theta | x)``) on one set of simulations and plots
their posteriors at ``x = (0, 0)`` side by side. This script does the same
with sklearn-sbi and adds the numbers behind the picture.

The networks
------------
- **Flow matching** (``"flow_matching"``): learns a velocity field that
  transports standard normal noise to the posterior; sampling integrates an
  ODE (a few dozen network evaluations per draw). Free-form, so it handles
  the two separate moons well, and it has a density (``log_prob``).
- **Consistency model** (``"consistency"``): learns to jump from any point of
  a noising path straight back to its end point, so a draw costs only
  ``sampling_steps`` (3) network evaluations. No density.
- **Affine coupling flow** (``CouplingFlow(transform="affine", depth=8,
  widths=(64, 64))``): a normalizing flow, one pass per draw and an exact
  density, but affine layers struggle to split mass into two moons.
- **Spline coupling flow** (``CouplingFlow(transform="spline", depth=4)``):
  monotonic rational-quadratic splines are far more flexible per layer and
  usually beat affine couplings on low-dimensional multimodal posteriors.

All four are trained on the same 32,768 simulations (learning rate 1e-3, 10%
held out for validation) with the budgets of ``ESTIMATORS`` below, chosen so
the whole script runs in about 8 minutes on 2 CPU cores:

- flow matching: 4 hidden layers of 128 units, 60 epochs of batch size 64;
- consistency model: 4 hidden layers of 128 units, 80 epochs of batch size 128;
- affine coupling flow: at most 20 epochs, spline coupling flow: at most 15
  epochs, both of batch size 128 with early stopping (their epochs cost 3-5
  times more).

Flow matching and the consistency model work behind their default whitening
(a spline coupling flow fitted first, with early stopping, then frozen), which
maps the thin crescents to a near standard normal; they then train every
epoch (no early stopping).

The walkthrough trains 30-50 epochs at batch size 64 with wider networks;
expect better numbers from a larger budget.

For each network the script prints C2ST against the exact posterior (0.5 =
indistinguishable, 1.0 = fully separable; 3,000 draws a side), the training
time and the sampling speed, and saves ``two_moons_comparison.png``.

Run ``python examples/two_moons_comparison.py`` or add ``--quick`` for a
smoke test with tiny settings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.base import clone
from two_moons import OBSERVATION, make_two_moons_simulator, plot_moons

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.benchmarks import get_task
from sklearn_sbi.metrics import c2st
from sklearn_sbi.networks import ConsistencyModel, CouplingFlow, FlowMatching

# support: the prior is uniform on [-1, 1]^2, so draws outside that box are rejected.
COMMON = {"learning_rate": 1e-3, "support": (-1.0, 1.0), "random_state": 0}

# name -> (estimator, plot colour). Epochs and batch sizes fit a ~8 minute budget.
ESTIMATORS = {
    "Flow Matching": (
        AmortizedPosterior(
            FlowMatching(widths=(128, 128, 128, 128)),
            max_epochs=60,
            batch_size=64,
            **COMMON,
        ),
        "#153c7a",
    ),
    "Consistency Model": (
        AmortizedPosterior(
            ConsistencyModel(widths=(128, 128, 128, 128)),
            max_epochs=80,
            batch_size=128,
            **COMMON,
        ),
        "#7a1515",
    ),
    "Affine Coupling Flow": (
        AmortizedPosterior(
            CouplingFlow(transform="affine", depth=8, widths=(64, 64)),
            max_epochs=20,
            batch_size=128,
            **COMMON,
        ),
        "#157a2d",
    ),
    "Spline Coupling Flow": (
        AmortizedPosterior(
            CouplingFlow(transform="spline", depth=4), max_epochs=15, batch_size=128, **COMMON
        ),
        "#7a6f15",
    ),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="figure directory")
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Networks this small train fastest on one thread: more threads only add
    # synchronisation cost, and slow down badly when other programs share the CPU.
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    n_simulations, n_draws = (1_000, 300) if args.quick else (32_768, 3_000)

    sims = make_two_moons_simulator().sample(n_simulations, random_state=0)
    X, y = sims.xy(["theta"])
    reference = get_task("two_moons").reference_posterior(OBSERVATION[0], n_draws, random_state=3)

    fig, axes = plt.subplots(1, len(ESTIMATORS), figsize=(16, 4.6), sharey=True)
    rows = []
    for ax, (name, (estimator, color)) in zip(axes, ESTIMATORS.items(), strict=True):
        if args.quick:
            estimator = clone(estimator).set_params(max_epochs=2, inference_net__widths=(16, 16))
        estimator.fit(X, y)
        tic = time.perf_counter()
        samples = estimator.sample(OBSERVATION, n_draws, random_state=1)[0]
        sampling_seconds = time.perf_counter() - tic
        score = c2st(samples, reference, random_state=0)
        rows.append(
            {
                "network": name,
                "C2ST": score,
                "epochs": estimator.n_iter_,
                "training s": estimator.training_seconds_,
                "draws/s": n_draws / sampling_seconds,
            }
        )
        print(f"{name}: C2ST {score:.3f} after {estimator.n_iter_} epochs", flush=True)
        plot_moons(ax, samples, f"{name}\nC2ST {score:.2f}", color)

    fig.suptitle(r"Two moons posterior at $x = (0, 0)$, " f"{n_simulations:,} simulations")
    fig.tight_layout()
    path = args.out / "two_moons_comparison.png"
    fig.savefig(path, dpi=110)

    table = pd.DataFrame(rows).set_index("network")
    print()
    print(f"C2ST vs the exact posterior ({n_draws:,} draws a side; 0.5 is perfect)")
    print(
        table.to_string(
            formatters={
                "C2ST": "{:.3f}".format,
                "training s": "{:.1f}".format,
                "draws/s": "{:,.0f}".format,
            }
        )
    )
    print(f"Saved {path}")
    print(f"Total wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
