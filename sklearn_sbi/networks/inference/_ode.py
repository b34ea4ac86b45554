"""ODE solvers for continuous-time inference networks.

Fixed-step explicit Runge-Kutta methods integrate a whole batch on one time
grid; the adaptive Dormand-Prince method keeps a step size per sample, so an
easy sample does not pay for a hard one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

VectorField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``f(x (B, d), t (B, 1)) -> dx/dt (B, d)``."""

FIXED_STEP_METHODS = ("euler", "midpoint", "rk4")

# Butcher tableau of Dormand-Prince 5(4).
_DOPRI_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_DOPRI_A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_DOPRI_B5 = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_DOPRI_B4 = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)


def evaluations_per_step(method: str) -> int:
    """Vector-field evaluations one step of a fixed-step ``method`` costs."""
    return {"euler": 1, "midpoint": 2, "rk4": 4}[method]


def integrate_fixed(
    field: VectorField, x: torch.Tensor, t0: float, t1: float, steps: int, method: str
) -> torch.Tensor:
    """Integrate ``dx/dt = field(x, t)`` from ``t0`` to ``t1`` in ``steps`` equal steps."""
    if method not in FIXED_STEP_METHODS:
        raise ValueError(f"Unknown solver {method!r}; choose one of {FIXED_STEP_METHODS}.")
    h = (t1 - t0) / steps
    ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    for k in range(steps):
        t = ones * (t0 + k * h)
        if method == "euler":
            x = x + h * field(x, t)
        elif method == "midpoint":
            x = x + h * field(x + 0.5 * h * field(x, t), t + 0.5 * h)
        else:
            k1 = field(x, t)
            k2 = field(x + 0.5 * h * k1, t + 0.5 * h)
            k3 = field(x + 0.5 * h * k2, t + 0.5 * h)
            k4 = field(x + h * k3, t + h)
            x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def integrate_adaptive(
    field: VectorField,
    x: torch.Tensor,
    t0: float,
    t1: float,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-5,
    max_steps: int = 1000,
) -> tuple[torch.Tensor, int]:
    """Dormand-Prince 5(4) with one step size per sample.

    Every iteration advances the samples still running by their own step;
    a sample whose local error estimate exceeds the tolerance retries with a
    smaller step while the others move on.

    Returns
    -------
    x : Tensor
        The state at ``t1``.
    evaluations : int
        Vector-field evaluations spent (per running sample, at most 6 per
        iteration thanks to first-same-as-last).
    """
    direction = 1.0 if t1 >= t0 else -1.0
    x = x.clone()
    n = x.shape[0]
    t = torch.full((n, 1), t0, dtype=x.dtype, device=x.device)
    h = torch.full((n, 1), direction * min(0.05, abs(t1 - t0)), dtype=x.dtype, device=x.device)
    running = torch.ones(n, dtype=torch.bool, device=x.device)
    k_first = field(x, t)
    evaluations = 1
    for _ in range(max_steps):
        if not bool(running.any()):
            break
        idx = running.nonzero().squeeze(1)
        xs, ts, hs = x[idx], t[idx], h[idx]
        hs = direction * torch.minimum(hs.abs(), (t1 - ts).abs())
        stages = [k_first[idx]]
        for c, row in zip(_DOPRI_C[1:], _DOPRI_A[1:], strict=True):
            increment = sum(a * k for a, k in zip(row, stages, strict=False) if a != 0.0)
            stages.append(field(xs + hs * increment, ts + c * hs))
        evaluations += 6
        x5 = xs + hs * sum(b * k for b, k in zip(_DOPRI_B5, stages, strict=True) if b != 0.0)
        x4 = xs + hs * sum(b * k for b, k in zip(_DOPRI_B4, stages, strict=True) if b != 0.0)
        scale = atol + rtol * torch.maximum(xs.abs(), x5.abs())
        error = (((x5 - x4) / scale) ** 2).mean(dim=1, keepdim=True).sqrt()
        accept = (error <= 1.0).squeeze(1)
        factor = torch.clamp(0.9 * error.clamp_min(1e-10) ** -0.2, 0.2, 5.0)
        accepted = idx[accept]
        x[accepted] = x5[accept]
        t[accepted] = ts[accept] + hs[accept]
        k_first[accepted] = stages[-1][accept]
        h[idx] = hs * factor
        running = (t1 - t).squeeze(1) * direction > 1e-7
    return x, evaluations
