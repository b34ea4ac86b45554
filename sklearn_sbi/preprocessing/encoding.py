"""One-hot encoding of categorical fields or columns: :class:`OneHot`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from sklearn_sbi.preprocessing._base import (
    ArrayOrFieldTransformer,
    field_list,
    replace_fields,
    require_fields,
)
from sklearn_sbi.simulations import Simulations


def _codes(values: np.ndarray, categories: np.ndarray, where: str) -> np.ndarray:
    """Index of each value in the sorted ``categories``; unseen values raise."""
    codes = np.clip(np.searchsorted(categories, values), 0, len(categories) - 1)
    unseen = categories[codes] != values
    if unseen.any():
        raise ValueError(
            f"OneHot: {where} has values not seen during fit, e.g. {values[unseen].flat[0]!r}; "
            f"known categories are {categories.tolist()}."
        )
    return codes


def _one_hot(codes: np.ndarray, n_categories: int) -> np.ndarray:
    return (codes[..., None] == np.arange(n_categories)).astype(np.float64)


class OneHot(ArrayOrFieldTransformer):
    """Encode categories as one-hot vectors; the inverse takes the arg-max.

    On ``Simulations`` a field ``(n, ..., 1)`` becomes ``(n, ..., k)`` and a
    field ``(n, ..., m)`` with ``m > 1`` becomes ``(n, ..., m, k)``, with ``k``
    the categories seen in ``fit`` (pooled over the field). On a 2-D array each
    column is encoded on its own and the blocks are concatenated.

    Parameters
    ----------
    fields : str or list of str, optional
        Fields to encode (Simulations input). By default the fields that are
        not floating point (integers, booleans, strings).

    Attributes
    ----------
    categories_ : dict of str to ndarray, or list of ndarray
        Sorted categories per field or per column.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import OneHot
    >>> OneHot().fit_transform(np.array([[2], [5], [2]])).tolist()
    [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    """

    _validation: ClassVar[dict[str, Any]] = {"dtype": None}

    def __init__(self, fields: str | Iterable[str] | None = None) -> None:
        self.fields = fields

    def _fit_fields(self, X: Simulations) -> None:
        fields = field_list(self.fields, "fields")
        require_fields(X, fields or [], "OneHot")
        if fields is None:
            fields = [name for name, array in X.items() if array.dtype.kind != "f"]
        self.fields_ = fields
        self.categories_ = {name: np.unique(X[name]) for name in fields}
        self.shapes_ = {name: X[name].shape[1:] for name in fields}

    def _fit_array(self, X: np.ndarray) -> None:
        if self.fields is not None:
            raise ValueError("fields selects fields of Simulations; it must be None for arrays.")
        self.categories_ = [np.unique(column) for column in X.T]

    def _transform_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, "OneHot")
        encoded = {}
        for name in self.fields_:
            categories = self.categories_[name]
            hot = _one_hot(_codes(X[name], categories, f"field {name!r}"), len(categories))
            if hot.shape[-2] == 1:
                hot = hot[..., 0, :]
            encoded[name] = hot
        return replace_fields(X, encoded)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, "OneHot")
        return replace_fields(
            X,
            {
                name: self.categories_[name][X[name].argmax(axis=-1)].reshape(
                    len(X), *self.shapes_[name]
                )
                for name in self.fields_
            },
        )

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        blocks = [
            _one_hot(_codes(column, categories, f"column {j}"), len(categories))
            for j, (column, categories) in enumerate(zip(X.T, self.categories_, strict=True))
        ]
        return np.hstack(blocks)

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        ends = np.cumsum([len(categories) for categories in self.categories_])
        blocks = np.split(X, ends[:-1], axis=1)
        columns = [
            categories[block.argmax(axis=1)]
            for block, categories in zip(blocks, self.categories_, strict=True)
        ]
        return np.column_stack(columns)

    def _array_names_out(self, names: list[str]) -> list[str]:
        return [
            f"{name}_{category}"
            for name, categories in zip(names, self.categories_, strict=True)
            for category in categories
        ]
