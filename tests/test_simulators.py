"""make_simulator / Simulator: argument wiring, reproducibility, parallel runs, bad input."""

import numpy as np
import pytest
from dask_cluster import dask_cluster

from sklearn_sbi.simulations import Simulations
from sklearn_sbi.simulators import BLOCK_SIZE, SimulationError, Simulator, make_simulator


def prior(rng):
    return {"mu": rng.normal(size=2), "sigma": rng.gamma(5, 0.1)}


def likelihood_a(mu, sigma, rng, n_exchangeable=5):
    return {"observables_a": rng.normal(mu, sigma, size=(n_exchangeable, 2))}


def likelihood_b(mu, sigma, rng, n_time_series=20, **kwargs):
    draws = rng.normal(mu, sigma, size=(n_time_series, 2))
    return {
        "observables_b": np.cumsum(draws, axis=0),
        "time_b": np.linspace(0.0, 1.0, n_time_series)[:, None],
    }


def batched_prior(rng, batch_size):
    return {"theta": rng.uniform(-1, 1, size=(batch_size, 2))}


def batched_likelihood(theta, rng, batch_size, noise=0.1):
    return {"x": theta + noise * rng.normal(size=(batch_size, 2))}


def stream(seed, index):
    """The documented child stream of simulation (or block) ``index``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


@pytest.fixture
def multimodal():
    return make_simulator([prior, likelihood_a, likelihood_b])


def test_outputs_wired_by_name_with_batch_first_shapes(multimodal):
    sims = multimodal.sample(3, random_state=0)
    assert isinstance(sims, Simulations)
    shapes = {name: array.shape for name, array in sims.items()}
    assert shapes == {
        "mu": (3, 2),
        "sigma": (3, 1),
        "observables_a": (3, 5, 2),
        "observables_b": (3, 20, 2),
        "time_b": (3, 20, 1),
    }


def test_each_simulation_draws_from_its_own_documented_stream(multimodal):
    sims = multimodal.sample(4, random_state=7)
    for i in range(4):
        rng = stream(7, i)
        mu, sigma = rng.normal(size=2), rng.gamma(5, 0.1)
        np.testing.assert_array_equal(sims["mu"][i], mu)
        assert sims["sigma"][i, 0] == sigma
        np.testing.assert_array_equal(sims["observables_a"][i], rng.normal(mu, sigma, (5, 2)))


def test_defaults_and_call_keywords_override_function_defaults():
    simulator = make_simulator([prior, likelihood_a, likelihood_b], n_exchangeable=7)
    assert simulator.sample(2, random_state=0)["observables_a"].shape == (2, 7, 2)
    sims = simulator.sample(2, random_state=0, n_exchangeable=3, n_time_series=4)
    assert sims["observables_a"].shape == (2, 3, 2)
    assert sims["observables_b"].shape == (2, 4, 2)


def test_prior_draws_have_the_right_distribution():
    simulator = make_simulator([lambda rng: {"theta": rng.uniform(-1, 1)}])
    theta = simulator.sample(20_000, random_state=1)["theta"].ravel()
    assert abs(theta.mean()) < 0.02
    assert abs(theta.var() - 1 / 3) < 0.01
    assert abs(np.corrcoef(theta[:-1], theta[1:])[0, 1]) < 0.03


def test_same_seed_same_results_other_seed_other_results(multimodal):
    a, b = multimodal.sample(5, random_state=3), multimodal.sample(5, random_state=3)
    c = multimodal.sample(5, random_state=4)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a["mu"], c["mu"])


def test_generator_and_seed_sequence_seeds():
    simulator = make_simulator([lambda rng: {"u": rng.uniform()}])
    a = simulator.sample(3, random_state=np.random.default_rng(5))["u"]
    b = simulator.sample(3, random_state=np.random.default_rng(5))["u"]
    np.testing.assert_array_equal(a, b)
    by_int = simulator.sample(3, random_state=11)["u"]
    by_sequence = simulator.sample(3, random_state=np.random.SeedSequence(11))["u"]
    np.testing.assert_array_equal(by_int, by_sequence)
    with pytest.raises(TypeError, match="random_state"):
        simulator.sample(3, random_state="seed")


def test_loky_workers_give_bit_identical_results(multimodal):
    serial = multimodal.sample(60, random_state=5, n_jobs=1)
    parallel = multimodal.sample(60, random_state=5, n_jobs=2)
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])


def test_batched_blocks_are_reproducible_across_workers():
    simulator = make_simulator([batched_prior, batched_likelihood], batched=True)
    n = 2 * BLOCK_SIZE + 17
    serial = simulator.sample(n, random_state=2)
    parallel = simulator.sample(n, random_state=2, n_jobs=2)
    assert serial["theta"].shape == (n, 2)
    for name in serial:
        np.testing.assert_array_equal(serial[name], parallel[name])
    second_block = stream(2, 1).uniform(-1, 1, size=(BLOCK_SIZE, 2))
    np.testing.assert_array_equal(serial["theta"][BLOCK_SIZE : 2 * BLOCK_SIZE], second_block)


def test_batched_outputs_need_the_batch_axis():
    def constant(batch_size):
        return {"c": np.zeros(3)}

    with pytest.raises(ValueError, match=r"'c'.*batch_size=5"):
        make_simulator([constant], batched=True).sample(5)


def test_dask_cluster_gives_the_serial_arrays(multimodal):
    serial = multimodal.sample(40, random_state=9)
    with dask_cluster(processes=False):
        on_cluster = multimodal.sample(40, random_state=9)
    for name in serial:
        np.testing.assert_array_equal(serial[name], on_cluster[name])


def test_walkthrough_functions_using_global_numpy_random_work():
    # Verbatim from the two moons walkthrough: legal, but random_state cannot fix np.random.
    def theta_prior():
        return dict(theta=np.random.uniform(-1, 1, 2))  # noqa: NPY002

    def forward_model(theta):
        alpha = np.random.uniform(-np.pi / 2, np.pi / 2)  # noqa: NPY002
        r = np.random.normal(0.1, 0.01)  # noqa: NPY002
        x1 = -np.abs(theta[0] + theta[1]) / np.sqrt(2) + r * np.cos(alpha) + 0.25
        x2 = (-theta[0] + theta[1]) / np.sqrt(2) + r * np.sin(alpha)
        return dict(x=np.array([x1, x2]))

    sims = make_simulator([theta_prior, forward_model]).sample(3)
    assert {name: array.shape for name, array in sims.items()} == {"theta": (3, 2), "x": (3, 2)}


def test_scalar_outputs_become_one_column():
    sims = make_simulator([lambda rng: {"a": rng.normal(), "k": 3}]).sample(4, random_state=0)
    assert sims["a"].shape == (4, 1)
    assert sims["k"].dtype.kind == "i"


def test_dict_of_functions_names_them_in_errors():
    def needs_sigma(sigma):
        return {"x": sigma}

    simulator = make_simulator({"my_prior": lambda rng: {"mu": 0.0}, "my_model": needs_sigma})
    with pytest.raises(TypeError, match=r"'my_model' asks for argument 'sigma'.*Known names"):
        simulator.sample(2)


def test_unknown_argument_is_never_skipped():
    def model(mu, missing):
        return {"x": mu}

    simulator = make_simulator([lambda: {"mu": 1.0}, model])
    with pytest.raises(TypeError, match=r"'model' asks for argument 'missing'"):
        simulator.sample(2, on_error="skip")


def test_unused_defaults_and_keywords_are_rejected():
    with pytest.raises(TypeError, match=r"\['n_obs'\] is not an argument"):
        make_simulator([prior], n_obs=3)
    with pytest.raises(TypeError, match=r"\['typo'\] is not an argument"):
        make_simulator([prior]).sample(2, typo=1)
    with pytest.raises(ValueError, match="rng"):
        make_simulator([prior], rng=1)


def test_bad_functions_are_rejected():
    def positional_only(mu, /):
        return {}

    with pytest.raises(TypeError, match="positional-only"):
        make_simulator([positional_only])
    with pytest.raises(TypeError, match="not callable"):
        make_simulator([prior, 3])
    with pytest.raises(ValueError, match="at least one"):
        make_simulator([])
    with pytest.raises(TypeError, match="must return a dict"):
        make_simulator([lambda: 3.0]).sample(2)


def test_inconsistent_shapes_name_the_field():
    def ragged(rng):
        return {"theta": 0.0, "x": np.zeros(rng.integers(1, 4))}

    with pytest.raises(ValueError, match=r"Field 'x' has inconsistent shapes"):
        make_simulator([ragged]).sample(50, random_state=0)


def flaky(rng):
    u = rng.uniform()
    if u < 0.2:
        raise ArithmeticError(f"bad draw {u:.3f}")
    return {"u": u}


def failing_indices(seed, n):
    return [i for i in range(n) if stream(seed, i).uniform() < 0.2]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_errors_carry_the_index_of_the_first_failing_simulation(n_jobs):
    expected = failing_indices(4, 40)
    with pytest.raises(
        SimulationError, match=f"Simulation {expected[0]} failed in function 'flaky'"
    ):
        make_simulator([flaky]).sample(40, random_state=4, n_jobs=n_jobs)
    try:
        make_simulator([flaky]).sample(40, random_state=4)
    except SimulationError as error:
        assert error.index == expected[0]
        assert isinstance(error.__cause__, ArithmeticError)


def test_skip_keeps_the_good_simulations_and_warns_with_the_count():
    failed = failing_indices(4, 40)
    with pytest.warns(RuntimeWarning, match=f"{len(failed)} of 40 simulations failed"):
        sims = make_simulator([flaky]).sample(40, random_state=4, on_error="skip", n_jobs=2)
    kept = [i for i in range(40) if i not in failed]
    np.testing.assert_array_equal(sims["u"].ravel(), [stream(4, i).uniform() for i in kept])


def test_everything_failing_raises_even_when_skipping():
    def broken():
        raise RuntimeError("no")

    with pytest.raises(SimulationError, match="Simulation 0"):
        make_simulator([broken]).sample(3, on_error="skip")


def sometimes_nan(rng):
    u = rng.uniform()
    return {"x": np.nan if u < 0.3 else u, "y": np.inf if u > 0.9 else 1.0, "ok": u}


def test_non_finite_outputs_are_counted_per_field():
    draws = np.array([stream(1, i).uniform() for i in range(50)])
    n_nan, n_inf = int((draws < 0.3).sum()), int((draws > 0.9).sum())
    simulator = make_simulator([sometimes_nan])
    with pytest.raises(ValueError, match=rf"\{{'x': {n_nan}, 'y': {n_inf}\}}"):
        simulator.sample(50, random_state=1)
    with pytest.warns(RuntimeWarning, match="dropped"):
        dropped = simulator.sample(50, random_state=1, on_invalid="drop")
    np.testing.assert_array_equal(dropped["ok"].ravel(), draws[(draws >= 0.3) & (draws <= 0.9)])
    assert len(simulator.sample(50, random_state=1, on_invalid="keep")) == 50


def test_bad_sample_arguments():
    simulator = make_simulator([prior])
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            simulator.sample(bad)
    with pytest.raises(ValueError, match="on_error"):
        simulator.sample(2, on_error="ignore")
    with pytest.raises(ValueError, match="on_invalid"):
        simulator.sample(2, on_invalid="skip")


def test_simulator_repr_and_direct_construction():
    simulator = Simulator([prior, likelihood_a], defaults={"n_exchangeable": 2})
    assert "prior, likelihood_a" in repr(simulator)
    assert simulator.sample(2, random_state=0)["observables_a"].shape == (2, 2, 2)


@pytest.mark.slow
def test_dask_process_cluster_gives_the_serial_arrays(multimodal):
    serial = multimodal.sample(40, random_state=9)
    with dask_cluster(processes=True):
        on_cluster = multimodal.sample(40, random_state=9)
    for name in serial:
        np.testing.assert_array_equal(serial[name], on_cluster[name])
