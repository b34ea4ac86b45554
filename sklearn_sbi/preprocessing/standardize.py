"""Standardization with statistics frozen at fit time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from sklearn_sbi.preprocessing._base import (
    ArrayOrFieldTransformer,
    field_list,
    floating_fields,
    replace_fields,
    require_fields,
)
from sklearn_sbi.preprocessing._moments import pooled_moments
from sklearn_sbi.simulations import Simulations


class Standardize(ArrayOrFieldTransformer):
    """Shift and scale to zero mean and unit variance, per feature.

    On ``Simulations`` each selected field is standardized per entry of its
    last axis, with moments pooled over the simulation, set and time axes
    (NaN padding ignored). On a 2-D array or flat DataFrame each column is
    standardized. The statistics are computed once in ``fit`` and then frozen.

    Parameters
    ----------
    include : str or list of str, optional
        Fields to standardize. By default every floating-point field.
    exclude : str or list of str, optional
        Fields to leave as they are (e.g. the parameters, as in the BayesFlow
        walkthrough's ``standardize(exclude="theta")``).

    Attributes
    ----------
    mean_, scale_ : dict of str to ndarray, or ndarray of shape (n_features,)
        Per-field (Simulations) or per-column (arrays) statistics.
    fields_ : list of str
        The standardized fields (Simulations input only).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Standardize
    >>> sims = Simulations(theta=np.arange(4.0), x=np.arange(8.0).reshape(4, 2, 1))
    >>> z = Standardize(exclude="theta").fit_transform(sims)
    >>> z["theta"].ravel().tolist(), round(float(z["x"].std()), 6)
    ([0.0, 1.0, 2.0, 3.0], 1.0)
    """

    _validation: ClassVar[dict[str, Any]] = {
        "dtype": [np.float64, np.float32],
        "ensure_all_finite": "allow-nan",
    }

    def __init__(
        self, include: str | Iterable[str] | None = None, exclude: str | Iterable[str] | None = None
    ) -> None:
        self.include = include
        self.exclude = exclude

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _fit_fields(self, X: Simulations) -> None:
        include = field_list(self.include, "include")
        exclude = field_list(self.exclude, "exclude") or []
        require_fields(X, (include or []) + exclude, "Standardize")
        self.fields_ = [name for name in include or floating_fields(X) if name not in exclude]
        moments = {name: pooled_moments(X[name]) for name in self.fields_}
        self.mean_ = {name: mean for name, (mean, _) in moments.items()}
        self.scale_ = {name: scale for name, (_, scale) in moments.items()}

    def _fit_array(self, X: np.ndarray) -> None:
        if self.include is not None or self.exclude is not None:
            raise ValueError(
                "include/exclude select fields of Simulations; for arrays, pick columns with "
                "sklearn.compose.ColumnTransformer."
            )
        self.mean_, self.scale_ = pooled_moments(X)

    def _transform_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, "Standardize")
        return replace_fields(
            X,
            {
                name: _cast((X[name] - self.mean_[name]) / self.scale_[name], X[name])
                for name in self.fields_
            },
        )

    def _inverse_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, "Standardize")
        return replace_fields(
            X,
            {
                name: _cast(X[name] * self.scale_[name] + self.mean_[name], X[name])
                for name in self.fields_
            },
        )

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        return _cast((X - self.mean_) / self.scale_, X)

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        return _cast(X * self.scale_ + self.mean_, X)

    def log_abs_det_jacobian(self, X: Any) -> np.ndarray:
        """``log |det d transform(X) / dX|`` per row: ``-sum(log scale_)`` over transformed entries.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or Simulations

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        X = self._validated(X)
        if self._on_fields():
            require_fields(X, self.fields_, "Standardize")
            per_row = sum(
                -np.log(self.scale_[name]).sum() * np.prod(X[name].shape[1:-1], dtype=int)
                for name in self.fields_
            )
            return np.full(len(X), float(per_row))
        return np.full(X.shape[0], -np.log(self.scale_).sum())


def _cast(result: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Keep a float input's precision (float32 stays float32)."""
    return result.astype(like.dtype, copy=False) if like.dtype.kind == "f" else result
