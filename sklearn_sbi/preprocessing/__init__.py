"""Pre-processing steps (the adapter) as scikit-learn transformers.

Each step has ``fit`` / ``transform`` / ``inverse_transform`` /
``get_feature_names_out`` and composes in a :class:`sklearn.pipeline.Pipeline`.
Field steps act on :class:`~sklearn_sbi.Simulations`; :class:`Standardize`,
:class:`Log`, :class:`Sqrt`, :class:`Constrain`, :class:`OneHot` and
:class:`NanToNum` also act column by column on 2-D arrays. See
:mod:`sklearn_sbi.preprocessing.fields` for how the BayesFlow adapter steps map
onto these.
"""

from sklearn_sbi.preprocessing.elementwise import Constrain, Log, Sqrt
from sklearn_sbi.preprocessing.encoding import OneHot
from sklearn_sbi.preprocessing.fields import (
    AsSet,
    AsTimeSeries,
    Broadcast,
    Concatenate,
    Drop,
    ExpandDims,
    Keep,
    Rename,
    Unflatten,
)
from sklearn_sbi.preprocessing.missing import NanToNum
from sklearn_sbi.preprocessing.series import Difference
from sklearn_sbi.preprocessing.standardize import Standardize

__all__ = [
    "AsSet",
    "AsTimeSeries",
    "Broadcast",
    "Concatenate",
    "Constrain",
    "Difference",
    "Drop",
    "ExpandDims",
    "Keep",
    "Log",
    "NanToNum",
    "OneHot",
    "Rename",
    "Sqrt",
    "Standardize",
    "Unflatten",
]
