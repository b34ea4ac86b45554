"""The torch training loop shared by every estimator fit.

AdamW with a linear warm-up and a cosine decay, gradient clipping, a
per-epoch validation loss, early stopping that restores the best weights, a
tqdm progress bar, and safe stops: a non-finite loss or a ``KeyboardInterrupt``
ends training with the best weights restored and a warning, never with a
half-updated model.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm


class TrainingWarning(UserWarning):
    """Training stopped early for a reason the user should know about."""


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings of one training run."""

    max_epochs: int
    learning_rate: float
    early_stopping: bool = True
    n_iter_no_change: int = 10
    comparable_loss: bool = True
    """False when one epoch's loss cannot be compared with another's (a curriculum,
    moving coordinates): every finished epoch then counts as the best so far."""
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    clip_norm: float = 1.5
    schedule: bool = True
    ema_decay: float = 0.999
    verbose: int = 0


@dataclass
class TrainingHistory:
    """What a training run did, epoch by epoch."""

    loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_epoch: int = 0
    best_score: float = math.inf
    stop_reason: str = "max_epochs"
    seconds: float = 0.0

    @property
    def n_iter(self) -> int:
        """Number of epochs run."""
        return len(self.loss_curve)


def make_optimizer(model: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters of ``model``."""
    return torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )


def warmup_cosine(total_steps: int, warmup_fraction: float) -> Callable[[int], float]:
    """Learning-rate factor: linear warm-up, then cosine decay to 0 at ``total_steps``."""
    warmup = max(1, int(warmup_fraction * total_steps))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


class ExponentialAverage:
    """Exponential moving average of a model's floating-point weights.

    The averaged weights are what gets validated and kept: they smooth out
    the step-to-step noise of stochastic losses such as flow matching's. The
    decay warms up as ``min(decay, (1 + k) / (10 + k))`` after ``k`` updates.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        live = {
            name: value
            for name, value in model.state_dict(keep_vars=True).items()
            if value.is_floating_point()
        }
        self.live = [value.detach() for value in live.values()]
        self.state = {name: value.detach().clone() for name, value in live.items()}
        self.averages = list(self.state.values())

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the current weights (tracked since construction)."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_lerp_(self.averages, self.live, 1.0 - decay)

    def copy_to(self, model: nn.Module) -> None:
        model.load_state_dict(self.state, strict=False)


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone() for name, value in model.state_dict().items()}


