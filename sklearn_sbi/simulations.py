"""The :class:`Simulations` container: named, batch-first arrays."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from os import PathLike
from typing import Any

import numpy as np
import pandas as pd

_COLUMN_PATTERN = re.compile(r"^(?P<name>.+)\[(?P<index>\d+)\]$")


def flat_column_names(name: str, width: int) -> list[str]:
    """Column names of a flat field: ``name`` if it has one column, else ``name[i]``.

    Examples
    --------
    >>> from sklearn_sbi.simulations import flat_column_names
    >>> flat_column_names("mu", 2), flat_column_names("sigma", 1)
    (['mu[0]', 'mu[1]'], ['sigma'])
    """
    return [name] if width == 1 else [f"{name}[{i}]" for i in range(width)]


class UnknownFieldError(KeyError, ValueError):
    """A field name that the ``Simulations`` at hand does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


def unknown_fields_error(
    unknown: Iterable[str], known: Iterable[str], owner: str
) -> UnknownFieldError:
    """The error raised when ``owner`` is asked for fields that do not exist."""
    return UnknownFieldError(
        f"{owner}: unknown fields {sorted(unknown)}; known fields are {sorted(known)}."
    )


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
            if key not in self._fields:
                raise unknown_fields_error([key], self._fields, "Simulations")
            return self._fields[key]
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

    def select(self, fields: Iterable[str], *, owner: str = "Simulations") -> Simulations:
        """Return a ``Simulations`` with only ``fields``, in that order.

        Raises ``KeyError`` (naming ``owner`` and the known fields) for an unknown name.
        """
        fields = list(fields)
        unknown = [name for name in fields if name not in self._fields]
        if unknown:
            raise unknown_fields_error(unknown, self._fields, owner)
        return Simulations({name: self._fields[name] for name in fields})

    def xy(
        self, parameters: str | Sequence[str], data: str | Sequence[str] | None = None
    ) -> tuple[Simulations, pd.DataFrame]:
        """Split into conditions ``X`` and a parameter table ``y``.

        Parameters
        ----------
        parameters : str or sequence of str
            Flat fields (shape ``(n, d)``) that are the inference targets.
        data : str or sequence of str, optional
            Fields of ``X``. By default every field not in ``parameters``.

        Returns
        -------
        X : Simulations
            The data fields.
        y : pandas.DataFrame
            One flat column per parameter: ``name`` for a one-column field,
            ``name[i]`` otherwise.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_sbi import Simulations
        >>> sims = Simulations(mu=np.zeros((3, 2)), sigma=np.ones(3), x=np.zeros((3, 5, 2)))
        >>> X, y = sims.xy(["mu", "sigma"])
        >>> list(X.keys()), list(y.columns)
        (['x'], ['mu[0]', 'mu[1]', 'sigma'])
        """
        parameters = [parameters] if isinstance(parameters, str) else list(parameters)
        if not parameters:
            raise ValueError("xy() needs at least one parameter field.")
        if data is None:
            data = [name for name in self._fields if name not in parameters]
        else:
            data = [data] if isinstance(data, str) else list(data)
        both = sorted(set(parameters) & set(data))
        if both:
            raise ValueError(f"Fields {both} are given both as parameters and as data.")
        targets = self.select(parameters, owner="xy(parameters=...)")
        structured = {name: a.shape[1:] for name, a in targets.items() if a.ndim != 2}
        if structured:
            raise ValueError(
                f"Parameters must be flat fields of shape (n, d); got {structured}. "
                "Reshape them first (e.g. with a Concatenate or a reshape of the field)."
            )
        return self.select(data, owner="xy(data=...)"), targets._flat_frame()

    def _flat_frame(self) -> pd.DataFrame:
        columns: dict[str, np.ndarray] = {}
        for name, array in self._fields.items():
            for i, column in enumerate(flat_column_names(name, array.shape[1])):
                columns[column] = array[:, i]
        return pd.DataFrame(columns, index=pd.RangeIndex(self._n))

    def to_pandas(self) -> pd.DataFrame:
        """Return a DataFrame with one row per simulation.

        Flat fields become numeric columns (``name`` or ``name[i]``), set and
        time-series fields become object columns holding one array per row.
        :meth:`from_pandas` reverses it.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_sbi import Simulations
        >>> df = Simulations(theta=np.zeros((2, 2)), x=np.zeros((2, 5, 3))).to_pandas()
        >>> list(df.columns), df["x"].iloc[0].shape
        (['theta[0]', 'theta[1]', 'x'], (5, 3))
        """
        parts = []
        for name, array in self._fields.items():
            if array.ndim == 2:
                parts.append(Simulations({name: array})._flat_frame())
            else:
                rows = np.empty(self._n, dtype=object)
                rows[:] = list(array)
                parts.append(pd.DataFrame({name: pd.Series(rows, dtype=object)}))
        if not parts:
            return pd.DataFrame(index=pd.RangeIndex(self._n))
        return pd.concat(parts, axis=1)

    @classmethod
    def from_pandas(cls, frame: pd.DataFrame) -> Simulations:
        """Build ``Simulations`` from a DataFrame such as :meth:`to_pandas` writes.

        Columns ``name[0] .. name[k-1]`` are gathered into one ``(n, k)`` field,
        any other scalar column becomes an ``(n, 1)`` field, and an object column
        of per-row arrays becomes a set or time-series field. Rows of different
        lengths along their first axis are padded with NaN (the padding the
        summary networks mask out).

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_sbi import Simulations
        >>> sims = Simulations(theta=np.zeros((2, 2)), x=np.zeros((2, 5, 3)))
        >>> back = Simulations.from_pandas(sims.to_pandas())
        >>> back["theta"].shape, back["x"].shape
        ((2, 2), (2, 5, 3))
        """
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"from_pandas expects a pandas DataFrame, got {type(frame).__name__}.")
        duplicated = sorted(map(str, frame.columns[frame.columns.duplicated()].unique()))
        if duplicated:
            raise ValueError(f"frame has duplicated column names {duplicated}; rename them.")
        grouped: dict[str, dict[int, Any]] = {}
        for column in frame.columns:
            if not isinstance(column, str):
                raise TypeError(f"Column names must be strings to become fields, got {column!r}.")
            match = _COLUMN_PATTERN.match(column)
            name, index = (match["name"], int(match["index"])) if match else (column, None)
            slots = grouped.setdefault(name, {})
            if (index is None) != (None in slots) and slots:
                raise ValueError(f"Columns '{name}' and '{name}[i]' cannot both be present.")
            slots[index] = frame[column]
        fields: dict[str, np.ndarray] = {}
        for name, slots in grouped.items():
            if None in slots:
                fields[name] = _column_to_array(name, slots[None])
                continue
            if sorted(slots) != list(range(len(slots))):
                raise ValueError(
                    f"Columns of field {name!r} must be numbered {name}[0] .. "
                    f"{name}[{len(slots) - 1}] without gaps; got indices {sorted(slots)}."
                )
            fields[name] = np.column_stack(
                [_column_to_array(name, slots[i]) for i in range(len(slots))]
            )
        if not fields:
            raise ValueError("Cannot build Simulations from a DataFrame without columns.")
        return cls(fields)

    @classmethod
    def concat(cls, items: Sequence[Simulations]) -> Simulations:
        """Stack several ``Simulations`` with the same fields along the simulation axis.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_sbi import Simulations
        >>> a = Simulations(x=np.zeros((2, 3)))
        >>> len(Simulations.concat([a, a[:1]]))
        3
        """
        items = list(items)
        if not items:
            raise ValueError("concat needs at least one Simulations.")
        bad = [type(item).__name__ for item in items if not isinstance(item, Simulations)]
        if bad:
            raise TypeError(f"concat expects Simulations only, got {bad}.")
        names = list(items[0].keys())
        for position, item in enumerate(items[1:], start=1):
            if set(item.keys()) != set(names):
                raise ValueError(
                    f"concat: item {position} has fields {sorted(item.keys())}, "
                    f"item 0 has {sorted(names)}."
                )
        fields = {}
        for name in names:
            shapes = {item[name].shape[1:] for item in items}
            if len(shapes) > 1:
                raise ValueError(
                    f"concat: field {name!r} has different shapes per simulation: {sorted(shapes)}."
                )
            fields[name] = np.concatenate([item[name] for item in items], axis=0)
        return cls(fields)

    def save(self, path: str | PathLike) -> None:
        """Write the fields to an uncompressed ``.npz`` file (no pickled objects).

        Fields holding Python objects cannot be stored; convert them to numeric
        arrays first (ragged sets: pad with NaN, as :meth:`from_pandas` does).

        Examples
        --------
        >>> import numpy as np, os, tempfile
        >>> from sklearn_sbi import Simulations
        >>> path = os.path.join(tempfile.mkdtemp(), "sims.npz")
        >>> Simulations(x=np.arange(3.0)).save(path)
        >>> Simulations.load(path)["x"].ravel().tolist()
        [0.0, 1.0, 2.0]
        """
        objects = [name for name, array in self._fields.items() if array.dtype.hasobject]
        if objects:
            raise TypeError(
                f"Fields {objects} hold Python objects, which .npz cannot store without pickle. "
                "Convert them to numeric arrays first (pad ragged sets with NaN)."
            )
        with zipfile.ZipFile(path, mode="w") as archive:
            for name, array in self._fields.items():
                with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)

    @classmethod
    def load(cls, path: str | PathLike) -> Simulations:
        """Read ``Simulations`` written by :meth:`save` (never unpickles)."""
        with np.load(path, allow_pickle=False) as archive:
            return cls({name: archive[name] for name in archive.files})


