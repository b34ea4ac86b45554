"""Tempered sequential Monte Carlo for posteriors under a uniform box prior."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LogLikelihood = Callable[[np.ndarray], np.ndarray]


def tempered_smc(
    log_likelihood: LogLikelihood,
    low: np.ndarray,
    high: np.ndarray,
    n_particles: int,
    rng: np.random.Generator,
    *,
    ess_fraction: float = 0.5,
    max_stages: int = 500,
    final_moves: int = 30,
) -> np.ndarray:
    """Sample ``p(theta | x) ∝ 1[low <= theta <= high] L(theta)`` by likelihood tempering.

    Particles start from the uniform prior and move through the tempered
    targets ``prior * L ** beta``, ``beta`` from 0 to 1. Each step picks the
    next ``beta`` so that the effective sample size of the incremental weights
    is ``ess_fraction * n_particles`` (bisection), resamples, then moves every
    particle with random-walk Metropolis steps whose covariance is the
    particles' covariance scaled by ``2.38**2 / d`` (the step size adapts
    towards an acceptance rate of 0.3). Steps repeat until 90 % of the
    particles have moved; at ``beta = 1`` until 99.9 % have moved and at least
    ``final_moves`` steps were made, so the duplicates resampling made are
    decorrelated.

    Parameters
    ----------
    log_likelihood : callable
        Maps ``(m, d)`` parameters to ``(m,)`` finite log-likelihoods.
    low, high : ndarray of shape (d,)
        Prior box.
    n_particles : int
        Number of particles, also the number of returned draws.
    rng : numpy Generator
        Source of randomness.
    ess_fraction : float, default=0.5
        Target relative effective sample size of each tempering step.
    max_stages : int, default=500
        Tempering steps before giving up with a RuntimeError.
    final_moves : int, default=30
        Minimum number of Metropolis steps at ``beta = 1``.

    Returns
    -------
    ndarray of shape (n_particles, d)
        Equally weighted draws from the posterior.
    """
    theta = rng.uniform(low, high, size=(n_particles, len(low)))
    log_lik = log_likelihood(theta)
    beta = 0.0
    scale = 1.0
    for _ in range(max_stages):
        next_beta = _next_temperature(log_lik, beta, ess_fraction)
        log_weights = (next_beta - beta) * log_lik
        weights = np.exp(log_weights - log_weights.max())
        index = _systematic_resample(weights / weights.sum(), rng)
        theta, log_lik, beta = theta[index], log_lik[index], next_beta
        final = beta == 1.0
        theta, log_lik, scale = _metropolis_moves(
            log_likelihood,
            theta,
            log_lik,
            beta,
            low,
            high,
            rng,
            scale,
            min_moves=final_moves if final else 1,
            moved_fraction=0.999 if final else 0.9,
        )
        if beta == 1.0:
            return theta
    raise RuntimeError(
        f"Tempered SMC did not reach the posterior in {max_stages} stages (beta={beta:.3g})."
    )


def _next_temperature(log_lik: np.ndarray, beta: float, ess_fraction: float) -> float:
    """Largest ``beta' <= 1`` whose incremental weights keep the target ESS."""

    def relative_ess(step: float) -> float:
        log_weights = step * (log_lik - log_lik.max())
        weights = np.exp(log_weights)
        return weights.sum() ** 2 / (weights**2).sum() / len(weights)

    if relative_ess(1.0 - beta) >= ess_fraction:
        return 1.0
    lower, upper = 0.0, 1.0 - beta
    for _ in range(60):
        middle = 0.5 * (lower + upper)
        lower, upper = (middle, upper) if relative_ess(middle) >= ess_fraction else (lower, middle)
    return beta + max(lower, 1e-12)


def _systematic_resample(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices drawn by systematic resampling (low variance, unbiased)."""
    n = len(probabilities)
    positions = (rng.random() + np.arange(n)) / n
    cumulative = np.cumsum(probabilities)
    cumulative[-1] = 1.0
    return np.searchsorted(cumulative, positions)


def _metropolis_moves(
    log_likelihood: LogLikelihood,
    theta: np.ndarray,
    log_lik: np.ndarray,
    beta: float,
    low: np.ndarray,
    high: np.ndarray,
    rng: np.random.Generator,
    scale: float,
    min_moves: int,
    moved_fraction: float,
    max_moves: int = 200,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Random-walk Metropolis steps targeting ``prior * L ** beta``, all particles at once."""
    n, dim = theta.shape
    covariance = np.atleast_2d(np.cov(theta, rowvar=False)) * 2.38**2 / dim
    cholesky = np.linalg.cholesky(covariance + 1e-12 * np.eye(dim) * np.trace(covariance))
    moved = np.zeros(n, dtype=bool)
    for step in range(max_moves):
        proposal = theta + scale * rng.standard_normal((n, dim)) @ cholesky.T
        inside = ((proposal >= low) & (proposal <= high)).all(axis=1)
        proposal_log_lik = np.full(n, -np.inf)
        proposal_log_lik[inside] = log_likelihood(proposal[inside])
        accept = np.log(rng.random(n)) < beta * (proposal_log_lik - log_lik)
        theta = np.where(accept[:, None], proposal, theta)
        log_lik = np.where(accept, proposal_log_lik, log_lik)
        moved |= accept
        # Keep the acceptance rate near 0.3 by adapting the step size between steps.
        scale *= float(np.exp(accept.mean() - 0.3))
        if step + 1 >= min_moves and moved.mean() >= moved_fraction:
            break
    return theta, log_lik, scale
