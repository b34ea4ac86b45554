"""``PosteriorPipeline``: pre-processing steps followed by a posterior estimator."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.pipeline import Pipeline, make_pipeline

from sklearn_sbi.persistence import load_estimator, save_estimator


class PosteriorPipeline(Pipeline):
    """A :class:`sklearn.pipeline.Pipeline` whose last step is a posterior estimator.

    Besides ``fit``, ``predict`` and ``score`` it forwards the posterior
    methods ``sample``, ``log_prob`` and ``embed`` to the final step after
    transforming X through the earlier steps, and ``fit_online``, which fits
    the earlier steps on a first simulated batch.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline
    >>> rng = np.random.default_rng(0)
    >>> theta = rng.normal(size=(300, 1))
    >>> x = 100 * theta + rng.normal(size=(300, 1))
    >>> pipe = make_posterior_pipeline(
    ...     StandardScaler(),
    ...     AmortizedPosterior(max_epochs=2, random_state=0).set_params(
    ...         inference_net__widths=(16, 16)),
    ... ).fit(x, theta)
    >>> pipe.sample(x[:3], n_samples=10, random_state=0).shape
    (3, 10, 1)
    """

    def fit_online(
        self,
        simulator: Any,
        parameters: str | Sequence[str],
        *,
        epochs: int | None = None,
        batches_per_epoch: int = 100,
        batch_size: int | None = None,
        validation_size: int = 256,
    ) -> PosteriorPipeline:
        """Online training: fit the X-side steps on a first simulated batch, then the posterior.

        The first batch (the posterior's validation batch) fits the
        transformers; every later batch is transformed by them before it
        reaches the final step, as in :meth:`AmortizedPosterior.fit_online`
        (same parameters).

        Returns
        -------
        self : PosteriorPipeline
        """
        steps_fitted = False

        def prepare(sims: Any) -> tuple[Any, Any]:
            nonlocal steps_fitted
            X, y = sims.xy(parameters)
            if steps_fitted:
                return self._transform_inputs(X), y
            for _, _, transformer in self._iter(with_final=False):
                X = transformer.fit_transform(X, y)
            steps_fitted = True
            return X, y

        final = self.steps[-1][1]
        final._fit_stream(
            simulator,
            prepare,
            epochs=final.max_epochs if epochs is None else epochs,
            batches_per_epoch=batches_per_epoch,
            batch_size=final.batch_size if batch_size is None else batch_size,
            validation_size=validation_size,
        )
        return self

    def _transform_inputs(self, X: Any) -> Any:
        for _, _, transformer in self._iter(with_final=False):
            X = transformer.transform(X)
        return X

    def sample(self, X: Any, n_samples: int = 1000, **kwargs: Any) -> np.ndarray:
        """Transform X through the steps and draw from the final posterior."""
        return self.steps[-1][1].sample(self._transform_inputs(X), n_samples, **kwargs)

    def log_prob(self, X: Any, y: Any) -> np.ndarray:
        """Transform X through the steps and return the final posterior's log density."""
        return self.steps[-1][1].log_prob(self._transform_inputs(X), y)

    def embed(self, X: Any) -> np.ndarray:
        """Transform X through the steps and return the summary-network outputs."""
        return self.steps[-1][1].embed(self._transform_inputs(X))

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted pipeline (every step) to ``path`` without pickle.

        See :func:`sklearn_sbi.persistence.save_estimator`; steps must come
        from ``sklearn`` or ``sklearn_sbi``.
        """
        save_estimator(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> PosteriorPipeline:
        """Load a pipeline saved with :meth:`save` (on the CPU)."""
        return load_estimator(path, expected_class=cls)


def make_posterior_pipeline(
    *steps: Any, memory: Any = None, verbose: bool = False
) -> PosteriorPipeline:
    """Build a :class:`PosteriorPipeline` from steps, naming them automatically.

    Parameters
    ----------
    *steps : estimators
        Transformers, then a posterior estimator.
    memory, verbose
        As in :func:`sklearn.pipeline.make_pipeline`.

    Returns
    -------
    PosteriorPipeline

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_sbi import AmortizedPosterior, make_posterior_pipeline
    >>> make_posterior_pipeline(StandardScaler(), AmortizedPosterior()).steps[0][0]
    'standardscaler'
    """
    pipeline = make_pipeline(*steps, memory=memory, verbose=verbose)
    return PosteriorPipeline(pipeline.steps, memory=memory, verbose=verbose)
