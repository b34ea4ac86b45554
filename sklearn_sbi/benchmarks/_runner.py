"""Train an estimator on a benchmark task and score it with C2ST against the reference."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline

from sklearn_sbi.benchmarks._task import Task
from sklearn_sbi.metrics._c2st import c2st

#: Posterior draws per observation when not given: 10,000, or 2,000 from this
#: many parameters on (C2ST at 10,000 a side takes tens of minutes in 10-D).
HIGH_DIMENSION = 8


def run_benchmark(
    task: Task | str,
    estimator: Any,
    n_simulations: int,
    *,
    n_observations: int | None = None,
    n_posterior_samples: int | None = None,
    random_state: int = 0,
    n_jobs: int | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """Fit ``estimator`` on simulations of ``task`` and compare its posteriors with the reference.

    The estimator is fitted in place on ``n_simulations`` draws from the joint
    distribution, then for each of the task's fixed observations its
    posterior samples are compared with reference posterior samples by
    :func:`~sklearn_sbi.metrics.c2st` (0.5 is a perfect match).

    Parameters
    ----------
    task : Task or str
        A task or its name (see :func:`~sklearn_sbi.benchmarks.get_task`).
    estimator : AmortizedPosterior or PosteriorPipeline
        An (unfitted) posterior estimator with ``fit(X, y)`` and
        ``sample(X, n_samples, random_state=...)``, and ``n_iter_`` (epochs run)
        after fit (on its last step for a pipeline); see ``Task.make_estimator``.
    n_simulations : int
        Training simulations.
    n_observations : int, default=None
        How many of the task's observations to score (all 10 by default).
    n_posterior_samples : int, default=None
        Draws per observation, from the estimator and from the reference:
        10,000, or 2,000 for tasks with 8 or more parameters.
    random_state : int, default=0
        Seeds simulation, sampling, the reference and the C2ST classifier.
    n_jobs : int, default=None
        C2ST folds fitted in parallel.
    verbose : bool, default=False
        Print progress to standard error.

    Returns
    -------
    dict
        JSON-serializable results: ``task``, ``net``, ``n_simulations``,
        ``n_observations``, ``n_posterior_samples``, ``random_state``,
        ``c2st`` (one value per observation), ``c2st_mean``, ``c2st_std``,
        ``training_seconds``, ``n_epochs``, ``seconds_per_epoch``,
        ``sampling_seconds``, ``draws_per_second``, ``c2st_seconds`` (mean per
        observation).

    Examples
    --------
    >>> from sklearn_sbi import AmortizedPosterior
    >>> from sklearn_sbi.benchmarks import run_benchmark
    >>> est = AmortizedPosterior(max_epochs=1, random_state=0)
    >>> result = run_benchmark("two_moons", est, 256, n_observations=1,
    ...                        n_posterior_samples=100)
    >>> 0.0 <= result["c2st_mean"] <= 1.0
    True
    """
    from sklearn_sbi.benchmarks import get_task

    task = get_task(task) if isinstance(task, str) else task
    n_observations = task.n_observations if n_observations is None else n_observations
    if not 1 <= n_observations <= task.n_observations:
        raise ValueError(
            f"n_observations must be between 1 and {task.n_observations}, got {n_observations}."
        )
    if n_posterior_samples is None:
        n_posterior_samples = 2_000 if task.n_params >= HIGH_DIMENSION else 10_000

    def log(message: str) -> None:
        if verbose:
            print(message, file=sys.stderr, flush=True)

    X, y = task.simulate(n_simulations, random_state=random_state)
    log(f"{task.name}: training on {n_simulations} simulations ...")
    start = time.perf_counter()
    estimator.fit(X, y)
    training_seconds = time.perf_counter() - start
    posterior = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    n_epochs = int(posterior.n_iter_)

    X_obs, _ = task.observations
    start = time.perf_counter()
    samples = estimator.sample(
        X_obs[:n_observations], n_posterior_samples, random_state=random_state
    )
    sampling_seconds = time.perf_counter() - start

    scores = []
    c2st_seconds = 0.0
    for i in range(n_observations):
        reference = task.reference_posterior(
            X_obs[i], n_posterior_samples, random_state=_reference_rng(random_state, i)
        )
        start = time.perf_counter()
        scores.append(c2st(samples[i], reference, random_state=random_state, n_jobs=n_jobs))
        c2st_seconds += time.perf_counter() - start
        log(f"  observation {i + 1}: C2ST {scores[-1]:.3f}")

    net = getattr(posterior, "inference_net", None)
    return {
        "task": task.name,
        "net": net if isinstance(net, str) else type(net).__name__,
        "n_simulations": int(n_simulations),
        "n_observations": n_observations,
        "n_posterior_samples": int(n_posterior_samples),
        "random_state": random_state,
        "c2st": scores,
        "c2st_mean": float(np.mean(scores)),
        "c2st_std": float(np.std(scores)),
        "training_seconds": training_seconds,
        "n_epochs": n_epochs,
        "seconds_per_epoch": training_seconds / max(n_epochs, 1),
        "sampling_seconds": sampling_seconds,
        "draws_per_second": n_observations * n_posterior_samples / sampling_seconds,
        "c2st_seconds": c2st_seconds / n_observations,
    }


def format_report(result: dict[str, Any]) -> str:
    """Render a :func:`run_benchmark` result as a plain-text table.

    Parameters
    ----------
    result : dict
        The output of :func:`run_benchmark`.

    Returns
    -------
    str

    Examples
    --------
    >>> from sklearn_sbi.benchmarks import format_report
    >>> print(format_report({"task": "two_moons", "net": "flow_matching",
    ...     "n_simulations": 1000, "n_posterior_samples": 500, "c2st": [0.5, 0.6],
    ...     "c2st_mean": 0.55, "c2st_std": 0.05, "training_seconds": 10.0, "n_epochs": 20,
    ...     "seconds_per_epoch": 0.5, "draws_per_second": 1e5, "c2st_seconds": 1.0}))
    two_moons | flow_matching | 1,000 simulations | 500 draws per observation
    observation   C2ST
              1  0.500
              2  0.600
    C2ST        mean 0.550  sd 0.050  min 0.500  max 0.600
    training    10.0 s  20 epochs  0.500 s/epoch
    sampling    100,000 draws/s
    C2ST cost   1.0 s per observation
    """
    scores = result["c2st"]
    lines = [
        f"{result['task']} | {result['net']} | {result['n_simulations']:,} simulations | "
        f"{result['n_posterior_samples']:,} draws per observation",
        "observation   C2ST",
        *(f"{i:>11d}  {score:.3f}" for i, score in enumerate(scores, start=1)),
        f"C2ST        mean {result['c2st_mean']:.3f}  sd {result['c2st_std']:.3f}  "
        f"min {min(scores):.3f}  max {max(scores):.3f}",
        f"training    {result['training_seconds']:.1f} s  {result['n_epochs']} epochs  "
        f"{result['seconds_per_epoch']:.3f} s/epoch",
        f"sampling    {result['draws_per_second']:,.0f} draws/s",
        f"C2ST cost   {result['c2st_seconds']:.1f} s per observation",
    ]
    return "\n".join(lines)


def _reference_rng(random_state: int, observation: int) -> np.random.Generator:
    """Stream of the reference draws for one observation, independent of the model's draws.

    The estimator samples with ``random_state`` itself; a spawn key keeps the
    reference off that stream (``default_rng([seed, 0])`` would coincide with
    ``default_rng(seed)`` and make the two sample sets near-copies).
    """
    return np.random.default_rng(np.random.SeedSequence(random_state, spawn_key=(1, observation)))
