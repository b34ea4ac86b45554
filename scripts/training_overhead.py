"""Per-epoch cost of ``AmortizedPosterior.fit`` against a bare PyTorch loop.

Issue 3 asks that an epoch of training cost at most 1.5x a bare PyTorch loop
(plain tensors, same network, same batch size, same optimizer) over the same
data. This script measures that ratio on two_moons simulations:

* ``estimator``: ``AmortizedPosterior(inference_net=<net>)`` with its default
  training settings (validation split, validation loss every epoch, EMA,
  warm-up + cosine schedule, gradient clipping, early-stopping bookkeeping),
  timed by the estimator itself (``training_seconds_``, both of its stages for
  a whitened network: the whitening flow's first fit and the main one);
* ``bare``: the module the same spec builds, AdamW with the same learning rate
  and weight decay, a shuffled pass over the same training rows in batches of
  the same size: ``loss, zero_grad, backward, step`` and nothing else. For a
  whitened network, a bare epoch of each stage is timed (``pretraining_loss``
  over all weights; ``loss`` with the whitening frozen) and the bare time of
  the estimator's run is the sum over the epochs it ran of each stage, so the
  ratio compares like with like;
* cumulative variants of the bare loop that add, one at a time, what the
  estimator's loop does (clipping, EMA, schedule, validation loss, weight
  snapshots), to show where any overhead comes from.

Variants are interleaved and repeated; the median per-epoch time is reported.

Usage::

    OMP_NUM_THREADS=1 python scripts/training_overhead.py --net flow_matching --epochs 4
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi._posterior_network import resolve_inference_network
from sklearn_sbi._training import ExponentialAverage, TrainingConfig, warmup_cosine
from sklearn_sbi.benchmarks import get_task

VARIANTS = ("bare", "+clip", "+ema", "+schedule", "+validation", "+snapshots")


def make_bare_epoch(
    net: str,
    theta: torch.Tensor,
    context: torch.Tensor,
    val_theta: torch.Tensor,
    val_context: torch.Tensor,
    batch_size: int,
    epochs: int,
    level: int,
    pretraining: bool = False,
) -> Callable[[], None]:
    """One epoch of a plain loop with the first ``level`` extras of :data:`VARIANTS`.

    ``pretraining``: the whitening's first fit (``pretraining_loss``); otherwise
    the main stage, the whitening (if any) frozen.
    """
    torch.manual_seed(0)
    config = TrainingConfig(max_epochs=epochs, learning_rate=5e-4)
    steps_per_epoch = -(-theta.shape[0] // batch_size)
    module = resolve_inference_network(net).build(
        theta.shape[1], context.shape[1], total_steps=epochs * steps_per_epoch
    )
    if pretraining:

        def batch_loss(theta, context, generator=None):  # the first fit draws no noise
            return module.pretraining_loss(theta, context)

    else:
        if module.needs_pretraining:
            module.freeze_pretrained()
        batch_loss = module.loss
    parameters = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    average = ExponentialAverage(module, config.ema_decay) if level >= 2 else None
    scheduler = (
        torch.optim.lr_scheduler.LambdaLR(
            optimizer, warmup_cosine(epochs * steps_per_epoch, config.warmup_fraction)
        )
        if level >= 3
        else None
    )

    def epoch() -> None:
        module.train()
        for index in torch.randperm(theta.shape[0]).split(batch_size):
            loss = batch_loss(theta[index], context[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if level >= 1:
                torch.nn.utils.clip_grad_norm_(parameters, config.clip_norm)
            optimizer.step()
            if average is not None:
                average.update()
            if scheduler is not None:
                scheduler.step()
        if level >= 4:
            module.eval()
            generator = torch.Generator().manual_seed(1)
            with torch.no_grad():
                for index in torch.arange(val_theta.shape[0]).split(2048):
                    batch_loss(val_theta[index], val_context[index], generator)
        if level >= 5:
            for _ in range(3):  # live, best and final weights, as the estimator keeps
                {k: v.detach().clone() for k, v in module.state_dict().items()}

    return epoch


def standardized(values: np.ndarray) -> torch.Tensor:
    """Column-standardized float32 tensor, as the estimator feeds its network."""
    return torch.as_tensor((values - values.mean(0)) / values.std(0), dtype=torch.float32)


def estimator_run(
    net: str, X: np.ndarray, y: np.ndarray, batch_size: int, epochs: int
) -> tuple[float, int, int]:
    """Training seconds of the estimator's own loop (its defaults), and the epochs of
    its whitening's first fit and of its main stage."""
    estimator = AmortizedPosterior(
        inference_net=net, max_epochs=epochs, batch_size=batch_size, random_state=0
    )
    estimator.fit(X, y)
    return estimator.training_seconds_, len(estimator.pretraining_loss_curve_), estimator.n_iter_


