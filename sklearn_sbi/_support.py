"""The prior's support box: validation, membership, and rejection of draws outside it.

A neural posterior estimate can put mass where the prior has none ("leakage"),
e.g. past the edge of a uniform prior's box when the true posterior is cut off
there. Knowing the box, :class:`~sklearn_sbi.AmortizedPosterior` rejects such
draws and draws again, which samples the estimate truncated to the box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

Bounds = tuple[np.ndarray, np.ndarray]

#: Below this fraction of draws inside the support, sampling gives up.
MIN_ACCEPTANCE = 1e-3
#: A round proposes at most this many times ``max(n_samples, 128)`` draws per row.
MAX_ROUND_FACTOR = 8


def check_support(support: Any, n_params: int) -> Bounds | None:
    """``support`` as ``(low, high)`` float arrays of shape ``(n_params,)``, or None.

    Parameters
    ----------
    support : None or pair
        ``(low, high)``; each a scalar or a sequence of ``n_params`` values,
        ``-inf`` / ``inf`` for an unbounded side.
    n_params : int
        Number of parameters.

    Returns
    -------
    bounds : tuple of ndarray or None

    Examples
    --------
    >>> from sklearn_sbi._support import check_support
    >>> check_support((-1, [1, 2]), 2)
    (array([-1., -1.]), array([1., 2.]))
    """
    if support is None:
        return None
    message = (
        f"support must be None or a pair (low, high) of scalars or sequences of "
        f"{n_params} values (one per parameter), got {support!r}."
    )
    try:
        if isinstance(support, (str, bytes)) or len(support) != 2:
            raise ValueError(message)
        low, high = (
            np.broadcast_to(np.asarray(side, dtype=np.float64), (n_params,)).copy()
            for side in support
        )
    except (TypeError, ValueError):
        raise ValueError(message) from None
    if np.isnan(low).any() or np.isnan(high).any():
        raise ValueError(f"support bounds must not be NaN, got {support!r}.")
    if not (low < high).all():
        raise ValueError(f"support needs low < high for every parameter, got {support!r}.")
    return low, high


def within(values: np.ndarray, bounds: Bounds) -> np.ndarray:
    """True where every parameter of ``values (..., d)`` lies in the closed box."""
    low, high = bounds
    return ((values >= low) & (values <= high)).all(axis=-1)


def check_targets_within(targets: np.ndarray, bounds: Bounds | None) -> None:
    """Training parameters must lie in the support they are said to come from."""
    if bounds is None:
        return
    outside = np.flatnonzero(~within(targets, bounds))
    if outside.size:
        raise ValueError(
            f"{outside.size} training parameter rows lie outside support (first: row "
            f"{outside[0]}, {targets[outside[0]].tolist()}); support must contain every "
            "parameter the prior can draw."
        )


NoiseSource = Callable[[int, int], Callable[[int], np.ndarray]]
"""``noise_source(round, block)``: the noise function of one round's ``block`` draws a row."""

Draw = Callable[[np.ndarray, int, Callable[[int], np.ndarray]], np.ndarray]
"""``draw(rows, block, noise)``: ``(len(rows), block, d)`` draws for the observations ``rows``."""


def draw_within(
    draw: Draw, n_obs: int, n_samples: int, bounds: Bounds, noise_source: NoiseSource
) -> np.ndarray:
    """``n_samples`` draws per observation inside ``bounds``, by rejection.

    Round 0 proposes ``n_samples`` draws for every observation. Each later
    round proposes, for each observation still short, about 1.2 times the
    missing count divided by its own acceptance so far (rounded up to a power
    of two, so that rows share a few network calls; at most
    ``MAX_ROUND_FACTOR * max(n_samples, 128)``, which bounds memory). A row's
    proposals depend only on its own history, never on the other rows.
    Accepted draws keep their proposal order.

    Raises
    ------
    ValueError
        If an observation is still short after
        ``max(n_samples, 100) / MIN_ACCEPTANCE`` proposals (acceptance below
        ``MIN_ACCEPTANCE``).
    """
    d = bounds[0].shape[0]
    result = np.empty((n_obs, n_samples, d))
    filled = np.zeros(n_obs, dtype=np.int64)
    proposed = np.zeros(n_obs, dtype=np.int64)
    block = np.full(n_obs, n_samples, dtype=np.int64)
    pending = np.arange(n_obs)
    max_proposals = math.ceil(max(n_samples, 100) / MIN_ACCEPTANCE)
    round_ = 0
    while pending.size:
        for size in np.unique(block[pending]):
            rows = pending[block[pending] == size]
            candidates = draw(rows, int(size), noise_source(round_, int(size)))
            accepted = within(candidates, bounds)
            rank = np.cumsum(accepted, axis=1) - 1 + filled[rows, None]
            keep = accepted & (rank < n_samples)
            owner = np.broadcast_to(rows[:, None], keep.shape)
            result[owner[keep], rank[keep]] = candidates[keep]
            filled[rows] = np.minimum(filled[rows] + accepted.sum(axis=1), n_samples)
            proposed[rows] += size
        pending = pending[filled[pending] < n_samples]
        starved = pending[proposed[pending] >= max_proposals]
        if starved.size:
            worst = starved[np.argmin(filled[starved])]
            raise ValueError(
                f"Only {filled[worst]} of {proposed[worst]} posterior draws for observation "
                f"{worst} fall inside support (acceptance below {MIN_ACCEPTANCE:g}): the "
                "estimate puts its mass outside the prior's box. Check that the observation "
                "is one the simulator can produce and that support matches the prior."
            )
        acceptance = np.maximum(filled[pending], 1) / proposed[pending]
        wanted = np.ceil(1.2 * (n_samples - filled[pending]) / acceptance)
        wanted = np.minimum(wanted, MAX_ROUND_FACTOR * max(n_samples, 128))
        block[pending] = 2 ** np.ceil(np.log2(np.maximum(wanted, 1))).astype(np.int64)
        round_ += 1
    return result
