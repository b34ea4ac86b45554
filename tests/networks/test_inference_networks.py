"""Generic tests of every inference network, at the torch-module level.

Each network is trained directly with Adam on a conditional Gaussian target
``theta | c ~ N(A c, S)``, whose posterior is known exactly, and checked
against it: sample moments for all networks, log densities for those with a
density. Untrained flows are checked against a numerical change of variables.
"""

from __future__ import annotations

import math
import pickle

import pytest
import torch
from sklearn.base import clone

from sklearn_sbi.networks.inference import (
    ConsistencyModel,
    CouplingFlow,
    FlowMatching,
    InferenceModule,
    InferenceNetwork,
)
from sklearn_sbi.networks.inference._whitening import WhitenedModule

N_PARAMS = 2
N_CONDITIONS = 2
MIXING = torch.tensor([[0.8, -0.3], [0.2, 0.5]])
COVARIANCE = torch.tensor([[0.3, 0.1], [0.1, 0.2]])
BATCH_SIZE = 256

# name -> (tiny spec, Adam steps, learning rate, mean tolerance, covariance tolerance)
NETWORKS = {
    "flow_matching": (FlowMatching(widths=(32, 32), whitening_widths=(16,)), 600, 3e-3, 0.08, 0.06),
    "flow_matching_concat": (
        FlowMatching(widths=(32, 32), whitening_widths=(16,), conditioning="concat"),
        600,
        3e-3,
        0.08,
        0.06,
    ),
    "flow_matching_unwhitened": (
        FlowMatching(widths=(32, 32), whitening_widths=None),
        600,
        3e-3,
        0.08,
        0.06,
    ),
    "consistency": (
        ConsistencyModel(widths=(32, 32), sampling_steps=4, whitening_widths=None),
        1500,
        1e-3,
        0.1,
        0.06,
    ),
    "consistency_film": (
        ConsistencyModel(
            widths=(32, 32), sampling_steps=4, whitening_widths=None, conditioning="film"
        ),
        1500,
        1e-3,
        0.1,
        0.06,
    ),
    "consistency_whitened": (
        ConsistencyModel(widths=(32, 32), sampling_steps=4, whitening_widths=(16,)),
        1500,
        1e-3,
        0.1,
        0.06,
    ),
    "affine_coupling": (CouplingFlow("affine", depth=2, widths=(32, 32)), 600, 3e-3, 0.08, 0.04),
    "spline_coupling": (CouplingFlow("spline", depth=2, widths=(32, 32)), 600, 3e-3, 0.08, 0.04),
}
DENSITY_NETWORKS = [name for name, (spec, *_) in NETWORKS.items() if spec.has_log_prob]
COUPLING_SPECS = {
    "affine_coupling": CouplingFlow("affine", depth=2, widths=(16,)),
    "spline_coupling": CouplingFlow("spline", depth=2, widths=(16,), bins=5, tail_bound=2.0),
}


def build_exact_flow(name: str, n_params: int) -> InferenceModule:
    """A coupling flow, or one behind a conditional whitening (``whitened_<name>``)."""
    if name.startswith("whitened_"):
        inner = COUPLING_SPECS[name.removeprefix("whitened_")].build(n_params, N_CONDITIONS)
        return WhitenedModule(inner, (16,), depth=1)
    return COUPLING_SPECS[name].build(n_params, N_CONDITIONS)