def _column_to_array(name: str, column: pd.Series) -> np.ndarray:
    """One DataFrame column as a field: a numeric vector or stacked per-row arrays."""
    if column.dtype != object:
        values = column.to_numpy()
        if values.dtype == object:  # nullable extension dtypes with pd.NA
            values = column.to_numpy(dtype=float, na_value=np.nan)
        return values
    rows = column.to_list()
    if not any(isinstance(row, (np.ndarray, list, tuple)) for row in rows):
        return np.asarray(rows, dtype=object)
    arrays = [_nested_array(row) for row in rows]
    shapes = {a.shape for a in arrays}
    if len(shapes) == 1:
        return np.stack(arrays)
    if len({a.ndim for a in arrays}) > 1 or len({a.shape[1:] for a in arrays}) > 1:
        raise ValueError(
            f"Column {name!r} holds arrays whose shapes differ beyond their first axis "
            f"({sorted(shapes)[:3]} ...); only the set/time axis may vary."
        )
    longest = max(a.shape[0] for a in arrays)
    padded = np.full((len(arrays), longest, *arrays[0].shape[1:]), np.nan)
    for i, a in enumerate(arrays):
        padded[i, : a.shape[0]] = a
    return padded


def _nested_array(row: Any) -> np.ndarray:
    """A cell as a numeric array, also when a reader (e.g. Parquet) nested it in arrays."""
    array = np.asarray(row)
    if array.dtype == object and array.size and isinstance(array.flat[0], (np.ndarray, list)):
        return np.stack([_nested_array(item) for item in array])
    return array


def as_simulations(X: Any) -> Simulations:
    """Return ``X`` as ``Simulations``: itself, or a DataFrame via :meth:`Simulations.from_pandas`.

    Parameters
    ----------
    X : Simulations or pandas.DataFrame
        Structured inputs. Raw dicts are rejected: wrap them as ``Simulations(**d)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn_sbi import as_simulations
    >>> as_simulations(pd.DataFrame({"x": [1.0, 2.0]}))["x"].shape
    (2, 1)
    """
    if isinstance(X, Simulations):
        return X
    if isinstance(X, pd.DataFrame):
        return Simulations.from_pandas(X)
    if isinstance(X, Mapping):
        raise TypeError(
            "Got a plain dict of arrays; wrap it as Simulations(**d) so that it can be "
            "split into simulations (from sklearn_sbi import Simulations)."
        )
    raise TypeError(f"Expected Simulations or a pandas DataFrame, got {type(X).__name__}.")
