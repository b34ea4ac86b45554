"""sklearn-sbi: amortized Bayesian inference with scikit-learn idioms, on PyTorch."""

from sklearn_sbi.pipeline import PosteriorPipeline, make_posterior_pipeline
from sklearn_sbi.posterior import AmortizedPosterior
from sklearn_sbi.simulations import Simulations, as_simulations
from sklearn_sbi.simulators import SimulationError, Simulator, make_simulator

__all__ = [
    "AmortizedPosterior",
    "PosteriorPipeline",
    "SimulationError",
    "Simulations",
    "Simulator",
    "as_simulations",
    "make_posterior_pipeline",
    "make_simulator",
]
__version__ = "0.1.0"
