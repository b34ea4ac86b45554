"""Safe saving and loading of fitted estimators: JSON + safetensors, never pickle.

One file holds everything. It is a `safetensors <https://huggingface.co/docs/safetensors>`_
file: the tensors are the network weights and every numpy array of the
estimator, and the header metadata holds a JSON document with

- ``format`` (``"sklearn-sbi"``) and ``format_version`` (an int; files from a
  newer version are refused with a clear error),
- ``sklearn_sbi_version``, the package version that wrote the file,
- ``checksum``, a SHA-256 of the tensors, so silent corruption is caught,
- ``estimator``: the estimator as a tree of ``{"class": import path,
  "params": get_params(deep=False), "fitted": fitted attributes}``. Nested
  estimators (network specs, ``target_transform_``, pipeline steps) are
  encoded the same way; tuples, lists, dicts, numpy scalars, dtypes and
  random states keep their types; arrays are references to tensors of the
  file (keys ``array:<i>``); a fitted :class:`~sklearn_sbi.AmortizedPosterior`'s
  torch module is its ``state_dict`` (keys ``network:<i>:<name>``) plus the
  ``total_steps`` its modules were built with.

Fitted attributes are every instance attribute whose name ends in ``_`` (plus
the private flags listed in ``_PRIVATE_FITTED``). The optimizer state is not
saved: ``partial_fit`` after :func:`load_estimator` starts a fresh optimizer
(``warm_start=True`` fits always do).

Loading imports classes by path only from ``sklearn_sbi.`` and ``sklearn.``,
instantiates them from their parameters, rebuilds the torch module from the
estimator's specs and loads the weights on the CPU with strict shape checks.
Nothing is ever unpickled or evaluated.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import pathlib
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load, save_file
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from torch import nn

FORMAT_NAME = "sklearn-sbi"
"""Value of the ``format`` entry of every file this module writes."""

FORMAT_VERSION = 1
"""Version of the layout; bumped whenever older readers could misread a new file."""

_METADATA_KEY = "sklearn_sbi"
_ALLOWED_MODULES = ("sklearn_sbi.", "sklearn.")
_PRIVATE_FITTED = ("_y_was_1d",)
_NETWORK_ATTRIBUTE = "network_"
_ARRAY_PREFIX = "array:"
_NETWORK_PREFIX = "network:"


# ---------------------------------------------------------------- public API
def save_estimator(estimator: BaseEstimator, path: str | os.PathLike) -> None:
    """Save a fitted estimator or pipeline to ``path`` without pickle.

    The file is written to a temporary name next to ``path`` and then moved
    into place, so an interrupted save never leaves a truncated file behind.

    Parameters
    ----------
    estimator : BaseEstimator
        A fitted :class:`~sklearn_sbi.AmortizedPosterior`, a fitted
        :class:`~sklearn_sbi.PosteriorPipeline` (steps from ``sklearn`` or
        ``sklearn_sbi``), or any fitted ``sklearn``/``sklearn_sbi`` estimator
        whose parameters and fitted attributes are numbers, strings, arrays,
        containers of these, or such estimators.
    path : str or path-like
        Destination file (conventionally ``*.safetensors``).

    Raises
    ------
    NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If some parameter or attribute cannot be stored safely (e.g. a
        function); the message names it.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_sbi.persistence import load_estimator, save_estimator
    >>> scaler = StandardScaler().fit(np.array([[0.0], [2.0]]))
    >>> path = os.path.join(tempfile.mkdtemp(), "scaler.safetensors")
    >>> save_estimator(scaler, path)
    >>> load_estimator(path).mean_
    array([1.])
    """
    check_is_fitted(estimator)
    encoder = _Encoder()
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "sklearn_sbi_version": _package_version(),
        "estimator": encoder.estimator(estimator, "estimator"),
    }
    document["checksum"] = _checksum(encoder.tensors)
    metadata = {_METADATA_KEY: json.dumps(document, allow_nan=False)}
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".safetensors")
    os.close(handle)
    try:
        save_file(encoder.tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def load_estimator(
    path: str | os.PathLike, expected_class: type[BaseEstimator] = BaseEstimator
) -> BaseEstimator:
    """Load an estimator written by :func:`save_estimator`, on the CPU.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_estimator` (or ``estimator.save``).
    expected_class : type, default=BaseEstimator
        Raise a TypeError unless the saved estimator is an instance of it.

    Returns
    -------
    estimator : BaseEstimator
        The fitted estimator; samples and densities are bit-identical to the
        saved one's for the same ``random_state``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    TypeError
        If the file holds no ``expected_class``.
    ValueError
        If the file is not an sklearn-sbi file, comes from a newer format
        version, is truncated or corrupted, misses entries, or holds weights
        that do not fit the saved architecture.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_sbi.persistence import load_estimator, save_estimator
    >>> path = os.path.join(tempfile.mkdtemp(), "scaler.safetensors")
    >>> save_estimator(StandardScaler().fit(np.array([[0.0], [4.0]])), path)
    >>> load_estimator(path).scale_
    array([2.])
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No saved estimator at {path!r}.")
    metadata, tensors = _read(path)
    document = _parse_document(metadata, path)
    if document["checksum"] != _checksum(tensors):
        raise _corrupted(path, "its tensors do not match the checksum written with them")
    try:
        estimator = _Decoder(tensors).estimator(document["estimator"], "estimator")
    except _FormatError as error:
        raise ValueError(
            f"{path!r} is not a valid sklearn-sbi file: {error}. It may be damaged or edited; "
            "save the estimator again."
        ) from None
    if not isinstance(estimator, expected_class):
        raise TypeError(
            f"{path!r} holds a {type(estimator).__name__}, not a {expected_class.__name__}; "
            f"load it with sklearn_sbi.persistence.load_estimator or "
            f"{type(estimator).__name__}.load."
        )
    return estimator


# ------------------------------------------------------------------- reading
class _FormatError(Exception):
    """Something in the file does not follow the format (caught and re-raised)."""


def _corrupted(path: str, what: str) -> ValueError:
    return ValueError(
        f"Cannot read {path!r}: {what}. The file is truncated, corrupted or not written by "
        "sklearn_sbi.persistence.save_estimator; save the estimator again (or restore a copy)."
    )


def _read(path: str) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors from one read of the file.

    Reading the bytes once gives a consistent snapshot even while a training
    process replaces the file with a newer checkpoint.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        tensors = load(data)
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    except (SafetensorError, RuntimeError, ValueError) as error:
        raise _corrupted(path, f"it is not a readable safetensors file ({error})") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    return metadata or {}, tensors


def _parse_document(metadata: dict[str, str], path: str) -> dict[str, Any]:
    if _METADATA_KEY not in metadata:
        raise ValueError(
            f"{path!r} is a safetensors file but not an sklearn-sbi estimator (no "
            f"{_METADATA_KEY!r} metadata); load it with the library that wrote it."
        )
    try:
        document = json.loads(metadata[_METADATA_KEY])
    except json.JSONDecodeError as error:
        raise _corrupted(path, f"its metadata is not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ValueError(f"{path!r} is not an {FORMAT_NAME} file (format entry missing or wrong).")
    version = document.get("format_version")
    if not isinstance(version, int):
        raise _corrupted(path, "its format_version is missing")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path!r} has format version {version}, written by sklearn-sbi "
            f"{document.get('sklearn_sbi_version', '?')}; this sklearn-sbi "
            f"({_package_version()}) reads format versions up to {FORMAT_VERSION}. Upgrade "
            "sklearn-sbi to load it."
        )
    missing = [key for key in ("estimator", "checksum") if key not in document]
    if missing:
        raise ValueError(f"{path!r} misses the entries {missing}; save the estimator again.")
    return document


def _checksum(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        tensor = tensors[key].contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _package_version() -> str:
    import sklearn_sbi

    return sklearn_sbi.__version__


# ------------------------------------------------------------------ encoding
class _Encoder:
    """Turns an estimator into JSON-able data, collecting its tensors."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._networks = 0

    def estimator(self, estimator: BaseEstimator, where: str) -> dict[str, Any]:
        cls = type(estimator)
        class_path = f"{cls.__module__}.{cls.__qualname__}"
        _check_allowed(class_path, where, TypeError)
        fitted = {}
        for name, value in vars(estimator).items():
            if not _is_fitted_attribute(name):
                continue
            if name == _NETWORK_ATTRIBUTE and isinstance(value, nn.Module):
                fitted[name] = self.network(value)
            else:
                fitted[name] = self.value(value, f"{where}.{name}")
        params = estimator.get_params(deep=False)
        return {
            "class": class_path,
            "params": {
                name: self.value(value, f"{where}.{name}") for name, value in params.items()
            },
            "fitted": fitted,
        }

    def network(self, network: nn.Module) -> dict[str, Any]:
        prefix = f"{_NETWORK_PREFIX}{self._networks}:"
        self._networks += 1
        for name, tensor in network.state_dict().items():
            self.tensors[prefix + name] = tensor.detach().cpu().clone().contiguous()
        return {"__network__": prefix, "total_steps": int(network.total_steps)}

    def array(self, array: np.ndarray | torch.Tensor, where: str) -> str:
        """Store ``array`` as a tensor of the file and return its key."""
        if isinstance(array, np.ndarray):
            try:
                tensor = torch.from_numpy(np.ascontiguousarray(array).copy())
            except TypeError:
                raise TypeError(
                    f"{where}: arrays of dtype {array.dtype} cannot be saved; only numeric, "
                    "boolean and string arrays can."
                ) from None
        else:
            tensor = array.detach().cpu().clone().contiguous()
        key = f"{_ARRAY_PREFIX}{len(self.tensors)}"
        self.tensors[key] = tensor
        return key

    def value(self, value: Any, where: str) -> Any:
        """JSON-able encoding of a parameter or fitted attribute."""
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, BaseEstimator):
            return self.estimator(value, where)
        if isinstance(value, np.ndarray) and value.dtype == object:
            if not all(isinstance(item, str) for item in value.flat):
                raise TypeError(f"{where}: object arrays can be saved only when they hold str.")
            return {"__str_array__": value.tolist()}
        if isinstance(value, np.ndarray):
            return {"__array__": self.array(value, where)}
        if isinstance(value, torch.Tensor):
            return {"__tensor__": self.array(value, where)}
        if isinstance(value, np.generic):
            return {"__scalar__": self.array(np.asarray(value), where)}
        if isinstance(value, np.dtype):
            return {"__dtype__": value.str}
        if isinstance(value, pathlib.PurePath):
            return {"__path__": str(value)}
        if isinstance(value, np.random.RandomState):
            return {"__random_state__": self.value(value.get_state(), where)}
        if isinstance(value, tuple):
            return {
                "__tuple__": [self.value(item, f"{where}[{i}]") for i, item in enumerate(value)]
            }
        if isinstance(value, list):
            return [self.value(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise TypeError(f"{where}: only dicts with str keys can be saved.")
            return {
                "__dict__": {
                    key: self.value(item, f"{where}[{key!r}]") for key, item in value.items()
                }
            }
        raise TypeError(
            f"{where} is a {type(value).__name__}, which cannot be saved without pickle. Use "
            "numbers, strings, arrays, lists/tuples/dicts of these, or sklearn / sklearn_sbi "
            "estimators (for random_state: an int, None or a RandomState)."
        )


def _is_fitted_attribute(name: str) -> bool:
    return (name.endswith("_") and not name.startswith("__")) or name in _PRIVATE_FITTED


def _check_allowed(class_path: str, where: str, error: Callable[[str], Exception]) -> None:
    if not class_path.startswith(_ALLOWED_MODULES):
        raise error(
            f"{where} is a {class_path}; only classes from {list(_ALLOWED_MODULES)} can be "
            "saved and loaded."
        )


# ------------------------------------------------------------------ decoding
class _Decoder:
    """Rebuilds estimators from the JSON tree and the file's tensors."""

    def __init__(self, tensors: dict[str, torch.Tensor]) -> None:
        self.tensors = tensors

    def estimator(self, node: Any, where: str) -> BaseEstimator:
        if not (
            isinstance(node, dict)
            and isinstance(node.get("params"), dict)
            and isinstance(node.get("fitted"), dict)
        ):
            raise _FormatError(f"{where} misses its class, params or fitted entries")
        cls = _import_class(node["class"], where)
        params = {
            name: self.value(value, f"{where}.{name}") for name, value in node["params"].items()
        }
        try:
            estimator = cls(**params)
        except (TypeError, ValueError) as error:
            message = f"{where}: {node['class']} rejects the saved parameters ({error})"
            raise _FormatError(message) from None
        fitted = dict(node["fitted"])
        network = fitted.pop(_NETWORK_ATTRIBUTE, None)
        for name, value in fitted.items():
            setattr(estimator, name, self.value(value, f"{where}.{name}"))
        if network is not None:
            estimator.network_ = self.network(estimator, network, where)
        return estimator

    def network(self, estimator: BaseEstimator, node: Any, where: str) -> nn.Module:
        if not isinstance(node, dict) or "__network__" not in node or "total_steps" not in node:
            raise _FormatError(f"{where}.network_ is not a saved network")
        prefix = node["__network__"]
        state = {
            key[len(prefix) :]: tensor
            for key, tensor in self.tensors.items()
            if key.startswith(prefix)
        }
        try:
            n_params = len(estimator.param_names_)
            with torch.random.fork_rng(devices=[]):
                network = estimator._build_network(
                    estimator.field_shapes_, n_params, int(node["total_steps"])
                )
            network.load_state_dict(state, strict=True)
        except (AttributeError, RuntimeError, ValueError, TypeError) as error:
            message = f"{where}.network_ does not match its architecture ({error})"
            raise _FormatError(message) from None
        return network.eval()

    def tensor(self, key: Any, where: str) -> torch.Tensor:
        if key not in self.tensors:
            raise _FormatError(f"{where}: the tensor {key!r} is missing")
        return self.tensors[key]

    def value(self, node: Any, where: str) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.value(item, f"{where}[{i}]") for i, item in enumerate(node)]
        if isinstance(node, dict) and "class" in node:
            return self.estimator(node, where)
        if not isinstance(node, dict) or len(node) != 1:
            raise _FormatError(f"{where} has an unknown encoding")
        ((tag, content),) = node.items()
        decode = {
            "__array__": lambda: self.tensor(content, where).numpy(),
            "__tensor__": lambda: self.tensor(content, where),
            "__scalar__": lambda: self.tensor(content, where).numpy()[()],
            "__float__": lambda: float(content),
            "__str_array__": lambda: np.asarray(content, dtype=object),
            "__dtype__": lambda: np.dtype(content),
            "__path__": lambda: pathlib.Path(content),
            "__random_state__": lambda: _random_state(self.value(content, where)),
            "__tuple__": lambda: tuple(
                self.value(item, f"{where}[{i}]") for i, item in enumerate(content)
            ),
            "__dict__": lambda: {
                key: self.value(item, f"{where}[{key!r}]") for key, item in content.items()
            },
        }.get(tag)
        if decode is None:
            raise _FormatError(f"{where} has an unknown encoding {tag!r}")
        try:
            return decode()
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            raise _FormatError(f"{where} is malformed ({error})") from None


def _import_class(class_path: Any, where: str) -> type:
    if not isinstance(class_path, str) or "." not in class_path:
        raise _FormatError(f"{where} has no valid class path")
    _check_allowed(class_path, where, _FormatError)
    module_name, _, name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise _FormatError(
            f"{where}: class {class_path} does not exist in this installation (saved with a "
            "different version?)"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
        raise _FormatError(f"{where}: {class_path} is not a scikit-learn estimator class")
    return cls


def _random_state(state: tuple) -> np.random.RandomState:
    random_state = np.random.RandomState()
    random_state.set_state(state)
    return random_state
