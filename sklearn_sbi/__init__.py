"""sklearn-sbi: amortized Bayesian inference with scikit-learn idioms, on PyTorch."""

from sklearn_sbi.simulations import Simulations

__all__ = ["Simulations"]
__version__ = "0.1.0"
