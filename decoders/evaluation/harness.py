"""Run a decoder through a protocol over several seeds and summarise the result honestly."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np

from decoders.datasets.trials import OfficialSplit, TrialSet
from decoders.speech.trials import SpeechTrials

from .protocols import Protocol, labelled_share, validation_split
from .records import FoldSizes, MetricSummary, ResultRecord
from .rejection import RejectionReport, reject_trials
from .sealed import SealedTestSet, TestOutcome


class TrialClassifier(TypingProtocol):
    """What the harness needs of a decoder: fit on train + validation, then probabilities."""

    def fit(self, train: TrialSet, valid: TrialSet) -> Any:
        """Fit on ``train``; ``valid`` is the only data model selection may use."""

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return class probabilities, shape (n_trials, n_classes)."""


@dataclass(frozen=True)
class FittedRun:
    """A model fitted in one (seed, fold) and its single test outcome."""

    seed: int
    fold: str
    model: TrialClassifier
    outcome: TestOutcome
    rejection: RejectionReport | None = None


def evaluate(
    make_decoder: Callable[[int], TrialClassifier],
    data: TrialSet | OfficialSplit,
    protocol: Protocol,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    decoder_name: str,
    dataset_name: str | None = None,
    valid_fraction: float = 0.2,
    on_fitted: Callable[[FittedRun], None] | None = None,
    fit_options: Callable[[int, str], dict[str, Any]] | None = None,
    completed: dict[tuple[int, str], dict[str, float]] | None = None,
    progress: bool = False,
    label_fraction: float = 1.0,
    n_candidates: int | None = None,
    reject: str | None = None,
) -> ResultRecord:
    """Evaluate a decoder: for each seed and fold, fit on train/validation, score test once.

    Parameters
    ----------
    make_decoder : callable
        Returns a fresh, unfitted decoder for a seed; the decoder seeds its own randomness.
    data : TrialSet | OfficialSplit
        The trials; an :class:`OfficialSplit` for the ``official`` protocol.
    protocol : Protocol
        How to split.
    seeds : sequence of int
        One full run per seed; metrics are averaged over folds within a seed, then
        summarised as mean ± sd over seeds.
    decoder_name, dataset_name : str
        Names written in the record.
    valid_fraction : float
        Share of each training part held out (stratified) for early stopping and selection.
    on_fitted : callable, optional
        Called with every fitted model and its test outcome (plots, checkpoints).
    fit_options : callable, optional
        Returns extra keyword arguments of ``fit`` for a (seed, fold name).
    completed : dict, optional
        Test metrics of (seed, fold name) runs finished by an earlier, interrupted call: they
        are reused, neither refitted nor scored again.
    progress : bool
        Show a progress bar over seeds x folds.
    label_fraction : float
        Share of each fold's training trials whose labels are used (stratified, drawn per
        seed; the validation part is carved from that share), for label-scarce runs.
    n_candidates : int, optional
        For speech trials: rank each window's segment among this many candidates (default:
        every distinct segment of the test part).
    reject : str, optional
        ``auto``: drop artefacted trials of each fold's training part by thresholds learned
        on that part alone (:mod:`~decoders.evaluation.rejection`); test trials are all
        scored. The record lists each fit's thresholds and drops.

    Speech trials (:class:`~decoders.speech.trials.SpeechTrials`) are scored by retrieval,
    and a fold whose test part shares a sound with its training part is refused. Decoders
    with per-subject layers (``subject_aware``) are told the subject of each test trial.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    per_seed: dict[str, list[float]] = {}
    fold_sizes: list[FoldSizes] = []
    rejections: list[dict[str, Any]] = []
    bar = tqdm(desc=f"{decoder_name} on {dataset_name}", unit="fit", disable=not progress)
    for seed in seeds:
        per_fold: dict[str, list[float]] = {}
        for fold in protocol.folds(data, seed):
            fold.train.require_classes()
            if isinstance(fold.test, SpeechTrials):
                fold.test.require_unseen(fold.train)
            labelled = labelled_share(fold.train, label_fraction, seed)
            report = None
            if reject is not None:
                labelled, report = reject_trials(labelled, reject, seed)
                rejections.append({"seed": seed, "fold": fold.name, **report.to_dict()})
            fit_part, valid_part = validation_split(labelled, valid_fraction, seed)
            if seed == seeds[0]:
                fold_sizes.append(
                    FoldSizes(fold.name, fit_part.n_trials, valid_part.n_trials, fold.test.n_trials)
                )
            metrics = (completed or {}).get((seed, fold.name))
            if metrics is None:
                model = make_decoder(seed)
                model.fit(
                    fit_part, valid_part, **(fit_options(seed, fold.name) if fit_options else {})
                )
                sealed = SealedTestSet(fold.test, n_candidates)
                outcome = sealed.score(_predictor(model, sealed))
                metrics = outcome.metrics
                if on_fitted is not None:
                    on_fitted(FittedRun(seed, fold.name, model, outcome, report))
            for name, value in metrics.items():
                per_fold.setdefault(name, []).append(value)
            bar.update()
        for name, values in per_fold.items():
            per_seed.setdefault(name, []).append(float(np.nanmean(values)))
    bar.close()
    return ResultRecord(
        dataset=dataset_name or _name_of(data),
        protocol=protocol.name,
        protocol_description=protocol.description,
        decoder=decoder_name,
        seeds=list(seeds),
        folds=fold_sizes,
        metrics={name: MetricSummary.from_values(v) for name, v in per_seed.items()},
        wall_time_s=time.perf_counter() - started,
        label_fraction=label_fraction,
        rejection=rejections,
    )


def _predictor(model: TrialClassifier, sealed: SealedTestSet) -> Callable:
    """Return the model's prediction function, told the test subjects when it uses them."""
    if getattr(model, "subject_aware", False):
        return functools.partial(model.predict_proba, subjects=sealed.groups)
    return model.predict_proba


def _name_of(data: TrialSet | OfficialSplit) -> str:
    return data.name
