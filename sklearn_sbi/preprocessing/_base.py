"""What every transformer of :mod:`sklearn_sbi.preprocessing` shares.

:class:`FieldTransformer` acts on the named fields of a
:class:`~sklearn_sbi.Simulations` (or an object-column DataFrame).
:class:`ArrayOrFieldTransformer` also accepts plain 2-D arrays and flat
DataFrames, column by column, and is then checked by scikit-learn's
estimator checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from sklearn_sbi.simulations import Simulations, as_simulations, unknown_fields_error


def field_list(fields: str | Iterable[str] | None, parameter: str) -> list[str] | None:
    """Normalize a ``fields``-like parameter: a name, a list of names, or None."""
    if fields is None:
        return None
    names = [fields] if isinstance(fields, str) else list(fields)
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"{parameter} must be a field name or a list of names, got {fields!r}.")
    return names


def nonempty_field_list(fields: str | Iterable[str], owner: str) -> list[str]:
    """:func:`field_list` of a required ``fields`` parameter: at least one name."""
    names = field_list(fields, f"{owner}(fields=...)")
    if not names:
        raise ValueError(f"{owner} needs at least one field name.")
    return names


def data_axis(axis: int, ndim: int, owner: str, kind: str = "data") -> int:
    """``axis`` as a non-negative axis of an ``ndim`` array; never the simulation axis.

    ``kind`` names the axis in the error (``"data"``, ``"time"``).
    """
    position = axis + ndim if axis < 0 else axis
    if not 1 <= position < ndim:
        raise ValueError(
            f"{owner}: axis={axis} is not a {kind} axis of a {ndim}-D field (axis 0 indexes "
            "simulations)."
        )
    return position


def require_fields(X: Simulations, fields: Iterable[str], owner: str) -> None:
    """Raise, listing the known fields, if ``X`` lacks any of ``fields``."""
    unknown = [name for name in fields if name not in X]
    if unknown:
        raise unknown_fields_error(unknown, X.keys(), owner)


def floating_fields(X: Simulations) -> list[str]:
    """Names of the floating-point fields, in order."""
    return [name for name, array in X.items() if array.dtype.kind == "f"]


def replace_fields(X: Simulations, new: Mapping[str, np.ndarray]) -> Simulations:
    """``X`` with some fields replaced, keeping the field order."""
    return Simulations({name: new.get(name, array) for name, array in X.items()})


def is_fields_input(X: Any) -> bool:
    """Whether ``X`` is structured (Simulations, dict, object-column DataFrame)."""
    if issparse(X):
        return False
    if isinstance(X, (Simulations, Mapping)):
        return True
    return isinstance(X, pd.DataFrame) and any(map(pd.api.types.is_object_dtype, X.dtypes))


class FieldTransformer(TransformerMixin, BaseEstimator):
    """Base of transformers acting on the named fields of ``Simulations``.

    Subclasses implement ``_fit_fields``, ``_transform_fields`` and
    ``_inverse_fields``. After ``fit``, ``fields_in_`` lists the input fields
    and ``fields_out_`` the output fields (what ``get_feature_names_out`` returns).
    """

    def fit(self, X: Any, y: Any = None) -> FieldTransformer:
        """Check the fields and learn what the transform needs.

        Parameters
        ----------
        X : Simulations or DataFrame with object columns
        y : ignored

        Returns
        -------
        self
        """
        X = as_simulations(X)
        self._fit_fields(X)
        self.fields_in_ = list(X.keys())
        self.fields_out_ = list(self._transform_fields(X[:0]).keys())
        return self

    def transform(self, X: Any) -> Simulations:
        """Apply the transform; returns a new ``Simulations``."""
        check_is_fitted(self)
        return self._transform_fields(as_simulations(X))

    def inverse_transform(self, X: Any) -> Simulations:
        """Undo :meth:`transform`."""
        check_is_fitted(self)
        return self._inverse_fields(as_simulations(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output field names."""
        check_is_fitted(self)
        return np.asarray(self.fields_out_, dtype=object)

    def _fit_fields(self, X: Simulations) -> None:
        """Validate ``X`` and learn fitted state; nothing by default."""

    def _transform_fields(self, X: Simulations) -> Simulations:
        raise NotImplementedError

    def _inverse_fields(self, X: Simulations) -> Simulations:
        raise NotImplementedError


class ArrayOrFieldTransformer(FieldTransformer):
    """A :class:`FieldTransformer` that also transforms 2-D arrays column by column.

    Subclasses add ``_fit_array``, ``_transform_array``, ``_inverse_array`` and
    may override ``_array_names_out`` and ``_validation`` (keywords for
    :func:`sklearn.utils.validation.validate_data`).
    """

    _validation: ClassVar[Mapping[str, Any]] = {"dtype": [np.float64, np.float32]}
    _MODE_ATTRIBUTES = ("fields_in_", "fields_out_", "n_features_in_", "feature_names_in_")

    def fit(self, X: Any, y: Any = None) -> ArrayOrFieldTransformer:
        """Learn the transform from ``X``.

        Parameters
        ----------
        X : Simulations, DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        for attribute in self._MODE_ATTRIBUTES:
            self.__dict__.pop(attribute, None)
        if is_fields_input(X):
            return super().fit(X)
        X = validate_data(self, X, **self._validation)
        self._fit_array(X)
        return self

    def transform(self, X: Any) -> Any:
        """Apply the transform; a ``Simulations`` or an array, as fitted."""
        return self._dispatch(X, self._transform_fields, self._transform_array)

    def inverse_transform(self, X: Any) -> Any:
        """Undo :meth:`transform`."""
        return self._dispatch(X, self._inverse_fields, self._inverse_array, inverse=True)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Output field names, or output column names for array input."""
        check_is_fitted(self)
        if self._on_fields():
            return super().get_feature_names_out()
        names = _check_feature_names_in(self, input_features)
        return np.asarray(self._array_names_out(list(names)), dtype=object)

    def _on_fields(self) -> bool:
        return hasattr(self, "fields_in_")

    def _dispatch(self, X: Any, on_fields: Any, on_array: Any, inverse: bool = False) -> Any:
        check_is_fitted(self)
        if self._on_fields():
            if not is_fields_input(X):
                raise TypeError(
                    f"{type(self).__name__} was fitted on Simulations; got "
                    f"{type(X).__name__}. Pass Simulations or refit on arrays."
                )
            return on_fields(as_simulations(X))
        if is_fields_input(X):
            raise TypeError(
                f"{type(self).__name__} was fitted on a 2-D array; got {type(X).__name__}. "
                "Refit it on Simulations."
            )
        if inverse:
            X = check_array(X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan")
            width = len(self.get_feature_names_out())
            if X.shape[1] != width:
                raise ValueError(
                    f"inverse_transform expects {width} columns (the transform's output), "
                    f"got {X.shape[1]}."
                )
            return on_array(X)
        return on_array(validate_data(self, X, reset=False, **self._validation))

    def _validated(self, X: Any) -> Any:
        """``X`` checked against the fit: ``Simulations`` or a validated 2-D array."""
        return self._dispatch(X, lambda sims: sims, lambda array: array)

    def _array_names_out(self, names: list[str]) -> list[str]:
        return names

    def _fit_array(self, X: np.ndarray) -> None:
        """Learn fitted state from a validated 2-D array; nothing by default."""

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
