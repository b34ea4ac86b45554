"""Transformers that rearrange the fields of ``Simulations``.

How the BayesFlow adapter steps map here:

- ``rename(a, b)`` -> :class:`Rename` ``({a: b})``.
- ``concatenate([a, b], into=c)`` -> :class:`Concatenate` ``([a, b], into=c)``.
- ``keep`` / ``drop`` -> :class:`Keep` / :class:`Drop`.
- ``broadcast``, ``expand_dims``, ``as_set``, ``as_time_series`` -> :class:`Broadcast`,
  :class:`ExpandDims`, :class:`AsSet`, :class:`AsTimeSeries`.
- ``group([a, b], into="summary_variables")`` needs no step: fields stay named
  fields of the ``Simulations`` and a ``FusionEncoder`` reads each by name.
- ``create_default(["mu", "sigma"])`` (the inference variables) is
  ``Simulations.xy(["mu", "sigma"])``.
- flat data that are a set or a series (no BayesFlow step: there the simulator
  returns them shaped) -> :class:`Unflatten`.
- ``to_array`` needs no step (fields are always arrays), and ``convert_dtype``
  is the estimator's own casting to float32 at the network boundary.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sklearn_sbi.preprocessing._base import (
    FieldTransformer,
    data_axis,
    nonempty_field_list,
    require_fields,
)
from sklearn_sbi.simulations import Simulations, as_simulations


class Rename(FieldTransformer):
    """Rename fields.

    Parameters
    ----------
    mapping : dict of str to str
        Old name -> new name.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Rename
    >>> Rename({"x": "input_a"}).fit_transform(Simulations(x=np.zeros(2)))
    Simulations(n=2, {input_a: (1,) float64})
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = mapping

    def _fit_fields(self, X: Simulations) -> None:
        if not isinstance(self.mapping, Mapping) or not self.mapping:
            raise TypeError(f"mapping must be a non-empty dict old -> new, got {self.mapping!r}.")
        require_fields(X, self.mapping, "Rename")
        self._check_names(X, self.mapping)

    @staticmethod
    def _check_names(X: Simulations, mapping: Mapping[str, str]) -> None:
        names = [mapping.get(name, name) for name in X]
        clashes = sorted({name for name in names if names.count(name) > 1})
        if clashes:
            raise ValueError(f"Rename would create duplicate fields {clashes}.")

    def _apply(self, X: Simulations, mapping: Mapping[str, str]) -> Simulations:
        require_fields(X, mapping, "Rename")
        self._check_names(X, mapping)
        return Simulations({mapping.get(name, name): array for name, array in X.items()})

    def _transform_fields(self, X: Simulations) -> Simulations:
        return self._apply(X, self.mapping)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        return self._apply(X, {new: old for old, new in self.mapping.items()})


class Keep(FieldTransformer):
    """Keep only some fields, in the given order.

    The inverse cannot restore the dropped fields: it returns its input.

    Parameters
    ----------
    fields : str or list of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Keep
    >>> list(Keep(["x"]).fit_transform(Simulations(x=np.zeros(2), y=np.ones(2))).keys())
    ['x']
    """

    def __init__(self, fields: str | Iterable[str]) -> None:
        self.fields = fields

    def _transform_fields(self, X: Simulations) -> Simulations:
        return X.select(nonempty_field_list(self.fields, "Keep"), owner="Keep")

    def _inverse_fields(self, X: Simulations) -> Simulations:
        return X


class Drop(FieldTransformer):
    """Drop some fields.

    The inverse cannot restore the dropped fields: it returns its input.

    Parameters
    ----------
    fields : str or list of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Drop
    >>> list(Drop("y").fit_transform(Simulations(x=np.zeros(2), y=np.ones(2))).keys())
    ['x']
    """

    def __init__(self, fields: str | Iterable[str]) -> None:
        self.fields = fields

    def _transform_fields(self, X: Simulations) -> Simulations:
        dropped = nonempty_field_list(self.fields, "Drop")
        require_fields(X, dropped, "Drop")
        return X.select([name for name in X if name not in dropped])

    def _inverse_fields(self, X: Simulations) -> Simulations:
        return X


