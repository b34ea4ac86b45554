"""GridSearchCV over AmortizedPosterior in parallel: same results, no oversubscription."""

import numpy as np
import pytest
import torch
from dask_cluster import dask_cluster
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.networks import FlowMatching


def _torch_threads(estimator, X, y):
    return float(torch.get_num_threads())


def _log_prob(estimator, X, y):
    return estimator.score(X, y)


def _search(n_jobs):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(300, 2))
    x = theta + 0.5 * rng.normal(size=theta.shape)
    search = GridSearchCV(
        AmortizedPosterior(FlowMatching(widths=(16,), steps=3), max_epochs=2, random_state=0),
        {"learning_rate": [1e-3, 3e-3]},
        scoring={"log_prob": _log_prob, "threads": _torch_threads},
        refit="log_prob",
        cv=KFold(2),
        n_jobs=n_jobs,
    )
    return search.fit(x, theta).cv_results_


@pytest.fixture(scope="module")
def serial_results():
    return _search(n_jobs=1)


def test_loky_workers_match_serial_with_one_torch_thread_each(serial_results):
    parallel = _search(n_jobs=2)
    # Equal up to float reduction order: workers run torch on 1 thread, the parent on more.
    np.testing.assert_allclose(
        parallel["mean_test_log_prob"], serial_results["mean_test_log_prob"], rtol=1e-6
    )
    assert (parallel["mean_test_threads"] == 1).all()


def test_dask_backend_matches_serial(serial_results):
    with dask_cluster(processes=True):
        results = _search(n_jobs=2)
    np.testing.assert_allclose(
        results["mean_test_log_prob"], serial_results["mean_test_log_prob"], rtol=1e-6
    )
    assert (results["mean_test_threads"] == 1).all()