def gaussian_batch(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw ``(theta, context)`` with ``context ~ N(0, I)`` and ``theta | c ~ N(A c, S)``."""
    context = torch.randn(n, N_CONDITIONS, generator=generator)
    noise = torch.randn(n, N_PARAMS, generator=generator)
    return context @ MIXING.T + noise @ torch.linalg.cholesky(COVARIANCE).T, context


def build(name: str, seed: int = 0, n_params: int = N_PARAMS) -> InferenceModule:
    spec, steps, *_ = NETWORKS[name]
    torch.manual_seed(seed)
    return spec.build(n_params, N_CONDITIONS, total_steps=steps)


def train(name: str, steps: int | None = None, seed: int = 0) -> InferenceModule:
    """Adam with a cosine learning-rate decay, as the estimator trains."""
    _, planned_steps, learning_rate, *_ = NETWORKS[name]
    module = build(name, seed)
    steps = planned_steps if steps is None else steps
    optimizer = torch.optim.Adam(module.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed + 1)
    module.train()
    for _ in range(steps):
        theta, context = gaussian_batch(BATCH_SIZE, generator)
        loss = module.loss(theta, context, generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return module.eval()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def trained() -> dict[str, InferenceModule]:
    return {name: train(name) for name in NETWORKS}


def draws(module: InferenceModule, context: torch.Tensor, n: int, seed: int = 5) -> torch.Tensor:
    noise = torch.randn(n, module.noise_size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return module.sample(context.expand(n, -1), noise)


def randomize(module: InferenceModule, seed: int = 0, scale: float = 0.3) -> InferenceModule:
    """Move every weight off its (identity-giving) initialisation."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator))
    return module.eval()


@pytest.mark.parametrize("name", NETWORKS)
def test_spec_is_a_cloneable_estimator(name):
    spec = NETWORKS[name][0]
    assert isinstance(spec, InferenceNetwork)
    assert clone(spec).get_params() == spec.get_params()
    module = build(name)
    assert isinstance(module, InferenceModule)
    assert module.has_log_prob == spec.has_log_prob


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("name", NETWORKS)
def test_sample_and_log_prob_shapes_and_dtypes(name, dtype):
    module = randomize(build(name)).to(dtype)
    context = torch.randn(7, N_CONDITIONS, dtype=dtype)
    with torch.no_grad():
        samples = module.sample(context, torch.randn(7, module.noise_size, dtype=dtype))
    assert samples.shape == (7, N_PARAMS)
    assert samples.dtype == dtype
    assert torch.isfinite(samples).all()
    if module.has_log_prob:
        with torch.no_grad():
            log_density = module.log_prob(samples, context)
        assert log_density.shape == (7,)
        assert log_density.dtype == dtype
        assert torch.isfinite(log_density).all()


@pytest.mark.parametrize("name", NETWORKS)
def test_loss_draws_its_randomness_from_the_generator(name):
    module = randomize(build(name))
    theta, context = gaussian_batch(64, torch.Generator().manual_seed(0))
    global_state = torch.get_rng_state()
    losses = [module.loss(theta, context, generator=torch.Generator().manual_seed(3)) for _ in "ab"]
    assert torch.equal(torch.get_rng_state(), global_state)
    assert losses[0].ndim == 0
    assert torch.isfinite(losses[0])
    assert losses[0].item() == losses[1].item()


@pytest.mark.parametrize("name", NETWORKS)
def test_same_seed_gives_same_trained_weights(name):
    first, second = train(name, steps=15, seed=4), train(name, steps=15, seed=4)
    other = train(name, steps=15, seed=5)
    first_state, second_state = first.state_dict(), second.state_dict()
    assert all(torch.equal(first_state[key], second_state[key]) for key in first_state)
    assert any(not torch.equal(first_state[key], other.state_dict()[key]) for key in first_state)


@pytest.mark.parametrize("name", NETWORKS)
def test_same_noise_gives_same_samples(name, trained):
    module = trained[name]
    context = torch.tensor([[0.5, -1.0]])
    assert torch.equal(draws(module, context, 50), draws(module, context, 50))
    assert not torch.equal(draws(module, context, 50), draws(module, context, 50, seed=6))


@pytest.mark.parametrize("name", NETWORKS)
def test_samples_do_not_depend_on_the_batch_split(name, trained):
    module = trained[name]
    generator = torch.Generator().manual_seed(2)
    context = torch.randn(300, N_CONDITIONS, generator=generator)
    noise = torch.randn(300, module.noise_size, generator=generator)
    with torch.no_grad():
        whole = module.sample(context, noise)
        pieces = torch.cat(
            [module.sample(c, z) for c, z in zip(context.split(37), noise.split(37), strict=True)]
        )
    torch.testing.assert_close(pieces, whole, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", NETWORKS)
def test_sample_moments_match_the_gaussian_posterior(name, trained):
    *_, mean_tolerance, covariance_tolerance = NETWORKS[name]
    for context in ([[0.5, -1.0]], [[-1.2, 0.3]]):
        context = torch.tensor(context)
        samples = draws(trained[name], context, 4000)
        mean_error = samples.mean(dim=0) - MIXING @ context[0]
        covariance_error = torch.cov(samples.T) - COVARIANCE
        assert mean_error.abs().max() < mean_tolerance, mean_error
        assert covariance_error.abs().max() < covariance_tolerance, covariance_error


@pytest.mark.parametrize("name", DENSITY_NETWORKS)
def test_log_prob_matches_the_analytic_gaussian_posterior(name, trained):
    generator = torch.Generator().manual_seed(7)
    theta, context = gaussian_batch(400, generator)
    posterior = torch.distributions.MultivariateNormal(context @ MIXING.T, COVARIANCE)
    with torch.no_grad():
        estimate = trained[name].log_prob(theta, context)
    exact = posterior.log_prob(theta)
    assert torch.corrcoef(torch.stack([estimate, exact]))[0, 1] > 0.97
    assert (estimate - exact).abs().mean() < 0.2


@pytest.mark.parametrize("n_params", [1, 2, 3])
@pytest.mark.parametrize("name", [*COUPLING_SPECS, "whitened_spline_coupling"])
def test_exact_flow_log_prob_is_the_change_of_variables_of_sample(name, n_params):
    torch.manual_seed(0)
    module = build_exact_flow(name, n_params)
    module = randomize(module, scale=0.5).double()
    generator = torch.Generator().manual_seed(1)
    context = torch.randn(5, N_CONDITIONS, generator=generator, dtype=torch.float64)
    noise = 1.5 * torch.randn(5, n_params, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        theta = module.sample(context, noise)
        log_density = module.log_prob(theta, context)
    for row in range(5):
        jacobian = torch.autograd.functional.jacobian(
            lambda z, row=row: module.sample(context[row : row + 1], z[None])[0], noise[row]
        )
        base = -0.5 * noise[row].square().sum() - 0.5 * n_params * math.log(2 * math.pi)
        expected = base - torch.linalg.slogdet(jacobian).logabsdet
        torch.testing.assert_close(log_density[row], expected, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("name", NETWORKS)
def test_pickle_round_trip_keeps_spec_and_samples(name, trained):
    spec = NETWORKS[name][0]
    assert pickle.loads(pickle.dumps(spec)).get_params() == spec.get_params()
    module = trained[name]
    restored = pickle.loads(pickle.dumps(module))
    context = torch.tensor([[0.5, -1.0]])
    assert torch.equal(draws(restored, context, 50), draws(module, context, 50))


@pytest.mark.parametrize("name", NETWORKS)
def test_state_dict_restores_a_fresh_build(name, trained):
    fresh = build(name, seed=123)
    fresh.load_state_dict(trained[name].state_dict())
    fresh.eval()
    context = torch.tensor([[0.5, -1.0]])
    assert torch.equal(draws(fresh, context, 50), draws(trained[name], context, 50))


def test_consistency_model_has_no_density():
    module = build("consistency")
    assert not ConsistencyModel.has_log_prob
    with pytest.raises(NotImplementedError, match="log_prob"):
        module.log_prob(torch.zeros(3, N_PARAMS), torch.zeros(3, N_CONDITIONS))


def test_consistency_model_needs_the_planned_training_steps():
    with pytest.raises(ValueError, match="total_steps"):
        ConsistencyModel(widths=(8,)).build(2, 2)
    spec = ConsistencyModel(widths=(8,), total_steps=50, whitening_widths=None)
    module = spec.build(2, 2, total_steps=9)
    assert module.total_steps == 50


def test_consistency_model_counts_training_steps_only_in_training_mode():
    module = build("consistency")
    theta, context = gaussian_batch(8, torch.Generator().manual_seed(0))
    module.train()
    module.loss(theta, context)
    module.loss(theta, context)
    module.eval()
    module.loss(theta, context)
    assert int(module.training_step) == 2


def test_consistency_validation_loss_ignores_the_curriculum():
    module = randomize(build("consistency")).eval()
    theta, context = gaussian_batch(64, torch.Generator().manual_seed(0))

    def eval_loss():
        with torch.no_grad():
            return module.loss(theta, context, torch.Generator().manual_seed(1))

    early = eval_loss()
    module.training_step += module.total_steps  # end of the curriculum
    torch.testing.assert_close(eval_loss(), early)
    module.train()
    module.training_step.zero_()
    with torch.no_grad():
        start_of_training = module.loss(theta, context, torch.Generator().manual_seed(1))
    assert not torch.isclose(start_of_training, early)


def test_consistency_function_is_the_identity_at_eps():
    module = randomize(build("consistency"))
    x = torch.randn(6, N_PARAMS)
    t = torch.full((6, 1), module.eps)
    with torch.no_grad():
        torch.testing.assert_close(module.consistency_function(x, t, torch.randn(6, 2)), x)


def test_consistency_curriculum_doubles_from_s0_to_s1():
    from sklearn_sbi.networks.inference.consistency import discretization_intervals

    schedule = [discretization_intervals(k, 300, s0=10, s1=40) for k in range(300)]
    assert schedule[0] == 10
    assert schedule[-1] == 40
    assert sorted(set(schedule)) == [10, 20, 40]
    assert schedule == sorted(schedule)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (CouplingFlow("glow"), "transform"),
        (CouplingFlow(permutation="sorted"), "permutation"),
        (CouplingFlow(depth=0), "depth"),
        (ConsistencyModel(s0=20, s1=10, total_steps=5), "s1"),
        (ConsistencyModel(max_time=-1.0, total_steps=5), "max_time"),
        (FlowMatching(whitening_widths=(0,)), "whitening_widths"),
        (ConsistencyModel(whitening_widths=[16, 2.5], total_steps=5), "whitening_widths"),
        (FlowMatching(whitening_depth=0), "whitening_depth"),
        (ConsistencyModel(whitening_depth=1.5, total_steps=5), "whitening_depth"),
        (FlowMatching(conditioning="adain"), "conditioning"),
        (ConsistencyModel(conditioning="sum", total_steps=5), "conditioning"),
    ],
)
def test_bad_hyperparameters_raise_clear_errors(spec, message):
    with pytest.raises(ValueError, match=message):
        spec.build(2, 2)


def test_consistency_sampling_steps_can_change_after_training():
    spec = ConsistencyModel(widths=(8,), total_steps=10, whitening_widths=None)
    torch.manual_seed(0)
    module = spec.build(2, 2)
    module.set_sampling_steps(3)
    torch.manual_seed(0)
    built = clone(spec).set_params(sampling_steps=3).build(2, 2)
    assert module.noise_size == built.noise_size == 6
    torch.testing.assert_close(module.sampling_times, built.sampling_times)
    context, noise = torch.randn(4, 2), torch.randn(4, 6)
    with torch.no_grad():
        torch.testing.assert_close(module.sample(context, noise), built.sample(context, noise))