def timed_epoch(epoch: Callable[[], None], epochs: int) -> float:
    start = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return (time.perf_counter() - start) / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--net", default="flow_matching")
    parser.add_argument("--simulations", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    task = get_task("two_moons")
    X, y = task.simulate(args.simulations, random_state=0)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    # Same rows as the estimator: it holds out validation_fraction = 0.1 for validation.
    n_val = round(0.1 * len(y))
    X_t, y_t = standardized(X), standardized(y)
    repeats = max(1, 8192 // n_val)  # the estimator's validation repeats rows to ~8,192
    val = (y_t[:n_val].repeat(repeats, 1), X_t[:n_val].repeat(repeats, 1))
    train = (y_t[n_val:], X_t[n_val:])

    times: dict[str, list[float]] = {name: [] for name in ("estimator", *VARIANTS)}
    times["bare first fit"] = []
    stage_epochs = (0, 0)
    for _ in range(args.repeats):
        seconds, *stage_epochs = estimator_run(args.net, X, y, args.batch_size, args.epochs)
        times["estimator"].append(seconds)
        for level, name in enumerate(VARIANTS):
            epoch = make_bare_epoch(args.net, *train, *val, args.batch_size, args.epochs, level)
            times[name].append(timed_epoch(epoch, args.epochs))
        if stage_epochs[0]:  # the estimator fitted a whitening first
            epoch = make_bare_epoch(
                args.net, *train, *val, args.batch_size, args.epochs, 0, pretraining=True
            )
            times["bare first fit"].append(timed_epoch(epoch, args.epochs))

    median = {name: statistics.median(values) for name, values in times.items() if values}
    first_fit_epochs, main_epochs = stage_epochs
    # Seconds per main-stage epoch the estimator would take if its first-fit epochs cost
    # what the bare loop's do: its own total over the bare total, in bare main epochs.
    bare_total = main_epochs * median["bare"] + first_fit_epochs * median.get("bare first fit", 0)
    median["estimator"] = median["estimator"] / bare_total * median["bare"]
    print(f"estimator stages: {first_fit_epochs} first-fit epochs, {main_epochs} main epochs")
    bare = median["bare"]
    print(
        f"net={args.net}  rows={len(train[0])}  batch={args.batch_size}  "
        f"threads={torch.get_num_threads()}  epochs x repeats={args.epochs} x {args.repeats}"
    )
    print(f"{'loop':<12} {'s/epoch':>9} {'x bare':>7}")
    for name in ("bare", *VARIANTS[1:], "estimator"):
        print(f"{name:<12} {median[name]:>9.3f} {median[name] / bare:>7.2f}")
    result = {
        "net": args.net,
        "batch_size": args.batch_size,
        "threads": torch.get_num_threads(),
        "seconds_per_epoch": times,  # the estimator's entries: whole training runs
        "first_fit_epochs": first_fit_epochs,
        "main_epochs": main_epochs,
        "median_seconds_per_epoch": median,
        "ratio_estimator_to_bare": median["estimator"] / bare,
    }
    print(f"ratio estimator / bare = {result['ratio_estimator_to_bare']:.2f} (target <= 1.5)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
