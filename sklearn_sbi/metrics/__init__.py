"""Diagnostics metrics and scikit-learn scorers for posterior estimators.

Metrics take posterior samples of shape ``(n_obs, n_samples, n_params)`` (or a
tidy DataFrame indexed by (observation, draw), as from
``estimator.sample(X, as_frame=True)``) and true values of shape
``(n_obs, n_params)`` (array or DataFrame).

Conventions shared by all metrics:

- Parameter names come from ``param_names=``, else the columns of a DataFrame
  ``y`` or ``samples``, else ``theta[0], theta[1], ...``.
- Per-parameter results are :class:`pandas.Series` indexed by parameter name;
  ``multioutput="uniform_average"`` returns their mean as a float.
- Metrics defined per observation (z-score, contraction, energy score) take
  ``aggregation``: a reduction over observations such as ``np.mean``, or None
  to keep one value per observation.
"""

from sklearn_sbi.metrics._accuracy import (
    normalized_rmse,
    posterior_contraction,
    posterior_z_score,
)
from sklearn_sbi.metrics._c2st import c2st
from sklearn_sbi.metrics._calibration import calibration_error, coverage
from sklearn_sbi.metrics._energy import energy_score
from sklearn_sbi.metrics._report import diagnostics_report
from sklearn_sbi.metrics._sbc import sbc_ranks
from sklearn_sbi.metrics._scorers import calibration_scorer, energy_scorer, log_prob_scorer

__all__ = [
    "c2st",
    "calibration_error",
    "calibration_scorer",
    "coverage",
    "diagnostics_report",
    "energy_score",
    "energy_scorer",
    "log_prob_scorer",
    "normalized_rmse",
    "posterior_contraction",
    "posterior_z_score",
    "sbc_ranks",
]
