"""Every diagnostic plot and the diagnostics report, on a model with a known posterior.

The model is conjugate: theta ~ N(0, I) in two dimensions and x = theta + 0.5 * eps,
so the exact posterior is N(0.8 x, 0.2 I) and no network needs training. The loss
curve comes from fitting a linear-Gaussian posterior q(theta | x) = N(a x + b, s^2)
by minibatch gradient descent on its negative log density, which takes a second.

Run ``python examples/diagnostics.py --out outputs/`` to write one PNG per Display
(and ``report.csv``) into the output directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklearn_sbi.metrics import diagnostics_report
from sklearn_sbi.plotting import (
    CalibrationECDFDisplay,
    CalibrationHistogramDisplay,
    CoverageDisplay,
    LossCurveDisplay,
    PairPlotDisplay,
    RecoveryDisplay,
    ZScoreContractionDisplay,
)

NOISE_SD = 0.5
SHRINKAGE = 1.0 / (1.0 + NOISE_SD**2)
PARAM_NAMES = ["theta_1", "theta_2"]


def simulate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, pd.DataFrame]:
    """Draw parameters from the prior and data from the likelihood."""
    theta = rng.normal(size=(n, 2))
    x = theta + NOISE_SD * rng.normal(size=theta.shape)
    return x, pd.DataFrame(theta, columns=PARAM_NAMES)


class ExactPosterior:
    """Samples the exact posterior; ``scale`` widens or narrows it (1 is exact)."""

    param_names_ = PARAM_NAMES

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def sample(self, X, n_samples=1000, *, random_state=None):
        rng = np.random.default_rng(random_state)
        mean = SHRINKAGE * np.asarray(X)
        sd = self.scale * np.sqrt(SHRINKAGE) * NOISE_SD
        return mean[:, None, :] + sd * rng.normal(size=(len(mean), n_samples, mean.shape[1]))


def fit_linear_gaussian(x, theta, rng, *, epochs=60, batch_size=64, learning_rate=0.05):
    """Fit N(a x + b, s^2) to theta | x by minibatch gradient descent; return losses per epoch."""
    x_train, x_val, theta_train, theta_val = x[:800], x[800:], theta[:800], theta[800:]
    a, b, log_s = np.zeros(2), np.zeros(2), np.zeros(2)

    def loss_and_grads(xb, tb):
        residual = tb - (a * xb + b)
        precision = np.exp(-2 * log_s)
        loss = np.mean(np.sum(0.5 * residual**2 * precision + log_s, axis=1)) + np.log(2 * np.pi)
        grad_a = -np.mean(residual * xb * precision, axis=0)
        grad_b = -np.mean(residual * precision, axis=0)
        grad_log_s = np.mean(1 - residual**2 * precision, axis=0)
        return loss, (grad_a, grad_b, grad_log_s)

    train_losses, validation_losses = [], []
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        batch_losses = []
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            loss, (grad_a, grad_b, grad_log_s) = loss_and_grads(x_train[idx], theta_train[idx])
            a, b, log_s = (
                a - learning_rate * grad_a,
                b - learning_rate * grad_b,
                log_s - learning_rate * grad_log_s,
            )
            batch_losses.append(loss)
        train_losses.append(float(np.mean(batch_losses)))
        validation_losses.append(float(loss_and_grads(x_val, theta_val)[0]))
    return train_losses, validation_losses


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    x, theta = simulate(1000, rng)
    train, validation = fit_linear_gaussian(x, theta.to_numpy(), rng)
    x_test, theta_test = simulate(300, rng)
    exact, overconfident = ExactPosterior(), ExactPosterior(scale=1 / 3)

    figures = {
        "loss_curve": LossCurveDisplay.from_history(train, validation, smoothing=5),
        "recovery": RecoveryDisplay.from_estimator(exact, x_test, theta_test),
        "calibration_ecdf": CalibrationECDFDisplay.from_estimator(exact, x_test, theta_test),
        "calibration_ecdf_overconfident": CalibrationECDFDisplay.from_estimator(
            overconfident, x_test, theta_test
        ),
        "calibration_histogram": CalibrationHistogramDisplay.from_estimator(
            exact, x_test, theta_test
        ),
        "z_score_contraction": ZScoreContractionDisplay.from_estimator(
            exact, x_test, theta_test, prior_variance=1.0
        ),
        "coverage": CoverageDisplay.from_estimator(overconfident, x_test, theta_test),
        "pair_plot": PairPlotDisplay.from_estimator(
            overconfident,
            x_test[[0]],
            theta_test.iloc[0],
            reference=exact.sample(x_test[[0]], 1000, random_state=1),
        ),
    }
    for name, display in figures.items():
        display.figure_.savefig(out / f"{name}.png", dpi=100)
        plt.close(display.figure_)

    report = pd.concat(
        {
            "exact": diagnostics_report(exact, x_test, theta_test),
            "overconfident": diagnostics_report(overconfident, x_test, theta_test),
        },
        names=["posterior"],
    )
    report.to_csv(out / "report.csv")
    print(report.round(3).to_string())
    print(f"Wrote {len(figures)} figures and report.csv to {out}/")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="output directory")
    main(parser.parse_args().out)
