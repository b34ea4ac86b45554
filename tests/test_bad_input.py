"""Bad-input battery: every public entry point explains the mistake and keeps fitted state.

Each case must raise ValueError, TypeError, NotFittedError (or IndexError for
out-of-range indexing) whose message names the argument and says what to do.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import StandardScaler

from sklearn_sbi import AmortizedPosterior, Simulations, make_posterior_pipeline, make_simulator
from sklearn_sbi._posterior_network import PosteriorNetwork
from sklearn_sbi.metrics import (
    c2st,
    calibration_error,
    coverage,
    energy_score,
    normalized_rmse,
    posterior_contraction,
    posterior_z_score,
    sbc_ranks,
)
from sklearn_sbi.preprocessing import (
    Concatenate,
    Constrain,
    Drop,
    Keep,
    Log,
    NanToNum,
    OneHot,
    Rename,
    Sqrt,
    Standardize,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2))
Y = RNG.normal(size=(40, 2))
NAN_X = np.where(np.arange(40)[:, None] == 3, np.nan, X)
INF_Y = np.where(np.arange(40)[:, None] == 5, np.inf, Y)
STRINGS = np.full((40, 2), "a")
OBJECTS = np.array([[object(), 1.0]] * 40, dtype=object)
DUPLICATED = pd.DataFrame(X, columns=["a", "a"])
CONSTANT_Y = np.c_[Y[:, 0], np.full(40, 2.0)]


def _estimator(**params):
    est = AmortizedPosterior(max_epochs=1, batch_size=32, random_state=0, **params)
    return est.set_params(inference_net__widths=(8,))


@pytest.fixture(scope="module")
def fitted():
    return _estimator().fit(X, Y)


# ------------------------------------------------------------------- training
FIT_CASES = [
    ("nan_x", NAN_X, Y, ValueError, r"Input X contains NaN in 1 row\(s\).*Remove or impute"),
    ("inf_y", X, INF_Y, ValueError, r"Input y contains NaN in 0 row\(s\) and inf in 1 row"),
    ("string_x", STRINGS, Y, TypeError, r"X must be numeric.*dtype <U1"),
    ("string_y", X, STRINGS, TypeError, r"y must be numeric.*dtype <U1"),
    ("object_x", OBJECTS, Y, TypeError, r"X must be numeric.*dtype object"),
    ("x_1d", X[:, 0], Y, ValueError, r"(?s)Expected 2D array.*Reshape your data"),
    ("x_3d", X[:, :, None], Y, ValueError, r"dim 3.*Simulations|Found array with dim 3"),
    ("y_3d", X, Y[:, :, None], ValueError, r"y must be 1-D or 2-D|Found array with dim 3"),
    ("zero_rows", X[:0], Y[:0], ValueError, r"0 sample\(s\)"),
    ("one_row", X[:1], Y[:1], ValueError, r"at least 2 simulations; got 1 sample"),
    ("lengths", X, Y[:30], ValueError, r"X has 40 rows, y has 30.*one parameter row per"),
    ("dup_x_columns", DUPLICATED, Y, ValueError, r"X has duplicated column names \['a'\]; rename"),
    (
        "dup_y_columns",
        X,
        pd.DataFrame(Y, columns=["m", "m"]),
        ValueError,
        r"y has duplicated column names \['m'\]; rename",
    ),
    ("constant_y", X, CONSTANT_Y, ValueError, r"y has constant column\(s\) \['theta\[1\]'\].*Drop"),
    ("huge_x", X * 1e39, Y, ValueError, r"X has values .* beyond the float32 range.*rescale"),
    ("huge_y", X, Y * 1e200, ValueError, r"y has values .* beyond the float32 range.*rescale"),
    ("empty_sims", Simulations(), Y, ValueError, r"X is an empty Simulations"),
    ("dict_x", {"x": X}, Y, TypeError, r"Simulations\(\*\*d\)"),
    ("y_none", X, None, ValueError, r"target y is None: pass the simulated parameters"),
]


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "error", "match"),
    [case[1:] for case in FIT_CASES],
    ids=[case[0] for case in FIT_CASES],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_training_input(method, X_bad, y_bad, error, match):
    with pytest.raises(error, match=match):
        getattr(_estimator(), method)(X_bad, y_bad)


def test_huge_but_representable_values_train_fine():
    est = _estimator().fit(X * 1e30, Y * 1e30)
    draws = est.sample(X[:2] * 1e30, 5, random_state=0)
    assert np.isfinite(draws).all() and np.abs(draws).max() > 1e28


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"max_epochs": 0}, ValueError, r"max_epochs must be an integer >= 1"),
        ({"batch_size": -1}, ValueError, r"batch_size must be an integer >= 1"),
        ({"learning_rate": 0.0}, ValueError, r"learning_rate must be > 0"),
        ({"validation_fraction": 1.0}, ValueError, r"validation_fraction must be in \[0, 1\)"),
        ({"score_method": "r2"}, ValueError, r"score_method must be 'auto'"),
        ({"inference_net": "nope"}, ValueError, r"Unknown inference_net 'nope'; choose one of"),
        ({"standardize": ["nope"]}, ValueError, r"standardize names unknown fields \['nope'\]"),
    ],
)
def test_bad_hyperparameters(params, error, match):
    est = _estimator()
    with pytest.raises(error, match=match):
        est.set_params(**params).fit(X, Y)


@pytest.mark.parametrize(
    ("warm_start", "X_bad", "y_bad", "match"),
    [
        (False, NAN_X, Y, r"Input X contains NaN"),
        (True, NAN_X, Y, r"Input X contains NaN"),
        (False, X, CONSTANT_Y, r"constant column"),
        (False, X, Y * 1e200, r"beyond the float32 range"),
        (True, X, Y[:, :1], r"fitted with 2 parameters"),
        (True, X[:, :1], Y, r"expecting 2 features"),
    ],
    ids=["nan", "nan-warm", "constant", "huge", "n_params-warm", "n_features-warm"],
)
def test_failed_fit_keeps_previous_state(warm_start, X_bad, y_bad, match):
    est = _estimator(warm_start=warm_start).fit(X, Y)
    before = est.sample(X[:2], 10, random_state=0)
    curve = list(est.loss_curve_)
    with pytest.raises(ValueError, match=match):
        est.fit(X_bad, y_bad)
    np.testing.assert_array_equal(est.sample(X[:2], 10, random_state=0), before)
    assert est.loss_curve_ == curve


def test_failure_inside_training_keeps_previous_state(monkeypatch):
    est = _estimator().fit(X, Y)
    before = est.sample(X[:2], 10, random_state=0)
    calls = {"n": 0}
    original = PosteriorNetwork.loss

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("simulated crash")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PosteriorNetwork, "loss", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        est.fit(X * 2, Y)
    np.testing.assert_array_equal(est.sample(X[:2], 10, random_state=0), before)


# ------------------------------------------------------------------ inference
INFERENCE_CASES = [
    ("sample", (NAN_X,), {}, ValueError, r"Input X contains NaN in 1 row"),
    ("sample", (X[:0],), {}, ValueError, r"0 sample\(s\)"),
    ("sample", (X[:, :1],), {}, ValueError, r"X has 1 features, but AmortizedPosterior is expect"),
    ("sample", (X[0],), {}, ValueError, r"(?s)Expected 2D array.*Reshape your data"),
    ("sample", (STRINGS,), {}, TypeError, r"X must be numeric"),
    ("sample", (DUPLICATED,), {}, ValueError, r"X has duplicated column names"),
    ("sample", (Simulations(q=X),), {}, ValueError, r"missing \['X'\], unknown \['q'\]"),
    ("sample", (X, 0), {}, ValueError, r"n_samples must be >= 1, got 0; ask for at least one"),
    ("sample", (X, -3), {}, ValueError, r"n_samples must be >= 1"),
    ("sample", (X, 2.5), {}, TypeError, r"n_samples must be an integer"),
    ("sample", (X, 5), {"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
    ("sample", (X, 5), {"batch_size": -1}, ValueError, r"batch_size must be >= 1"),
    ("log_prob", (X, Y[:3]), {}, ValueError, r"X has 40 rows, y has 3"),
    ("log_prob", (X, INF_Y), {}, ValueError, r"Input y contains .*inf in 1 row"),
    ("log_prob", (X, STRINGS), {}, TypeError, r"y must be numeric"),
    ("log_prob", (X, Y[:, :1]), {}, ValueError, r"fitted with 2 parameters"),
    ("predict", (NAN_X,), {}, ValueError, r"Input X contains NaN"),
    ("predict", (X,), {"n_samples": 0}, ValueError, r"n_samples must be >= 1"),
    ("score", (X, Y[:3]), {}, ValueError, r"X has 40 rows, y has 3"),
    ("score", (X, Y), {"sample_weight": np.ones(40)}, ValueError, r"does not support sample_w"),
    ("embed", (X,), {}, ValueError, r"embed needs a summary_net"),
    ("embed", (NAN_X,), {}, ValueError, r"Input X contains NaN"),
]


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "error", "match"),
    INFERENCE_CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(INFERENCE_CASES)],
)
def test_bad_inference_input(fitted, method, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        getattr(fitted, method)(*args, **kwargs)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("sample", (X, 5)),
        ("log_prob", (X, Y)),
        ("predict", (X,)),
        ("score", (X, Y)),
        ("embed", (X,)),
    ],
)
def test_methods_before_fit(method, args):
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
        getattr(_estimator(), method)(*args)
    pipe = make_posterior_pipeline(StandardScaler(), _estimator())
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(pipe, method)(*args)


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "error", "match"),
    [
        (NAN_X, Y, ValueError, r"Input X contains NaN"),
        (X, Y[:30], ValueError, r"inconsistent numbers of samples"),
        (X, CONSTANT_Y, ValueError, r"constant column"),
        (STRINGS, Y, ValueError, r"could not convert string to float"),
    ],
)
def test_bad_pipeline_input(X_bad, y_bad, error, match):
    with pytest.raises(error, match=match):
        make_posterior_pipeline(StandardScaler(), _estimator()).fit(X_bad, y_bad)


# ---------------------------------------------------------------- simulations
SIMS = Simulations(a=np.zeros((3, 2)), b=np.ones(3), s=np.zeros((3, 4, 2)))
SIMULATIONS_CASES = [
    (lambda: Simulations(a=np.zeros(3), b=np.zeros(4)), ValueError, r"same number of simul"),
    (lambda: Simulations(a=1.0), ValueError, r"'a' is a scalar; every field needs a leading"),
    (lambda: Simulations({1: np.zeros(3)}), TypeError, r"Field names must be strings"),
    (lambda: Simulations({"a": 1}, a=np.zeros(2)), ValueError, r"Fields given twice: \['a'\]"),
    (lambda: SIMS["nope"], KeyError, r"unknown fields \['nope'\]; known fields are"),
    (lambda: SIMS[np.array([7])], IndexError, r"out of bounds"),
    (lambda: SIMS.xy("nope"), ValueError, r"xy\(parameters=...\): unknown fields \['nope'\]"),
    (lambda: SIMS.xy([]), ValueError, r"needs at least one parameter field"),
    (lambda: SIMS.xy("a", data="a"), ValueError, r"both as parameters and as data"),
    (lambda: SIMS.xy("s"), ValueError, r"Parameters must be flat fields"),
    (lambda: Simulations.from_pandas(np.zeros((2, 2))), TypeError, r"expects a pandas DataFrame"),
    (
        lambda: Simulations.from_pandas(pd.DataFrame(np.zeros((2, 2)))),
        TypeError,
        r"Column names must be strings",
    ),
    (
        lambda: Simulations.from_pandas(pd.DataFrame(np.zeros((2, 2)), columns=["a", "a"])),
        ValueError,
        r"duplicated column names \['a'\]; rename them",
    ),
    (
        lambda: Simulations.from_pandas(pd.DataFrame(index=range(2))),
        ValueError,
        r"without columns",
    ),
    (lambda: Simulations.concat([]), ValueError, r"concat needs at least one Simulations"),
]


@pytest.mark.parametrize(("call", "error", "match"), SIMULATIONS_CASES)
def test_bad_simulations_use(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _draw(rng):
    return {"a": rng.normal()}


SIMULATOR_CASES = [
    (lambda: make_simulator([]), ValueError, r"needs at least one function"),
    (lambda: make_simulator([1]), TypeError, r"step '1' is not callable"),
    (
        lambda: make_simulator([lambda nope: {"a": 1}]).sample(2),
        TypeError,
        r"asks for argument 'nope'",
    ),
    (lambda: make_simulator([_draw]).sample(0), ValueError, r"n must be a positive integer"),
    (lambda: make_simulator([_draw]).sample(-1), ValueError, r"n must be a positive integer"),
    (lambda: make_simulator([_draw]).sample(2.5), ValueError, r"n must be a positive integer"),
    (lambda: make_simulator([_draw]).sample(4, n_jobs=0), ValueError, r"n_jobs.*-1 for all"),
    (lambda: make_simulator([_draw]).sample(4, n_jobs=1.5), TypeError, r"n_jobs must be an int"),
    (lambda: make_simulator([_draw]).sample(4, n_jobs="2"), TypeError, r"n_jobs must be an int"),
    (
        lambda: make_simulator([lambda rng: {"a": np.nan}]).sample(4),
        ValueError,
        r"non-finite outputs.*on_invalid='drop'",
    ),
    (
        lambda: make_simulator([_draw]).sample(4, on_invalid="nope"),
        ValueError,
        r"on_invalid must be 'raise', 'drop' or 'keep'",
    ),
]


@pytest.mark.parametrize(("call", "error", "match"), SIMULATOR_CASES)
def test_bad_simulator_use(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -------------------------------------------------------------- preprocessing
FIELDS = Simulations(a=np.abs(X) + 0.1, s=np.zeros((40, 3, 2)))
PREPROCESSING_CASES = [
    (lambda: Standardize().transform(X), NotFittedError, r"Standardize instance is not fitted"),
    (lambda: Standardize().fit(X[:0]), ValueError, r"0 sample\(s\)"),
    (lambda: Standardize().fit(X[:, 0]), ValueError, r"Reshape your data"),
    (lambda: Standardize().fit(STRINGS), ValueError, r"could not convert string to float"),
    (lambda: Standardize().fit(X).transform(X[:, :1]), ValueError, r"expecting 2 features"),
    (lambda: Standardize(include=["nope"]).fit(FIELDS), KeyError, r"unknown fields \['nope'\]"),
    (lambda: Constrain(lower=0, upper=1).fit(X), ValueError, r"strictly inside \(lower, upper\)"),
    (lambda: Constrain(lower=1, upper=0).fit(X), ValueError, r"lower must be below upper"),
    (lambda: Constrain(lower=[0, 1, 2]).fit(X), ValueError, r"lower must be a number, None, or"),
    (lambda: Constrain(lower=-9, upper=9).fit(NAN_X), ValueError, r"Input X contains NaN"),
    (lambda: Log().fit(X), ValueError, r"Log needs strictly positive values"),
    (lambda: Sqrt().fit(X), ValueError, r"Sqrt needs non-negative values"),
    (lambda: Log().transform(np.abs(X)), NotFittedError, r"not fitted"),
    (lambda: Log(fields="a").fit(X), ValueError, r"it must be None for arrays"),
    (lambda: Keep(["nope"]).fit(FIELDS), KeyError, r"Keep: unknown fields \['nope'\]"),
    (lambda: Drop(["nope"]).fit(FIELDS), KeyError, r"Drop: unknown fields \['nope'\]"),
    (lambda: Rename({"nope": "b"}).fit(FIELDS), KeyError, r"Rename: unknown fields"),
    (lambda: Concatenate(["a", "nope"], into="c").fit(FIELDS), KeyError, r"unknown fields"),
    (lambda: Keep(["a"]).fit(X), TypeError, r"Expected Simulations or a pandas DataFrame"),
    (lambda: OneHot().fit(NAN_X), ValueError, r"Input X contains NaN"),
    (lambda: NanToNum().transform(FIELDS), NotFittedError, r"not fitted"),
]


@pytest.mark.parametrize(("call", "error", "match"), PREPROCESSING_CASES)
def test_bad_preprocessing_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -------------------------------------------------------------------- metrics
SAMPLES = RNG.normal(size=(5, 20, 2))
TRUTH = RNG.normal(size=(5, 2))
METRICS = [
    calibration_error,
    coverage,
    sbc_ranks,
    energy_score,
    normalized_rmse,
    posterior_contraction,
    posterior_z_score,
]
METRIC_CASES = [
    (np.where(SAMPLES > 2, np.nan, SAMPLES), TRUTH, ValueError, r"`samples` contains NaN"),
    (SAMPLES, np.full((5, 2), np.inf), ValueError, r"`y` contains NaN or infinite"),
    (SAMPLES[0], TRUTH, ValueError, r"`samples` must have shape \(n_obs, n_samples, n_params\)"),
    (SAMPLES, TRUTH[:4], ValueError, r"`y` must have shape \(n_obs, n_params\) = \(5, 2\)"),
    (SAMPLES[:0], TRUTH[:0], ValueError, r"`samples` is empty"),
    (SAMPLES.astype(str), TRUTH, TypeError, r"`samples` must be numeric"),
]


@pytest.mark.parametrize("metric", METRICS, ids=[m.__name__ for m in METRICS])
@pytest.mark.parametrize(("samples", "y", "error", "match"), METRIC_CASES)
def test_bad_metric_input(metric, samples, y, error, match):
    with pytest.raises(error, match=match):
        metric(samples, y)


C2ST_CASES = [
    ((X, Y[:, :1]), {}, ValueError, r"same shape.*subsample the larger set"),
    ((NAN_X, Y), {}, ValueError, r"samples contains NaN or infinite values"),
    ((X[:1], Y[:1]), {}, ValueError, r"at least n_folds=5 samples a side, got 1"),
    ((X[:0], Y[:0]), {}, ValueError, r"at least n_folds=5 samples a side, got 0"),
    ((STRINGS, Y), {}, TypeError, r"samples must be a numeric array"),
    ((SAMPLES, SAMPLES), {}, ValueError, r"pass one observation at a time, e.g. samples\[0\]"),
    ((X, Y), {"n_folds": 1}, ValueError, r"n_folds"),
    ((X, Y), {"n_jobs": 0}, ValueError, r"n_jobs.*-1 for all"),
]


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), C2ST_CASES)
def test_bad_c2st_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        c2st(*args, **kwargs)
