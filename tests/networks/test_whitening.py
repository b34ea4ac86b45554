"""The conditional whitening in front of flow matching and consistency models."""

from __future__ import annotations

import torch
from scipy import stats

from sklearn_sbi.networks.inference import CouplingFlow, FlowMatching
from sklearn_sbi.networks.inference._whitening import (
    _MAX_LOG_SCALE,
    ConditionalStudentT,
    WhitenedModule,
)

MIXING = torch.tensor([[0.8, -0.3], [0.2, 0.5]])
SCALES = torch.tensor([0.4, 0.25])


def negative_log_likelihood(student_t, theta, context):
    return student_t.whiten_and_fit(theta, context)[1].mean()


def fit(module, simulate, steps=1500, loss=None):
    """Minimize ``loss`` (the Student-t's by default) by Adam on fresh batches from ``simulate``."""
    loss_of = loss or (lambda theta, context: negative_log_likelihood(module, theta, context))
    optimizer = torch.optim.Adam(module.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1)
    for _ in range(steps):
        theta, context = simulate(generator)
        batch_loss = loss_of(theta, context)
        optimizer.zero_grad()
        batch_loss.backward()
        optimizer.step()


def test_a_fresh_affine_whitening_is_the_identity():
    torch.manual_seed(0)
    inner = CouplingFlow("affine", depth=1, widths=(8,)).build(2, 3)
    module = WhitenedModule(inner, (8,), 0)
    context, noise = torch.randn(6, 3), torch.randn(6, 2)
    with torch.no_grad():
        mean, log_scale = module.location_scale(context)
        torch.testing.assert_close(mean, torch.zeros(6, 2))
        torch.testing.assert_close(log_scale, torch.zeros(6, 2))
        torch.testing.assert_close(module.sample(context, noise), inner.sample(context, noise))
        theta = torch.randn(6, 2)
        torch.testing.assert_close(module.log_prob(theta, context), inner.log_prob(theta, context))


def test_each_stage_learns_from_its_own_likelihood_only():
    torch.manual_seed(0)
    module = FlowMatching(widths=(16,), whitening_widths=(8,), whitening_depth=1).build(2, 2)
    generator = torch.Generator().manual_seed(1)
    theta = torch.randn(64, 2, generator=generator)
    context = torch.randn(64, 2, generator=generator)
    stages = [*module.location_scale.parameters(), *module.flow.parameters()]
    for parameter in stages:  # off the identity start
        parameter.data.add_(0.3 * torch.randn(parameter.shape, generator=generator))
    torch.manual_seed(3)  # the same dropout masks in the coupling flow both times
    module.loss(theta, context, torch.Generator().manual_seed(2)).backward()
    total = [p.grad.clone() for p in stages]
    module.zero_grad()
    # The Student-t from its own fit; the coupling flow from its likelihood of
    # the whitened parameters, which it receives without a gradient path back.
    negative_log_likelihood(module.location_scale, theta, context).backward()
    u = module.location_scale.whiten_and_fit(theta, context)[0].detach()
    torch.manual_seed(3)
    (-module.flow.log_prob(u, context).mean()).backward()
    for with_flow_matching, own_only in zip(total, stages, strict=True):
        torch.testing.assert_close(with_flow_matching, own_only.grad)


def test_the_fit_loss_is_the_student_t_and_gaussian_densities():
    torch.manual_seed(0)
    student_t = ConditionalStudentT(2, 3, (8,))
    with torch.no_grad():
        student_t.log_dof.copy_(torch.log(torch.tensor([2.5, 30.0])))
        for parameter in student_t.net.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape))
        theta, context = torch.randn(5, 2), torch.randn(5, 3)
        heads = student_t.net(context).chunk(4, dim=-1)
        location, mean = heads[0], heads[2]
        log_scale, gaussian_log_scale = (
            _MAX_LOG_SCALE * torch.tanh(head / _MAX_LOG_SCALE) for head in (heads[1], heads[3])
        )
        u, loss = student_t.whiten_and_fit(theta, context)
        torch.testing.assert_close(student_t(context)[1], log_scale)
        torch.testing.assert_close(u, (theta - location) / torch.exp(log_scale))
        expected = -(
            torch.distributions.StudentT(student_t.dof, location, torch.exp(log_scale)).log_prob(
                theta
            )
            + torch.distributions.Normal(mean, torch.exp(gaussian_log_scale)).log_prob(theta)
        ).sum(dim=1)
        torch.testing.assert_close(loss, expected)
        torch.testing.assert_close(student_t(context)[0], location)


