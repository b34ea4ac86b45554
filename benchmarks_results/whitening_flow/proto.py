"""Prototype: Student-t whitening, then a spline coupling flow (MLE, detached), then flow matching.

Usage: ``PRE_DEPTH=2 PRE_WIDTHS=128,128 PRE_TRANSFORM=spline PRE_DROPOUT=0 PRE_BINS=8
python proto.py NAME TASK fm "{}" "{}" [flags]`` (arguments of support/screen.py). Unlike
the package's ``WhitenedModule`` it has an activation normalization in each block.
"""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from sklearn_sbi.networks.inference import _whitening as W
from sklearn_sbi.networks.inference import flow_matching as fm_mod
from sklearn_sbi.networks.inference.base import InferenceModule
from sklearn_sbi.networks.inference.coupling import CouplingFlowModule

DEPTH = int(os.environ.get("PRE_DEPTH", "2"))
PRE_WIDTHS = tuple(int(w) for w in os.environ.get("PRE_WIDTHS", "128,128").split(","))
AFFINE = os.environ.get("PRE_AFFINE", "1") == "1"
TRANSFORM = os.environ.get("PRE_TRANSFORM", "spline")
BINS = int(os.environ.get("PRE_BINS", "8"))


class Pre(InferenceModule):
    def __init__(self, inner, widths):
        super().__init__(inner.n_params, inner.n_conditions)
        self.inner = inner
        self.location_scale = (
            W.ConditionalStudentT(inner.n_params, inner.n_conditions, widths) if AFFINE else None
        )
        self.flow = CouplingFlowModule(
            inner.n_params,
            inner.n_conditions,
            transform=TRANSFORM,
            depth=DEPTH,
            widths=PRE_WIDTHS,
            permutation="random",
            actnorm=True,
            clamp=2.0,
            bins=BINS,
            tail_bound=4.0,
            dropout=float(os.environ.get("PRE_DROPOUT", "0")),
            activation="silu",
        )
        self.has_log_prob = inner.has_log_prob
        self.supports_early_stopping = False

    @property
    def noise_size(self):
        return self.inner.noise_size

    def _aff(self, theta, ctx):
        if self.location_scale is None:
            return theta, theta.new_zeros(theta.shape[0])
        m, ls = self.location_scale(ctx)
        return (theta - m) * torch.exp(-ls), -ls.sum(1)

    def loss(self, theta, ctx, generator=None):
        nll = 0.0
        if self.location_scale is not None:
            u, row_loss = self.location_scale.whiten_and_fit(theta, ctx)
            nll = row_loss.mean()
        else:
            u = theta
        u = u.detach()
        z, ld = self.flow._to_latent(u, ctx)
        lp = -0.5 * (z**2).sum(1) - 0.5 * self.n_params * math.log(2 * math.pi) + ld
        return self.inner.loss(z.detach(), ctx, generator) + nll - lp.mean()

    def sample(self, ctx, noise):
        z = self.inner.sample(ctx, noise)
        u = z
        for step in reversed(self.flow.steps):
            u = step.inverse(u, ctx)
        if self.location_scale is None:
            return u
        m, ls = self.location_scale(ctx)
        return m + torch.exp(ls) * u

    def log_prob(self, theta, ctx):
        u, ld1 = self._aff(theta, ctx)
        z, ld2 = self.flow._to_latent(u, ctx)
        return self.inner.log_prob(z, ctx) + ld1 + ld2


def patched(module, widths, *_):
    return Pre(module, tuple(widths))


fm_mod.whiten_if_requested = patched
import screen  # noqa: E402

screen.main()
