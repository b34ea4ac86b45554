"""Inference networks: conditional generative models of parameters given data."""

from sklearn_sbi.networks.inference.base import InferenceModule, InferenceNetwork
from sklearn_sbi.networks.inference.consistency import ConsistencyModel
from sklearn_sbi.networks.inference.coupling import CouplingFlow
from sklearn_sbi.networks.inference.flow_matching import FlowMatching

__all__ = [
    "ConsistencyModel",
    "CouplingFlow",
    "FlowMatching",
    "InferenceModule",
    "InferenceNetwork",
]
