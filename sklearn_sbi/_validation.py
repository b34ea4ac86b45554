"""Input validation for the estimators: clear errors that say what to fix."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.utils import check_array
from sklearn.utils.validation import _get_feature_names

from sklearn_sbi.simulations import Simulations, as_simulations

FLAT_FIELD = "X"
"""Name of the single field a 2-D array or numeric DataFrame X becomes."""


def count_bad_rows(array: np.ndarray) -> tuple[int, int]:
    """Rows holding at least one NaN, and rows holding at least one infinity."""
    flat = array.reshape(array.shape[0], -1)
    return int(np.isnan(flat).any(axis=1).sum()), int(np.isinf(flat).any(axis=1).sum())


def check_finite(array: np.ndarray, name: str) -> None:
    """Raise a ValueError that counts the rows of ``array`` holding NaN or inf."""
    n_nan, n_inf = count_bad_rows(array)
    if n_nan or n_inf:
        raise ValueError(
            f"Input {name} contains NaN in {n_nan} row(s) and inf in {n_inf} row(s) of "
            f"{array.shape[0]}. Remove or impute those rows before calling this method "
            "(e.g. Simulator.sample(..., on_invalid='drop'))."
        )


def is_structured(X: Any) -> bool:
    """True for inputs made of named fields: Simulations, mappings, object-column frames."""
    if issparse(X):
        return False
    if isinstance(X, (Simulations, Mapping)):
        return True
    return isinstance(X, pd.DataFrame) and any(dtype is np.dtype(object) for dtype in X.dtypes)


def check_n_jobs(n_jobs: Any) -> int | None:
    """Validate a joblib ``n_jobs``: None or a non-zero int (negative counts back from all CPUs)."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral):
        raise TypeError(
            f"n_jobs must be an int or None, got {n_jobs!r}; use e.g. n_jobs=4, or -1 for all CPUs."
        )
    if n_jobs == 0:
        raise ValueError("n_jobs=0 runs nothing; use None or 1 for one process, -1 for all CPUs.")
    return int(n_jobs)


def check_float32_range(array: np.ndarray, name: str) -> None:
    """Raise a ValueError if finite entries of ``array`` overflow float32 (the networks' dtype)."""
    limit = float(np.finfo(np.float32).max)
    largest = float(np.max(np.abs(array), initial=0.0, where=np.isfinite(array)))
    if largest > limit:
        raise ValueError(
            f"{name} has values of magnitude up to {largest:.3g}, beyond the float32 range "
            f"({limit:.3g}) the networks compute in; rescale it (e.g. change units or take logs)."
        )


def check_training_targets(targets: np.ndarray, names: list[str]) -> None:
    """Refuse targets a fit cannot standardize: fewer than 2 rows or a constant column."""
    if targets.shape[0] < 2:
        raise ValueError(
            f"Training needs at least 2 simulations; got {targets.shape[0]} sample. "
            "Simulate more data."
        )
    spreads = np.ptp(targets, axis=0)
    constant = [name for name, spread in zip(names, spreads, strict=True) if spread == 0]
    if constant:
        raise ValueError(
            f"y has constant column(s) {constant}: a parameter that never varies cannot be "
            "inferred. Drop it from y (or simulate it from its prior)."
        )


def _numeric_array(value: Any, name: str, **kwargs: Any) -> np.ndarray:
    """``check_array`` to float64, with a TypeError naming ``name`` for non-numeric values."""
    try:
        return check_array(
            value, dtype=np.float64, ensure_all_finite=False, input_name=name, **kwargs
        )
    except (TypeError, ValueError) as error:
        dtype = None if issparse(value) else np.asarray(value).dtype
        if dtype is None or dtype.kind not in "OUS":
            raise
        raise TypeError(
            f"{name} must be numeric, got values of dtype {dtype} that are not numbers ({error}). "
            "Encode categories first (e.g. sklearn_sbi.preprocessing.OneHot) or drop them."
        ) from None


def _check_unique_columns(frame: Any, name: str) -> None:
    if isinstance(frame, pd.DataFrame):
        names = [str(c) for c in frame.columns]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"{name} has duplicated column names {duplicated}; rename them.")


def check_n_samples(n_samples: Any) -> int:
    """Validate the number of posterior draws per observation."""
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}; ask for at least one draw.")
    return int(n_samples)


def validate_targets(y: Any, n_rows: int | None = None) -> tuple[np.ndarray, list[str], bool]:
    """Check y and return ``(y (n, d) float64, parameter names, y was 1-D)``."""
    if y is None:
        raise ValueError(
            "requires y to be passed, but the target y is None: pass the simulated parameters."
        )
    names = _target_names(y)
    array = _numeric_array(y, "y", ensure_2d=False)
    if array.ndim > 2:
        raise ValueError(f"y must be 1-D or 2-D (n_samples, n_params), got shape {array.shape}.")
    was_1d = array.ndim == 1
    array = array.reshape(array.shape[0], -1)
    check_finite(array, "y")
    check_float32_range(array, "y")
    if n_rows is not None and array.shape[0] != n_rows:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {n_rows} rows, y has "
            f"{array.shape[0]}. Pass one parameter row per simulation."
        )
    if names is None:
        names = ["theta"] if array.shape[1] == 1 else [f"theta[{i}]" for i in range(array.shape[1])]
    return array, names, was_1d


