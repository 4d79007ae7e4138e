"""``bci-app train``: evaluate a decoder under a protocol, save it, its card and its plots.

A run folder holds ``weights.pt`` + ``card.json`` (the deployed decoder: the one fitted in
the first seed and fold, or with ``refit`` one refitted on every training trial after the
evaluation), ``result.json`` (the evaluation record), ``learning_curve.png``,
``confusion_matrix.png`` and ``progress.json``. An interrupted run resumes where it stopped:
finished (seed, fold) runs are reused, the one in progress continues from its last epoch.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from decoders import registry
from decoders.card import DecoderCard
from decoders.checkpoint import save_decoder
from decoders.datasets.errors import DataError
from decoders.datasets.seizures import SeizureCorpus
from decoders.datasets.trials import OfficialSplit
from decoders.evaluation.harness import FittedRun, evaluate
from decoders.evaluation.protocols import labelled_share, make_protocol, validation_split
from decoders.evaluation.records import ResultRecord
from decoders.evaluation.rejection import RejectionReport, reject_trials

from .plots import plot_confusion, plot_epoch_curve, plot_ranks, plot_size_curve
from .sources import DataRequest, load_training_data

PROGRESS_NAME = "progress.json"
SIZE_CURVE_FRACTIONS = (0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass
class TrainingJob:
    """What to train, on what, and how to evaluate it."""

    decoder: str
    request: DataRequest
    protocol: str = "official"
    seeds: tuple[int, ...] = (0, 1, 2)
    options: dict[str, Any] = field(default_factory=dict)
    valid_fraction: float = 0.2
    refit: bool = False
    init: str | None = None
    label_fraction: float = 1.0
    n_candidates: int | None = None
    reject: str | None = None

    def decoder_options(self) -> dict[str, Any]:
        """Return the decoder's options: those its pretrained start implies, then the user's."""
        implied = {}
        if self.init is not None:
            implied = registry.get(self.decoder).load_class().options_from(Path(self.init))
        return {**implied, **self.options}

    def identity(self) -> dict[str, Any]:
        """Return what must match for a run folder to be resumed."""
        request = asdict(self.request)
        request["label_file"] = str(request["label_file"]) if request["label_file"] else None
        return {
            "decoder": self.decoder,
            "request": request,
            "protocol": self.protocol,
            "seeds": list(self.seeds),
            "options": self.options,
            "valid_fraction": self.valid_fraction,
            "refit": self.refit,
            "init": self.init,
            "label_fraction": self.label_fraction,
            "n_candidates": self.n_candidates,
            "reject": self.reject,
        }


def train(job: TrainingJob, out: Path, *, progress: bool = True) -> ResultRecord:
    """Run ``job`` into the folder ``out`` and return its evaluation record."""
    out = Path(out)
    entry = registry.get(job.decoder)
    data = load_training_data(job.request)
    if isinstance(data, SeizureCorpus):
        from .forecasting import train_forecaster

        if job.reject is not None:
            raise DataError(
                job.request.source,
                "seizure recordings are windowed per fold, not epoched: --reject is for trials "
                "(an artefact may be the seizure)",
            )

        return train_forecaster(job, data, out, progress=progress)
    protocol = make_protocol(job.protocol)
    state = _Progress.open(out, job)
    partial = out / "partial"
    partial.mkdir(parents=True, exist_ok=True)
    first_run = (job.seeds[0], next(protocol.folds(data, job.seeds[0])).name)

    def fit_options(seed: int, fold: str) -> dict[str, Any]:
        return {
            "progress": progress,
            "checkpoint": partial / f"seed{seed}-{fold}.pt",
            "init": job.init,
        }

    def on_fitted(run: FittedRun) -> None:
        if (run.seed, run.fold) == first_run and not job.refit:
            _save_deployed(
                run.model,
                job,
                data,
                out,
                {"seed": run.seed, "fold": run.fold, "test": run.outcome.metrics},
                run.rejection,
            )
        state.add(run)
        (partial / f"seed{run.seed}-{run.fold}.pt").unlink(missing_ok=True)

    options = job.decoder_options()
    record = evaluate(
        lambda seed: entry.create(seed=seed, **options),
        data,
        protocol,
        job.seeds,
        decoder_name=job.decoder,
        dataset_name=data.name,
        valid_fraction=job.valid_fraction,
        on_fitted=on_fitted,
        fit_options=fit_options,
        completed=state.completed(),
        progress=progress,
        label_fraction=job.label_fraction,
        n_candidates=job.n_candidates,
        reject=job.reject,
    )
    if isinstance(data, OfficialSplit) and protocol.name == "official":
        record.split = split_summary(data)
    record.save(out / "result.json")
    if job.refit and not (out / "card.json").is_file():
        decoder, provenance, rejection = _refitted(job, data)
        _save_deployed(decoder, job, data, out, provenance, rejection)
    card = DecoderCard.load(out / "card.json")
    card.evaluation = record.to_dict()
    card.save(out / "card.json")
    classes = (data.train if isinstance(data, OfficialSplit) else data).classes
    title = (
        f"{job.decoder} on {data.name}\n{protocol.name}, test trials of {len(job.seeds)} seed(s)"
    )
    if state.ranks():
        plot_ranks(state.ranks(), out / "rank_histogram.png", title)
    else:
        plot_confusion(state.confusion(len(classes)), classes, out / "confusion_matrix.png", title)
    shutil.rmtree(partial, ignore_errors=True)
    return record


def split_summary(split: OfficialSplit) -> dict[str, Any]:
    """Return which train/test split was used, for the record and the card."""
    return {
        "description": split.description,
        "train": split.train.name,
        "test": split.test.name,
        "n_train": split.train.n_trials,
        "n_test": split.test.n_trials,
    }


def _refitted(job: TrainingJob, data) -> tuple[Any, dict[str, Any], RejectionReport | None]:
    """Fit the decoder on every training trial (validation carved out for early stopping)."""
    train = data.train if isinstance(data, OfficialSplit) else data
    seed = job.seeds[0]
    train = labelled_share(train, job.label_fraction, seed)
    rejection = None
    if job.reject is not None:
        train, rejection = reject_trials(train, job.reject, seed)
    fit, valid = validation_split(train, job.valid_fraction, seed)
    decoder = registry.get(job.decoder).create(seed=seed, **job.decoder_options())
    decoder.fit(fit, valid, init=job.init)
    return decoder, {"seed": seed, "refit_on_trials": train.n_trials}, rejection


def _save_deployed(
    decoder,
    job: TrainingJob,
    data,
    out: Path,
    provenance: dict[str, Any],
    rejection: RejectionReport | None = None,
) -> None:
    """Save the deployed decoder with its card (training-trial rejection included)."""
    train = data.train if isinstance(data, OfficialSplit) else data
    card = DecoderCard.for_decoder(
        decoder,
        data={
            "source": job.request.source,
            "name": data.name,
            "n_trials": train.n_trials,
            "classes": list(train.classes),
            "request": job.identity()["request"],
            **({"split": split_summary(data)} if isinstance(data, OfficialSplit) else {}),
        },
        extra={
            **decoder.card_extra(),
            "deployed_from": provenance,
            **({"training_rejection": rejection.to_dict()} if rejection else {}),
        },
    )
    save_decoder(decoder, card, out)
    decoder.save_figures(out)
    title = f"{job.decoder} on {data.name}"
    if decoder.history_ is not None and decoder.history_.epochs:
        history = decoder.history_
        plot_epoch_curve(history.epochs, history.best_epoch, out / "learning_curve.png", title)
    else:
        sizes, scores = _size_curve(job, data, job.seeds[0])
        plot_size_curve(sizes, scores, out / "learning_curve.png", title)


def _size_curve(job: TrainingJob, data, seed: int) -> tuple[list[int], list[float]]:
    """Return validation accuracy of decoders refitted on growing shares of the training part."""
    protocol = make_protocol(job.protocol)
    fold = next(protocol.folds(data, seed))
    labelled = labelled_share(fold.train, job.label_fraction, seed)
    fit, valid = validation_split(labelled, job.valid_fraction, seed)
    entry = registry.get(job.decoder)
    sizes, scores = [], []
    for fraction in SIZE_CURVE_FRACTIONS:
        subset = fit if fraction == 1.0 else validation_split(fit, 1 - fraction, seed)[0]
        try:
            # ``valid`` stays unseen: decoders may merge their own validation part into training
            decoder = entry.create(seed=seed, **job.decoder_options())
            decoder.fit(*validation_split(subset, job.valid_fraction, seed), init=job.init)
        except (DataError, ValueError):
            continue  # too few trials of some class at this size
        proba = decoder.predict_proba(valid.data)
        sizes.append(subset.n_trials)
        scores.append(float(np.mean(proba.argmax(1) == valid.labels)))
    return sizes, scores


class _Progress:
    """The finished (seed, fold) runs of a run folder, kept on disk after each of them."""

    def __init__(self, path: Path, content: dict[str, Any]) -> None:
        self.path = path
        self.content = content

    @classmethod
    def open(cls, out: Path, job: TrainingJob) -> _Progress:
        out.mkdir(parents=True, exist_ok=True)
        path = out / PROGRESS_NAME
        identity = job.identity()
        if path.is_file():
            content = json.loads(path.read_text())
            if content.get("job") != identity:
                raise DataError(
                    out,
                    "holds a run with other settings; choose another --out folder to start anew",
                )
            return cls(path, content)
        progress = cls(path, {"job": identity, "runs": {}})
        progress._write()
        return progress

    def completed(self) -> dict[tuple[int, str], dict[str, float]]:
        return {_key(run): run["metrics"] for run in self.content["runs"].values()}

    def add(self, run: FittedRun) -> None:
        entry = {"seed": run.seed, "fold": run.fold, "metrics": run.outcome.metrics}
        if run.outcome.ranks is not None:  # retrieval: the rank of each window's segment
            entry["ranks"] = run.outcome.ranks.tolist()
        else:
            entry["true"] = run.outcome.labels.tolist()
            entry["predicted"] = run.outcome.proba.argmax(axis=1).tolist()
        self.content["runs"][f"{run.seed}/{run.fold}"] = entry
        self._write()

    def ranks(self) -> list[int]:
        return [rank for run in self.content["runs"].values() for rank in run.get("ranks", [])]

    def confusion(self, n_classes: int) -> np.ndarray:
        counts = np.zeros((n_classes, n_classes), dtype=int)
        for run in self.content["runs"].values():
            np.add.at(counts, (run["true"], run["predicted"]), 1)
        return counts

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.content))
        temporary.replace(self.path)


def _key(run: dict[str, Any]) -> tuple[int, str]:
    return int(run["seed"]), str(run["fold"])
