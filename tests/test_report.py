"""diagnostics_report on exact and deliberately distorted conjugate Gaussian posteriors."""

import numpy as np
import pytest
from conjugate_gaussian import PARAM_NAMES, SHRINKAGE, ConjugatePosterior, fitted, simulate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sklearn_sbi.metrics import diagnostics_report

COLUMNS = [
    "calibration_error",
    "coverage_50",
    "coverage_90",
    "normalized_rmse",
    "posterior_contraction",
    "z_score_mean",
    "z_score_std",
    "sbc_rank_mean",
    "sbc_pvalue",
    "verdict",
]


@pytest.fixture(scope="module")
def data():
    return simulate(500, seed=4)


def report_for(data, scale=1.0, shift=0.0):
    x, y = data
    return diagnostics_report(fitted(scale, shift), x, y, n_samples=200, random_state=0)


def test_exact_posterior_is_well_calibrated(data):
    report = report_for(data)
    assert list(report.columns) == COLUMNS
    assert list(report.index) == PARAM_NAMES and report.index.name == "parameter"
    assert (report["verdict"] == "well calibrated").all()
    assert (report["sbc_pvalue"] >= 0.01).all()
    assert (report["calibration_error"] < 0.03).all()
    np.testing.assert_allclose(report["coverage_90"], 0.9, atol=0.04)
    np.testing.assert_allclose(report["coverage_50"], 0.5, atol=0.06)
    np.testing.assert_allclose(report["posterior_contraction"], SHRINKAGE, atol=0.04)
    np.testing.assert_allclose(report["z_score_mean"], 0.0, atol=0.15)
    np.testing.assert_allclose(report["z_score_std"], 1.0, atol=0.1)
    np.testing.assert_allclose(report["sbc_rank_mean"], 0.5, atol=0.04)


@pytest.mark.parametrize(
    ("scale", "shift", "verdict"),
    [(1 / 3, 0.0, "under-dispersed"), (3.0, 0.0, "over-dispersed"), (1.0, 1.0, "biased")],
)
def test_distorted_posteriors_get_the_right_verdict(data, scale, shift, verdict):
    report = report_for(data, scale, shift)
    assert (report["verdict"] == verdict).all()
    assert (report["sbc_pvalue"] < 0.01).all()
    assert (report["calibration_error"] > 0.08).all()


def test_bias_direction_is_reported(data):
    report = report_for(data, shift=1.0)
    assert (report["z_score_mean"] > 0.8).all()  # the posterior overestimates
    assert (report["sbc_rank_mean"] < 0.35).all()  # so the truth ranks low


class SamplingPipeline(Pipeline):
    """The part of PosteriorPipeline the report relies on."""

    def sample(self, X, n_samples=1000, *, random_state=None):
        return self[-1].sample(self[:-1].transform(X), n_samples, random_state=random_state)


def test_report_reads_param_names_through_a_pipeline(data):
    x, y = data
    steps = [("identity", FunctionTransformer()), ("posterior", ConjugatePosterior())]
    pipeline = SamplingPipeline(steps).fit(x, y)
    report = diagnostics_report(pipeline, x, y.to_numpy(), n_samples=50)
    assert list(report.index) == PARAM_NAMES


def test_invalid_alpha(data):
    with pytest.raises(ValueError, match="alpha"):
        diagnostics_report(fitted(), *data, alpha=1.5)
