"""Bounded parameters: a positive rate and a probability, with ``Constrain``.

Many parameters live on a bounded range: rates and scales are positive,
probabilities lie in (0, 1). A neural posterior that knows nothing about
this happily puts mass outside the prior's support. sklearn-sbi handles it
with a *target transform*: ``AmortizedPosterior(target_transform=Constrain(...))``
maps the parameters to the whole real line before training (``log`` for a
lower bound, ``logit`` for two bounds), learns the posterior there, and maps
draws back, so every draw is inside the bounds by construction. ``log_prob``
stays exact in the original units because the Jacobian of the map is added.

The model: zero-inflated Poisson counts
--------------------------------------
Each of ``N_UNITS = 20`` units reports a count. With probability
``zero_prob`` the unit is a structural zero (e.g. a broken sensor), otherwise
its count is Poisson with mean ``rate``. Priors: ``rate ~ Gamma(2, scale=2)``
(positive) and ``zero_prob ~ Beta(2, 2)`` (in (0, 1)). The likelihood depends
on the counts only through the number of zeros and their total, so a second
simulator function reduces the raw counts to these two summaries and the
network conditions on them. The two parameters are correlated a posteriori:
many zeros can mean a high ``zero_prob`` or a low ``rate``.

Because the posterior is two-dimensional, we can compute it exactly on a
grid and compare: posterior means and standard deviations, C2ST (0.5 =
indistinguishable) and the Kullback-Leibler divergence KL(exact || network)
estimated from exact draws. The same model fitted *without* the constraint
shows how many draws then fall outside the bounds.

Run ``python examples/bounded_parameters.py`` (about 90 s on 2 CPU
cores) or add ``--quick``. The pair plot ``bounded_pairplot.png`` (network
draws, grid-posterior draws and the true value) is written to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import torch
from scipy import special, stats

from sklearn_sbi import AmortizedPosterior, Simulations, make_simulator
from sklearn_sbi.metrics import c2st
from sklearn_sbi.plotting import PairPlotDisplay
from sklearn_sbi.preprocessing import Constrain

N_UNITS = 20
RATE_PRIOR = stats.gamma(a=2.0, scale=2.0)
ZERO_PROB_PRIOR = stats.beta(2.0, 2.0)


def prior(rng: np.random.Generator) -> dict[str, float]:
    return {
        "rate": RATE_PRIOR.rvs(random_state=rng),
        "zero_prob": ZERO_PROB_PRIOR.rvs(random_state=rng),
    }


def counts_model(rate: float, zero_prob: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    structural_zero = rng.random(N_UNITS) < zero_prob
    return {"counts": np.where(structural_zero, 0, rng.poisson(rate, N_UNITS))}


def summaries(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The sufficient statistics: number of zeros and total count."""
    return {"n_zeros": np.sum(counts == 0), "total": np.sum(counts)}


def grid_posterior(n_zeros: float, total: float, size: int = 400) -> tuple[np.ndarray, ...]:
    """Exact posterior on a (rate, zero_prob) grid: cell centres and probabilities."""
    rate = np.linspace(0.0, 20.0, size + 1)[1:] - 10.0 / size
    zero_prob = (np.arange(size) + 0.5) / size
    r, p = np.meshgrid(rate, zero_prob, indexing="ij")
    log_density = (
        RATE_PRIOR.logpdf(r)
        + ZERO_PROB_PRIOR.logpdf(p)
        + n_zeros * np.log(p + (1 - p) * np.exp(-r))
        + (N_UNITS - n_zeros) * np.log1p(-p)
        + total * np.log(r)
        - (N_UNITS - n_zeros) * r
    )
    weights = np.exp(log_density - special.logsumexp(log_density))
    cell_area = (rate[1] - rate[0]) * (zero_prob[1] - zero_prob[0])
    return r, p, weights, cell_area