class Concatenate(FieldTransformer):
    """Concatenate fields into one, along a data axis (the last by default).

    The new field takes the place of the first concatenated field.

    Parameters
    ----------
    fields : list of str
        Fields to join, in this order.
    into : str
        Name of the joined field.
    axis : int, default=-1
        Axis of the fields to join along; all other axes must agree.

    Attributes
    ----------
    sizes_ : list of int
        Size of each field along ``axis`` (used by the inverse to split).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Concatenate
    >>> sims = Simulations(obs=np.zeros((3, 20, 2)), time=np.zeros((3, 20, 1)))
    >>> Concatenate(["obs", "time"], into="input_b").fit_transform(sims)
    Simulations(n=3, {input_b: (20, 3) float64})
    """

    def __init__(self, fields: Iterable[str], into: str, axis: int = -1) -> None:
        self.fields = fields
        self.into = into
        self.axis = axis

    def _fit_fields(self, X: Simulations) -> None:
        fields = nonempty_field_list(self.fields, "Concatenate")
        require_fields(X, fields, "Concatenate")
        if not isinstance(self.into, str):
            raise TypeError(f"into must be a field name, got {self.into!r}.")
        if self.into in X and self.into not in fields:
            raise ValueError(f"Concatenate: into={self.into!r} is already a field.")
        ndims = {X[name].ndim for name in fields}
        if len(ndims) > 1:
            shapes = {name: X[name].shape[1:] for name in fields}
            raise ValueError(f"Concatenate: fields need the same number of axes, got {shapes}.")
        axis = data_axis(self.axis, ndims.pop(), "Concatenate")
        self.sizes_ = [X[name].shape[axis] for name in fields]
        self.dtypes_ = [X[name].dtype for name in fields]

    def _transform_fields(self, X: Simulations) -> Simulations:
        fields = nonempty_field_list(self.fields, "Concatenate")
        require_fields(X, fields, "Concatenate")
        axis = data_axis(self.axis, X[fields[0]].ndim, "Concatenate")
        try:
            joined = np.concatenate([X[name] for name in fields], axis=axis)
        except ValueError as error:
            shapes = {name: X[name].shape[1:] for name in fields}
            raise ValueError(
                f"Concatenate: fields {shapes} disagree outside axis {self.axis}."
            ) from error
        result = {}
        for name, array in X.items():
            if name == fields[0]:
                result[self.into] = joined
            elif name not in fields:
                result[name] = array
        return Simulations(result)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        require_fields(X, [self.into], "Concatenate.inverse_transform")
        joined = X[self.into]
        axis = data_axis(self.axis, joined.ndim, "Concatenate")
        parts = np.split(joined, np.cumsum(self.sizes_)[:-1], axis=axis)
        fields = nonempty_field_list(self.fields, "Concatenate")
        split = {
            field: part.astype(dtype, copy=False)
            for field, part, dtype in zip(fields, parts, self.dtypes_, strict=True)
        }
        rest = {name: array for name, array in X.items() if name != self.into}
        order = [name for name in self.fields_in_ if name in split or name in rest]
        order += [name for name in rest if name not in order]
        return Simulations({name: split[name] if name in split else rest[name] for name in order})


