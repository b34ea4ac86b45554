"""log_prob and moments of the test suite's 5-D Gaussian posterior (tests/test_posterior.py's fit).

Usage: ``OMP_NUM_THREADS=1 python lp_check.py VARIANT`` with VARIANT as in patches.py,
or ``depth0`` (``whitening_depth=0``); the recorded ``evalz`` and ``depth0`` runs also fitted
the 2-D posterior (``for dim in [5, 2]``) and ran with the then-default 8 bins. Prints the
correlation and median absolute error of log_prob against the exact log density, the
posterior-mean error and the sd ratio.
"""

import os
import sys

import numpy as np
import torch
from scipy.stats import pearsonr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests"))
from test_posterior import GaussianLinear

from sklearn_sbi import AmortizedPosterior
from sklearn_sbi.networks import FlowMatching

torch.set_num_threads(1)
variant = sys.argv[1]
os.environ["VARIANT"] = variant
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import patches  # noqa: E402, F401  (applies the VARIANT patches on import)

depth = 0 if variant == "depth0" else 2
for dim in [5]:
    model = GaussianLinear(dim)
    x, theta = model.simulate(10000, seed=1)
    est = AmortizedPosterior(
        FlowMatching(widths=(128, 128, 128), whitening_depth=depth),
        max_epochs=80,
        batch_size=128,
        learning_rate=1e-3,
        random_state=0,
    ).fit(x, theta)
    xs, ts = model.simulate(200, seed=7)
    e = est.log_prob(xs, ts)
    ex = model.log_posterior(xs, ts)
    x_obs, _ = model.simulate(20, seed=123)
    draws = est.sample(x_obs, 4000, random_state=0)
    sd = np.sqrt(np.diag(model.cov))
    me = np.abs(draws.mean(axis=1) - model.posterior_mean(x_obs)) / sd
    sr = draws.std(axis=1) / sd
    print(
        variant,
        dim,
        "corr",
        round(pearsonr(e, ex)[0], 4),
        "medabs",
        round(float(np.median(np.abs(e - ex))), 3),
        "mean_err",
        round(me.mean(), 3),
        round(me.max(), 3),
        "sd_ratio_maxdev",
        round(np.abs(sr - 1).max(), 3),
        flush=True,
    )
