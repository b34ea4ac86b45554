"""scikit-learn's estimator checks on AmortizedPosterior (tiny network, 2 epochs)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.networks import FlowMatching


def _tiny_posterior() -> AmortizedPosterior:
    return AmortizedPosterior(
        FlowMatching(widths=(8, 8), steps=2, log_prob_steps=2),
        max_epochs=2,
        batch_size=32,
        random_state=0,
    )


EXPECTED_FAILURES: dict[str, str] = {}


@parametrize_with_checks([_tiny_posterior()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)
