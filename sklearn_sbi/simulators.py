"""Simulators built from plain Python functions: :func:`make_simulator` and :class:`Simulator`.

A simulator is a chain of functions, each returning a dict of outputs. A
function receives, by argument name, the outputs of the functions before it,
the keyword defaults given to :func:`make_simulator` and the keywords given to
:meth:`Simulator.sample`. An argument named ``rng`` receives a
:class:`numpy.random.Generator`; only draws from that generator are
reproducible (functions may still use ``np.random`` or a generator of their
own, as in the BayesFlow walkthroughs, but then ``random_state`` cannot fix
their results).

Reproducibility does not depend on parallelism: every simulation (or, with
``batched=True``, every block of :data:`BLOCK_SIZE` simulations) draws from its
own child stream ``SeedSequence(entropy, spawn_key=(..., i))``, so chunking the
work over joblib workers cannot change a single number.
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from sklearn_sbi._validation import check_n_jobs
from sklearn_sbi.simulations import Simulations

BLOCK_SIZE = 1024
"""Simulations per random stream (and per call) when ``batched=True``."""

_CHUNKS_PER_WORKER = 4
_RNG = "rng"
_BATCH_SIZE = "batch_size"


class SimulationError(RuntimeError):
    """A simulator function raised; ``index`` is the first failing simulation.

    Examples
    --------
    >>> from sklearn_sbi import SimulationError, make_simulator
    >>> def prior(rng):
    ...     return {"theta": rng.normal()}
    >>> def likelihood(theta):
    ...     if theta > 2.0:
    ...         raise RuntimeError("unstable")
    ...     return {"x": 2 * theta}
    >>> try:
    ...     make_simulator([prior, likelihood]).sample(100, random_state=0)
    ... except SimulationError as error:
    ...     print(error.index, error)
    6 Simulation 6 failed in function 'likelihood': RuntimeError: unstable
    """

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


class _UnboundArgumentError(TypeError):
    """A function asks for a name that nothing provides (a setup error, never skipped)."""


@dataclass(frozen=True)
class _Step:
    """One simulator function and the argument names it reads."""

    name: str
    function: Callable[..., Mapping[str, Any]]
    arguments: tuple[str, ...]
    required: frozenset[str]
    takes_all: bool

    @classmethod
    def inspect(cls, name: str, function: Any) -> _Step:
        if not callable(function):
            raise TypeError(f"Simulator step {name!r} is not callable: {function!r}.")
        parameters = inspect.signature(function).parameters.values()
        positional_only = [p.name for p in parameters if p.kind is p.POSITIONAL_ONLY]
        if positional_only:
            raise TypeError(
                f"Function {name!r} has positional-only arguments {positional_only}; simulator "
                "functions receive their inputs by name."
            )
        named = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        return cls(
            name=name,
            function=function,
            arguments=tuple(p.name for p in named),
            required=frozenset(p.name for p in named if p.default is p.empty),
            takes_all=any(p.kind is p.VAR_KEYWORD for p in parameters),
        )

    def __call__(self, context: Mapping[str, Any]) -> Mapping[str, Any]:
        if self.takes_all:
            arguments = dict(context)
        else:
            arguments = {key: context[key] for key in self.arguments if key in context}
        missing = self.required.difference(arguments)
        if missing:
            raise _UnboundArgumentError(
                f"Function {self.name!r} asks for argument {sorted(missing)[0]!r}, which no "
                "earlier function returns and no make_simulator default or sample() keyword "
                f"provides. Known names: {sorted(context)}."
            )
        return self.function(**arguments)


@dataclass
class _Chunk:
    """What one worker returns: stacked outputs of its good simulations and its failures."""

    fields: dict[str, np.ndarray]
    failures: list[tuple[int, int, str, BaseException]]  # (first, last, step, exception)


def make_simulator(
    functions: Sequence[Callable[..., Any]] | Mapping[str, Callable[..., Any]],
    *,
    batched: bool = False,
    **defaults: Any,
) -> Simulator:
    """Build a :class:`Simulator` from a list (or dict) of plain functions.

    Parameters
    ----------
    functions : sequence of callables, or dict of name to callable
        Called in order; each returns a dict of outputs. Arguments are filled
        by name from earlier outputs, ``defaults``, ``sample(**kwargs)``, ``rng``
        (a :class:`numpy.random.Generator`) and, when ``batched``,
        ``batch_size``. A function with ``**kwargs`` receives every known name.
        Dict keys name the functions in error messages.
    batched : bool, default=False
        If False, functions are called once per simulation and return one
        simulation's values. If True, they receive ``batch_size`` and return
        arrays with a leading axis of that size.
    **defaults
        Keyword values for the functions' arguments (e.g. ``n_exchangeable=5``),
        overridable per call of :meth:`Simulator.sample`.

    Returns
    -------
    Simulator

    Examples
    --------
    >>> from sklearn_sbi import make_simulator
    >>> def prior(rng):
    ...     return {"mu": rng.normal(size=2)}
    >>> def likelihood(mu, rng, n_obs=3):
    ...     return {"x": rng.normal(mu, 1.0, size=(n_obs, 2))}
    >>> simulator = make_simulator([prior, likelihood], n_obs=5)
    >>> sims = simulator.sample(4, random_state=0)
    >>> sims["mu"].shape, sims["x"].shape
    ((4, 2), (4, 5, 2))
    """
    return Simulator(functions, batched=batched, defaults=defaults)


class Simulator:
    """A chain of simulator functions; see :func:`make_simulator`.

    Parameters
    ----------
    functions : sequence of callables, or dict of name to callable
        The functions, called in order.
    batched : bool, default=False
        Whether functions are vectorized over a batch (see :func:`make_simulator`).
    defaults : dict, optional
        Keyword defaults for the functions' arguments.

    Examples
    --------
    >>> from sklearn_sbi import Simulator
    >>> simulator = Simulator([lambda rng: {"theta": rng.uniform(size=2)}])
    >>> simulator.sample(3, random_state=1).shape
    (3,)
    """

    def __init__(
        self,
        functions: Sequence[Callable[..., Any]] | Mapping[str, Callable[..., Any]],
        *,
        batched: bool = False,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(functions, Mapping):
            named = list(functions.items())
        elif isinstance(functions, Sequence) and not isinstance(functions, str):
            named = [(getattr(f, "__name__", repr(f)), f) for f in functions]
        else:
            raise TypeError(
                f"functions must be a list or dict of callables, got {type(functions).__name__}."
            )
        if not named:
            raise ValueError("make_simulator needs at least one function.")
        self.steps = [_Step.inspect(name, function) for name, function in named]
        self.batched = bool(batched)
        self.defaults = dict(defaults or {})
        self._check_keywords(self.defaults, "make_simulator default")

    def __repr__(self) -> str:
        names = ", ".join(step.name for step in self.steps)
        return f"Simulator([{names}], batched={self.batched}, defaults={self.defaults})"

    def _check_keywords(self, keywords: Mapping[str, Any], what: str) -> None:
        reserved = {_RNG, _BATCH_SIZE} if self.batched else {_RNG}
        clashing = sorted(reserved.intersection(keywords))
        if clashing:
            raise ValueError(f"{clashing} are supplied by the simulator and cannot be a {what}.")
        if any(step.takes_all for step in self.steps):
            return
        accepted = {name for step in self.steps for name in step.arguments}
        unused = sorted(set(keywords) - accepted)
        if unused:
            raise TypeError(
                f"{what} {unused} is not an argument of any simulator function "
                f"({[step.name for step in self.steps]})."
            )

    def sample(
        self,
        n: int,
        *,
        random_state: int | np.random.Generator | np.random.SeedSequence | None = None,
        n_jobs: int | None = None,
        on_error: str = "raise",
        on_invalid: str = "raise",
        **kwargs: Any,
    ) -> Simulations:
        """Run ``n`` simulations.

        Parameters
        ----------
        n : int
            Number of simulations.
        random_state : int, Generator, SeedSequence or None
            Seed of the streams handed to ``rng`` arguments. Results are
            bit-identical for a given seed whatever ``n_jobs`` and the joblib backend.
        n_jobs : int, optional
            joblib workers; None follows ``joblib.parallel_config`` (1 outside
            it). Work is sent in a few chunks per worker.
        on_error : {"raise", "skip"}, default="raise"
            On an exception in a function: raise :class:`SimulationError` naming
            the first failing simulation, or drop failed simulations with a warning.
        on_invalid : {"raise", "drop", "keep"}, default="raise"
            On NaN or infinite outputs: raise with counts per field, drop those
            simulations with a warning, or keep them (e.g. NaN padding of sets).
        **kwargs
            Values for the functions' arguments, overriding the defaults.

        Returns
        -------
        Simulations
            The outputs of all functions; one value per simulation becomes ``(n, 1)``.

        Examples
        --------
        >>> from sklearn_sbi import make_simulator
        >>> simulator = make_simulator([lambda rng: {"theta": rng.normal(size=2)}])
        >>> a = simulator.sample(5, random_state=0)
        >>> b = simulator.sample(5, random_state=0, n_jobs=2)
        >>> bool((a["theta"] == b["theta"]).all())
        True
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}.")
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
        if on_invalid not in ("raise", "drop", "keep"):
            raise ValueError(f"on_invalid must be 'raise', 'drop' or 'keep', got {on_invalid!r}.")
        self._check_keywords(kwargs, "sample() keyword")
        n = int(n)
        seed = _seed_sequence(random_state)
        constants = {**self.defaults, **kwargs}
        n_units = math.ceil(n / BLOCK_SIZE) if self.batched else n
        task = (self.steps, constants, seed.entropy, seed.spawn_key, n, self.batched)
        n_workers = effective_n_jobs(check_n_jobs(n_jobs))
        if n_workers == 1:
            chunks = [_simulate_units(*task, 0, n_units, on_error == "raise")]
        else:
            bounds = np.linspace(0, n_units, min(n_units, _CHUNKS_PER_WORKER * n_workers) + 1)
            bounds = bounds.astype(int)
            chunks = Parallel(n_jobs=n_jobs)(
                delayed(_simulate_units)(*task, start, stop, on_error == "raise")
                for start, stop in itertools.pairwise(bounds)
            )
        failures = sorted(failure for chunk in chunks for failure in chunk.failures)
        fields = _concatenate_chunks([chunk.fields for chunk in chunks if chunk.fields])
        _report_failures(failures, n, skip=on_error == "skip" and bool(fields))
        return _handle_invalid(Simulations(fields), on_invalid)


