"""Parameter recovery: posterior medians with credible bars against true values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import r2_score

from sklearn_sbi.metrics._accuracy import normalized_rmse
from sklearn_sbi.metrics._validation import check_levels, check_samples_and_truth
from sklearn_sbi.plotting._base import annotate, display_from_estimator, parameter_panels


class RecoveryDisplay:
    """Posterior median against true value, one panel per parameter.

    Points on the diagonal mean perfect recovery; vertical bars are central
    credible intervals. Each panel is annotated with the R^2 of the medians
    and the range-normalised RMSE (see :func:`~sklearn_sbi.metrics.normalized_rmse`).

    Parameters
    ----------
    truth : ndarray of shape (n_obs, n_params)
        True parameter values.
    median : ndarray of shape (n_obs, n_params)
        Posterior medians.
    lower, upper : ndarray of shape (n_obs, n_params)
        Bounds of the central credible intervals.
    param_names : list of str
        Panel titles.
    r2, nrmse : ndarray of shape (n_params,)
        Scores written in each panel.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : ndarray of shape (n_params,) of matplotlib Axes

    See Also
    --------
    CalibrationECDFDisplay : Whether the credible intervals have the right width.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.plotting import RecoveryDisplay
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(size=(50, 2))
    >>> samples = truth[:, None, :] + 0.1 * rng.normal(size=(50, 100, 2))
    >>> display = RecoveryDisplay.from_samples(samples, truth, param_names=["a", "b"])
    >>> [ax.get_title() for ax in display.ax_]
    ['a', 'b']
    """

    def __init__(
        self,
        truth: np.ndarray,
        median: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        *,
        param_names: list[str],
        r2: np.ndarray,
        nrmse: np.ndarray,
    ) -> None:
        self.truth = truth
        self.median = median
        self.lower = lower
        self.upper = upper
        self.param_names = param_names
        self.r2 = r2
        self.nrmse = nrmse

    def plot(self, ax: Any = None, *, n_cols: int | None = None) -> RecoveryDisplay:
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        RecoveryDisplay
            ``self``, with ``figure_`` and ``ax_`` set.
        """

        def draw(panel: Any, j: int) -> None:
            error = np.stack(
                [self.median[:, j] - self.lower[:, j], self.upper[:, j] - self.median[:, j]]
            )
            panel.errorbar(
                self.truth[:, j],
                self.median[:, j],
                yerr=error,
                fmt="o",
                markersize=3,
                alpha=0.6,
                elinewidth=0.8,
                color="C0",
            )
            low = min(self.truth[:, j].min(), self.lower[:, j].min())
            high = max(self.truth[:, j].max(), self.upper[:, j].max())
            panel.plot([low, high], [low, high], color="black", linestyle="--", linewidth=1)
            annotate(panel, f"$R^2$ = {self.r2[j]:.3f}\nNRMSE = {self.nrmse[j]:.3f}")

        self.figure_, self.ax_ = parameter_panels(
            self.param_names,
            draw,
            xlabel="true value",
            ylabel="posterior median",
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
        param_names: Sequence[str] | None = None,
        credible_level: float = 0.9,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> RecoveryDisplay:
        """Plot recovery from posterior draws.

        Parameters
        ----------
        samples : array-like of shape (n_obs, n_samples, n_params) or DataFrame
            Posterior draws, one set per observation.
        y : array-like of shape (n_obs, n_params) or DataFrame
            True parameter values.
        param_names : sequence of str, optional
            Panel titles; by default taken from DataFrame columns.
        credible_level : float, default=0.9
            Level of the central credible bars.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        RecoveryDisplay
        """
        level = float(check_levels(credible_level, "credible_level")[0])
        checked = check_samples_and_truth(samples, y, param_names=param_names)
        lower, median, upper = np.quantile(
            checked.samples, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=1
        )
        nrmse = normalized_rmse(checked.samples, checked.truth).to_numpy()
        r2 = r2_score(checked.truth, median, multioutput="raw_values")
        display = cls(
            checked.truth,
            median,
            lower,
            upper,
            param_names=checked.param_names,
            r2=np.atleast_1d(r2),
            nrmse=nrmse,
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
        credible_level: float = 0.9,
        ax: Any = None,
        n_cols: int | None = None,
    ) -> RecoveryDisplay:
        """Plot recovery of held-out parameters by a fitted estimator.

        Parameters
        ----------
        estimator : fitted posterior estimator
            Anything with ``sample(X, n_samples, random_state=...)``; its
            ``param_names_`` title the panels.
        X : array-like, DataFrame or Simulations
            Held-out observations.
        y : array-like of shape (n_obs, n_params) or DataFrame
            The parameters that generated ``X``.
        n_samples : int, default=500
            Posterior draws per observation.
        random_state : int or None, default=0
            Seed passed to ``estimator.sample``.
        credible_level : float, default=0.9
            Level of the central credible bars.
        ax : array-like of Axes, optional
            One Axes per parameter; a new figure by default.
        n_cols : int, optional
            Columns of a new figure's grid.

        Returns
        -------
        RecoveryDisplay
        """
        return display_from_estimator(
            cls,
            estimator,
            X,
            y,
            n_samples,
            random_state,
            credible_level=credible_level,
            ax=ax,
            n_cols=n_cols,
        )