class Broadcast(FieldTransformer):
    """Repeat flat fields along the set or time axes of another field.

    A field of shape ``(n, d)`` becomes ``(n, *middle, d)`` where ``middle``
    are the axes of ``to`` between the simulation and the feature axis, so it
    can then be concatenated to ``to`` (e.g. a per-simulation covariate joined
    to every set element).

    Parameters
    ----------
    fields : str or list of str
        Flat fields to repeat.
    to : str
        Field whose middle axes to repeat along.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import Broadcast
    >>> sims = Simulations(n_obs=np.ones(3), x=np.zeros((3, 5, 2)))
    >>> Broadcast("n_obs", to="x").fit_transform(sims)["n_obs"].shape
    (3, 5, 1)
    """

    def __init__(self, fields: str | Iterable[str], to: str) -> None:
        self.fields = fields
        self.to = to

    def _middle(self, X: Simulations) -> tuple[int, ...]:
        fields = nonempty_field_list(self.fields, "Broadcast")
        require_fields(X, [*fields, self.to], "Broadcast")
        return X[self.to].shape[1:-1]

    def _transform_fields(self, X: Simulations) -> Simulations:
        middle = self._middle(X)
        result = X.to_dict()
        for name in nonempty_field_list(self.fields, "Broadcast"):
            array = X[name]
            if array.ndim != 2:
                raise ValueError(
                    f"Broadcast: field {name!r} must be flat (n, d), got shape {array.shape}."
                )
            expanded = array.reshape(len(X), *(1,) * len(middle), array.shape[1])
            result[name] = np.broadcast_to(expanded, (len(X), *middle, array.shape[1])).copy()
        return Simulations(result)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        fields = nonempty_field_list(self.fields, "Broadcast")
        require_fields(X, fields, "Broadcast.inverse_transform")
        result = X.to_dict()
        for name in fields:
            array = X[name]
            result[name] = array.reshape(len(X), -1, array.shape[-1])[:, 0, :]
        return Simulations(result)


class ExpandDims(FieldTransformer):
    """Insert a length-one axis into fields (``numpy.expand_dims``).

    Parameters
    ----------
    fields : str or list of str
    axis : int, default=-1
        Position of the new axis in the result; not 0 (the simulation axis).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import ExpandDims
    >>> ExpandDims("x").fit_transform(Simulations(x=np.zeros((2, 20))))["x"].shape
    (2, 20, 1)
    """

    def __init__(self, fields: str | Iterable[str], axis: int = -1) -> None:
        self.fields = fields
        self.axis = axis

    def _reshaped(self, X: Simulations, inverse: bool) -> Simulations:
        fields = nonempty_field_list(self.fields, "ExpandDims")
        require_fields(X, fields, "ExpandDims")
        result = X.to_dict()
        for name in fields:
            ndim = X[name].ndim if inverse else X[name].ndim + 1
            axis = data_axis(self.axis, ndim, "ExpandDims")
            if inverse:
                result[name] = np.squeeze(X[name], axis=axis)
            else:
                result[name] = np.expand_dims(X[name], axis)
        return Simulations(result)

    def _transform_fields(self, X: Simulations) -> Simulations:
        return self._reshaped(X, inverse=False)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        return self._reshaped(X, inverse=True)


class _AsStructured(FieldTransformer):
    """Give ``(n, m)`` fields a feature axis, ``(n, m, 1)``; 3-D fields are kept as they are."""

    def __init__(self, fields: str | Iterable[str]) -> None:
        self.fields = fields

    def _fit_fields(self, X: Simulations) -> None:
        fields = nonempty_field_list(self.fields, type(self).__name__)
        require_fields(X, fields, type(self).__name__)
        wrong = {name: X[name].shape[1:] for name in fields if X[name].ndim not in (2, 3)}
        if wrong:
            raise ValueError(
                f"{type(self).__name__}: fields must have shape (n, m) or (n, m, d); got {wrong}."
            )
        self.expanded_ = [name for name in fields if X[name].ndim == 2]

    def _transform_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.expanded_, type(self).__name__)
        return Simulations(
            {
                name: array[..., None] if name in self.expanded_ else array
                for name, array in X.items()
            }
        )

    def _inverse_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.expanded_, type(self).__name__)
        return Simulations(
            {name: array[..., 0] if name in self.expanded_ else array for name, array in X.items()}
        )


