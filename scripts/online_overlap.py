"""Measure how much background simulation speeds up online training.

Runs ``fit_online`` on the two-moons walkthrough simulator (unbatched, one
Python call per simulation, as users write it) and compares its wall time
with the sum of (a) simulating the same batches serially and (b) training on
batches that cost nothing to produce. Usage: ``python scripts/online_overlap.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sklearn_sbi import AmortizedPosterior, make_simulator


def theta_prior(rng):
    return {"theta": rng.uniform(-1, 1, 2)}


def forward_model(theta, rng):
    alpha = rng.uniform(-np.pi / 2, np.pi / 2)
    r = rng.normal(0.1, 0.01)
    x1 = -np.abs(theta[0] + theta[1]) / np.sqrt(2) + r * np.cos(alpha) + 0.25
    x2 = (-theta[0] + theta[1]) / np.sqrt(2) + r * np.sin(alpha)
    return {"x": np.array([x1, x2])}


class Replay:
    """A 'simulator' that hands out one pre-simulated batch: no simulation cost."""

    def __init__(self, sims):
        self.sims = sims

    def sample(self, n, random_state=None):
        return self.sims[np.arange(n) % len(self.sims)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batches-per-epoch", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    simulator = make_simulator([theta_prior, forward_model])
    settings = dict(
        epochs=args.epochs, batches_per_epoch=args.batches_per_epoch, batch_size=args.batch_size
    )
    n_batches = args.epochs * args.batches_per_epoch

    def estimator():
        return AmortizedPosterior(early_stopping=False, random_state=0)

    start = time.perf_counter()
    for seed in range(n_batches + 1):
        simulator.sample(args.batch_size, random_state=seed)
    simulate_s = time.perf_counter() - start

    replay = Replay(simulator.sample(args.batch_size, random_state=0))
    start = time.perf_counter()
    estimator().fit_online(replay, "theta", **settings)
    train_s = time.perf_counter() - start

    start = time.perf_counter()
    estimator().fit_online(simulator, "theta", **settings)
    online_s = time.perf_counter() - start

    serial = simulate_s + train_s
    print(f"batches: {n_batches} x {args.batch_size} simulations")
    print(f"simulate only : {simulate_s:7.2f} s")
    print(f"train only    : {train_s:7.2f} s")
    print(f"serial sum    : {serial:7.2f} s")
    print(f"fit_online    : {online_s:7.2f} s  (speed-up {serial / online_s:.2f}x)")


if __name__ == "__main__":
    main()
