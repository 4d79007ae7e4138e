"""Evaluate a seizure forecaster seizure by seizure, against random predictors.

For every seed, each subject's leading seizures are left out in turn
(:class:`~decoders.evaluation.protocols.LeaveOneSeizureOut`): the decoder is fitted on the
other blocks' windows (a stratified share held out for early stopping), and the monitoring
before the left-out seizure is scored once (:class:`SealedMonitoring`): the decoder's
preictal probabilities raise alarms (:func:`bci_app.models.alarm.alarm_times`) that are scored
per seizure (:mod:`.forecasting`). Per seed, the folds are pooled: sensitivity, false alarms
per interictal hour, time in warning, mean lead time, window AUROC, and random predictors
matched to each subject's time in warning with the p-value of the forecaster's sensitivity.
Figures are mean ± sd over seeds, overall and per subject.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bci_app.models.alarm import AlarmPolicy, alarm_times
from decoders.datasets.forecast_windows import ForecastSettings, MonitoringSet
from decoders.datasets.seizures import Seizure, SeizureCorpus

from .forecasting import ForecastOutcome, Monitoring, compare_with_chance, score_alarms
from .metrics import macro_auroc
from .protocols import LeaveOneSeizureOut, validation_split
from .records import FoldSizes, MetricSummary, ResultRecord
from .sealed import TestSetReuseError

FORECAST_METRICS = (
    "sensitivity",
    "false_alarms_per_hour",
    "time_in_warning",
    "lead_time_min",
    "chance_sensitivity",
    "p_value",
    "p_value_analytic",
    "auroc",
)


@dataclass(frozen=True)
class ScoredMonitoring:
    """One left-out seizure's monitoring, scored once.

    Attributes
    ----------
    outcome : ForecastOutcome
        Alarms scored against the seizure.
    alarms : ndarray
        Alarm times.
    times, probabilities : ndarray
        Each window's time and preictal probability.
    auroc : float
        Window-level AUROC of the preictal probability (preictal: windows ending within
        SPH + SOP before the onset and not within SPH of it).
    seizure : Seizure
        The seizure.
    spans : tuple of (float, float)
        Monitored time.
    """

    outcome: ForecastOutcome
    alarms: np.ndarray
    times: np.ndarray
    probabilities: np.ndarray
    auroc: float
    seizure: Seizure
    spans: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """Return plain data (what a resumed run reuses)."""
        return {
            "outcome": self.outcome.to_dict(),
            "alarms": self.alarms.tolist(),
            "times": self.times.tolist(),
            "probabilities": self.probabilities.tolist(),
            "auroc": self.auroc,
            "seizure": [self.seizure.onset_s, self.seizure.end_s, self.seizure.source],
            "spans": [list(span) for span in self.spans],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoredMonitoring:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            ForecastOutcome.from_dict(data["outcome"]),
            np.asarray(data["alarms"], float),
            np.asarray(data["times"], float),
            np.asarray(data["probabilities"], float),
            float(data["auroc"]),
            Seizure(*data["seizure"]),
            tuple(tuple(span) for span in data["spans"]),
        )


class SealedMonitoring:
    """Holds a fold's monitoring windows so that a fitted forecaster is scored on them once."""

    __test__ = False

    def __init__(self, monitoring: MonitoringSet, settings: ForecastSettings) -> None:
        self.__monitoring = monitoring
        self.__used = False
        self.settings = settings
        self.name = monitoring.name
        self.n_windows = monitoring.n_windows

    def score(
        self, predict_proba: Callable[[np.ndarray], np.ndarray], classes: Sequence[str]
    ) -> ScoredMonitoring:
        """Raise alarms from the predicted probabilities and score them, a single time.

        Raises
        ------
        TestSetReuseError
            On any call after the first.
        """
        if self.__used:
            raise TestSetReuseError(f"the monitoring of {self.name} was already scored once")
        self.__used = True
        monitoring, settings = self.__monitoring, self.settings
        policy = settings.policy()
        proba = np.asarray(predict_proba(monitoring.data), dtype=float)
        if proba.shape != (monitoring.n_windows, len(classes)) or not np.isfinite(proba).all():
            raise ValueError(f"predict_proba returned {proba.shape} or non-finite values")
        positive = proba[:, list(classes).index(policy.positive)]
        alarms = alarm_times(positive, monitoring.times, policy, gaps=monitoring.gaps)
        outcome = score_alarms(
            alarms, [monitoring.seizure], monitoring.spans, policy, postictal_s=settings.postictal_s
        )
        onset = monitoring.seizure.onset_s
        preictal = (monitoring.times > onset - policy.sph_s - policy.sop_s) & (
            monitoring.times <= onset - policy.sph_s
        )
        labels = preictal.astype(int)
        auroc = macro_auroc(labels, np.column_stack([1 - positive, positive]))
        return ScoredMonitoring(
            outcome,
            alarms,
            monitoring.times,
            positive,
            auroc,
            monitoring.seizure,
            monitoring.spans,
        )


