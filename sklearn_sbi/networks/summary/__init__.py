"""Summary networks (encoders): specs that build torch modules reading named fields."""

from sklearn_sbi.networks.summary.base import FieldsEncoder, SummaryNetwork, padding_mask
from sklearn_sbi.networks.summary.deep_set import DeepSet
from sklearn_sbi.networks.summary.fusion import FusionEncoder, FusionModule
from sklearn_sbi.networks.summary.mlp import MLP
from sklearn_sbi.networks.summary.set_transformer import SetTransformer
from sklearn_sbi.networks.summary.time_series import TimeSeriesNetwork, TimeSeriesTransformer

__all__ = [
    "DeepSet",
    "FieldsEncoder",
    "FusionEncoder",
    "FusionModule",
    "MLP",
    "SetTransformer",
    "SummaryNetwork",
    "TimeSeriesNetwork",
    "TimeSeriesTransformer",
    "padding_mask",
]