def test_the_student_t_learns_a_linear_gaussian_posterior():
    def simulate(generator):
        context = torch.randn(256, 2, generator=generator)
        theta = context @ MIXING.T + SCALES * torch.randn(256, 2, generator=generator)
        return theta, context

    torch.manual_seed(0)
    student_t = ConditionalStudentT(2, 2, (32,))
    fit(student_t, simulate)
    context = torch.tensor([[0.5, -1.0], [-1.2, 0.3]])
    with torch.no_grad():
        mean, log_scale = student_t(context)
    assert (mean - context @ MIXING.T).abs().max() < 0.05
    # Gaussian data: the degrees of freedom grow from 4, and the scale is the
    # standard deviation times sqrt((nu - 2) / nu).
    dof = student_t.dof.detach()
    assert (dof > 10).all(), dof
    sd = torch.exp(log_scale) * torch.sqrt(dof / (dof - 2))
    assert (sd / SCALES - 1).abs().max() < 0.1, sd


def test_the_student_t_locates_a_narrow_mode_within_broad_mass():
    # Half the mass within 0.05 of theta = c, half spread with sd 1: a Gaussian's
    # mean carries the broad half's noise, the Student-t locks onto the mode.
    def simulate(generator):
        context = 2 * torch.rand(512, 1, generator=generator) - 1
        narrow = torch.rand(512, 1, generator=generator) < 0.5
        sd = torch.where(narrow, torch.tensor(0.05), torch.tensor(1.0))
        return context + sd * torch.randn(512, 1, generator=generator), context

    torch.manual_seed(0)
    student_t = ConditionalStudentT(1, 1, (32,))
    fit(student_t, simulate)
    context = torch.linspace(-0.9, 0.9, 7).unsqueeze(1)
    with torch.no_grad():
        mean, log_scale = student_t(context)
    assert (mean - context).abs().max() < 0.012  # 0.014 with the dof frozen at 1000
    assert student_t.dof.item() < 2.0
    assert torch.exp(log_scale).max() < 0.2


def test_the_coupling_flow_gaussianizes_what_the_student_t_cannot():
    # theta = c +- 1 (+ noise 0.1): bimodal around the Student-t's location, so
    # the whitened u has a gap at 0; the coupling flow maps it to a normal.
    def simulate(generator):
        context = 2 * torch.rand(256, 1, generator=generator) - 1
        sign = 2 * (torch.rand(256, 1, generator=generator) < 0.5).float() - 1
        return context + sign + 0.1 * torch.randn(256, 1, generator=generator), context

    torch.manual_seed(0)
    inner = CouplingFlow("affine", depth=1, widths=(8,)).build(1, 1)
    module = WhitenedModule(inner, (32,), 2)
    fit(module, simulate, loss=module.loss)
    generator = torch.Generator().manual_seed(5)
    batches = [simulate(generator) for _ in range(8)]
    theta, context = (torch.cat(parts) for parts in zip(*batches, strict=True))
    module.eval()
    with torch.no_grad():
        u = module.location_scale.whiten_and_fit(theta, context)[0]
        z, _ = module.flow.to_latent(u, context)
    # Kolmogorov-Smirnov distance to N(0, 1), 2,048 draws: 0.29 for u, 0.08 for z
    # (0.04 with 8 bins instead of the default 4).
    assert stats.kstest(u.ravel().numpy(), "norm").statistic > 0.2
    assert stats.kstest(z.ravel().numpy(), "norm").statistic < 0.1
