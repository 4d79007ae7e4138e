"""``bci-app run``: the live pipeline, headless: streams in, registered models, predictions out."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(
        "run",
        help="decode LSL streams live with registered ONNX models",
        description=(
            "Decode LSL signal streams live with models of the registry, publish each "
            "runner's predictions as an LSL stream 'bci-app-<model>' (and the seizure-alarm "
            "state of forecasting models as 'bci-app-<model>-alarm'), print them with their "
            "latency, and a latency summary at the end."
        ),
    )
    parser.add_argument(
        "--stream",
        action="append",
        required=True,
        help="signal stream name; give one for all models, or one per --model",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="registered model NAME (latest version, newer ones swapped in), NAME:VERSION, "
        "or the path of an exported file that is registered (`bci-app models list`)",
    )
    parser.add_argument(
        "--name",
        action="append",
        help="runner name, one per --model (default: the model's name); predictions are "
        "published as the LSL stream bci-app-NAME",
    )
    parser.add_argument("--registry", help="registry directory (default: $BCI_APP_MODELS)")
    parser.add_argument("--markers", help="marker stream: decode the window locked to each marker")
    parser.add_argument(
        "--marker-offset",
        type=float,
        default=0.0,
        help="window start relative to its marker, in seconds (default 0)",
    )
    parser.add_argument(
        "--marker-values", help="comma-separated marker values decoded (default: all)"
    )
    parser.add_argument(
        "--channel-map",
        action="append",
        default=[],
        metavar="MODEL=STREAM",
        help="read model channel MODEL from stream channel STREAM (repeat or comma-separate)",
    )
    parser.add_argument(
        "--allow-type-change",
        action="store_true",
        help="accept a --channel-map across channel types (MEG onto EEG, EEG onto ECoG) or "
        "with a rate change (refused by default)",
    )
    parser.add_argument(
        "--candidates",
        help="registered candidate set (bci-app candidates) ranked by a speech model; the "
        "top-k of each window are published as the stream 'bci-app-<model>-ranking'",
    )
    parser.add_argument("--top-k", type=int, default=10, help="candidates kept (default 10)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--log", help="JSON-lines log of predictions and events")
    parser.add_argument("--no-follow", action="store_true", help="never swap in newer versions")
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for each stream (default 5)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the engine until the duration ends or Ctrl-C; print the summary."""
    from pathlib import Path

    from bci_app.errors import LiveError
    from bci_app.inference.adapter import parse_channel_map
    from bci_app.inference.engine import InferenceEngine
    from bci_app.models.registry import ModelRegistry

    if len(args.stream) not in (1, len(args.model)):
        print("bci-app: error: give one --stream, or one per --model", file=sys.stderr)
        return 2
    if args.name and len(args.name) != len(args.model):
        print("bci-app: error: give one --name per --model", file=sys.stderr)
        return 2
    streams = args.stream * len(args.model) if len(args.stream) == 1 else args.stream
    names = args.name or [None] * len(args.model)
    registry = ModelRegistry(Path(args.registry) if args.registry else None)
    values = set(args.marker_values.split(",")) if args.marker_values else None
    try:
        channel_map = parse_channel_map(args.channel_map)
        engine = InferenceEngine(
            registry,
            log_path=Path(args.log) if args.log else None,
            stream_timeout=args.timeout,
        )
    except LiveError as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
    with engine:
        try:
            for stream, model, name in zip(streams, args.model, names, strict=True):
                runner = engine.add(
                    stream,
                    model,
                    markers=args.markers,
                    marker_offset_s=args.marker_offset,
                    marker_values=values,
                    channel_map=channel_map,
                    allow_type_change=args.allow_type_change,
                    follow=not args.no_follow,
                    candidates=args.candidates,
                    top_k=args.top_k,
                    name=name,
                )
                print(
                    f"decoding '{stream}' with {runner.ref} ({runner.card.decoder}), runner "
                    f"'{runner.name}' publishing bci-app-{runner.name}"
                )
                for line in runner.adaptation:
                    print(f"  {line}")
        except LiveError as error:
            print(f"bci-app: error: {error}", file=sys.stderr)
            return 1
        if not args.quiet:
            engine.subscribe(_print_prediction)
        engine.start()
        try:
            engine.run_for(args.duration)
        except KeyboardInterrupt:
            print("stopped")
        summary = engine.summary()
        errors = dict(engine.errors)
    _print_summary(summary)
    for name, error in errors.items():
        print(f"bci-app: error: runner {name} stopped: {error}", file=sys.stderr)
    return 1 if errors else 0


def _print_prediction(prediction) -> None:
    trace = prediction.trace
    marker = f" [{prediction.marker}]" if prediction.marker is not None else ""
    alarm = prediction.alarm
    state = ""
    if alarm is not None:
        state = f"  ALARM {'RAISED' if alarm.raised else 'on'}" if alarm.active else "  no alarm"
        state += f" ({alarm.positives} positive)"
    if prediction.ranking is not None:
        ranking = prediction.ranking
        best = ", ".join(
            f"{name} {score:.2f}"
            for name, score in zip(ranking.names[:3], ranking.scores, strict=False)
        )
        decided = f"top {len(ranking.names)}: {best}"
        stages = f"inference {trace.inference:.2f} ms, ranking {trace.ranking:.2f} ms"
    else:
        values = " ".join(f"{v:.3f}" for v in prediction.outputs[:6])
        decided = f"{prediction.label} ({values})"
        stages = f"inference {trace.inference:.2f} ms"
    print(
        f"{prediction.timestamp:.3f} {prediction.runner}{marker}: {decided}{state}  e2e "
        f"{trace.e2e:.1f} ms, {stages}",
        flush=True,
    )


def _print_summary(summary: dict) -> None:
    from bci_app.inference.tracing import format_summary

    for name, entry in summary.items():
        counts = ", ".join(f"{key} {value}" for key, value in entry["counts"].items())
        print(f"\n{name} ({entry['model']} on '{entry['stream']}'): {counts}")
        if entry["latency_ms"]:
            print(format_summary(entry["latency_ms"], "stage"))
