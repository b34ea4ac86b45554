"""Checkpointing, resuming a killed training, interrupts and divergence keep the best model."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi._posterior_network import PosteriorNetwork
from sklearn_sbi._training import TrainingWarning
from sklearn_sbi.persistence import load_estimator

SETTINGS = {"batch_size": 64, "random_state": 0, "learning_rate": 1e-3}


def _data(n=1000):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=(n, 2))
    return theta + 0.3 * rng.normal(size=(n, 2)), theta


def _estimator(**params):
    network = {k: params.pop(k) for k in list(params) if k.startswith("inference_net__")}
    est = AmortizedPosterior("flow_matching", **{**SETTINGS, **params})
    return est.set_params(inference_net__widths=(32, 32), **network)


def _poison_loss(monkeypatch, after_calls, poison):
    """Make the network's loss return ``poison(loss)`` after ``after_calls`` calls."""
    original = PosteriorNetwork.loss
    calls = {"n": 0}

    def loss(self, *args, **kwargs):
        calls["n"] += 1
        value = original(self, *args, **kwargs)
        return poison(value) if calls["n"] > after_calls else value

    monkeypatch.setattr(PosteriorNetwork, "loss", loss)


def test_checkpoint_holds_the_best_model(tmp_path):
    x, theta = _data(300)
    path = tmp_path / "best.safetensors"
    est = _estimator(max_epochs=15, n_iter_no_change=3, checkpoint_path=path).fit(x, theta)
    assert path.exists()
    checkpoint = AmortizedPosterior.load(path)
    assert checkpoint.best_epoch_ == est.best_epoch_
    assert checkpoint.n_iter_ == est.best_epoch_ + 1
    assert checkpoint.validation_scores_ == est.validation_scores_[: est.best_epoch_ + 1]
    # Early stopping restores the best weights: the same ones the checkpoint holds.
    np.testing.assert_array_equal(
        checkpoint.sample(x[:3], 20, random_state=0), est.sample(x[:3], 20, random_state=0)
    )


_KILLED_TRAINING = """
import numpy as np
from sklearn_sbi import AmortizedPosterior
rng = np.random.default_rng(0)
theta = rng.normal(size=(1000, 2))
x = theta + 0.3 * rng.normal(size=(1000, 2))
AmortizedPosterior(
    "flow_matching", max_epochs=300, early_stopping=False, checkpoint_path={path!r},
    **{settings!r}
).set_params(inference_net__widths=(32, 32), inference_net__whitening_widths=None).fit(x, theta)
"""


def _train_until_killed(path, min_best_epoch, timeout=60.0):
    """Train in a subprocess and SIGKILL it once its checkpoint reaches ``min_best_epoch``."""
    script = textwrap.dedent(_KILLED_TRAINING).format(path=str(path), settings=SETTINGS)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if path.exists() and load_estimator(path).best_epoch_ >= min_best_epoch:
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    return process.returncode


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    path = tmp_path / "run.safetensors"
    assert _train_until_killed(path, min_best_epoch=30) == -signal.SIGKILL
    checkpoint = AmortizedPosterior.load(path)  # the kill never leaves a torn file
    assert 30 <= checkpoint.best_epoch_ < 299
    best = checkpoint.validation_scores_[checkpoint.best_epoch_]

    x, theta = _data()
    # Flow matching without whitening: its loss alone, not a pretrained whitening's, decides.
    plain = {"inference_net__whitening_widths": None}
    resumed = _estimator(max_epochs=1, checkpoint_path=path, warm_start=True, **plain)
    resumed.fit(x, theta)
    fresh = _estimator(max_epochs=1, **plain).fit(x, theta)
    # One more epoch from the checkpoint stays near its validation loss, far below a fresh start.
    assert abs(resumed.validation_scores_[0] - best) < 0.2
    assert fresh.validation_scores_[0] > best + 1.0
    assert resumed.param_names_ == checkpoint.param_names_
    assert AmortizedPosterior.load(path).best_epoch_ == 0  # the resumed run checkpoints anew


def test_warm_start_without_checkpoint_file_trains_from_scratch(tmp_path):
    x, theta = _data(200)
    path = tmp_path / "absent.safetensors"
    est = _estimator(max_epochs=2, checkpoint_path=path, warm_start=True).fit(x, theta)
    assert est.n_iter_ == 2
    assert path.exists()


def test_keyboard_interrupt_keeps_best_weights(tmp_path, monkeypatch):
    x, theta = _data(300)
    path = tmp_path / "interrupted.safetensors"
    est = _estimator(max_epochs=50, checkpoint_path=path)

    def interrupt(loss):
        raise KeyboardInterrupt

    _poison_loss(monkeypatch, after_calls=60, poison=interrupt)
    with pytest.warns(TrainingWarning, match=r"interrupted after \d+ epochs; the best weights"):
        est.fit(x, theta)
    assert est.stop_reason_ == "interrupted"
    assert 1 <= est.n_iter_ < 50
    checkpoint = AmortizedPosterior.load(path)
    assert checkpoint.best_epoch_ == est.best_epoch_
    np.testing.assert_array_equal(
        est.sample(x[:2], 10, random_state=0), checkpoint.sample(x[:2], 10, random_state=0)
    )


def test_non_finite_loss_restores_the_best_epoch(tmp_path, monkeypatch):
    x, theta = _data(300)
    path = tmp_path / "diverged.safetensors"
    est = _estimator(max_epochs=50, checkpoint_path=path)
    _poison_loss(monkeypatch, after_calls=60, poison=lambda loss: loss * float("inf"))
    with pytest.warns(TrainingWarning, match=r"stopped in epoch \d+: the loss became inf") as rec:
        est.fit(x, theta)
    message = str(next(w.message for w in rec if issubclass(w.category, TrainingWarning)))
    assert int(message.split("epoch ")[1].split(":")[0]) > 1
    assert "Likely cause: a learning rate too high" in message
    assert f"The best weights (epoch {est.best_epoch_ + 1}) are restored" in message
    assert est.stop_reason_ == "non_finite"
    checkpoint = AmortizedPosterior.load(path)
    np.testing.assert_array_equal(
        est.sample(x[:2], 10, random_state=0), checkpoint.sample(x[:2], 10, random_state=0)
    )


def test_huge_learning_rate_diverges_and_keeps_previous_weights():
    x, theta = _data(300)
    est = _estimator(max_epochs=3).fit(x, theta)
    before = est.sample(x[:2], 10, random_state=0)
    est.set_params(learning_rate=1e30, warm_start=True)
    with pytest.warns(TrainingWarning, match=r"epoch 1: .*learning_rate=1e\+30"):
        est.fit(x, theta)
    assert est.stop_reason_ == "non_finite"
    np.testing.assert_array_equal(est.sample(x[:2], 10, random_state=0), before)
