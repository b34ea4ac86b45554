"""A pandas workflow: simulations in tables, posteriors as tidy DataFrames.

Simulations are expensive, so in practice you store them, share them and
reload them later. This example keeps everything in pandas:

1. **Simulate and store.** ``Simulations.to_pandas()`` gives one row per
   simulation, flat fields as numeric columns named ``name`` or
   ``name[i]``. We write the table to CSV and to Parquet (via pyarrow) and
   read both back; ``Simulations.from_pandas`` regroups the ``y[0] .. y[9]``
   columns into one field and the round trip is exact.
2. **Fit on DataFrames.** ``fit(X, y)`` with DataFrames keeps the names:
   ``param_names_`` holds y's columns and ``feature_names_in_`` X's, and a
   later ``sample`` checks that X has the same columns.
3. **Tidy posterior draws.** ``sample(X, n, as_frame=True)`` returns one row
   per (observation, draw) with one column per parameter, ready for
   ``groupby``: a posterior summary (mean, sd, 90% interval) per data set
   takes one line.

The model is a noisy straight line observed at 10 time points,
``y(t) = intercept + slope * t + sigma * eps``, with ``intercept, slope ~ N(0, 1)``
and a noise level ``sigma ~ U(0.1, 1)`` (kept inside (0.1, 1) in the posterior
by ``Constrain(lower=[None, None, 0.1], upper=[None, None, 1.0])``).

Run ``python examples/pandas_workflow.py`` (under a minute on 2 CPU cores) or
add ``--quick``. Files written to ``--out``: ``simulations.csv``,
``simulations.parquet``, ``posterior_draws.parquet`` and the figure
``pandas_posterior_lines.png`` (data and posterior regression lines per site).
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

from sklearn_sbi import AmortizedPosterior, Simulations, make_simulator
from sklearn_sbi.preprocessing import Constrain

TIMES = np.linspace(0.0, 1.0, 10)
PARAMETERS = ["intercept", "slope", "sigma"]


def prior(rng: np.random.Generator) -> dict[str, float]:
    return {
        "intercept": rng.normal(),
        "slope": rng.normal(),
        "sigma": rng.uniform(0.1, 1.0),
    }


def line(intercept: float, slope: float, sigma: float, rng: np.random.Generator):
    return {"y": intercept + slope * TIMES + sigma * rng.normal(size=TIMES.size)}


def quantile(q: float):
    """A named quantile aggregation for ``DataFrame.agg``."""

    def aggregate(values: pd.Series) -> float:
        return values.quantile(q)

    aggregate.__name__ = f"q{round(100 * q):02d}"
    return aggregate


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="output directory")
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Networks this small train fastest on one thread: more threads only add
    # synchronisation cost, and slow down badly when other programs share the CPU.
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    n_simulations, max_epochs, widths = (
        (500, 2, (16, 16)) if args.quick else (8_000, 60, (128, 128, 128))
    )

    # 1. Simulate, store as CSV and Parquet, reload.
    simulator = make_simulator([prior, line])
    frame = simulator.sample(n_simulations, random_state=0).to_pandas()
    print(f"Simulation table: {frame.shape[0]} rows, columns {list(frame.columns)}")
    frame.to_csv(args.out / "simulations.csv", index=False)
    frame.to_parquet(args.out / "simulations.parquet")
    from_csv = Simulations.from_pandas(pd.read_csv(args.out / "simulations.csv"))
    from_parquet = Simulations.from_pandas(pd.read_parquet(args.out / "simulations.parquet"))
    original = Simulations.from_pandas(frame)
    for name, reloaded in [("CSV", from_csv), ("Parquet", from_parquet)]:
        error = max(np.abs(reloaded[f] - original[f]).max() for f in original)
        print(f"{name} round trip: fields {list(reloaded)}, max abs difference {error:.1e}")

    # 2. Fit on DataFrames: parameter and feature names are kept.
    table = pd.read_parquet(args.out / "simulations.parquet")
    X, y = table.drop(columns=PARAMETERS), table[PARAMETERS]
    estimator = AmortizedPosterior(
        target_transform=Constrain(lower=[None, None, 0.1], upper=[None, None, 1.0]),
        max_epochs=max_epochs,
        batch_size=128,
        learning_rate=1e-3,
        random_state=0,
    ).set_params(inference_net__widths=widths)
    estimator.fit(X, y)
    print(f"param_names_ = {estimator.param_names_}")
    print(f"feature_names_in_ = {list(estimator.feature_names_in_)}")
    print(f"Trained {estimator.n_iter_} epochs in {estimator.training_seconds_:.1f} s")

    # 3. Three new data sets ("sites"), posterior draws as a tidy DataFrame.
    sites = ["north", "south", "east"]
    observed = simulator.sample(len(sites), random_state=7).to_pandas()
    observed.index = pd.Index(sites, name="site")
    draws = estimator.sample(observed[X.columns], 2_000, random_state=0, as_frame=True)
    draws = draws.rename(index=dict(enumerate(sites)), level="observation")
    draws.to_parquet(args.out / "posterior_draws.parquet")
    print("\nTidy posterior draws (first rows):")
    print(draws.head().round(3))

    summary = draws.groupby(level="observation", sort=False).agg(
        ["mean", "std", quantile(0.05), quantile(0.95)]
    )
    truth = observed[PARAMETERS].set_axis(
        pd.MultiIndex.from_product([PARAMETERS, ["true"]]), axis=1
    )
    summary = summary.join(truth).reindex(columns=PARAMETERS, level=0).rename_axis("site")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print("\nPosterior summary per site (mean, sd, 5% and 95% quantiles, true value):")
        print(summary.round(2))

    fig, axes = plt.subplots(1, len(sites), figsize=(12, 3.6), sharey=True)
    for ax, site in zip(axes, sites, strict=True):
        lines = draws.loc[site].sample(50, random_state=0)
        for _, row in lines.iterrows():
            ax.plot(TIMES, row["intercept"] + row["slope"] * TIMES, color="#153c7a", alpha=0.1)
        ax.plot(TIMES, observed.loc[site, X.columns], "o", color="black", label="data")
        true = observed.loc[site]
        ax.plot(
            TIMES,
            true["intercept"] + true["slope"] * TIMES,
            "--",
            color="#7a1515",
            label="true line",
        )
        ax.set_title(f"site {site}")
        ax.set_xlabel("t")
    axes[0].set_ylabel("y")
    axes[0].legend(loc="best")
    fig.suptitle("Data and 50 posterior regression lines per site")
    fig.tight_layout()
    path = args.out / "pandas_posterior_lines.png"
    fig.savefig(path, dpi=110)
    print(f"Saved {path}")
    print(f"Total wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
