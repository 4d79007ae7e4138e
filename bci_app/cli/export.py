"""``bci-app export``: a trained decoder to ONNX, parity checked, registered, optionally int8."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` command."""
    parser = subparsers.add_parser(
        "export",
        help="export a trained decoder to ONNX (parity checked) and register it",
        description=(
            "Export the decoder of a checkpoint folder (weights.pt + card.json, as written by "
            "`bci-app train`) to ONNX with its card and a content hash in the metadata, and "
            "register it in the model registry as the next version of NAME (default: the "
            "checkpoint folder's name). ONNX Runtime is compared with torch on fresh random "
            "inputs; the export fails if the max relative error exceeds 1e-4."
        ),
    )
    parser.add_argument("checkpoint", help="checkpoint folder")
    parser.add_argument(
        "-o", "--output", help="the .onnx file to write (default: CHECKPOINT/model.onnx)"
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="also write <output>.int8.onnx (dynamic int8) and report its accuracy change",
    )
    parser.add_argument(
        "--validation",
        help="data source of the validation trials for --int8 (default: the card's own)",
    )
    parser.add_argument(
        "--valid-fraction",
        type=float,
        default=0.2,
        help="validation share used in training (default 0.2)",
    )
    parser.add_argument(
        "--no-resample",
        action="store_true",
        help="forbid the live path to resample a stream at another rate to the model's",
    )
    naming = parser.add_mutually_exclusive_group()
    naming.add_argument(
        "--register",
        metavar="NAME",
        help="model name in the registry (default: the checkpoint folder's name)",
    )
    naming.add_argument(
        "--no-register", action="store_true", help="only write the file; register nothing"
    )
    parser.add_argument("--registry", help="registry directory (default: $BCI_APP_MODELS)")
    parser.set_defaults(handler=run)


def model_name(checkpoint: Path) -> str:
    """Return the default registry name of a checkpoint folder's export (its folder name)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", checkpoint.resolve().name).strip("-.")
    return name or "model"


def run(args: argparse.Namespace) -> int:
    """Export, report parity (and int8 accuracy), register unless told not to."""
    from bci_app.errors import LiveError
    from bci_app.models.registry import ModelRegistry
    from decoders.export.onnx_export import ExportError, export_checkpoint
    from decoders.export.parity import ParityError

    checkpoint = Path(args.checkpoint)
    output = Path(args.output) if args.output else checkpoint / "model.onnx"
    if not (checkpoint / "card.json").is_file():
        print(
            f"bci-app: error: {checkpoint}: not a checkpoint folder (no card.json)", file=sys.stderr
        )
        return 1
    try:
        report = export_checkpoint(checkpoint, output, allow_resample=not args.no_resample)
    except (ExportError, ParityError) as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    if args.int8:
        try:
            print(_quantize(checkpoint, output, args))
        except ValueError as error:  # validation trials that do not fit the model
            print(f"bci-app: error: {error}", file=sys.stderr)
            return 1
    if args.no_register:
        print(f"not registered; to run it: bci-app models add {output} --name NAME")
        return 0
    registry = ModelRegistry(Path(args.registry) if args.registry else None)
    try:
        record = registry.register(output, args.register or model_name(checkpoint))
    except LiveError as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
    print(f"registered as {record.ref} in {registry.root} (sha256 {record.sha256[:16]}...)")
    where = f" --registry {args.registry}" if args.registry else ""
    print(f"run it with: bci-app run --stream STREAM --model {record.name}{where}")
    return 0


def _quantize(checkpoint, output, args: argparse.Namespace) -> str:
    from decoders.card import DecoderCard
    from decoders.export.quantize import quantize_int8
    from decoders.export.validation import validation_trials

    card = DecoderCard.load(checkpoint / "card.json")
    trials = validation_trials(card, source=args.validation, valid_fraction=args.valid_fraction)
    target = output.with_name(f"{output.stem}.int8.onnx")
    return quantize_int8(output, target, trials).summary()
