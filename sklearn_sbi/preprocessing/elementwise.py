"""Invertible entry-wise maps with known Jacobians: :class:`Log`, :class:`Sqrt`, :class:`Constrain`.

Each works on selected fields of ``Simulations`` and on 2-D arrays, and
exposes ``log_abs_det_jacobian(y)``, so it can serve as
``AmortizedPosterior(target_transform=...)``: the estimator learns the
posterior of ``z = transform(y)`` and maps samples back with
``inverse_transform``; ``log p(y) = log p(z) + log_abs_det_jacobian(y)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy.special import expit

from sklearn_sbi.preprocessing._base import (
    ArrayOrFieldTransformer,
    field_list,
    floating_fields,
    replace_fields,
    require_fields,
)
from sklearn_sbi.simulations import Simulations

Bound = float | Sequence[float | None] | None


class _Bijection(ArrayOrFieldTransformer):
    """An invertible map applied entry by entry, with a known log-Jacobian.

    Subclasses implement ``_forward``, ``_inverse``, ``_log_det`` (all entry by
    entry; the last axis holds the columns) and ``_outside`` (entries not in
    the domain), and set ``_domain`` (its description in error messages).
    """

    _domain = ""

    def _fit_fields(self, X: Simulations) -> None:
        fields = field_list(self.fields, "fields")
        require_fields(X, fields or [], type(self).__name__)
        self.fields_ = floating_fields(X) if fields is None else fields
        for name in self.fields_:
            self._check_domain(X[name], f"field {name!r}")

    def _fit_array(self, X: np.ndarray) -> None:
        if self.fields is not None:
            raise ValueError("fields selects fields of Simulations; it must be None for arrays.")
        self._check_domain(X, "X")

    def _transform_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, type(self).__name__)
        for name in self.fields_:
            self._check_domain(X[name], f"field {name!r}")
        return replace_fields(X, {name: self._forward(X[name]) for name in self.fields_})

    def _inverse_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, type(self).__name__)
        return replace_fields(X, {name: self._inverse(X[name]) for name in self.fields_})

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        self._check_domain(X, "X")
        return self._forward(X)

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        return self._inverse(X)

    def log_abs_det_jacobian(self, X: Any) -> np.ndarray:
        """``log |det d transform(X) / dX|`` for each row (simulation).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features) or Simulations
            Values in original units.

        Returns
        -------
        ndarray of shape (n_samples,)
            The entries' log-derivatives, summed over columns (and fields).
        """
        X = self._validated(X)
        if not self._on_fields():
            self._check_domain(X, "X")
            return self._log_det(X).sum(axis=1)
        require_fields(X, self.fields_, type(self).__name__)
        total = np.zeros(len(X))
        for name in self.fields_:
            self._check_domain(X[name], f"field {name!r}")
            total += self._log_det(X[name]).reshape(len(X), -1).sum(axis=1)
        return total

    def _check_domain(self, values: np.ndarray, where: str) -> None:
        outside = self._outside(values)
        if outside.any():
            example = values[outside].flat[0]
            raise ValueError(
                f"{type(self).__name__} needs {self._domain}: {int(outside.sum())} entries of "
                f"{where} are outside (e.g. {example!r})."
            )

    def _outside(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _forward(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _log_det(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Log(_Bijection):
    """Natural logarithm, for positive quantities; the inverse is ``exp``.

    Parameters
    ----------
    fields : str or list of str, optional
        Fields to transform (Simulations input). By default every float field.
    p1 : bool, default=False
        Use ``log(1 + y)`` (inverse ``exp(z) - 1``), for non-negative data with
        zeros such as counts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import Log
    >>> log = Log().fit(np.array([[1.0], [np.e]]))
    >>> log.transform(np.array([[np.e]])).tolist(), log.log_abs_det_jacobian(np.array([[np.e]]))
    ([[1.0]], array([-1.]))
    """

    def __init__(self, fields: str | Iterable[str] | None = None, p1: bool = False) -> None:
        self.fields = fields
        self.p1 = p1

    @property
    def _domain(self) -> str:
        if self.p1:
            return "values above -1 (Negative values in data below -1 are invalid)"
        return "strictly positive values (Negative values in data, or zeros, are invalid)"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _outside(self, values: np.ndarray) -> np.ndarray:
        return values <= (-1 if self.p1 else 0)

    def _forward(self, y: np.ndarray) -> np.ndarray:
        return np.log1p(y) if self.p1 else np.log(y)

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        return np.expm1(z) if self.p1 else np.exp(z)

    def _log_det(self, y: np.ndarray) -> np.ndarray:
        return -self._forward(y)


class Sqrt(_Bijection):
    """Square root, for non-negative quantities; the inverse squares.

    Parameters
    ----------
    fields : str or list of str, optional
        Fields to transform (Simulations input). By default every float field.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import Sqrt
    >>> Sqrt().fit_transform(np.array([[4.0, 9.0]])).tolist()
    [[2.0, 3.0]]
    """

    _domain = "non-negative values (Negative values in data are invalid)"

    def __init__(self, fields: str | Iterable[str] | None = None) -> None:
        self.fields = fields

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _outside(self, values: np.ndarray) -> np.ndarray:
        return values < 0

    def _forward(self, y: np.ndarray) -> np.ndarray:
        return np.sqrt(y)

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        return np.square(z)

    def _log_det(self, y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return -np.log(2.0) - 0.5 * np.log(y)


class Constrain(_Bijection):
    """Map bounded values to the whole real line, and back.

    Per column: ``logit((y - lower) / (upper - lower))`` with both bounds,
    ``log(y - lower)`` with a lower bound only, ``log(upper - y)`` with an upper
    bound only, and the identity when unbounded. :meth:`inverse_transform`
    always returns values strictly inside the bounds, so posterior samples
    respect a bounded prior.

    Parameters
    ----------
    lower, upper : float, sequence of float/None, or None
        Bounds, one for all columns or one per column (the last axis of a
        field). None (or an infinite value) leaves that side unbounded.
    fields : str or list of str, optional
        Fields to transform (Simulations input). By default every float field.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import Constrain
    >>> constrain = Constrain(lower=[0.0, None], upper=[1.0, None])
    >>> z = constrain.fit_transform(np.array([[0.5, -3.0]]))
    >>> z.tolist(), constrain.inverse_transform(np.array([[50.0, 1.0]])).tolist()
    ([[0.0, -3.0]], [[0.9999999999999999, 1.0]])
    """

    _domain = "values strictly inside (lower, upper)"

    def __init__(
        self, lower: Bound = None, upper: Bound = None, fields: str | Iterable[str] | None = None
    ) -> None:
        self.lower = lower
        self.upper = upper
        self.fields = fields

    def _fit_fields(self, X: Simulations) -> None:
        super()._fit_fields(X)
        for name in self.fields_:
            self._bounds(X[name].shape[-1])

    def _fit_array(self, X: np.ndarray) -> None:
        self._bounds(X.shape[1])
        super()._fit_array(X)

    def _bounds(self, width: int) -> tuple[np.ndarray, ...]:
        """Bounds as arrays of shape (width,), and which columns have which bounds."""
        lower = _bound_array(self.lower, -np.inf, width, "lower")
        upper = _bound_array(self.upper, np.inf, width, "upper")
        if np.any(lower >= upper):
            raise ValueError(f"lower must be below upper in every column; got {lower} and {upper}.")
        has_lower, has_upper = np.isfinite(lower), np.isfinite(upper)
        return lower, upper, has_lower & has_upper, has_lower & ~has_upper, has_upper & ~has_lower

    def _outside(self, values: np.ndarray) -> np.ndarray:
        lower, upper, *_ = self._bounds(values.shape[-1])
        return (values <= lower) | (values >= upper)

    def _forward(self, y: np.ndarray) -> np.ndarray:
        lower, upper, both, lower_only, upper_only = self._bounds(y.shape[-1])
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            s = (y - lower) / (upper - lower)
            choices = [np.log(s) - np.log1p(-s), np.log(y - lower), np.log(upper - y)]
        return np.select([both, lower_only, upper_only], choices, y)

    def _inverse(self, z: np.ndarray) -> np.ndarray:
        lower, upper, both, lower_only, upper_only = self._bounds(z.shape[-1])
        with np.errstate(invalid="ignore", over="ignore"):
            choices = [lower + (upper - lower) * expit(z), lower + np.exp(z), upper - np.exp(z)]
        y = np.select([both, lower_only, upper_only], choices, z)
        return np.clip(y, np.nextafter(lower, np.inf), np.nextafter(upper, -np.inf))

    def _log_det(self, y: np.ndarray) -> np.ndarray:
        lower, upper, both, lower_only, upper_only = self._bounds(y.shape[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            s = (y - lower) / (upper - lower)
            choices = [
                -np.log(upper - lower) - np.log(s) - np.log1p(-s),
                -np.log(y - lower),
                -np.log(upper - y),
            ]
        return np.select([both, lower_only, upper_only], choices, 0.0)


def _bound_array(bound: Bound, unbounded: float, width: int, parameter: str) -> np.ndarray:
    """A bound as a float array of shape (width,), None entries replaced by ``unbounded``."""
    raw = np.asarray(bound, dtype=object)
    if raw.ndim > 1:
        raise ValueError(f"{parameter} must be a scalar or one value per column, got {bound!r}.")
    try:
        values = np.where(np.equal(raw, None), unbounded, raw).astype(float)
        return np.broadcast_to(values, (width,))
    except (TypeError, ValueError):
        raise ValueError(
            f"{parameter} must be a number, None, or {width} numbers/None (one per column); "
            f"got {bound!r}."
        ) from None