def _target_names(y: Any) -> list[str] | None:
    if isinstance(y, pd.Series):
        return [str(y.name)] if y.name is not None else None
    if isinstance(y, pd.DataFrame):
        _check_unique_columns(y, "y")
        return [str(c) for c in y.columns]
    return None


def validate_inputs(X: Any) -> tuple[dict[str, np.ndarray], list[str] | None]:
    """Turn X into named float32 fields and return them with X's feature names.

    A 2-D array or numeric DataFrame becomes the single flat field ``"X"``;
    a :class:`Simulations` (or an object-column DataFrame) keeps its fields.
    """
    if is_structured(X):
        simulations = as_simulations(X)
        if len(simulations) == 0 or not len(list(simulations.keys())):
            raise ValueError(
                "X is an empty Simulations: it needs at least one simulation and field."
            )
        return {name: _check_field(name, value) for name, value in simulations.items()}, None
    _check_unique_columns(X, "X")
    feature_names = _get_feature_names(X)
    array = _numeric_array(X, "X")
    check_finite(array, "X")
    check_float32_range(array, "X")
    return {FLAT_FIELD: array.astype(np.float32)}, (
        None if feature_names is None else [str(name) for name in feature_names]
    )


def _check_field(name: str, value: np.ndarray) -> np.ndarray:
    if not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        raise TypeError(
            f"Field {name!r} has dtype {value.dtype}; fields must be numeric. Encode "
            "categories first (e.g. sklearn_sbi.preprocessing.OneHot)."
        )
    check_float32_range(np.asarray(value, dtype=np.float64), f"Field {name!r}")
    array = np.asarray(value, dtype=np.float32)
    if array.ndim == 2:
        check_finite(array, f"field {name!r}")
        return array
    n_inf = int(np.isinf(array).reshape(array.shape[0], -1).any(axis=1).sum())
    if n_inf:
        raise ValueError(f"Input field {name!r} contains inf in {n_inf} row(s); remove them.")
    nan = np.isnan(array)
    position_padded = nan.all(axis=-1)
    if (nan.any(axis=-1) & ~position_padded).any():
        raise ValueError(
            f"Field {name!r} has NaN in only some features of a position. NaN marks padding "
            "of whole set elements / time steps; impute partial NaN (e.g. NanToNum)."
        )
    empty = position_padded.reshape(array.shape[0], -1).all(axis=1)
    if empty.any():
        raise ValueError(
            f"Field {name!r} is entirely padding (NaN) in {int(empty.sum())} row(s); every "
            "simulation needs at least one observed element."
        )
    return array


def check_n_params(targets: np.ndarray, param_names: list[str]) -> None:
    """Raise unless ``targets`` has one column per fitted parameter."""
    if targets.shape[1] != len(param_names):
        raise ValueError(
            f"y has {targets.shape[1]} parameters but the estimator was fitted with "
            f"{len(param_names)} parameters ({param_names}); pass one column per parameter, "
            "or refit (warm_start=False) for a new set of parameters."
        )


def check_fields_match(
    fields: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]], owner: str
) -> None:
    """Raise unless ``fields`` has the fitted fields with compatible shapes.

    Flat fields must match exactly; sets and series may change length but
    not their number of features.
    """
    missing = sorted(set(expected) - set(fields))
    unknown = sorted(set(fields) - set(expected))
    if missing or unknown:
        raise ValueError(
            f"X has fields {sorted(fields)} but the estimator was fitted on "
            f"{sorted(expected)} (missing {missing}, unknown {unknown})."
        )
    for name, shape in expected.items():
        got = fields[name].shape[1:]
        if len(shape) == 1:
            same = got == shape
        else:
            same = len(got) == len(shape) and got[-1] == shape[-1]
        if same:
            continue
        if name == FLAT_FIELD:
            raise ValueError(
                f"X has {got[0]} features, but {owner} is expecting {shape[0]} features as input."
            )
        raise ValueError(
            f"Field {name!r} has shape {got} per simulation; the estimator was fitted on shape "
            f"{shape}" + ("" if len(shape) == 1 else " (set/series length may vary)") + "."
        )


def split_flat_columns(
    array: np.ndarray, field_shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """Split a 2-D array into the flat fields of ``field_shapes``, in their order."""
    structured = [name for name, shape in field_shapes.items() if len(shape) > 1]
    if structured:
        raise TypeError(
            f"The estimator was fitted on set/time-series fields {structured}; pass X as "
            "Simulations with the same fields, not as a plain array."
        )
    widths = [shape[0] for shape in field_shapes.values()]
    if array.shape[1] != sum(widths):
        raise ValueError(
            f"X has {array.shape[1]} columns but the fitted fields {dict(field_shapes)} have "
            f"{sum(widths)} features in all; pass Simulations with those fields or an array "
            "with their columns in that order."
        )
    parts = np.split(array, np.cumsum(widths)[:-1], axis=1)
    return dict(zip(field_shapes, parts, strict=True))
