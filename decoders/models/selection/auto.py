"""``auto``: the registered decoder that cross-validates best inside the training part.

:meth:`AutoDecoder.fit` receives what every decoder receives from the harness, the training
part split into fitting and validation trials, and nothing of the test part. It pools the
two, runs a stratified K-fold over them for every candidate (each inner fit carving its own
validation trials from its inner training part, as the harness does), picks the candidate
with the best mean inner score, and refits it on the harness's fitting and validation trials.
The card records every candidate's inner scores and why any was skipped. The fitted decoder
is the winner: its module, its export (and rewrite), its live graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decoders.contract import Decoder, InputSpec, OutputSpec
from decoders.datasets.errors import DataError
from decoders.datasets.trials import TrialSet
from decoders.history import History, TrainingRun

if TYPE_CHECKING:
    import torch

DEFAULT_CANDIDATES = (
    "csp-lda",
    "cov-ts-lr",
    "xdawncov-ts-lr",
    "minirocket",
    "multirocket",
    "eegnet",
)
"""Fast and diverse: band power, covariances, evoked responses, random convolutions, a CNN."""

METRICS = ("accuracy", "balanced_accuracy")


class AutoDecoder(Decoder):
    """Pick among registered decoders by cross-validation inside the training part.

    Parameters
    ----------
    candidates : list of str
        Registered decoders to choose from (default :data:`DEFAULT_CANDIDATES`). One that is
        not registered or cannot train on the data is skipped, with the reason in the card.
    candidate_options : dict, optional
        Options per candidate name (e.g. ``{"eegnet": {"max_epochs": 60}}``).
    folds : int
        Inner stratified folds (fewer when a class has fewer training trials).
    metric : str
        ``accuracy`` or ``balanced_accuracy`` of the inner test folds.
    winner, winner_config : optional
        The chosen decoder and its options, recorded by fitting so that the fitted decoder
        can be rebuilt from its card; given, no selection runs and that decoder is fitted.
    """

    def __init__(
        self,
        seed: int = 0,
        hop_s: float = 0.1,
        candidates: list[str] | tuple[str, ...] = DEFAULT_CANDIDATES,
        candidate_options: dict[str, dict[str, Any]] | None = None,
        folds: int = 5,
        metric: str = "accuracy",
        winner: str | None = None,
        winner_config: dict[str, Any] | None = None,
    ) -> None:
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric} (known: {', '.join(METRICS)})")
        if folds < 2:
            raise ValueError(f"folds must be at least 2, got {folds}")
        super().__init__(seed, hop_s)
        self.candidates = list(candidates)
        self.candidate_options = dict(candidate_options or {})
        self.folds = folds
        self.metric = metric
        self.selection_: dict[str, Any] = {}
        self.winner_: Decoder | None = None
        if winner is not None:
            self.winner_ = self._candidate(winner, winner_config or {})

    # ------------------------------------------------------------------ selection
    def fit(
        self,
        train: TrialSet,
        valid: TrialSet,
        *,
        progress: bool = False,
        on_epoch: Callable[[int, History], None] | None = None,
        checkpoint: Path | None = None,
        init: Path | None = None,
    ) -> AutoDecoder:
        """Select on inner folds of ``train`` + ``valid``, then refit the winner on them."""
        if self.winner_ is None:
            self.winner_ = self.select(train.concat(valid), init)
            self._record_winner()
        super().fit(
            train, valid, progress=progress, on_epoch=on_epoch, checkpoint=checkpoint, init=init
        )
        return self

    def _validation_warnings(self, valid: TrialSet) -> list[str]:
        """Share the fitted state with the winner, whose predictions the warnings read."""
        self._share_fitted_state()
        return super()._validation_warnings(valid)

    def select(self, pool: TrialSet, init: Path | None = None) -> Decoder:
        """Return the unfitted candidate with the best mean inner score on ``pool``.

        Raises
        ------
        DataError
            When no candidate could be fitted (the message gives every reason).
        """
        from sklearn.model_selection import StratifiedKFold

        from decoders.evaluation.metrics import accuracy, balanced_accuracy
        from decoders.evaluation.protocols import validation_split

        score_of = accuracy if self.metric == "accuracy" else balanced_accuracy
        counts = np.bincount(pool.labels, minlength=pool.n_classes)
        folds = int(min(self.folds, counts[counts > 0].min()))
        if folds < 2:
            raise DataError(
                pool.name, "a class has fewer than 2 training trials: nothing to select on"
            )
        splitter = StratifiedKFold(folds, shuffle=True, random_state=self.seed)
        splits = list(splitter.split(pool.labels, pool.labels))
        scores: dict[str, dict[str, Any]] = {}
        skipped: dict[str, str] = {}
        for name in self.candidates:
            started = time.perf_counter()
            try:
                per_fold = []
                for inner_train, inner_test in splits:
                    fit, valid = validation_split(pool.subset(inner_train), 0.2, self.seed)
                    candidate = self._candidate(name, self.candidate_options.get(name, {}))
                    candidate.fit(fit, valid, init=init)
                    proba = candidate.predict_proba(pool.data[inner_test])
                    per_fold.append(score_of(pool.labels[inner_test], proba.argmax(axis=1)))
            except Exception as error:  # a candidate that cannot train is skipped, not fatal
                skipped[name] = f"{type(error).__name__}: {error}"
                continue
            scores[name] = {
                "mean": float(np.mean(per_fold)),
                "per_fold": [float(s) for s in per_fold],
                "seconds": time.perf_counter() - started,
            }
        if not scores:
            reasons = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
            raise DataError(pool.name, f"no candidate of auto could be fitted ({reasons})")
        best = max(scores, key=lambda name: scores[name]["mean"])  # first of ties: list order
        self.selection_ = {
            "metric": self.metric,
            "inner_folds": folds,
            "trials": pool.n_trials,
            "scores": scores,
            "skipped": skipped,
            "winner": best,
        }
        return self._candidate(best, self.candidate_options.get(best, {}))

    # ------------------------------------------------------------------ the winner's hooks
    def spec_for(self, trials: TrialSet) -> InputSpec:
        """Return the winner's input spec for ``trials``."""
        return self._winner().spec_for(trials)

    def preprocessing(self) -> tuple[dict[str, Any], ...]:
        """Return the winner's declared preprocessing."""
        return self._winner().preprocessing()

    def output_for(self, train: TrialSet) -> OutputSpec:
        """Return what the winner produces once fitted on ``train``."""
        return self._winner().output_for(train)

    def build(self, spec: InputSpec, output: OutputSpec) -> torch.nn.Module:
        """Return the winner's untrained module."""
        return self._winner().build(spec, output)

    def initialize(self, module: torch.nn.Module, source: Path) -> dict[str, Any]:
        """Load pretrained weights as the winner does."""
        return self._winner().initialize(module, source)

    def train_module(
        self, module: torch.nn.Module, train: TrialSet, valid: TrialSet, run: TrainingRun
    ) -> History | None:
        """Train the winner's module as the winner does."""
        return self._winner().train_module(module, train, valid, run)

    def restore(self, spec: InputSpec, output: OutputSpec, state: dict[str, Any]) -> AutoDecoder:
        """Rebuild the fitted winner from its specs and weights."""
        super().restore(spec, output, state)
        self._share_fitted_state()
        return self

    def export_module(self) -> torch.nn.Module:
        """Return the winner's exported module (its rewrite, where it has one)."""
        return self._winner().export_module()

    def streaming_module(self) -> torch.nn.Module | None:
        """Return the winner's step module, if it streams."""
        return self._winner().streaming_module()

    def explanation(self) -> dict[str, Any] | None:
        """Return the winner's explanation output, if it explains its decisions."""
        return self._winner().explanation()

    def explaining_module(self) -> torch.nn.Module:
        """Return the winner's module of (decision outputs, explanation)."""
        return self._winner().explaining_module()

    def save_figures(self, folder: Path) -> list[Path]:
        """Write the winner's own figures."""
        return self._winner().save_figures(folder)

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Return the winner's outputs."""
        return self._winner().predict_proba(data)

    def card_extra(self) -> dict[str, Any]:
        """Return the selection (every candidate's inner scores, skips) and the winner's facts."""
        winner = self._winner()
        return {
            **winner.card_extra(),
            "selection": self.selection_,
            "winner": {"decoder": winner.name, "config": winner.config()},
        }

    # ------------------------------------------------------------------ internals
    def _candidate(self, name: str, options: dict[str, Any]) -> Decoder:
        from decoders import registry

        if name == "auto":
            raise DataError("auto", "auto cannot be one of its own candidates")
        options = {key: value for key, value in options.items() if key not in ("seed", "hop_s")}
        return registry.get(name).create(seed=self.seed, hop_s=self.hop_s, **options)

    def _winner(self) -> Decoder:
        if self.winner_ is None:
            raise RuntimeError("auto has not selected a decoder yet: call fit first")
        return self.winner_

    def _record_winner(self) -> None:
        """Record the winner in the options, so the card's config rebuilds it."""
        winner = self._winner()
        config = {k: v for k, v in winner.config().items() if k not in ("seed", "hop_s")}
        self._options.update(winner=winner.name, winner_config=config)

    def _share_fitted_state(self) -> None:
        """Give the winner this decoder's fitted module and specs (its export uses them)."""
        winner = self._winner()
        winner.input_spec_, winner.output_spec_ = self.input_spec_, self.output_spec_
        winner.module_, winner.history_ = self.module_, self.history_
        winner.initialization_ = getattr(self, "initialization_", {})
