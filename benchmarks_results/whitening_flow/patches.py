"""Patches of WhitenedModule for screening: VARIANT env holds any of

* fifth session: evalz (flow-matching input computed with the spline's dropout off), do0, do2
  (dropout), bins4, bins8, bins16, tb3 (tail bound 3);
* sixth session (``../diagnostics``): half_dropout (0.05), tb6 and tb8 (tail bound 6, 8),
  actnorm (an activation normalization per block), no_t (the Student-t bypassed: the spline
  sees the standardized parameters), spline_first (the spline on the standardized parameters
  with a standard normal base, the Student-t whitening its output for flow matching), frame
  (the spline's conditioners also read the Student-t's location and log scale), dof2 (the
  Student-t's degrees of freedom kept at 2 or more).

* seventh session (``../pretraining``): staged (the whitening stages fitted first, alone, with
  early stopping, then frozen: the prototype of the package's first fit).

The recorded fifth-session runs were made while the package's default was 8 bins (then 4):
reproduce their "package" rows with bins8 added. Every patch here acts on the Student-t
whitening the package had until the seventh session: run them at commit 77af5d2 (the
seventh session's ``no_t`` prototype runs: that commit plus the package's first fit, i.e.
``needs_pretraining``, ``pretraining_loss`` and ``freeze_pretrained`` on the Student-t
whitening, without ``staged``)."""

import math
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
    "half_dropout": ("_FLOW_DROPOUT", 0.05),
    "tb8": ("_FLOW_TAIL_BOUND", 8.0),
    "tb6": ("_FLOW_TAIL_BOUND", 6.0),
}
for key, (name, value) in SETTINGS.items():
    if key in v:
        setattr(W, name, value)
if "actnorm" in v:
    _coupling_module = W.CouplingFlowModule

    def with_actnorm(*args, **kwargs):
        return _coupling_module(*args, **{**kwargs, "actnorm": True})

    W.CouplingFlowModule = with_actnorm
if "no_t" in v:
    # Diagnostic: the Student-t stage is bypassed (u = theta); its loss still trains its heads.
    _whiten_and_fit = W.ConditionalStudentT.whiten_and_fit

    def identity_whiten_and_fit(self, theta, context):
        _, fit_loss = _whiten_and_fit(self, theta, context)
        return theta, fit_loss

    def identity_forward(self, context):
        zeros = torch.zeros(context.shape[0], self.log_dof.shape[0], dtype=context.dtype)
        return zeros, zeros

    W.ConditionalStudentT.whiten_and_fit = identity_whiten_and_fit
    W.ConditionalStudentT.forward = identity_forward
if "spline_first" in v:
    # The spline coupling flow acts on the (standardized) parameters themselves, fitted with a
    # standard normal base; the Student-t then whitens its output for flow matching.
    def loss_spline_first(self, theta, context, generator=None):
        v, log_det = self.flow.to_latent(theta, context)
        spline_loss = -(standard_normal_log_prob(v) + log_det)
        u, fit_loss = self.location_scale.whiten_and_fit(v.detach(), context)
        return self.inner.loss(u.detach(), context, generator) + (fit_loss + spline_loss).mean()

    def sample_spline_first(self, context, noise):
        u = self.inner.sample(context, noise)
        location, log_scale = self.location_scale(context)
        return self.flow.sample(context, location + torch.exp(log_scale) * u)

    def log_prob_spline_first(self, theta, context):
        v, log_det = self.flow.to_latent(theta, context)
        location, log_scale = self.location_scale(context)
        u = (v - location) * torch.exp(-log_scale)
        return self.inner.log_prob(u, context) + log_det - log_scale.sum(dim=1)

    W.WhitenedModule.loss = loss_spline_first
    W.WhitenedModule.sample = sample_spline_first
    W.WhitenedModule.log_prob = log_prob_spline_first
