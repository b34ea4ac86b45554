"""Output conventions shared by every diagnostics metric.

- A per-parameter metric returns a :class:`pandas.Series` indexed by
  parameter name and named after the metric; ``multioutput="uniform_average"``
  returns the float mean over parameters instead.
- A metric defined per observation and parameter takes ``aggregation``: a
  function reducing over observations (``np.mean``, ``np.median``...), or
  None to keep a :class:`pandas.DataFrame` with one row per observation and one
  column per parameter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

MULTIOUTPUT_OPTIONS = ("raw_values", "uniform_average")


def check_multioutput(multioutput: str) -> None:
    """Raise a clear error for an unknown ``multioutput`` option."""
    if multioutput not in MULTIOUTPUT_OPTIONS:
        raise ValueError(
            f"`multioutput` must be one of {MULTIOUTPUT_OPTIONS}, got {multioutput!r}."
        )


def check_aggregation(aggregation: object) -> None:
    """Raise a clear error unless ``aggregation`` is None or callable."""
    if aggregation is not None and not callable(aggregation):
        raise TypeError(
            f"`aggregation` must be a callable such as np.mean or None, got {aggregation!r}."
        )


def per_parameter(
    values: np.ndarray, param_names: list[str], metric: str, multioutput: str
) -> pd.Series | float:
    """One value per parameter as a named Series, or their mean as a float."""
    check_multioutput(multioutput)
    if multioutput == "uniform_average":
        return float(np.mean(values))
    return pd.Series(np.asarray(values, dtype=np.float64), index=param_names, name=metric)


def per_observation(
    values: np.ndarray,
    param_names: list[str],
    obs_index: pd.Index,
    metric: str,
    aggregation: Callable[..., np.ndarray] | None,
    multioutput: str,
) -> pd.DataFrame | pd.Series | float:
    """Values of shape (n_obs, n_params), reduced over observations by ``aggregation``."""
    check_multioutput(multioutput)
    if aggregation is None:
        if multioutput == "uniform_average":
            raise ValueError(
                "`multioutput='uniform_average'` needs an `aggregation` over observations; "
                "pass e.g. `aggregation=np.mean`."
            )
        return pd.DataFrame(values, index=obs_index, columns=param_names)
    check_aggregation(aggregation)
    reduced = np.asarray(aggregation(values, axis=0), dtype=np.float64)
    return per_parameter(reduced, param_names, metric, multioutput)
