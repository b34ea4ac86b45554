"""Empirical coverage of central credible intervals against their nominal level."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from sklearn_sbi.metrics._calibration import (
    coverage,
    default_calibration_levels,
    mean_coverage_error,
)
from sklearn_sbi.metrics._validation import check_levels, check_samples_and_truth
from sklearn_sbi.plotting._base import annotate, display_from_estimator, parameter_panels


class CoverageDisplay:
    """Coverage of central credible intervals against their level, one panel per parameter.

    A calibrated posterior follows the diagonal (inside the grey pointwise
    binomial band); below it the intervals are too narrow or off-centre
    (over-confident or biased), above it too wide. Each panel shows the
    calibration error, the mean distance to the diagonal.

    Parameters
    ----------
    levels : ndarray of shape (n_levels,)
        Nominal credible levels.
    coverage : ndarray of shape (n_levels, n_params)
        Empirical coverage at each level.
    n_obs : int
        Number of observations the coverage was computed from (sets the band).
    param_names : list of str
        Panel titles.
    confidence : float, default=0.95
        Pointwise coverage of the band.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params,) of matplotlib Axes

    See Also
    --------
    sklearn_sbi.metrics.coverage
    sklearn_sbi.metrics.calibration_error

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import CoverageDisplay
    >>> rng = np.random.default_rng(0)
    >>> display = CoverageDisplay.from_samples(
    ...     rng.normal(size=(100, 50, 3)), rng.normal(size=(100, 3))
    ... )
    >>> len(display.figure_.axes)
    3
    """

    def __init__(
        self,
        levels: np.ndarray,
        coverage: np.ndarray,
        n_obs: int,
        *,
        param_names: list[str],
        confidence: float = 0.95,
    ) -> None:
        self.levels = levels
        self.coverage = coverage
        self.n_obs = n_obs
        self.param_names = param_names
        self.confidence = confidence

    def plot(self, ax: Any = None, *, n_cols: int | None = None) -> CoverageDisplay:
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CoverageDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """
        confidence = float(check_levels(self.confidence, "confidence")[0])
        tail = (1.0 - confidence) / 2.0
        lower = stats.binom.ppf(tail, self.n_obs, self.levels) / self.n_obs
        upper = stats.binom.ppf(1.0 - tail, self.n_obs, self.levels) / self.n_obs
        errors = mean_coverage_error(self.coverage, self.levels)

        def draw(panel: Any, j: int) -> None:
            panel.fill_between(self.levels, lower, upper, color="grey", alpha=0.3)
            panel.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1)
            panel.plot(self.levels, self.coverage[:, j], color="C0")
            annotate(panel, f"calibration error = {errors[j]:.3f}")
            panel.set_xlim(0, 1)
            panel.set_ylim(0, 1)

        self.figure_, self.ax_ = parameter_panels(
            self.param_names,
            draw,
            xlabel="credible level",
            ylabel="empirical coverage",
            ax=ax,
            n_cols=n_cols,
        )
        return self

    @classmethod
    def from_samples(
        cls,
        samples: Any,
        y: Any,
        *,
        levels: ArrayLike | None = None,
        param_names: Sequence[str] | None = None,
        confidence: float = 0.95,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CoverageDisplay:
        """Plot coverage curves from posterior draws and true values.

        Parameters
        ----------
        samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
            Posterior draws, one set per observation.
        y : array-like of shape (n_obs, n_params) or DataFrame
            True parameter values (drawn from the prior).
        levels : array-like of float, optional
            Credible levels; 0.01, 0.02, ..., 0.99 by default.
        param_names : sequence of str, optional
            Panel titles; by default taken from DataFrame columns.
        confidence : float, default=0.95
            Pointwise coverage of the band.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CoverageDisplay
        """
        level_array = default_calibration_levels() if levels is None else check_levels(levels)
        checked = check_samples_and_truth(samples, y, param_names=param_names)
        covered = coverage(checked.samples, checked.truth, levels=level_array)
        display = cls(
            level_array,
            covered.to_numpy(),
            checked.samples.shape[0],
            param_names=checked.param_names,
            confidence=confidence,
        )
        return display.plot(ax=ax, n_cols=n_cols)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        *,
        n_samples: int = 500,
        random_state: int | None = 0,
        levels: ArrayLike | None = None,
        confidence: float = 0.95,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> CoverageDisplay:
        """Plot coverage curves of a fitted estimator on held-out simulations.

        Parameters
        ----------
        estimator : fitted posterior estimator
            Anything with ``sample(X, n_samples, random_state=...)``.
        X : array-like, DataFrame or Simulations
            Held-out observations.
        y : array-like of shape (n_obs, n_params) or DataFrame
            The parameters that generated ``X``.
        n_samples : int, default=500
            Posterior draws per observation.
        random_state : int or None, default=0
            Seed passed to ``estimator.sample``.
        levels : array-like of float, optional
            Credible levels; 0.01, 0.02, ..., 0.99 by default.
        confidence : float, default=0.95
            Pointwise coverage of the band.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        CoverageDisplay
        """
        return display_from_estimator(
            cls,
            estimator,
            X,
            y,
            n_samples,
            random_state,
            levels=levels,
            confidence=confidence,
            ax=ax,
            n_cols=n_cols,
        )