@dataclass(frozen=True)
class FittedForecast:
    """A forecaster fitted in one (seed, fold) and its single scoring."""

    seed: int
    fold: str
    subject: str
    model: Any
    scored: ScoredMonitoring


@dataclass
class ForecastRecord(ResultRecord):
    """A result record with the forecasting settings, per-seizure and per-subject figures.

    Attributes
    ----------
    settings : dict
        The :class:`ForecastSettings` used.
    seizures : list of dict
        Per seed and fold: subject, seizure, outcome (sensitivity, false alarms, lead time).
    subjects : dict
        Per subject: each metric as mean, sd and per-seed values.
    chance : list of dict
        Per seed: the comparison with random predictors.
    skipped : dict
        Subjects left out and why.
    """

    settings: dict[str, Any] = field(default_factory=dict)
    seizures: list[dict[str, Any]] = field(default_factory=list)
    subjects: dict[str, dict[str, Any]] = field(default_factory=dict)
    chance: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def evaluate_forecaster(
    make_decoder: Callable[[int], Any],
    corpus: SeizureCorpus,
    settings: ForecastSettings,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    decoder_name: str,
    valid_fraction: float = 0.2,
    on_fitted: Callable[[FittedForecast], None] | None = None,
    fit_options: Callable[[int, str], dict[str, Any]] | None = None,
    completed: dict[tuple[int, str], ScoredMonitoring] | None = None,
    chance_draws: int = 2000,
    progress: bool = False,
) -> ForecastRecord:
    """Evaluate a forecaster leaving one seizure out within each subject (module docstring).

    Parameters
    ----------
    make_decoder : callable
        Returns a fresh, unfitted decoder for a seed.
    corpus : SeizureCorpus
        The subjects.
    settings : ForecastSettings
        Labels, windows, monitoring and alarm policy.
    seeds : sequence of int
        One full run per seed.
    decoder_name : str
        Name written in the record.
    valid_fraction : float
        Stratified share of each fold's training windows held out for early stopping.
    on_fitted : callable, optional
        Called with every fitted forecaster and its scoring.
    fit_options : callable, optional
        Extra keyword arguments of ``fit`` for a (seed, fold name).
    completed : dict, optional
        Scorings of (seed, fold) runs finished by an interrupted call, reused as they are.
    chance_draws : int
        Random predictors drawn per seed.
    progress : bool
        Show a progress bar over the fits.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    protocol = LeaveOneSeizureOut(settings)
    policy = settings.policy()
    fold_sizes: list[FoldSizes] = []
    seizure_rows: list[dict[str, Any]] = []
    chance_rows: list[dict[str, Any]] = []
    per_seed: dict[str, list[float]] = {}
    per_subject: dict[str, dict[str, list[float]]] = {}
    bar = tqdm(desc=f"{decoder_name} on {corpus.name}", unit="fit", disable=not progress)
    for seed in seeds:
        by_subject: dict[str, list[ScoredMonitoring]] = {}
        for fold in protocol.folds(corpus, seed):
            fold.train.require_classes()
            fit_part, valid_part = validation_split(fold.train, valid_fraction, seed)
            if seed == seeds[0]:
                fold_sizes.append(
                    FoldSizes(
                        fold.name, fit_part.n_trials, valid_part.n_trials, fold.test.n_windows
                    )
                )
            scored = (completed or {}).get((seed, fold.name))
            if scored is None:
                model = make_decoder(seed)
                options = fit_options(seed, fold.name) if fit_options else {}
                model.fit(fit_part, valid_part, **options)
                scored = SealedMonitoring(fold.test, settings).score(
                    model.predict_proba, fold.train.classes
                )
                if on_fitted is not None:
                    on_fitted(FittedForecast(seed, fold.name, fold.subject, model, scored))
            by_subject.setdefault(fold.subject, []).append(scored)
            seizure_rows.append(
                {
                    "seed": seed,
                    "fold": fold.name,
                    "subject": fold.subject,
                    **scored.outcome.to_dict(),
                }
            )
            bar.update()
        summary, chance = _seed_summary(by_subject, policy, settings, chance_draws, seed)
        chance_rows.append({"seed": seed, **chance})
        for name, value in summary["overall"].items():
            per_seed.setdefault(name, []).append(value)
        for subject, values in summary["subjects"].items():
            for name, value in values.items():
                per_subject.setdefault(subject, {}).setdefault(name, []).append(value)
    bar.close()
    return ForecastRecord(
        dataset=corpus.name,
        protocol=protocol.name,
        protocol_description=protocol.description,
        decoder=decoder_name,
        seeds=list(seeds),
        folds=fold_sizes,
        metrics={name: MetricSummary.from_values(v) for name, v in per_seed.items()},
        wall_time_s=time.perf_counter() - started,
        settings=settings.to_dict(),
        seizures=seizure_rows,
        subjects={
            subject: {name: MetricSummary.from_values(v).__dict__ for name, v in values.items()}
            for subject, values in per_subject.items()
        },
        chance=chance_rows,
        skipped=dict(protocol.skipped),
    )


def _seed_summary(
    by_subject: dict[str, list[ScoredMonitoring]],
    policy: AlarmPolicy,
    settings: ForecastSettings,
    draws: int,
    seed: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return one seed's pooled and per-subject figures, and its chance comparison."""
    monitorings, subjects = [], {}
    for subject, scorings in by_subject.items():
        pooled = ForecastOutcome.pooled([s.outcome for s in scorings])
        monitorings.append(
            Monitoring(
                spans=tuple(span for s in scorings for span in s.spans),
                seizures=tuple(s.seizure for s in scorings),
                time_in_warning=pooled.time_in_warning,
                postictal_s=settings.postictal_s,
            )
        )
        subjects[subject] = _figures(pooled, scorings)
    everything = [s for scorings in by_subject.values() for s in scorings]
    pooled = ForecastOutcome.pooled([s.outcome for s in everything])
    chance = compare_with_chance(monitorings, pooled.predicted, policy, draws=draws, seed=seed)
    overall = {
        **_figures(pooled, everything),
        "chance_sensitivity": chance.chance_sensitivity,
        "p_value": chance.p_value,
        "p_value_analytic": chance.p_value_analytic,
    }
    for subject, monitoring in zip(subjects, monitorings, strict=True):
        alone = compare_with_chance([monitoring], 0, policy, draws=min(draws, 500), seed=seed)
        subjects[subject]["chance_sensitivity"] = alone.chance_sensitivity
    return {"overall": overall, "subjects": subjects}, chance.to_dict()


def _figures(pooled: ForecastOutcome, scorings: list[ScoredMonitoring]) -> dict[str, float]:
    lead = np.mean(pooled.lead_times_s) / 60 if pooled.lead_times_s else float("nan")
    return {
        "sensitivity": pooled.sensitivity,
        "false_alarms_per_hour": pooled.false_alarms_per_hour,
        "time_in_warning": pooled.time_in_warning,
        "lead_time_min": float(lead),
        "auroc": float(np.nanmean([s.auroc for s in scorings])),
    }
