"""Training and validation loss per epoch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sklearn_sbi.metrics._validation import final_estimator
from sklearn_sbi.plotting._base import panel_grid


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average; the first ``window - 1`` points average what exists so far."""
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, values.size + 1), window)
    ends = np.arange(1, values.size + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


def _check_curve(values: ArrayLike | None, name: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(
            f"`{name}` must be a 1-D sequence of per-epoch losses, got shape {array.shape}."
        )
    return array if array.size else None


class LossCurveDisplay:
    """Loss curve of a training run: training and (optional) validation loss per epoch.

    Create it with :meth:`from_estimator` or :meth:`from_history`; the
    constructor only stores the data and :meth:`plot` draws it.

    Parameters
    ----------
    train_loss : array-like of shape (n_epochs,)
        Training loss per epoch.
    validation_loss : array-like of shape (n_epochs,), optional
        Validation loss per epoch.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (1,) of matplotlib Axes
        The single panel.

    See Also
    --------
    RecoveryDisplay : Posterior medians against true values.

    Examples
    --------
    >>> from sklearn_sbi.plotting import LossCurveDisplay
    >>> display = LossCurveDisplay.from_history([3.0, 2.0, 1.5, 1.2], [3.1, 2.2, 1.9, 1.8])
    >>> display.ax_[0].get_title()
    'Loss'
    """

    def __init__(self, train_loss: ArrayLike, validation_loss: ArrayLike | None = None) -> None:
        self.train_loss = train_loss
        self.validation_loss = validation_loss

    def plot(self, ax: Any = None, *, smoothing: int | None = None) -> LossCurveDisplay:
        """Draw the curves.

        Parameters
        ----------
        ax : Axes or array of one Axes, optional
            Where to draw; a new figure by default.
        smoothing : int, optional
            Window (in epochs) of a trailing moving average drawn over the
            raw curves, which are then drawn faint. None draws raw curves only.

        Returns
        -------
        LossCurveDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """
        train = _check_curve(self.train_loss, "train_loss")
        if train is None:
            raise ValueError("`train_loss` is empty: there is no training history to plot.")
        validation = _check_curve(self.validation_loss, "validation_loss")
        if smoothing is not None and (not isinstance(smoothing, int) or smoothing < 1):
            raise ValueError(
                f"`smoothing` must be a positive integer window or None, got {smoothing!r}."
            )
        self.figure_, self.ax_ = panel_grid(1, ax=ax)
        panel = self.ax_[0]
        curves = [("training", train, "C0"), ("validation", validation, "C1")]
        for label, values, color in curves:
            if values is None:
                continue
            epochs = np.arange(1, values.size + 1)
            if smoothing is None:
                panel.plot(epochs, values, color=color, label=label)
            else:
                panel.plot(epochs, values, color=color, alpha=0.3)
                panel.plot(epochs, moving_average(values, smoothing), color=color, label=label)
        panel.set_xlabel("epoch")
        panel.set_ylabel("loss")
        panel.set_title("Loss")
        panel.legend()
        return self

    @classmethod
    def from_history(
        cls,
        train: Sequence[float] | ArrayLike,
        validation: Sequence[float] | ArrayLike | None = None,
        *,
        smoothing: int | None = None,
        ax: Any = None,
    ) -> LossCurveDisplay:
        """Plot per-epoch losses given as sequences.

        Parameters
        ----------
        train : array-like of shape (n_epochs,)
            Training loss per epoch.
        validation : array-like of shape (n_epochs,), optional
            Validation loss per epoch.
        smoothing : int, optional
            Moving-average window in epochs; see :meth:`plot`.
        ax : Axes, optional
            Where to draw; a new figure by default.

        Returns
        -------
        LossCurveDisplay
        """
        return cls(train, validation).plot(ax=ax, smoothing=smoothing)

    @classmethod
    def from_estimator(
        cls, estimator: Any, *, smoothing: int | None = None, ax: Any = None
    ) -> LossCurveDisplay:
        """Plot the loss curve of a fitted estimator.

        Parameters
        ----------
        estimator : fitted estimator or pipeline ending in one
            Reads ``loss_curve_`` and, when present and not empty,
            ``validation_scores_`` (per-epoch validation losses).
        smoothing : int, optional
            Moving-average window in epochs; see :meth:`plot`.
        ax : Axes, optional
            Where to draw; a new figure by default.

        Returns
        -------
        LossCurveDisplay
        """
        estimator = final_estimator(estimator)
        if not hasattr(estimator, "loss_curve_"):
            raise AttributeError(
                f"{type(estimator).__name__} has no `loss_curve_`: fit it first, or use "
                "`LossCurveDisplay.from_history(train, validation)`."
            )
        validation = getattr(estimator, "validation_scores_", None)
        return cls.from_history(estimator.loss_curve_, validation, smoothing=smoothing, ax=ax)