class AsSet(_AsStructured):
    """Read fields as sets: axis 1 indexes exchangeable elements.

    ``(n, m)`` becomes ``(n, m, 1)`` (m elements of one feature) so that a set
    encoder (``DeepSet``, ``SetTransformer``) reads it; ``(n, m, d)`` is kept.

    Parameters
    ----------
    fields : str or list of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import AsSet
    >>> AsSet("x").fit_transform(Simulations(x=np.zeros((2, 10))))["x"].shape
    (2, 10, 1)
    """


class AsTimeSeries(_AsStructured):
    """Read fields as time series: axis 1 indexes time steps.

    ``(n, t)`` becomes ``(n, t, 1)`` (one feature per step) so that a
    time-series encoder reads it; ``(n, t, d)`` is kept.

    Parameters
    ----------
    fields : str or list of str

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> from sklearn_sbi.preprocessing import AsTimeSeries
    >>> AsTimeSeries("x").fit_transform(Simulations(x=np.zeros((2, 50))))["x"].shape
    (2, 50, 1)
    """


class Unflatten(TransformerMixin, BaseEstimator):
    """Turn each row of a 2-D array into one structured field of a ``Simulations``.

    Flat data that are really a set or a series (``slcp``'s 8 numbers are 4
    exchangeable 2-D draws) reach a set or time-series encoder this way:
    ``(n, prod(shape))`` becomes the field ``name`` of shape ``(n, *shape)``,
    row by row in C order. The inverse flattens it back.

    Parameters
    ----------
    shape : tuple of int
        Per-simulation shape of the field, e.g. ``(4, 2)`` for 4 elements of
        2 features.
    name : str, default="x"
        Name of the output field.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names of a DataFrame X.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import Unflatten
    >>> step = Unflatten((2, 2), name="draws").fit(np.zeros((3, 4)))
    >>> step.transform(np.arange(8.0).reshape(2, 4))["draws"][1]
    array([[4., 5.],
           [6., 7.]])
    """

    def __init__(self, shape: tuple[int, ...], name: str = "x") -> None:
        self.shape = shape
        self.name = name

    def fit(self, X: Any, y: Any = None) -> Unflatten:
        """Check that X's columns fill ``shape``.

        Parameters
        ----------
        X : array-like of shape (n_samples, prod(shape))
        y : ignored

        Returns
        -------
        self
        """
        shape = tuple(self.shape) if isinstance(self.shape, Iterable) else ()
        if not shape or not all(isinstance(s, numbers.Integral) and s >= 1 for s in shape):
            raise ValueError(
                f"Unflatten: shape must be a tuple of positive ints, got {self.shape!r}."
            )
        if not isinstance(self.name, str):
            raise TypeError(f"Unflatten: name must be a string, got {self.name!r}.")
        X = validate_data(self, X, ensure_all_finite="allow-nan")
        if X.shape[1] != math.prod(shape):
            raise ValueError(
                f"Unflatten: X has {X.shape[1]} columns but shape {shape} holds "
                f"{math.prod(shape)}; one row must fill the shape exactly."
            )
        return self

    def transform(self, X: Any) -> Simulations:
        """``Simulations`` with the single field ``name`` of shape ``(n, *shape)``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return Simulations({self.name: X.reshape(X.shape[0], *self.shape)})

    def inverse_transform(self, X: Any) -> np.ndarray:
        """The field ``name`` flattened back to ``(n, prod(shape))``."""
        check_is_fitted(self)
        X = as_simulations(X)
        require_fields(X, [self.name], "Unflatten")
        field = X[self.name]
        if field.shape[1:] != tuple(self.shape):
            raise ValueError(
                f"Unflatten: field {self.name!r} has per-simulation shape {field.shape[1:]}, "
                f"expected {tuple(self.shape)}."
            )
        return field.reshape(field.shape[0], -1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output field name."""
        check_is_fitted(self)
        return np.asarray([self.name], dtype=object)
