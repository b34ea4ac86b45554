"""Is the fused posterior of multimodal_gaussian tighter than each experiment's alone?

Trains three ``AmortizedPosterior`` (flow matching) models on the same
simulations of the ``multimodal_gaussian`` benchmark task:

- ``fused``: the task's summary network (set encoder on experiment A,
  time-series encoder on experiment B, summaries concatenated);
- ``A only``: the same network with experiment B's entry set to ``"drop"``;
- ``B only``: the same network with experiment A's entry set to ``"drop"``.

For each it prints the mean posterior contraction ``1 - posterior variance /
prior variance`` per parameter on held-out simulations (prior variances
analytic: 1 for ``mu``, ``shape * scale**2`` for ``sigma``), next to the
contraction of the exact posterior given the same data. For context it also
prints the C2ST of each model against the exact posterior given the data
that model sees (both experiments for ``fused``, one for the others) on the
first task observations.

Usage (one process; keep torch at one thread on a shared machine)::

    OMP_NUM_THREADS=1 python scripts/multimodal_contraction.py \\
        --json benchmarks_results/multimodal_contraction.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from sklearn_sbi import PosteriorPipeline
from sklearn_sbi.benchmarks import MultimodalGaussian
from sklearn_sbi.benchmarks._runner import _reference_rng
from sklearn_sbi.metrics import c2st, posterior_contraction
from sklearn_sbi.simulations import Simulations

#: Model name -> FusionEncoder entries replaced by "drop".
MODELS = {"fused": {}, "A only": {"b": "drop"}, "B only": {"a": "drop"}}


def experiment_draws(task: MultimodalGaussian, X: Simulations, model: str) -> list[np.ndarray]:
    """The iid 2-D draws behind each simulation that ``model`` sees (B differenced)."""
    draws_a = np.asarray(X["observables_a"])
    draws_b = np.diff(np.asarray(X["observables_b"]), axis=1, prepend=0.0)
    if model == "A only":
        return list(draws_a)
    if model == "B only":
        return list(draws_b)
    return list(np.concatenate([draws_a, draws_b], axis=1))


def exact_sampler(
    task: MultimodalGaussian, X: Simulations, model: str
) -> Callable[[int, int, int], np.ndarray]:
    """``sample(i, n, seed)``: exact posterior draws for simulation ``i`` given ``model``'s data.

    Draw ``i`` uses its own stream of ``seed`` (never the model's sampling stream).

    The task's reference sampler is conjugate in ``mu`` and works from the iid
    draws, so the same routine gives the exact posterior of either
    experiment alone.
    """
    draws = experiment_draws(task, X, model)

    def sample(i: int, n_samples: int, seed: int) -> np.ndarray:
        return task._sample_reference_posterior(draws[i], n_samples, _reference_rng(seed, i))

    return sample


def make_estimator(
    task: MultimodalGaussian, dropped: dict[str, str], args: argparse.Namespace
) -> PosteriorPipeline:
    """The task's estimator (B differenced, flow matching) with some encoders dropped."""
    estimator = task.make_estimator(
        "flow_matching",
        max_epochs=args.max_epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
    )
    estimator[-1].set_params(**{f"summary_net__{name}": value for name, value in dropped.items()})
    return estimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--held-out", type=int, default=300)
    parser.add_argument("--posterior-samples", type=int, default=500)
    parser.add_argument("--c2st-observations", type=int, default=3)
    parser.add_argument("--c2st-samples", type=int, default=5_000)
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, metavar="PATH")
    args = parser.parse_args()

    task = MultimodalGaussian()
    X, y = task.simulate(args.simulations, random_state=args.seed)
    X_test, _ = task.simulate(args.held_out, random_state=args.seed + 1)
    X_obs, _ = task.observations
    X_obs = X_obs[: args.c2st_observations]
    prior_variance = np.array([1.0, 1.0, task.sigma_shape * task.sigma_scale**2])

    rows, report = {}, {"settings": vars(args), "models": {}}
    for model, dropped in MODELS.items():
        est = make_estimator(task, dropped, args)
        start = time.perf_counter()
        est.fit(X, y)
        seconds = time.perf_counter() - start
        samples = est.sample(X_test, args.posterior_samples, random_state=args.seed)
        learned = posterior_contraction(
            samples, prior_variance=prior_variance, param_names=task.param_names
        )
        sample_exact = exact_sampler(task, X_test, model)
        exact_draws = np.stack(
            [sample_exact(i, args.posterior_samples, args.seed) for i in range(args.held_out)]
        )
        exact = posterior_contraction(
            exact_draws, prior_variance=prior_variance, param_names=task.param_names
        )
        obs_samples = est.sample(X_obs, args.c2st_samples, random_state=args.seed)
        sample_obs_exact = exact_sampler(task, X_obs, model)
        scores = [
            c2st(
                obs_samples[i],
                sample_obs_exact(i, args.c2st_samples, args.seed),
                random_state=args.seed,
            )
            for i in range(len(obs_samples))
        ]
        rows[model] = {
            **{f"{name} learned": value for name, value in learned.items()},
            **{f"{name} exact": value for name, value in exact.items()},
            "C2ST mean": float(np.mean(scores)),
        }
        report["models"][model] = {
            "contraction": learned.to_dict(),
            "exact_contraction": exact.to_dict(),
            "c2st": scores,
            "training_seconds": seconds,
            "n_epochs": int(est[-1].n_iter_),
            "stop_reason": est[-1].stop_reason_,
            "summary_net": repr(est[-1].summary_net),
        }
        print(
            f"{model}: {seconds:.0f} s, {est[-1].n_iter_} epochs ({est[-1].stop_reason_}), "
            f"C2ST {np.round(scores, 3).tolist()}",
            flush=True,
        )
    report["inference_net_params"] = {
        k: repr(v)
        for k, v in est[-1].get_params(deep=True).items()
        if k.startswith("inference_net")
    }

    table = pd.DataFrame(rows).T
    with pd.option_context(
        "display.width", 200, "display.max_columns", None, "display.float_format", "{:.4f}".format
    ):
        print(
            f"\nMean posterior contraction on {args.held_out} held-out simulations "
            f"(learned vs exact given the same data); C2ST vs that exact posterior on "
            f"{args.c2st_observations} task observations"
        )
        print(table)
    fused = table.loc["fused"]
    for name in task.param_names:
        tighter = all(
            fused[f"{name} learned"] > table.loc[other, f"{name} learned"]
            for other in ("A only", "B only")
        )
        print(f"fused tighter than each single experiment on {name}: {tighter}")
    print("inference net:", report["inference_net_params"])
    if args.json is not None:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
