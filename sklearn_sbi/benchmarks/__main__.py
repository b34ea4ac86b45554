"""Command line: ``python -m sklearn_sbi.benchmarks --task two_moons --net flow_matching``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from sklearn_sbi.benchmarks import TASKS, format_report, get_task, run_benchmark

NETS = ("flow_matching", "consistency", "affine_coupling", "spline_coupling")


def main(argv: Sequence[str] | None = None) -> dict:
    """Parse arguments, run the benchmark, print the table and optionally write JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_sbi.benchmarks",
        description="Train AmortizedPosterior on a benchmark task and report C2ST against the "
        "exact reference posterior (0.5 = indistinguishable).",
    )
    parser.add_argument("--task", required=True, choices=sorted(TASKS))
    parser.add_argument("--net", default="flow_matching", choices=NETS)
    parser.add_argument("--simulations", type=int, default=10_000, help="training simulations")
    parser.add_argument("--observations", type=int, default=10, help="observations scored (1-10)")
    parser.add_argument(
        "--posterior-samples",
        type=int,
        default=None,
        help="draws per observation (default 10,000; 2,000 for 8+ parameters)",
    )
    parser.add_argument("--max-epochs", type=int, default=None, help="estimator default if unset")
    parser.add_argument("--batch-size", type=int, default=None, help="estimator default if unset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=None, help="C2ST folds in parallel")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write results here")
    args = parser.parse_args(argv)

    task = get_task(args.task)
    options = {
        name: value
        for name, value in (("max_epochs", args.max_epochs), ("batch_size", args.batch_size))
        if value is not None
    }
    estimator = task.make_estimator(args.net, random_state=args.seed, **options)
    result = run_benchmark(
        task,
        estimator,
        args.simulations,
        n_observations=args.observations,
        n_posterior_samples=args.posterior_samples,
        random_state=args.seed,
        n_jobs=args.n_jobs,
        verbose=True,
    )
    print(format_report(result))
    if args.json is not None:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return result


if __name__ == "__main__":
    main()
