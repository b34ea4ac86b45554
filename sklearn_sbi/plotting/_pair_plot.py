"""Pairwise scatter and marginal histograms of posterior draws for one observation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sklearn_sbi.metrics._validation import (
    check_param_names,
    check_samples,
    default_param_names,
)
from sklearn_sbi.plotting._base import display_from_estimator, panel_grid


def _one_observation(samples: Any, name: str) -> tuple[np.ndarray, list[str] | None]:
    """Draws for one observation as (n_samples, n_params), with names when known."""
    names = None
    if isinstance(samples, pd.DataFrame) and samples.index.nlevels == 1:
        names = [str(c) for c in samples.columns]
        samples = samples.to_numpy()
    if not isinstance(samples, pd.DataFrame) and np.ndim(samples) == 2:
        samples = np.asarray(samples)[None]
    array, frame_names = check_samples(samples, name=name)
    if array.shape[0] != 1:
        raise ValueError(
            f"PairPlotDisplay shows one observation but `{name}` holds {array.shape[0]}; "
            f"select one, e.g. `{name}[[i]]`."
        )
    return array[0], names or frame_names


def _truth_vector(y: Any, n_params: int) -> tuple[np.ndarray, list[str] | None]:
    names = None
    if isinstance(y, pd.Series):
        names = [str(i) for i in y.index]
    elif isinstance(y, pd.DataFrame):
        names = [str(c) for c in y.columns]
    truth = np.asarray(y, dtype=np.float64).reshape(-1)
    if truth.size != n_params:
        raise ValueError(
            f"`y` must hold one true value per parameter ({n_params}), got shape {np.shape(y)}."
        )
    return truth, names


class PairPlotDisplay:
    """Posterior draws for one observation: marginal histograms and pairwise scatter plots.

    The diagonal shows each parameter's marginal histogram (titled by its
    name), the lower triangle the pairwise scatter plots; the upper triangle
    is hidden. Optional reference draws (e.g. from the exact posterior) and
    the true parameter value are overlaid.

    Parameters
    ----------
    samples : ndarray of shape (n_samples, n_params)
        Posterior draws.
    param_names : list of str
        Parameter names.
    reference : ndarray of shape (n_reference, n_params), optional
        Reference draws, e.g. from the true posterior.
    truth : ndarray of shape (n_params,), optional
        The true parameter value.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params, n_params) of matplotlib Axes
        ``ax_[i, j]`` plots parameter ``j`` (x) against ``i`` (y); the
        diagonal holds the histograms and the upper triangle is hidden.

    See Also
    --------
    sklearn_sbi.metrics.c2st : How distinguishable the draws are from a reference.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import PairPlotDisplay
    >>> draws = np.random.default_rng(0).normal(size=(300, 2))
    >>> display = PairPlotDisplay.from_samples(draws, [0.0, 0.0], param_names=["a", "b"])
    >>> display.ax_.shape, display.ax_[1, 1].get_title()
    ((2, 2), 'b')
    """

    def __init__(
        self,
        samples: np.ndarray,
        *,
        param_names: list[str],
        reference: np.ndarray | None = None,
        truth: np.ndarray | None = None,
    ) -> None:
        self.samples = samples
        self.param_names = param_names
        self.reference = reference
        self.truth = truth

    def _limits(self) -> np.ndarray:
        """Shared (low, high) limits per parameter over all plotted values."""
        stacked = [self.samples]
        if self.reference is not None:
            stacked.append(self.reference)
        if self.truth is not None:
            stacked.append(self.truth[None, :])
        values = np.concatenate(stacked, axis=0)
        low, high = values.min(axis=0), values.max(axis=0)
        pad = 0.05 * np.where(high > low, high - low, 1.0)
        return np.stack([low - pad, high + pad], axis=1)

    def plot(self, ax: Any = None, *, bins: int = 30) -> PairPlotDisplay:
        """Draw the pair plot.

        Parameters
        ----------
        ax : array-like of Axes, optional
            ``n_params * n_params`` Axes (row-major); a new figure by default.
        bins : int, default=30
            Histogram bins on the diagonal.

        Returns
        -------
        PairPlotDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """
        n_params = len(self.param_names)
        self.figure_, axes = panel_grid(n_params * n_params, ax=ax, n_cols=n_params)
        self.ax_ = axes.reshape(n_params, n_params)
        limits = self._limits()
        sets = [(self.samples, "C0", "posterior")]
        if self.reference is not None:
            sets.append((self.reference, "C1", "reference"))
        for i in range(n_params):
            for j in range(n_params):
                panel = self.ax_[i, j]
                if j > i:
                    panel.set_visible(False)
                    continue
                for draws, color, label in sets:
                    if i == j:
                        panel.hist(
                            draws[:, j],
                            bins=bins,
                            range=tuple(limits[j]),
                            density=True,
                            histtype="stepfilled" if label == "posterior" else "step",
                            color=color,
                            alpha=0.6 if label == "posterior" else 1.0,
                            label=label,
                        )
                    else:
                        panel.scatter(draws[:, j], draws[:, i], s=2, alpha=0.3, color=color)
                if self.truth is not None:
                    if i == j:
                        panel.axvline(self.truth[j], color="black", label="true value")
                    else:
                        panel.plot(
                            self.truth[j],
                            self.truth[i],
                            marker="*",
                            color="black",
                            markersize=10,
                            linestyle="none",
                        )
                panel.set_xlim(limits[j])
                if i != j:
                    panel.set_ylim(limits[i])
                if i == j:
                    panel.set_title(self.param_names[j])
                if i == n_params - 1:
                    panel.set_xlabel(self.param_names[j])
                if j == 0 and i > 0:
                    panel.set_ylabel(self.param_names[i])
        if len(sets) > 1 or self.truth is not None:
            self.ax_[0, 0].legend(fontsize="small")
        return self

    @classmethod
    def from_samples(
        cls,
        samples: Any,
        y: Any = None,
        *,
        reference: Any = None,
        param_names: Sequence[str] | None = None,
        bins: int = 30,
        ax: Any = None,
    ) -> PairPlotDisplay:
        """Plot posterior draws for one observation.

        Parameters
        ----------
        samples : array-like of shape (n_samples, n_params) or (1, n_samples, n_params)
            Posterior draws for one observation; a DataFrame's columns name
            the parameters.
        y : array-like of shape (n_params,) or (1, n_params), Series or DataFrame, optional
            The true parameter value.
        reference : array-like of shape (n_reference, n_params), optional
            Reference draws in the same layout as ``samples``.
        param_names : sequence of str, optional
            Parameter names; by default from DataFrame columns or ``theta[i]``.
        bins : int, default=30
            Histogram bins on the diagonal.
        ax : array-like of Axes, optional
            ``n_params * n_params`` Axes; a new figure by default.

        Returns
        -------
        PairPlotDisplay
        """
        draws, sample_names = _one_observation(samples, "samples")
        n_params = draws.shape[1]
        reference_draws, reference_names = (None, None)
        if reference is not None:
            reference_draws, reference_names = _one_observation(reference, "reference")
            if reference_draws.shape[1] != n_params:
                raise ValueError(
                    f"`reference` has {reference_draws.shape[1]} parameters, `samples` {n_params}."
                )
        truth, truth_names = (None, None) if y is None else _truth_vector(y, n_params)
        if param_names is not None:
            names = check_param_names(param_names, n_params)
        else:
            names = sample_names or truth_names or reference_names or default_param_names(n_params)
        display = cls(draws, param_names=names, reference=reference_draws, truth=truth)
        return display.plot(ax=ax, bins=bins)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any = None,
        *,
        n_samples: int = 1000,
        random_state: int | None = 0,
        reference: Any = None,
        bins: int = 30,
        ax: Any = None,
    ) -> PairPlotDisplay:
        """Plot a fitted estimator's posterior draws for one observation.

        Parameters
        ----------
        estimator : fitted posterior estimator
            Anything with ``sample(X, n_samples, random_state=...)``.
        X : array-like, DataFrame or Simulations with one observation
            The observation, e.g. ``X[[0]]``.
        y : array-like of shape (n_params,), optional
            The true parameter value.
        n_samples : int, default=1000
            Posterior draws.
        random_state : int or None, default=0
            Seed passed to ``estimator.sample``.
        reference : array-like of shape (n_reference, n_params), optional
            Reference draws, e.g. from the true posterior.
        bins : int, default=30
            Histogram bins on the diagonal.
        ax : array-like of Axes, optional
            ``n_params * n_params`` Axes; a new figure by default.

        Returns
        -------
        PairPlotDisplay
        """
        if len(X) != 1:
            raise ValueError(
                f"PairPlotDisplay shows one observation but `X` holds {len(X)}; "
                "select one, e.g. `X[[i]]`."
            )
        return display_from_estimator(
            cls, estimator, X, y, n_samples, random_state, reference=reference, bins=bins, ax=ax
        )
