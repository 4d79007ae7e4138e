"""Per-seizure scoring of seizure alarms, and the random predictor every forecaster must beat.

Scoring (Winterhalder et al. 2003; Maiwald et al. 2004): an alarm at time ``t`` announces a
seizure between ``t + SPH`` and ``t + SPH + SOP``. It is *true* when a seizure starts in that
period, *ignored* when raised during a seizure or its postictal period, and *false*
otherwise. A seizure is *predicted* when some alarm announced it; its lead time is from the
earliest such alarm to the onset. Sensitivity is the share of seizures predicted; false
alarms are counted per hour of interictal monitoring (monitored time outside
``[onset - SPH - SOP, end + postictal]`` of every seizure); the time in warning is the share
of monitored time covered by the announced periods (one SOP per alarm).

The control (Snyder et al. 2008, Schelter et al. 2006): a random predictor raising alarms as
a Poisson process, with the same refractory period and the forecaster's time in warning,
predicts each seizure with a probability equal to that time in warning. Its sensitivity is
estimated by Monte Carlo (alarms drawn and scored by the same rules) and the forecaster's
p-value is the chance of the random predictor predicting at least as many seizures, both by
Monte Carlo and analytically (binomial per subject, pooled as a Poisson binomial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bci_app.models.alarm import AlarmPolicy
from decoders.datasets.seizures import Seizure

Span = tuple[float, float]


@dataclass(frozen=True)
class ForecastOutcome:
    """Alarms scored over monitored time.

    Attributes
    ----------
    n_seizures, predicted : int
        Seizures monitored, and those predicted.
    lead_times_s : tuple of float
        For each predicted seizure, onset minus the earliest alarm announcing it.
    alarms, false_alarms : int
        Alarms raised (ignored ones excluded), and the false ones.
    monitored_s, interictal_s, warning_s : float
        Monitored time, its interictal part, and the time announced by alarms.
    """

    n_seizures: int
    predicted: int
    lead_times_s: tuple[float, ...]
    alarms: int
    false_alarms: int
    monitored_s: float
    interictal_s: float
    warning_s: float

    @property
    def sensitivity(self) -> float:
        """Return the share of seizures predicted (NaN without seizures)."""
        return self.predicted / self.n_seizures if self.n_seizures else float("nan")

    @property
    def false_alarms_per_hour(self) -> float:
        """Return false alarms per interictal hour (NaN without interictal time)."""
        return self.false_alarms / (self.interictal_s / 3600) if self.interictal_s else np.nan

    @property
    def time_in_warning(self) -> float:
        """Return the share of monitored time in warning (at most 1)."""
        return min(self.warning_s / self.monitored_s, 1.0) if self.monitored_s else float("nan")

    def to_dict(self) -> dict:
        """Return plain data with the derived rates."""
        return {
            **asdict(self),
            "lead_times_s": list(self.lead_times_s),
            "sensitivity": self.sensitivity,
            "false_alarms_per_hour": self.false_alarms_per_hour,
            "time_in_warning": self.time_in_warning,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ForecastOutcome:
        """Rebuild from :meth:`to_dict` output."""
        names = cls.__dataclass_fields__
        values = {key: value for key, value in data.items() if key in names}
        values["lead_times_s"] = tuple(values["lead_times_s"])
        return cls(**values)

    @classmethod
    def pooled(cls, outcomes: Sequence[ForecastOutcome]) -> ForecastOutcome:
        """Return the outcomes added up (seizures, alarms and times)."""
        return cls(
            n_seizures=sum(o.n_seizures for o in outcomes),
            predicted=sum(o.predicted for o in outcomes),
            lead_times_s=tuple(t for o in outcomes for t in o.lead_times_s),
            alarms=sum(o.alarms for o in outcomes),
            false_alarms=sum(o.false_alarms for o in outcomes),
            monitored_s=sum(o.monitored_s for o in outcomes),
            interictal_s=sum(o.interictal_s for o in outcomes),
            warning_s=sum(o.warning_s for o in outcomes),
        )


def score_alarms(
    alarms: Sequence[float] | np.ndarray,
    seizures: Sequence[Seizure],
    spans: Sequence[Span],
    policy: AlarmPolicy,
    *,
    postictal_s: float = 0.0,
) -> ForecastOutcome:
    """Score ``alarms`` against ``seizures`` over the monitored ``spans`` (module docstring).

    Parameters
    ----------
    alarms : array of float
        Times the alarms were raised.
    seizures : sequence of Seizure
        Seizures whose onset lies in (or at the end of) the monitored time.
    spans : sequence of (start, end)
        Monitored stretches of time, not overlapping.
    policy : AlarmPolicy
        Gives SPH and SOP.
    postictal_s : float
        Time after each seizure whose alarms are ignored and which is not interictal.
    """
    sph, sop = policy.sph_s, policy.sop_s
    alarms = np.sort(np.asarray(alarms, dtype=float))
    onsets = np.array([s.onset_s for s in seizures])
    ignored = np.zeros(alarms.size, bool)
    for seizure in seizures:
        ignored |= (alarms >= seizure.onset_s) & (alarms < seizure.end_s + postictal_s)
    counted = alarms[~ignored]
    lead_times = []
    for onset in onsets:
        announcing = counted[(counted >= onset - sph - sop) & (counted <= onset - sph)]
        if announcing.size:
            lead_times.append(float(onset - announcing.min()))
    true = np.zeros(counted.size, bool)
    for onset in onsets:
        true |= (onset >= counted + sph) & (onset <= counted + sph + sop)
    monitored = sum(end - start for start, end in spans)
    not_interictal = [(o.onset_s - sph - sop, o.end_s + postictal_s) for o in seizures]
    interictal = monitored - sum(_overlap(span, part) for span in spans for part in not_interictal)
    return ForecastOutcome(
        n_seizures=len(seizures),
        predicted=len(lead_times),
        lead_times_s=tuple(lead_times),
        alarms=int(counted.size),
        false_alarms=int((~true).sum()),
        monitored_s=float(monitored),
        interictal_s=float(max(interictal, 0.0)),
        warning_s=float(_union_length([(t + sph, t + sph + sop) for t in counted])),
    )


@dataclass(frozen=True)
class Monitoring:
    """What a random predictor is matched to: one subject's monitored time and seizures.

    Attributes
    ----------
    spans : tuple of (start, end)
        Monitored time (every fold of the subject).
    seizures : tuple of Seizure
        The seizures monitored.
    time_in_warning : float
        The forecaster's time in warning on this subject, which the random predictor matches.
    postictal_s : float
        As in :func:`score_alarms`.
    """

    spans: tuple[Span, ...]
    seizures: tuple[Seizure, ...]
    time_in_warning: float
    postictal_s: float = 0.0


@dataclass(frozen=True)
class ChanceComparison:
    """The forecaster against random predictors with its time in warning.

    Attributes
    ----------
    observed : int
        Seizures the forecaster predicted.
    n_seizures : int
        Seizures monitored.
    chance_sensitivity : float
        Mean sensitivity of the random predictors (Monte Carlo).
    chance_sensitivity_sd : float
        Its spread over draws.
    p_value : float
        Monte Carlo: share of draws predicting at least ``observed`` seizures (with the
        ``(1 + count) / (1 + draws)`` correction).
    p_value_analytic : float
        The same tail from the binomial law with each subject's time in warning.
    draws : int
        Random predictors drawn.
    """

    observed: int
    n_seizures: int
    chance_sensitivity: float
    chance_sensitivity_sd: float
    p_value: float
    p_value_analytic: float
    draws: int

    def to_dict(self) -> dict:
        """Return plain data."""
        return asdict(self)


def random_alarms(
    rng: np.random.Generator,
    spans: Sequence[Span],
    policy: AlarmPolicy,
    time_in_warning: float,
) -> np.ndarray:
    """Return alarm times of a random predictor over ``spans`` with that time in warning.

    Alarms follow a Poisson process with a dead time of ``refractory_s`` after each; the rate
    is set so that the expected share of time in warning (one SOP per alarm) is
    ``time_in_warning``. A share the refractory period forbids is capped at its maximum.
    """
    if time_in_warning <= 0:
        return np.zeros(0)
    waiting = max(policy.sop_s / time_in_warning - policy.refractory_s, 0.0)
    times = []
    for start, end in spans:
        # started one mean period early, so the process is near stationary within the span
        t = start - rng.uniform(0.0, policy.refractory_s + waiting)
        while t < end:
            if t >= start:
                times.append(t)
            t += policy.refractory_s + (rng.exponential(waiting) if waiting else 0.0)
    return np.asarray(times, dtype=float)


def compare_with_chance(
    monitorings: Sequence[Monitoring],
    observed: int,
    policy: AlarmPolicy,
    *,
    draws: int = 2000,
    seed: int = 0,
) -> ChanceComparison:
    """Compare ``observed`` predicted seizures with random predictors matched per subject."""
    rng = np.random.default_rng([seed, 2008])
    n_seizures = sum(len(m.seizures) for m in monitorings)
    totals = np.zeros(draws, int)
    for monitoring in monitorings:
        for draw in range(draws):
            alarms = random_alarms(rng, monitoring.spans, policy, monitoring.time_in_warning)
            outcome = score_alarms(
                alarms,
                monitoring.seizures,
                monitoring.spans,
                policy,
                postictal_s=monitoring.postictal_s,
            )
            totals[draw] += outcome.predicted
    sensitivity = totals / max(n_seizures, 1)
    distribution = poisson_binomial(
        [min(m.time_in_warning, 1.0) for m in monitorings for _ in m.seizures]
    )
    return ChanceComparison(
        observed=observed,
        n_seizures=n_seizures,
        chance_sensitivity=float(sensitivity.mean()),
        chance_sensitivity_sd=float(sensitivity.std(ddof=1)) if draws > 1 else 0.0,
        p_value=float((1 + np.sum(totals >= observed)) / (1 + draws)),
        p_value_analytic=float(distribution[observed:].sum()),
        draws=draws,
    )


def poisson_binomial(probabilities: Sequence[float]) -> np.ndarray:
    """Return P(X = j), j = 0..n, for a sum of independent Bernoulli(p_i) variables."""
    distribution = np.array([1.0])
    for p in probabilities:
        distribution = np.convolve(distribution, [1.0 - p, p])
    return distribution


def _overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _union_length(intervals: list[Span]) -> float:
    total, current_end = 0.0, -np.inf
    for start, end in sorted(intervals):
        if start > current_end:
            total += end - start
            current_end = end
        elif end > current_end:
            total += end - current_end
            current_end = end
    return total
