"""The :class:`Simulations` container: named, batch-first arrays."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np


class Simulations:
    """Named arrays that share a leading simulation axis.

    A ``Simulations`` behaves like a read-only mapping from field name to
    :class:`numpy.ndarray` whose first axis indexes simulations, and like a
    1-D array of simulations for scikit-learn: ``len(sims)`` and
    ``sims.shape == (n,)`` give the number of simulations, and indexing with
    an integer array, a boolean mask, a slice or ``(idx, Ellipsis)`` returns a
    new ``Simulations``. That is what lets ``train_test_split``,
    ``cross_val_score`` and ``GridSearchCV`` split it.

    Parameters
    ----------
    fields : mapping of str to array-like, optional
        The fields. Keyword arguments are added to it.
    **kwargs : array-like
        More fields, by name.

    Notes
    -----
    A field with one value per simulation (shape ``(n,)``) is stored as
    ``(n, 1)``. A field of shape ``(n, d)`` is *flat*; fields with more axes
    (``(n, set_size, d)``, ``(n, time, d)``) are read by summary networks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sbi import Simulations
    >>> sims = Simulations(theta=np.zeros((4, 2)), x=np.ones(4))
    >>> sims.shape, sims["x"].shape
    ((4,), (4, 1))
    >>> len(sims[np.array([0, 2])])
    2
    """

    __array_priority__ = 1000  # keep numpy from treating us as a scalar

    def __init__(self, fields: Mapping[str, Any] | None = None, /, **kwargs: Any) -> None:
        merged: dict[str, Any] = dict(fields or {})
        duplicated = sorted(set(merged) & set(kwargs))
        if duplicated:
            raise ValueError(f"Fields given twice: {duplicated}.")
        merged.update(kwargs)
        data: dict[str, np.ndarray] = {}
        n_simulations: int | None = None
        for name, value in merged.items():
            if not isinstance(name, str):
                raise TypeError(f"Field names must be strings, got {name!r}.")
            array = np.asarray(value)
            if array.ndim == 0:
                raise ValueError(
                    f"Field {name!r} is a scalar; every field needs a leading simulation axis."
                )
            if array.ndim == 1:
                array = array[:, None]
            if n_simulations is None:
                n_simulations = array.shape[0]
            elif array.shape[0] != n_simulations:
                lengths = {k: np.shape(v)[0] for k, v in merged.items() if np.ndim(v) > 0}
                raise ValueError(
                    f"All fields must have the same number of simulations (leading axis); "
                    f"got {lengths}."
                )
            data[name] = array
        self._fields = data
        self._n = 0 if n_simulations is None else n_simulations

    # -- mapping interface -------------------------------------------------
    def keys(self):
        """Field names."""
        return self._fields.keys()

    def values(self):
        """Field arrays."""
        return self._fields.values()

    def items(self):
        """(name, array) pairs."""
        return self._fields.items()

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __len__(self) -> int:
        return self._n

    @property
    def shape(self) -> tuple[int]:
        """``(n_simulations,)``."""
        return (self._n,)

    @property
    def ndim(self) -> int:
        """Always 1: a ``Simulations`` is a 1-D collection of simulations."""
        return 1

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._fields[key]
            except KeyError:
                raise KeyError(
                    f"Unknown field {key!r}; known fields are {sorted(self._fields)}."
                ) from None
        if isinstance(key, tuple):
            if len(key) == 2 and key[1] is Ellipsis:
                key = key[0]
            else:
                raise IndexError(
                    "Simulations are indexed along the simulation axis only: use sims[idx] or "
                    "sims[idx, ...]."
                )
        if isinstance(key, (int, np.integer)):
            key = [int(key)]
        if isinstance(key, list):
            key = np.asarray(key)
        if isinstance(key, np.ndarray) and key.dtype == bool and key.shape != (self._n,):
            raise IndexError(
                f"Boolean mask has shape {key.shape}, expected ({self._n},) for these simulations."
            )
        return Simulations({name: value[key] for name, value in self._fields.items()})

    def __repr__(self) -> str:
        parts = ", ".join(
            f"{name}: {value.shape[1:]} {value.dtype}" for name, value in self._fields.items()
        )
        return f"Simulations(n={self._n}, {{{parts}}})"

    def to_dict(self) -> dict[str, np.ndarray]:
        """Return the fields as a plain ``dict`` of arrays."""
        return dict(self._fields)
