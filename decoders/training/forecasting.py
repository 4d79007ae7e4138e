"""``bci-app train`` on seizure recordings: leave one seizure out, save a forecaster with alarms.

The run folder holds what a classification run holds (``weights.pt``, ``card.json``,
``result.json``, ``learning_curve.png``) with ``alarms.png`` (the deployed fold's preictal
probability, alarms and seizure) instead of a confusion matrix. The deployed decoder is the
one fitted in the first seed and fold; its card carries the forecast settings and the alarm
policy (``extra.forecasting``) that the live path applies to its probabilities. Every
decoder runs at the monitoring hop (its ``hop_s``), so live alarms count the same windows as
the evaluation did.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from bci_app.models.alarm import CARD_SECTION
from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.forecast_windows import ForecastSettings
from decoders.datasets.seizures import SeizureCorpus
from decoders.evaluation.forecast_harness import (
    FittedForecast,
    ForecastRecord,
    ScoredMonitoring,
    evaluate_forecaster,
)

from .forecast_plots import plot_alarms
from .plots import plot_epoch_curve
from .runner import TrainingJob, _Progress


def forecast_settings(job: TrainingJob) -> ForecastSettings:
    """Return the job's forecast settings (its ``--forecast`` options, its window length)."""
    return ForecastSettings.from_options(dict(job.request.forecast), window_s=job.request.window_s)


def train_forecaster(
    job: TrainingJob, corpus: SeizureCorpus, out: Path, *, progress: bool = True
) -> ForecastRecord:
    """Run ``job`` on ``corpus`` into the folder ``out``; return the evaluation record."""
    if job.protocol != "seizures":
        raise DataError(
            corpus.name,
            f"seizure recordings are evaluated seizure by seizure: use --protocol seizures, "
            f"not {job.protocol}",
        )
    if job.refit or job.label_fraction != 1.0:
        raise DataError(corpus.name, "--refit and --label-fraction do not apply to forecasting")
    out = Path(out)
    settings = forecast_settings(job)
    entry = registry.get(job.decoder)
    options = {"hop_s": settings.monitor_hop_s, **job.decoder_options()}
    state = _ForecastProgress.open(out, job)
    partial = out / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    deployed: list[FittedForecast] = []

    def fit_options(seed: int, fold: str) -> dict[str, Any]:
        name = fold.replace("/", "-")
        return {
            "progress": progress,
            "checkpoint": partial / f"seed{seed}-{name}.pt",
            "init": job.init,
        }

    def on_fitted(run: FittedForecast) -> None:
        if not deployed and not (out / "card.json").is_file():
            deployed.append(run)
            _save_deployed(run, job, corpus, settings, out)
        state.add_scored(run.seed, run.fold, run.scored)
        (partial / f"seed{run.seed}-{run.fold.replace('/', '-')}.pt").unlink(missing_ok=True)

    record = evaluate_forecaster(
        lambda seed: entry.create(seed=seed, **options),
        corpus,
        settings,
        job.seeds,
        decoder_name=job.decoder,
        valid_fraction=job.valid_fraction,
        on_fitted=on_fitted,
        fit_options=fit_options,
        completed=state.scored(),
        progress=progress,
    )
    record.save(out / "result.json")
    card = DecoderCard.load(out / "card.json")
    card.evaluation = record.to_dict()
    card.save(out / "card.json")
    first = state.scored().get((job.seeds[0], record.folds[0].name))
    if first is not None:
        plot_alarms(first, settings, out / "alarms.png", f"{job.decoder} on {record.folds[0].name}")
    shutil.rmtree(partial, ignore_errors=True)
    return record


def _save_deployed(
    run: FittedForecast,
    job: TrainingJob,
    corpus: SeizureCorpus,
    settings: ForecastSettings,
    out: Path,
) -> None:
    decoder = run.model
    card = DecoderCard.for_decoder(
        decoder,
        data={
            "source": job.request.source,
            "name": corpus.name,
            "description": corpus.description,
            "subjects": [subject.name for subject in corpus.subjects],
            "classes": list(decoder.output_spec_.names),
            "request": job.identity()["request"],
        },
        extra={
            **decoder.card_extra(),
            CARD_SECTION: {"alarm": settings.policy().to_dict(), "settings": settings.to_dict()},
            "deployed_from": {
                "seed": run.seed,
                "fold": run.fold,
                "test": run.scored.outcome.to_dict(),
            },
        },
    )
    save_decoder(decoder, card, out)
    history = decoder.history_
    if history is not None and history.epochs:
        title = f"{job.decoder} on {corpus.name} ({run.fold})"
        plot_epoch_curve(history.epochs, history.best_epoch, out / "learning_curve.png", title)


class _ForecastProgress(_Progress):
    """The finished (seed, fold) scorings of a forecasting run folder."""

    def scored(self) -> dict[tuple[int, str], ScoredMonitoring]:
        return {
            (int(run["seed"]), str(run["fold"])): ScoredMonitoring.from_dict(run["scored"])
            for run in self.content["runs"].values()
        }

    def add_scored(self, seed: int, fold: str, scored: ScoredMonitoring) -> None:
        self.content["runs"][f"{seed}/{fold}"] = {
            "seed": seed,
            "fold": fold,
            "scored": scored.to_dict(),
        }
        self._write()