def _seed_sequence(random_state: Any) -> np.random.SeedSequence:
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}.")
        return np.random.SeedSequence(int(random_state))
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(random_state.integers(2**63, size=4).tolist())
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(random_state.randint(2**63, size=4, dtype=np.int64).tolist())
    raise TypeError(
        "random_state must be None, an int, a numpy Generator, RandomState or SeedSequence; "
        f"got {type(random_state).__name__}."
    )


def _simulate_units(
    steps: list[_Step],
    constants: dict[str, Any],
    entropy: Any,
    spawn_key: tuple[int, ...],
    n: int,
    batched: bool,
    start: int,
    stop: int,
    stop_at_first_error: bool,
) -> _Chunk:
    """Run simulations (or batched blocks) ``start .. stop-1``; the unit of reproducibility."""
    wants_rng = any(_RNG in step.arguments or step.takes_all for step in steps)
    outputs: list[dict[str, Any]] = []
    firsts: list[int] = []
    failures = []
    for unit in range(start, stop):
        first = unit * BLOCK_SIZE if batched else unit
        size = min(BLOCK_SIZE, n - first) if batched else 1
        context = dict(constants)
        if wants_rng:
            stream = np.random.SeedSequence(entropy, spawn_key=(*spawn_key, unit))
            context[_RNG] = np.random.default_rng(stream)
        if batched:
            context[_BATCH_SIZE] = size
        result: dict[str, Any] = {}
        for step in steps:
            try:
                returned = step(context)
            except _UnboundArgumentError:
                raise
            except Exception as error:
                failures.append((first, first + size - 1, step.name, error))
                break
            if not isinstance(returned, Mapping):
                raise TypeError(
                    f"Function {step.name!r} must return a dict of outputs, got "
                    f"{type(returned).__name__} (simulation {first})."
                )
            context.update(returned)
            result.update(returned)
        else:
            if batched:
                _check_batch(result, size, first, steps)
            outputs.append(result)
            firsts.append(first)
            continue
        if stop_at_first_error:
            break
    return _Chunk(_stack_outputs(outputs, firsts, batched), failures)


