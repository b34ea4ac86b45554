"""Offline fits fit a whitening first, alone and with early stopping, then freeze it."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from conjugate_gaussian import simulate

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.networks import FlowMatching


@pytest.fixture(scope="module")
def data():
    return simulate(300, seed=4)


def _whitened(**kwargs) -> AmortizedPosterior:
    net = FlowMatching(widths=(16, 16), steps=4, whitening_widths=(32, 32), whitening_depth=2)
    params = dict(max_epochs=4, batch_size=32, random_state=0)
    return AmortizedPosterior(net, **{**params, **kwargs})


def _whitening_weights(est: AmortizedPosterior) -> dict[str, torch.Tensor]:
    module = est.network_.inference
    stages = {"gaussian": module.gaussian, "flow": module.flow}
    return {
        f"{stage}.{name}": value.detach().clone()
        for stage, part in stages.items()
        for name, value in part.state_dict().items()
    }


def _validation_rows(est: AmortizedPosterior, x: np.ndarray, y: np.ndarray):
    """The held-out rows of ``est``'s fit, as its fit split them."""
    n = len(y)
    n_val = round(est.validation_fraction * n)
    order = np.random.default_rng(est._seed()).permutation(n)
    return x[order[:n_val]], y[order[:n_val]]


def test_the_whitening_stops_early_at_its_best_held_out_epoch(data):
    x, theta = data
    est = _whitened(max_epochs=80, n_iter_no_change=3, learning_rate=3e-3).fit(x, theta)
    scores = est.pretraining_validation_scores_
    assert len(est.pretraining_loss_curve_) == len(scores) < 80  # it overfits 270 rows
    assert int(np.argmin(scores)) == len(scores) - 1 - 3
    # The kept stages are that epoch's: their held-out loss is the best score.
    x_val, theta_val = _validation_rows(est, x, np.asarray(theta))
    fields, targets, *_ = est._validated(x_val, theta_val)
    rows = est._tensors(fields, targets, est._fitted_state(), torch.device("cpu"))
    with torch.no_grad():
        held_out = est.network_.pretraining_loss(*rows)
    assert float(held_out) == pytest.approx(min(scores), rel=1e-5)
    # The flow matching stage then trained for all its epochs.
    assert est.n_iter_ == 80 and not est.network_.inference.needs_pretraining


def test_the_frozen_whitening_does_not_move_while_flow_matching_trains(data):
    x, theta = data
    est = _whitened().fit(x, theta)
    before = _whitening_weights(est)
    inner_before = [p.detach().clone() for p in est.network_.inference.inner.parameters()]
    est.set_params(warm_start=True).fit(x, theta)
    assert est.pretraining_loss_curve_ == []  # nothing left to fit first
    for name, value in _whitening_weights(est).items():
        torch.testing.assert_close(value, before[name], rtol=0, atol=0, msg=name)
    moved = [
        not torch.equal(p, q)
        for p, q in zip(est.network_.inference.inner.parameters(), inner_before, strict=True)
    ]
    assert all(moved)


def test_without_a_validation_split_all_stages_train_together(data):
    x, theta = data
    est = _whitened(validation_fraction=0.0).fit(x, theta)
    assert est.pretraining_loss_curve_ == [] and est.pretraining_validation_scores_ == []
    module = est.network_.inference
    assert module.needs_pretraining
    assert all(p.requires_grad for p in module.flow.parameters())


def test_a_loaded_whitening_stays_frozen(data, tmp_path):
    x, theta = data
    est = _whitened().fit(x, theta)
    est.save(tmp_path / "model")
    module = AmortizedPosterior.load(tmp_path / "model").network_.inference
    assert not module.needs_pretraining
    stages = [*module.gaussian.parameters(), *module.flow.parameters()]
    assert not any(p.requires_grad for p in stages)
    assert all(p.requires_grad for p in module.inner.parameters())


def test_an_interrupted_pretraining_keeps_its_best_weights(data, monkeypatch):
    x, theta = data
    from sklearn_sbi.networks.inference._whitening import WhitenedModule

    original = WhitenedModule.pretraining_loss
    calls = {"n": 0}

    def interrupting(self, *args):
        calls["n"] += 1
        if calls["n"] > 20:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(WhitenedModule, "pretraining_loss", interrupting)
    with pytest.warns(UserWarning, match="interrupted"):
        est = _whitened(max_epochs=10).fit(x, theta)
    assert est.stop_reason_ == "interrupted" and est.n_iter_ == 0
    assert len(est.pretraining_loss_curve_) >= 1
    assert np.isfinite(est.sample(x[:2], 5, random_state=0)).all()


def test_a_pickled_estimator_keeps_its_frozen_whitening(data):
    x, theta = data
    est = _whitened().fit(x, theta)
    copy = pickle.loads(pickle.dumps(est))
    module = copy.network_.inference
    assert not module.needs_pretraining
    assert not any(p.requires_grad for p in module.flow.parameters())
    np.testing.assert_array_equal(
        copy.sample(x[:2], 5, random_state=0), est.sample(x[:2], 5, random_state=0)
    )