def sample_grid(n_zeros: float, total: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draws from the grid posterior, uniformly jittered within each cell."""
    r, p, weights, _ = grid_posterior(n_zeros, total)
    cells = rng.choice(weights.size, size=n, p=weights.ravel())
    half_r, half_p = (r[1, 0] - r[0, 0]) / 2, (p[0, 1] - p[0, 0]) / 2
    return np.column_stack(
        [
            r.ravel()[cells] + rng.uniform(-half_r, half_r, n),
            p.ravel()[cells] + rng.uniform(-half_p, half_p, n),
        ]
    )


def grid_log_density(n_zeros: float, total: float, theta: np.ndarray) -> np.ndarray:
    """Exact log posterior density at the grid cells containing ``theta``."""
    r, _, weights, cell_area = grid_posterior(n_zeros, total)
    size = r.shape[0]
    i = np.clip(np.round((theta[:, 0] - r[0, 0]) / (r[1, 0] - r[0, 0])).astype(int), 0, size - 1)
    j = np.clip(np.floor(theta[:, 1] * size).astype(int), 0, size - 1)
    return np.log(weights[i, j] / cell_area)


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
    n_simulations, max_epochs, widths, n_draws = (
        (1_000, 3, (32, 32), 500) if args.quick else (10_000, 60, (128, 128, 128), 3_000)
    )

    simulator = make_simulator([prior, counts_model, summaries])
    sims = simulator.sample(n_simulations, random_state=0)
    X, y = sims.xy(["rate", "zero_prob"], data=["n_zeros", "total"])
    print(sims)

    def make_estimator(target_transform):
        return AmortizedPosterior(
            target_transform=target_transform,
            max_epochs=max_epochs,
            batch_size=128,
            learning_rate=1e-3,
            random_state=0,
        ).set_params(inference_net__widths=widths)

    # rate > 0 (lower bound only), 0 < zero_prob < 1 (both bounds).
    constrained = make_estimator(Constrain(lower=[0.0, 0.0], upper=[None, 1.0])).fit(X, y)
    unconstrained = make_estimator(None).fit(X, y)
    print(f"Trained {constrained.n_iter_} epochs in {constrained.training_seconds_:.1f} s")

    # A new data set from known parameters.
    true_theta = np.array([1.0, 0.1])
    rng = np.random.default_rng(42)
    counts = counts_model(true_theta[0], true_theta[1], rng)["counts"]
    n_zeros, total = summaries(counts).values()
    x_obs = Simulations(n_zeros=[n_zeros], total=[total])
    print(f"Observed counts {counts.tolist()}: {n_zeros} zeros, total {total}")

    draws = constrained.sample(x_obs, n_draws, random_state=1)[0]
    free_draws = unconstrained.sample(x_obs, n_draws, random_state=1)[0]
    exact = sample_grid(n_zeros, total, n_draws, np.random.default_rng(2))

    def outside(d: np.ndarray) -> float:
        return 100 * np.mean((d[:, 0] <= 0) | (d[:, 1] <= 0) | (d[:, 1] >= 1))

    print(
        f"Draws outside the bounds: {outside(draws):.2f}% with Constrain, "
        f"{outside(free_draws):.2f}% without"
    )
    print(
        f"Constrained draws: rate in [{draws[:, 0].min():.3g}, {draws[:, 0].max():.3g}], "
        f"zero_prob in [{draws[:, 1].min():.3g}, {draws[:, 1].max():.3g}]"
    )
    print("\nPosterior mean (sd)      rate            zero_prob")
    for name, d in [("grid (exact)", exact), ("with Constrain", draws), ("without", free_draws)]:
        print(
            f"{name:<22}{d[:, 0].mean():6.3f} ({d[:, 0].std():.3f})"
            f"   {d[:, 1].mean():6.3f} ({d[:, 1].std():.3f})"
        )
    print(f"\nC2ST vs grid posterior ({n_draws:,} draws a side):")
    print(f"  with Constrain: {c2st(draws, exact):.3f}")
    print(f"  without:        {c2st(free_draws, exact):.3f}")
    x_rep = x_obs[np.zeros(n_draws, dtype=int)]
    kl = np.mean(grid_log_density(n_zeros, total, exact) - constrained.log_prob(x_rep, exact))
    print(f"KL(exact || network with Constrain), from exact draws: {kl:.3f} nats")

    display = PairPlotDisplay.from_samples(
        draws, true_theta, reference=exact, param_names=["rate", "zero_prob"]
    )
    display.figure_.suptitle("Posterior draws (network with Constrain) vs grid posterior")
    path = args.out / "bounded_pairplot.png"
    display.figure_.savefig(path, dpi=110, bbox_inches="tight")
    print(f"Saved {path}")
    print(f"Total wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