def _check_batch(result: dict[str, Any], size: int, first: int, steps: list[_Step]) -> None:
    for name, value in result.items():
        shape = np.shape(value)
        if not shape or shape[0] != size:
            raise ValueError(
                f"Batched output {name!r} has shape {shape}, expected a leading axis of "
                f"batch_size={size} (block starting at simulation {first}; functions "
                f"{[step.name for step in steps]})."
            )


def _stack_outputs(
    outputs: list[dict[str, Any]], firsts: list[int], batched: bool
) -> dict[str, np.ndarray]:
    """Stack per-simulation (or concatenate per-block) outputs field by field."""
    if not outputs:
        return {}
    names = list(outputs[0])
    fields = {}
    for name in names:
        values = []
        for first, output in zip(firsts, outputs, strict=True):
            if name not in output or len(output) != len(names):
                raise ValueError(
                    f"Simulation {first} returned fields {sorted(output)}, simulation "
                    f"{firsts[0]} returned {sorted(names)}; every simulation must return "
                    "the same fields."
                )
            values.append(np.asarray(output[name]))
        shapes = [v.shape[1:] if batched else v.shape for v in values]
        if any(shape != shapes[0] for shape in shapes):
            odd = next(i for i, shape in enumerate(shapes) if shape != shapes[0])
            raise ValueError(
                f"Field {name!r} has inconsistent shapes across simulations: {shapes[0]} in "
                f"simulation {firsts[0]} but {shapes[odd]} in simulation {firsts[odd]}."
            )
        fields[name] = np.concatenate(values) if batched else np.stack(values)
    return fields


