"""Tuning a posterior estimator with GridSearchCV.

Every sklearn-sbi estimator is a scikit-learn estimator, so the usual model
selection tools work unchanged. This example tunes the width of the
flow-matching network and the learning rate with
:class:`sklearn.model_selection.GridSearchCV`, on a pipeline with a
pre-processing step, and scores the candidates three ways.

The model
---------
Two parameters ``theta ~ N(0, I)`` are observed through a log-normal
measurement, ``x = exp(theta + 0.5 eps)`` with ``eps ~ N(0, I)``: positive,
skewed data. A ``Log`` step in front of the estimator turns ``x`` back into
a Gaussian measurement, for which the posterior is known exactly:
``theta | x ~ N(0.8 log x, 0.2 I)``. That lets us check the tuned model
against the truth at the end.

Parameters of a pipeline step route as ``<step>__<parameter>``, and those of
the inference network inside the estimator as ``inference_net__<parameter>``,
so the grid reads ``amortizedposterior__inference_net__widths``.

Scores (higher is better for all three)
---------------------------------------
- ``log_prob``: mean log posterior density of the held-out true parameters,
  the estimator's default ``score`` (a proper scoring rule: it rewards
  posteriors that are both sharp and right);
- ``energy``: negative energy score of posterior draws, which needs only
  samples (so it also scores consistency models);
- ``calibration``: negative calibration error (0 is perfectly calibrated).

``refit="log_prob"`` retrains the best candidate on all simulations.

Run ``python examples/tuning.py`` (about two minutes on 2 CPU cores) or add
``--quick``. The figure ``tuning_scores.png`` shows the mean cross-validated
scores of each candidate.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.model_selection import GridSearchCV

from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline, make_simulator
from sklearn_sbi.metrics import calibration_scorer, energy_scorer, log_prob_scorer
from sklearn_sbi.preprocessing import Log

NOISE_SD = 0.5
SHRINKAGE = 1.0 / (1.0 + NOISE_SD**2)  # posterior mean = SHRINKAGE * log(x)


def prior(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"theta": rng.normal(size=2)}


def measurement(theta: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {"x": np.exp(theta + NOISE_SD * rng.normal(size=2))}


def exact_log_prob(x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Log density of the exact posterior N(SHRINKAGE log x, SHRINKAGE NOISE_SD^2 I)."""
    sd = np.sqrt(SHRINKAGE) * NOISE_SD
    return stats.norm.logpdf(theta, SHRINKAGE * np.log(x), sd).sum(axis=1)


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
        n_simulations, max_epochs = 300, 2
        grid = {
            "amortizedposterior__inference_net__widths": [(16, 16)],
            "amortizedposterior__learning_rate": [1e-3, 3e-3],
        }
    else:
        n_simulations, max_epochs = 2_000, 30
        grid = {
            "amortizedposterior__inference_net__widths": [(32, 32), (128, 128, 128)],
            "amortizedposterior__learning_rate": [3e-4, 3e-3],
        }

    simulator = make_simulator([prior, measurement])
    X, y = simulator.sample(n_simulations, random_state=0).xy(["theta"])
    X_test, y_test = simulator.sample(500, random_state=1).xy(["theta"])

    pipeline = make_posterior_pipeline(
        Log(),
        AmortizedPosterior(max_epochs=max_epochs, batch_size=64, random_state=0),
    )
    search = GridSearchCV(
        pipeline,
        grid,
        scoring={
            "log_prob": log_prob_scorer,
            "energy": energy_scorer,
            "calibration": calibration_scorer,
        },
        refit="log_prob",
        cv=3,
    )
    search.fit(X, y)

    results = pd.DataFrame(search.cv_results_)
    table = pd.DataFrame(
        {
            "widths": results["param_amortizedposterior__inference_net__widths"].astype(str),
            "learning_rate": results["param_amortizedposterior__learning_rate"],
            "log_prob": results["mean_test_log_prob"],
            "energy": results["mean_test_energy"],
            "calibration": results["mean_test_calibration"],
            "rank": results["rank_test_log_prob"],
            "fit s": results["mean_fit_time"],
        }
    ).sort_values("rank")
    print("Cross-validated scores (3 folds; higher is better):")
    print(
        table.to_string(
            index=False,
            formatters={"learning_rate": "{:g}".format},
            float_format="{:.3f}".format,
        )
    )
    print(f"Best parameters: {search.best_params_}")

    x_test = X_test["x"]
    theta_test = y_test.to_numpy()
    print(
        "Held-out mean log density of the true theta: "
        f"tuned model {search.score(X_test, y_test):.3f}, "
        f"exact posterior {exact_log_prob(x_test, theta_test).mean():.3f}"
    )
    predicted = search.best_estimator_.predict(X_test)
    error = np.abs(predicted - SHRINKAGE * np.log(x_test)).mean()
    print(f"Mean |posterior mean - exact posterior mean|: {error:.3f}")

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
    candidates = zip(table["widths"], table["learning_rate"], strict=True)
    labels = [f"{widths}, lr={lr:g}" for widths, lr in candidates]
    positions = np.arange(len(labels))
    for ax, score in zip(axes, ["log_prob", "energy", "calibration"], strict=True):
        ax.plot(table[score], positions, "o", color="#153c7a", markersize=8)
        ax.set_title(f"mean CV {score} score")
        ax.set_xlabel("score (higher is better)")
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.grid(alpha=0.3)
    axes[0].set_yticks(positions, labels)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)
    axes[0].set_ylabel("candidate (best first)")
    fig.tight_layout()
    path = args.out / "tuning_scores.png"
    fig.savefig(path, dpi=110)
    print(f"Saved {path}")
    print(f"Total wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
