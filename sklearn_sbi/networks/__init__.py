"""Neural networks: inference networks (posterior models) and summary networks (encoders).

Every network is a hyperparameter-only scikit-learn estimator ("spec") that
builds its torch module at fit time.
"""

from sklearn_sbi.networks.inference import ConsistencyModel, CouplingFlow, FlowMatching
from sklearn_sbi.networks.summary import (
    MLP,
    DeepSet,
    FusionEncoder,
    SetTransformer,
    TimeSeriesNetwork,
    TimeSeriesTransformer,
)

__all__ = [
    "MLP",
    "ConsistencyModel",
    "CouplingFlow",
    "DeepSet",
    "FlowMatching",
    "FusionEncoder",
    "SetTransformer",
    "TimeSeriesNetwork",
    "TimeSeriesTransformer",
]
