"""Multimodal data: fusing a set and a time series into one posterior.

Observed data often come in several shapes at once. This example follows the
multimodal walkthrough: we infer the mean ``mu`` (2-D) and the standard
deviation ``sigma`` of a 2-D Gaussian from two experiments that share them:

- **Experiment A** draws ``n_exchangeable = 5`` independent points: a *set*,
  whose order carries no information.
- **Experiment B** records the cumulative sum of ``n_time_series = 20`` draws
  with time stamps in [0, 1]: a *time series*.

Simulator
---------
Three plain functions (prior, likelihood A, likelihood B) are chained with
:func:`sklearn_sbi.make_simulator`; each receives the earlier outputs by
argument name, the keyword defaults (``n_exchangeable``, ``n_time_series``)
and, through its ``rng`` argument, a seeded random generator.

Pre-processing
--------------
The walkthrough's adapter renames ``observables_a`` to ``input_a`` and
concatenates ``observables_b`` with ``time_b`` into ``input_b`` of shape
(20, 3), the time stamp last. Here these are two scikit-learn transformers,
``Rename`` and ``Concatenate``, at the head of a :class:`PosteriorPipeline`
built by :func:`make_posterior_pipeline`. One step goes beyond the
walkthrough: ``Difference("observables_b")`` turns the cumulative sum back into
its increments before the time stamps are joined. Standardized, the raw sum is
dominated by its drift ``20 mu`` and its noise, which carries ``sigma``, is a
few per cent of its scale; on the ``multimodal_gaussian`` benchmark the
time-series encoder learned nothing about ``sigma`` from the raw sum. The
estimator standardizes every data field itself (``standardize="all"``,
moments pooled over the set and time axes).

Summary networks
----------------
A ``FusionEncoder`` works like scikit-learn's ``ColumnTransformer``: each
named encoder reads its fields, and their outputs are concatenated and passed
through a ``head``. Experiment A goes to a permutation-invariant
``SetTransformer``, experiment B to a ``TimeSeriesTransformer`` that reads
the time stamp from the last feature (``time_axis=-1``); each produces 6
summaries, and an MLP head fuses them into 6 learned summary statistics. The
summary networks and the flow-matching posterior are trained jointly.

Training and diagnostics
------------------------
``fit_online`` simulates fresh batches while the network trains (a background
thread prepares the next batch), so the network never sees the same data set
twice: 25 epochs of 100 batches of 64 simulations here (the walkthrough runs
50 epochs; we halve it to stay within a few minutes on 2 CPU cores, and use a
flow-matching network of 4 hidden layers of 128 units for the same reason).
Afterwards we check the posterior on held-out simulations: the loss
curve (``loss.png``), parameter recovery (``recovery.png``: posterior medians
against the true values) and simulation-based calibration
(``calibration_ecdf.png``: the rank ECDF should stay inside the band), and we
print :func:`sklearn_sbi.metrics.diagnostics_report`.

Run ``python examples/multimodal.py`` (a few minutes on 2 CPU cores) or add
``--quick`` for a smoke test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import torch

from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline, make_simulator
from sklearn_sbi.metrics import diagnostics_report
from sklearn_sbi.networks import (
    MLP,
    FlowMatching,
    FusionEncoder,
    SetTransformer,
    TimeSeriesTransformer,
)
from sklearn_sbi.plotting import CalibrationECDFDisplay, LossCurveDisplay, RecoveryDisplay
from sklearn_sbi.preprocessing import Concatenate, Difference, Rename


def prior(rng: np.random.Generator) -> dict[str, np.ndarray | float]:
    return {"mu": rng.normal(size=2), "sigma": rng.gamma(5, 0.1)}


def likelihood_a(mu, sigma, rng: np.random.Generator, n_exchangeable=5):
    return {"observables_a": rng.normal(mu, sigma, size=(n_exchangeable, 2))}


def likelihood_b(mu, sigma, rng: np.random.Generator, n_time_series=20, **kwargs):
    return {
        "observables_b": np.cumsum(rng.normal(mu, sigma, size=(n_time_series, 2)), axis=0),
        "time_b": np.linspace(0.0, 1.0, n_time_series)[:, None],
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
    if args.quick:
        epochs, batches_per_epoch, n_test, n_draws = 2, 10, 100, 100
    else:
        epochs, batches_per_epoch, n_test, n_draws = 25, 100, 400, 500

    simulator = make_simulator([prior, likelihood_a, likelihood_b])
    print("A few simulations:", simulator.sample(3, random_state=0))

    summary_net = FusionEncoder(
        [
            ("a", SetTransformer(summary_dim=6), "input_a"),
            ("b", TimeSeriesTransformer(summary_dim=6, time_axis=-1), "input_b"),
        ],
        head=MLP(widths=(128, 128), output_dim=6),
    )
    pipeline = make_posterior_pipeline(
        Rename({"observables_a": "input_a"}),
        Difference("observables_b"),
        Concatenate(["observables_b", "time_b"], into="input_b"),
        AmortizedPosterior(
            FlowMatching(widths=(128, 128, 128, 128)),
            summary_net=summary_net,
            learning_rate=1e-3,
            random_state=0,
        ),
    )
    pipeline.fit_online(
        simulator,
        ["mu", "sigma"],
        epochs=epochs,
        batches_per_epoch=batches_per_epoch,
        batch_size=64,
        validation_size=256,
    )
    estimator = pipeline[-1]
    print(
        f"Online training: {estimator.n_iter_} epochs x {batches_per_epoch} batches of 64 "
        f"fresh simulations in {estimator.training_seconds_:.1f} s "
        f"(best epoch {estimator.best_epoch_ + 1})"
    )

    # Held-out simulations for the diagnostics (not seen in training).
    X_test, y_test = simulator.sample(n_test, random_state=1).xy(["mu", "sigma"])
    print(f"Parameters: {estimator.param_names_}")

    loss = LossCurveDisplay.from_estimator(pipeline, smoothing=None if args.quick else 3)
    loss.figure_.savefig(args.out / "loss.png", dpi=110, bbox_inches="tight")
    # One set of posterior draws serves both plots (from_estimator would sample twice).
    draws = pipeline.sample(X_test, n_draws, random_state=0)
    recovery = RecoveryDisplay.from_samples(draws, y_test)
    recovery.figure_.savefig(args.out / "recovery.png", dpi=110, bbox_inches="tight")
    ecdf = CalibrationECDFDisplay.from_samples(draws, y_test)
    ecdf.figure_.savefig(args.out / "calibration_ecdf.png", dpi=110, bbox_inches="tight")
    print(f"Saved loss.png, recovery.png, calibration_ecdf.png to {args.out}")

    report = diagnostics_report(pipeline, X_test, y_test, n_samples=n_draws)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(report.round(3))
    print(f"Total wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
