"""One table that says, per parameter, whether to trust the posterior."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sklearn_sbi.metrics._accuracy import (
    normalized_rmse,
    posterior_contraction,
    posterior_z_score,
)
from sklearn_sbi.metrics._calibration import calibration_error, coverage
from sklearn_sbi.metrics._sbc import fractional_ranks, rank_chi2_test, sbc_ranks, sbc_verdict
from sklearn_sbi.metrics._validation import check_samples_and_truth, estimator_param_names


def diagnostics_report(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    n_samples: int = 500,
    random_state: int | None = 0,
    alpha: float = 0.01,
    prior_variance: float | np.ndarray | None = None,
) -> pd.DataFrame:
    """Calibration, accuracy and sharpness of a posterior estimator, per parameter.

    Draws ``n_samples`` posterior samples for every row of ``X`` and compares
    them with the true values ``y`` (held-out simulations, whose parameters
    come from the prior).

    Parameters
    ----------
    estimator : fitted posterior estimator
        Anything with ``sample(X, n_samples, random_state=...)``; its
        ``param_names_``, when present, name the rows.
    X : array-like, DataFrame or Simulations
        Held-out observations; a few hundred give a useful calibration check.
    y : array-like of shape (n_obs, n_params) or DataFrame
        The parameters that generated each row of ``X``.
    n_samples : int, default=500
        Posterior draws per observation.
    random_state : int or None, default=0
        Seed passed to ``estimator.sample``.
    alpha : float, default=0.01
        Significance level of the SBC rank uniformity test.
    prior_variance : float or array-like of shape (n_params,), optional
        Prior variance for the contraction; the variance of ``y`` by default.

    Returns
    -------
    DataFrame
        One row per parameter; columns:

        - ``calibration_error``: mean absolute coverage error over levels
          0.01..0.99 (0 is ideal; see :func:`calibration_error`).
        - ``coverage_50``, ``coverage_90``: coverage of the central 50% and
          90% credible intervals (ideally 0.5 and 0.9).
        - ``normalized_rmse``: RMSE of the posterior median over the range of
          ``y``.
        - ``posterior_contraction``: mean ``1 - posterior var / prior var``.
        - ``z_score_mean``, ``z_score_std``: mean and standard deviation over
          observations of the posterior z-score (ideally about 0 and 1; a
          positive mean means the posterior overestimates).
        - ``sbc_rank_mean``: mean fractional SBC rank (ideally 0.5; below 0.5
          the posterior overestimates).
        - ``sbc_pvalue``: p-value of a chi-square test of uniform SBC ranks.
        - ``verdict``: "well calibrated", "biased", "under-dispersed" (too
          narrow, over-confident) or "over-dispersed" (too wide).

    Notes
    -----
    The verdict rule: a parameter whose rank uniformity p-value is at least
    ``alpha`` is "well calibrated". Otherwise the fractional ranks ``u`` in
    (0, 1) decide, through the larger of two standardised departures from
    uniformity: ``(mean(u) - 1/2) / sqrt(1 / (12 n))`` means "biased";
    ``(var(u) - 1/12) / sqrt(1 / (180 n))`` means "under-dispersed" when
    positive (ranks pile up at both ends) and "over-dispersed" when negative
    (ranks crowd the middle).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.metrics import diagnostics_report
    >>> class Prior:  # the exact posterior when the data carry no information
    ...     param_names_ = ["mu"]
    ...     def sample(self, X, n_samples, random_state=None):
    ...         rng = np.random.default_rng(random_state)
    ...         return rng.normal(size=(len(X), n_samples, 1))
    >>> y = np.random.default_rng(1).normal(size=(300, 1))
    >>> diagnostics_report(Prior(), np.zeros((300, 1)), y, n_samples=100)["verdict"].tolist()
    ['well calibrated']
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`alpha` must lie in (0, 1), got {alpha!r}.")
    samples = estimator.sample(X, n_samples=n_samples, random_state=random_state)
    checked = check_samples_and_truth(samples, y, param_names=estimator_param_names(estimator))
    samples, truth, names = checked.samples, checked.truth, checked.param_names
    z_scores = posterior_z_score(samples, truth, param_names=names, aggregation=None)
    ranks = sbc_ranks(samples, truth, param_names=names).to_numpy()
    _, pvalue = rank_chi2_test(ranks, samples.shape[1])
    fractional = fractional_ranks(samples, truth)
    covered = coverage(samples, truth, levels=[0.5, 0.9], param_names=names)
    report = pd.DataFrame(
        {
            "calibration_error": calibration_error(samples, truth, param_names=names),
            "coverage_50": covered.iloc[0],
            "coverage_90": covered.iloc[1],
            "normalized_rmse": normalized_rmse(samples, truth, param_names=names),
            "posterior_contraction": posterior_contraction(
                samples, truth, prior_variance=prior_variance, param_names=names
            ),
            "z_score_mean": z_scores.mean(axis=0),
            "z_score_std": z_scores.std(axis=0),
            "sbc_rank_mean": pd.Series(fractional.mean(axis=0), index=names),
            "sbc_pvalue": pd.Series(pvalue, index=names),
            "verdict": sbc_verdict(fractional, pvalue, alpha),
        },
        index=pd.Index(names, name="parameter"),
    )
    return report