if "frame" in v:
    # The spline's conditioners also read the Student-t's location and log scale (held fixed),
    # so the parameters' own coordinates are within their reach.
    _init = W.WhitenedModule.__init__

    def init_frame(self, inner, widths, depth):
        _init(self, inner, widths, depth)
        if self.flow is not None:
            self.flow = W.CouplingFlowModule(
                inner.n_params,
                inner.n_conditions + 2 * inner.n_params,
                transform="spline",
                depth=depth,
                widths=widths,
                permutation="random",
                actnorm=False,
                clamp=1.0,
                bins=W._FLOW_BINS,
                tail_bound=W._FLOW_TAIL_BOUND,
                dropout=W._FLOW_DROPOUT,
                activation="silu",
            )

    def framed(self, context):
        location, log_scale = self.location_scale(context)
        flow_context = torch.cat([context, location.detach(), log_scale.detach()], dim=1)
        return location, log_scale, flow_context

    def loss_frame(self, theta, context, generator=None):
        u, fit_loss = self.location_scale.whiten_and_fit(theta, context)
        _, _, flow_context = framed(self, context)
        z, log_det = self.flow.to_latent(u.detach(), flow_context)
        fit_loss = fit_loss - standard_normal_log_prob(z) - log_det
        return self.inner.loss(z.detach(), context, generator) + fit_loss.mean()

    def sample_frame(self, context, noise):
        location, log_scale, flow_context = framed(self, context)
        u = self.flow.sample(flow_context, self.inner.sample(context, noise))
        return location + torch.exp(log_scale) * u

    def log_prob_frame(self, theta, context):
        location, log_scale, flow_context = framed(self, context)
        u = (theta - location) * torch.exp(-log_scale)
        z, log_det = self.flow.to_latent(u, flow_context)
        return self.inner.log_prob(z, context) + log_det - log_scale.sum(dim=1)

    W.WhitenedModule.__init__ = init_frame
    W.WhitenedModule.loss = loss_frame
    W.WhitenedModule.sample = sample_frame
    W.WhitenedModule.log_prob = log_prob_frame
if "dof2" in v:
    # The Student-t's degrees of freedom are kept at 2 or more (finite spread of the whitened u).
    W._LOG_DOF_RANGE = (math.log(2.0), W._LOG_DOF_RANGE[1])
if "staged" in v:
    # Seventh session: the whitening stages (Student-t and spline) are trained first, alone, by
    # maximum likelihood with early stopping on their held-out loss; then frozen while flow
    # matching trains on their output (prototype of the package's staged fit).
    from sklearn_sbi import posterior as P

    PHASE = {"now": "all"}
    _loss_all = W.WhitenedModule.loss

    def whitening_loss(self, theta, context):
        u, fit_loss = self.location_scale.whiten_and_fit(theta, context)
        if self.flow is not None:
            z, log_det = self.flow.to_latent(u.detach(), context)
            fit_loss = fit_loss - standard_normal_log_prob(z) - log_det
        return fit_loss.mean()

    def loss_staged(self, theta, context, generator=None):
        if PHASE["now"] == "whitening":
            return whitening_loss(self, theta, context)
        return _loss_all(self, theta, context, generator)

    W.WhitenedModule.loss = loss_staged
    W.WhitenedModule.supports_early_stopping = property(
        lambda self: PHASE["now"] == "whitening", lambda self, value: None
    )
    _train_once = P.AmortizedPosterior._train

    def train_staged(self, state, **kwargs):
        PHASE["now"] = "whitening"
        try:
            _train_once(self, state, **kwargs)
        finally:
            PHASE["now"] = "all"
        print("whitening stage:", self.n_iter_, "epochs, best", self.best_epoch_ + 1, flush=True)
        module = self.network_.inference
        for part in (module.location_scale, module.flow):
            if part is not None:
                part.requires_grad_(False)
        _train_once(self, {**state, "network_": self.network_}, **kwargs)

    P.AmortizedPosterior._train = train_staged