def train(
    model: nn.Module,
    *,
    epoch_batches: Callable[[int], Iterable[Any]],
    batch_loss: Callable[[Any], torch.Tensor],
    steps_per_epoch: int,
    config: TrainingConfig,
    validation_loss: Callable[[], float] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    on_improvement: Callable[[TrainingHistory], None] | None = None,
) -> TrainingHistory:
    """Train ``model`` in place and return its history.

    Parameters
    ----------
    model : nn.Module
        Holds every trainable parameter.
    epoch_batches : callable
        ``epoch_batches(epoch)`` yields the batches of one epoch.
    batch_loss : callable
        ``batch_loss(batch)`` returns the scalar loss of a batch.
    steps_per_epoch : int
        Batches per epoch, for the learning-rate schedule.
    config : TrainingConfig
        Optimisation settings.
    validation_loss : callable, optional
        Returns the validation loss (called under ``torch.no_grad`` in eval
        mode). Without it, the epoch's training loss is monitored.
    optimizer : torch.optim.Optimizer, optional
        Continue with this optimizer (``partial_fit``); a new AdamW otherwise.
    on_improvement : callable, optional
        Called with the history so far after each new best epoch, while
        ``model`` holds the new best weights (checkpointing).

    Returns
    -------
    TrainingHistory
        The best weights are loaded into ``model`` when early stopping is on
        or training stopped on a non-finite loss or an interrupt.
    """
    optimizer = optimizer or make_optimizer(model, config)
    averaged = ExponentialAverage(model, config.ema_decay)
    scheduler = None
    if config.schedule:
        factor = warmup_cosine(config.max_epochs * steps_per_epoch, config.warmup_fraction)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    history = TrainingHistory()
    best_state = _snapshot(model)
    epochs_without_improvement = 0
    parameters = [p for p in model.parameters() if p.requires_grad]
    start = time.perf_counter()
    progress = tqdm(range(config.max_epochs), disable=config.verbose <= 0, unit="epoch", leave=True)
    try:
        for epoch in progress:
            model.train()
            total = torch.zeros((), dtype=torch.float64)
            n_batches = 0
            for batch in epoch_batches(epoch):
                loss = batch_loss(batch)
                if not bool(torch.isfinite(loss)):
                    _stop_non_finite(history, epoch, float(loss.detach()), config)
                    break
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(parameters, config.clip_norm)
                if not bool(torch.isfinite(grad_norm)):
                    _stop_non_finite(history, epoch, float(grad_norm), config, "gradient norm")
                    break
                optimizer.step()
                averaged.update()
                if scheduler is not None:
                    scheduler.step()
                total += loss.detach().double().cpu()
                n_batches += 1
            if history.stop_reason == "non_finite":
                break
            history.loss_curve.append(float(total) / max(n_batches, 1))
            monitored = history.loss_curve[-1]
            live_state = _snapshot(model)
            averaged.copy_to(model)
            if validation_loss is not None:
                model.eval()
                with torch.no_grad():
                    monitored = float(validation_loss())
                history.validation_scores.append(monitored)
                if not math.isfinite(monitored):
                    _stop_non_finite(history, epoch, monitored, config, "validation loss")
                    break
            if monitored < history.best_score or not config.comparable_loss:
                history.best_score = monitored
                history.best_epoch = epoch
                best_state = _snapshot(model)
                epochs_without_improvement = 0
                if on_improvement is not None:
                    on_improvement(history)
            else:
                epochs_without_improvement += 1
            model.load_state_dict(live_state)
            postfix = {"loss": f"{history.loss_curve[-1]:.4f}"}
            if history.validation_scores:
                postfix["val_loss"] = f"{history.validation_scores[-1]:.4f}"
            progress.set_postfix(postfix)
            if config.early_stopping and epochs_without_improvement >= config.n_iter_no_change:
                history.stop_reason = "early_stopping"
                break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        warnings.warn(
            f"Training interrupted after {history.n_iter} epochs; the best weights (epoch "
            f"{history.best_epoch + 1}) are kept and the estimator is usable.",
            TrainingWarning,
            stacklevel=3,
        )
    finally:
        progress.close()
        history.seconds = time.perf_counter() - start
    if config.early_stopping or history.stop_reason in ("non_finite", "interrupted"):
        model.load_state_dict(best_state)
    elif history.loss_curve:
        averaged.copy_to(model)  # the averaged weights of the last epoch
    model.eval()
    return history


def _stop_non_finite(
    history: TrainingHistory,
    epoch: int,
    value: float,
    config: TrainingConfig,
    what: str = "loss",
) -> None:
    history.stop_reason = "non_finite"
    kept = (
        f"the best weights (epoch {history.best_epoch + 1}) are restored"
        if history.loss_curve
        else "no epoch finished, so the initial weights are kept"
    )
    warnings.warn(
        f"Training stopped in epoch {epoch + 1}: the {what} became {value}. Likely cause: a "
        f"learning rate too high for this problem (learning_rate={config.learning_rate}); try "
        f"a smaller one, or check for extreme values in X or y. {kept[0].upper()}{kept[1:]}.",
        TrainingWarning,
        stacklevel=3,
    )


def prefetch(
    executor: Executor, task: Callable[[Any], Any], arguments: Iterable[Any]
) -> Iterator[Any]:
    """Yield ``task(argument)`` for each argument, running the next one in ``executor``.

    While the caller works on one result (a training step), the executor
    already computes the next (a simulated batch).
    """
    pending = None
    for argument in arguments:
        submitted = executor.submit(task, argument)
        if pending is not None:
            yield pending.result()
        pending = submitted
    if pending is not None:
        yield pending.result()