def _concatenate_chunks(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if not chunks:
        return {}
    names = list(chunks[0])
    for chunk in chunks[1:]:
        if set(chunk) != set(names):
            raise ValueError(
                f"Simulations returned different fields: {sorted(names)} vs {sorted(chunk)}."
            )
        for name in names:
            if chunk[name].shape[1:] != chunks[0][name].shape[1:]:
                raise ValueError(
                    f"Field {name!r} has inconsistent shapes across simulations: "
                    f"{chunks[0][name].shape[1:]} vs {chunk[name].shape[1:]}."
                )
    if len(chunks) == 1:
        return chunks[0]
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in names}


def _report_failures(failures: list, n: int, *, skip: bool) -> None:
    if not failures:
        return
    first, last, step, error = failures[0]
    where = f"Simulation {first}" if first == last else f"Simulations {first}-{last}"
    message = f"{where} failed in function {step!r}: {type(error).__name__}: {error}"
    if not skip:
        raise SimulationError(message, first) from error
    n_failed = sum(last - first + 1 for first, last, _, _ in failures)
    warnings.warn(
        f"{n_failed} of {n} simulations failed and were skipped. First failure: {message}",
        RuntimeWarning,
        stacklevel=3,
    )


def _handle_invalid(sims: Simulations, policy: str) -> Simulations:
    """Count simulations with NaN/inf outputs per field and raise, drop or keep them."""
    if policy == "keep":
        return sims
    bad_rows = np.zeros(len(sims), dtype=bool)
    counts = {}
    for name, array in sims.items():
        if array.dtype.kind not in "fc":
            continue
        bad = ~np.isfinite(array.reshape(len(sims), -1)).all(axis=1)
        if bad.any():
            counts[name] = int(bad.sum())
            bad_rows |= bad
    if not counts:
        return sims
    n_bad = int(bad_rows.sum())
    message = (
        f"{n_bad} of {len(sims)} simulations have non-finite outputs (simulations per field: "
        f"{counts}; first at index {int(np.argmax(bad_rows))})."
    )
    if policy == "raise" or n_bad == len(sims):
        raise ValueError(
            f"{message} Pass on_invalid='drop' to discard them or 'keep' to keep them."
        )
    warnings.warn(f"{message} They were dropped.", RuntimeWarning, stacklevel=3)
    return sims[~bad_rows]
