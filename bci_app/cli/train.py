"""``bci-app train``: train and evaluate a decoder, save it with its card and plots."""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

from .data_options import add_data_options, data_request


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` command."""
    parser = subparsers.add_parser(
        "train",
        help="train and evaluate a decoder on real or simulated data",
        description="Evaluate DECODER under a split protocol over several seeds (test data "
        "scored once per fitted model), then save the first fitted model, its card, the "
        "evaluation record, a learning curve and a confusion matrix. Rerunning with the same "
        "settings and --out resumes an interrupted run.",
    )
    parser.add_argument("decoder", help="registered decoder (bci-app decoders)")
    add_data_options(parser)
    parser.add_argument(
        "--test-data",
        metavar="TEST",
        help="your own test data: any input --data takes (cut with the same classes and "
        "window, brought to the training channels and rate), or a part of --data: "
        "session:ID, run:ID or subject:ID of a BIDS data set, session:ID of session folders; "
        "scored once per fitted model (validation comes from --data only)",
    )
    parser.add_argument(
        "--protocol",
        default="auto",
        help="official, kfold (kfoldN), loso, blocks, seizures; auto: official where the data "
        "has one (or --test-data is given), seizures for seizure recordings, blocks for speech, "
        "else kfold",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--valid-fraction", type=float, default=0.2)
    parser.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="decoder option (VALUE parsed as JSON when it can be)",
    )
    parser.add_argument(
        "--refit",
        action="store_true",
        help="deploy a decoder refitted on every training trial after the evaluation "
        "(default: the one fitted in the first seed and fold)",
    )
    parser.add_argument(
        "--init",
        metavar="PRETRAINED",
        help="start every fit from these pretrained weights (a local checkpoint or weights "
        "folder; what a decoder accepts is in its documentation); recorded in the card",
    )
    parser.add_argument(
        "--label-fraction",
        type=float,
        default=1.0,
        help="use the labels of this share of each fold's training trials (stratified; "
        "validation is carved from it), for label-scarce runs",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        help="speech data: rank each test window's segment among this many candidates "
        "(default: every distinct segment of the test part)",
    )
    parser.add_argument(
        "--reject",
        choices=("auto",),
        help="auto: drop artefacted training trials by autoreject's peak-to-peak thresholds, "
        "learned on each fit's training trials only (test trials are all scored); the "
        "thresholds and drops are in the record and the card",
    )
    parser.add_argument("--out", type=Path, help="run folder (default runs/DECODER-DATA)")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(handler=run)


def parse_options(pairs: list[str]) -> dict[str, object]:
    """Turn ``KEY=VALUE`` strings into options, reading values as JSON when possible."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise SystemExit(f"bci-app: error: option '{pair}' is not KEY=VALUE")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run(args: argparse.Namespace) -> int:
    """Train, evaluate and save; print the summary."""
    from decoders.datasets.errors import DataWarning
    from decoders.datasets.seizures import SeizureCorpus
    from decoders.datasets.trials import OfficialSplit
    from decoders.training.runner import TrainingJob, train
    from decoders.training.sources import load_training_data

    request = data_request(args)
    protocol = args.protocol
    if protocol == "auto" and request.test_source is not None:
        protocol = "official"
    elif protocol == "auto":
        data = load_training_data(request)
        if isinstance(data, OfficialSplit):
            protocol = "official"
        elif isinstance(data, SeizureCorpus):
            protocol = "seizures"
        else:  # speech: no sentence in both training and test
            protocol = "blocks" if request.speech is not None else "kfold"
    job = TrainingJob(
        decoder=args.decoder,
        request=request,
        protocol=protocol,
        seeds=tuple(args.seeds),
        options=parse_options(args.options),
        valid_fraction=args.valid_fraction,
        refit=args.refit,
        init=args.init,
        label_fraction=args.label_fraction,
        n_candidates=args.candidates,
        reject=args.reject,
    )
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(request.source).name or request.source).strip("-")
    out = args.out or Path("runs") / f"{args.decoder}-{slug}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        record = train(job, out, progress=not args.no_progress)
    for other in (w for w in caught if w.category is not DataWarning):
        warnings.showwarning(other.message, other.category, other.filename, other.lineno)
    for message in dict.fromkeys(str(w.message) for w in caught if w.category is DataWarning):
        print(f"warning: {message}", file=sys.stderr)
    print(f"\n{args.decoder} on {record.dataset} - {record.protocol_description}")
    if record.split:
        print(f"split: {record.split['description']}")
    print(f"seeds {record.seeds}; folds {[f.name for f in record.folds]}")
    for rejected in record.rejection:
        print(
            f"rejection ({rejected['method']}), seed {rejected['seed']} {rejected['fold']}: "
            f"{rejected['n_dropped']} of {rejected['n_trials']} training trials dropped"
        )
    for name, summary in record.metrics.items():
        print(f"  {name:18s} {summary.mean:.3f} ± {summary.sd:.3f}")
    figure = (
        "alarms.png"
        if record.protocol == "seizures"
        else "rank_histogram.png"
        if job.request.speech is not None
        else "confusion_matrix.png"
    )
    print(f"saved in {out}/ (weights.pt, card.json, result.json, learning_curve.png, {figure})")
    print(f"next: bci-app export {out}   (ONNX, parity checked, registered for bci-app run)")
    return 0
