"""``bci-app evaluate``: score a saved decoder on new data."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .data_options import add_data_options, data_request


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` command."""
    parser = subparsers.add_parser("evaluate", help="score a saved decoder on new data")
    parser.add_argument("run", type=Path, help="folder holding weights.pt and card.json")
    add_data_options(parser)
    parser.add_argument(
        "--part",
        choices=("test", "train", "all"),
        default="test",
        help="for data with an official split: which part to score",
    )
    parser.add_argument("--out", type=Path, help="write the metrics as JSON here")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load, check channels/rate/length against the card, predict and print metrics."""
    from decoders.checkpoint import load_decoder
    from decoders.datasets.forecast_windows import ForecastSettings, corpus_trials
    from decoders.datasets.matching import TrialShape, match_trials
    from decoders.datasets.seizures import SeizureCorpus
    from decoders.datasets.trials import OfficialSplit
    from decoders.evaluation.metrics import classification_metrics
    from decoders.training.sources import load_training_data

    decoder, card = load_decoder(args.run)
    data = load_training_data(data_request(args))
    if isinstance(data, OfficialSplit):
        data = {"test": data.test, "train": data.train}.get(args.part) or data.train.concat(
            data.test
        )
    elif isinstance(data, SeizureCorpus):  # a forecaster: its windows, labelled as it was
        saved = card.extra.get("forecasting", {}).get("settings", {})
        data = corpus_trials(data, ForecastSettings.from_options(saved))
    spec = decoder.input_spec_
    target = TrialShape(
        spec.ch_names, spec.sfreq, spec.n_times, tuple(card.output["names"]), card.decoder
    )
    data, notes = match_trials(data, target)
    for note in notes:
        print(f"{data.name}: {note}")
    metrics = classification_metrics(data.labels, decoder.predict_proba(data.data))
    print(f"{card.decoder} ({args.run}) on {data.name}: {data.n_trials} trials")
    for name, value in metrics.items():
        print(f"  {name:18s} {value:.3f}")
    if args.out:
        args.out.write_text(json.dumps({"data": data.name, "n_trials": data.n_trials, **metrics}))
    return 0
