"""Patches of WhitenedModule for screening: VARIANT env holds any of evalz (flow-matching input
computed with the spline's dropout off), do0, do2 (dropout), bins4, bins8, bins16, tb3 (tail
bound 3). The recorded runs were made while the package's default was 8 bins (today 4):
reproduce their "package" rows with bins8 added."""

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from sklearn_sbi.networks.inference import _whitening as W
from sklearn_sbi.networks.inference.base import standard_normal_log_prob

v = os.environ.get("VARIANT", "")
if "evalz" in v:

    def loss(self, theta, context, generator=None):
        u, fit_loss = self.location_scale.whiten_and_fit(theta, context)
        u = u.detach()
        z, log_det = self.flow.to_latent(u, context)
        fit_loss = fit_loss - standard_normal_log_prob(z) - log_det
        self.flow.train(False)
        with torch.no_grad():
            z, _ = self.flow.to_latent(u, context)
        self.flow.train(self.training)
        return self.inner.loss(z, context, generator) + fit_loss.mean()

    W.WhitenedModule.loss = loss
SETTINGS = {
    "do0": ("_FLOW_DROPOUT", 0.0),
    "do2": ("_FLOW_DROPOUT", 0.2),
    "bins4": ("_FLOW_BINS", 4),
    "bins8": ("_FLOW_BINS", 8),
    "bins16": ("_FLOW_BINS", 16),
    "tb3": ("_FLOW_TAIL_BOUND", 3.0),
}
for key, (name, value) in SETTINGS.items():
    if key in v:
        setattr(W, name, value)
