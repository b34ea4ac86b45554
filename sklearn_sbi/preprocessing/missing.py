"""Missing values: :class:`NanToNum` fills NaN and records where they were."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from sklearn_sbi.preprocessing._base import (
    ArrayOrFieldTransformer,
    field_list,
    floating_fields,
    require_fields,
)
from sklearn_sbi.simulations import Simulations


class NanToNum(ArrayOrFieldTransformer):
    """Replace NaN by a value and, optionally, add a mask of the observed entries.

    Parameters
    ----------
    fields : str or list of str, optional
        Fields to fill (Simulations input). By default every float field.
    mask : bool, default=True
        Add, for each filled field ``name``, a field ``name_mask`` of the same
        shape (1 where observed, 0 where missing); for arrays, one mask column
        per column, appended after the data columns. The inverse puts NaN
        back where the mask is 0.
    value : float, default=0.0
        The fill value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi.preprocessing import NanToNum
    >>> NanToNum().fit_transform(np.array([[1.0, np.nan]])).tolist()
    [[1.0, 0.0, 1.0, 0.0]]
    """

    _validation: ClassVar[dict[str, Any]] = {
        "dtype": [np.float64, np.float32],
        "ensure_all_finite": "allow-nan",
    }

    def __init__(
        self, fields: str | Iterable[str] | None = None, mask: bool = True, value: float = 0.0
    ) -> None:
        self.fields = fields
        self.mask = mask
        self.value = value

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _fit_fields(self, X: Simulations) -> None:
        fields = field_list(self.fields, "fields")
        require_fields(X, fields or [], "NanToNum")
        self.fields_ = floating_fields(X) if fields is None else fields
        clashes = [f"{name}_mask" for name in self.fields_ if f"{name}_mask" in X]
        if self.mask and clashes:
            raise ValueError(f"NanToNum: mask fields {clashes} already exist; rename them first.")

    def _fit_array(self, X: np.ndarray) -> None:
        if self.fields is not None:
            raise ValueError("fields selects fields of Simulations; it must be None for arrays.")

    def _fill(self, array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        missing = np.isnan(array)
        observed = (~missing).astype(array.dtype if array.dtype.kind == "f" else np.float64)
        return np.where(missing, np.asarray(self.value, dtype=observed.dtype), array), observed

    def _transform_fields(self, X: Simulations) -> Simulations:
        require_fields(X, self.fields_, "NanToNum")
        result = {}
        for name, array in X.items():
            if name not in self.fields_:
                result[name] = array
                continue
            result[name], observed = self._fill(array)
            if self.mask:
                result[f"{name}_mask"] = observed
        return Simulations(result)

    def _inverse_fields(self, X: Simulations) -> Simulations:
        if not self.mask:
            return X
        masks = [f"{name}_mask" for name in self.fields_]
        require_fields(X, [*self.fields_, *masks], "NanToNum.inverse_transform")
        result = {}
        for name, array in X.items():
            if name in self.fields_:
                result[name] = np.where(X[f"{name}_mask"] == 0, np.nan, array)
            elif name not in masks:
                result[name] = array
        return Simulations(result)

    def _transform_array(self, X: np.ndarray) -> np.ndarray:
        filled, observed = self._fill(X)
        return np.hstack([filled, observed]) if self.mask else filled

    def _inverse_array(self, X: np.ndarray) -> np.ndarray:
        if not self.mask:
            return X
        data, observed = np.split(X, 2, axis=1)
        return np.where(observed == 0, np.nan, data)

    def _array_names_out(self, names: list[str]) -> list[str]:
        return [*names, *(f"{name}_mask" for name in names)] if self.mask else names
