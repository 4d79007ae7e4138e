"""The alarm figure of a forecasting run: preictal probability, alarms and the seizure."""

from __future__ import annotations

from pathlib import Path

from decoders.datasets.forecast_windows import ForecastSettings
from decoders.evaluation.forecast_harness import ScoredMonitoring


def plot_alarms(
    scored: ScoredMonitoring, settings: ForecastSettings, path: Path, title: str
) -> None:
    """Plot a monitoring's preictal probability, threshold, alarms and seizure to a PNG.

    Time is in minutes relative to the seizure onset; the preictal period (from SPH + SOP to
    SPH before the onset) is shaded.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    onset = scored.seizure.onset_s
    minutes = (scored.times - onset) / 60
    figure, axis = plt.subplots(figsize=(9, 3.2))
    axis.axvspan(
        -(settings.sph_s + settings.sop_s) / 60,
        -settings.sph_s / 60,
        color="C1",
        alpha=0.15,
        label="preictal (SOP)",
    )
    axis.plot(minutes, scored.probabilities, lw=0.8, color="C0", label="preictal probability")
    axis.axhline(settings.threshold, color="0.4", ls=":", label="threshold")
    for index, alarm in enumerate(scored.alarms):
        axis.axvline((alarm - onset) / 60, color="C3", lw=1.5, label="alarm" if not index else None)
    axis.axvline(0, color="k", lw=2, label="seizure onset")
    outcome = scored.outcome
    axis.set_title(
        f"{title}: {'predicted' if outcome.predicted else 'missed'}, "
        f"{outcome.false_alarms} false alarm(s)"
    )
    axis.set_xlabel("minutes from seizure onset")
    axis.set_ylim(-0.02, 1.02)
    axis.legend(frameon=False, fontsize=7, loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
