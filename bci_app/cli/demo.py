"""``bci-app demo``: the main job, headless, on the real recordings."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from decoders.evaluation.harness import FittedRun


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo",
        help="fetch the real recordings, show what they hold and decode them offline and live",
    )
    parser.add_argument(
        "--live-trials",
        type=int,
        help="MEG test trials streamed through the live pipeline, 1 s each (default: all 74)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Fetch and summarise every real recording, then decode them offline and live."""
    import tempfile
    from pathlib import Path

    from decoders.datasets.fetch import fetch_all

    fetch_all()
    _summarise()
    fitted = _decode_offline()
    with tempfile.TemporaryDirectory(prefix="bci-app-demo-") as registry_dir:
        _decode_trials_live(fitted, Path(registry_dir), args.live_trials)
        _decode_recording_live(Path(registry_dir))
    return 0


def _summarise() -> None:
    """Load every real recording and print what it holds."""
    from decoders.datasets.catalog import CATALOG
    from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg, load_trial_set

    print("\n== Continuous recordings")
    for name, raw in (("meg-eeg", load_meg_eeg()), ("ecog-lfp", load_ecog_lfp())):
        types = sorted(set(raw.get_channel_types()))
        counts = ", ".join(f"{raw.get_channel_types().count(t)} {t}" for t in types)
        events = sorted(set(raw.annotations.description))
        print(f"{name}: {CATALOG[name].description}")
        print(f"  {counts}; {raw.info['sfreq']:.1f} Hz; {raw.times[-1]:.1f} s; events {events}")
    print("\n== Trial sets (official train/test splits)")
    for name, entry in CATALOG.items():
        if entry.kind != "trials":
            continue
        split = load_trial_set(name)
        print(
            f"{name}: {split.train.n_trials} train / {split.test.n_trials} test trials, "
            f"{split.train.n_channels} ch x {split.train.n_times} samples @ "
            f"{split.train.sfreq:g} Hz, classes {list(split.train.classes)}"
        )


def _decode_offline() -> FittedRun:
    """Decode the MEG hand-movement directions, scoring the official test split once."""
    from decoders import registry
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.harness import evaluate
    from decoders.evaluation.protocols import OfficialProtocol

    print("\n== Decoding (offline)")
    fitted: list[FittedRun] = []
    record = evaluate(
        lambda seed: registry.create("xdawncov-ts-lr", seed=seed),
        load_trial_set("HandMovementDirection"),
        OfficialProtocol(),
        seeds=(0,),
        decoder_name="xdawncov-ts-lr",
        on_fitted=fitted.append,
    )
    accuracy = record.metrics["accuracy"].mean
    print(
        f"HandMovementDirection, Xdawn covariances + tangent space + logistic regression: "
        f"test accuracy {accuracy:.3f} (chance 0.25; {record.protocol_description})"
    )
    return fitted[0]


def _decode_trials_live(fitted: FittedRun, registry_dir: Path, n_trials: int | None) -> None:
    """Stream MEG test trials back to back, decode them live and compare with offline."""
    import numpy as np

    from bci_app.errors import LiveError
    from bci_app.inference.replay import play_and_decode
    from bci_app.inference.tracing import format_summary
    from bci_app.models.registry import ModelRegistry
    from decoders.datasets.loaders import load_trial_set
    from decoders.export.publish import publish

    test = load_trial_set("HandMovementDirection").test
    n_trials = test.n_trials if n_trials is None else min(n_trials, test.n_trials)
    print(
        f"\n== Decoding live: {n_trials} HandMovementDirection test trials streamed over LSL "
        f"in real time ({n_trials * test.n_times / test.sfreq:.0f} s), one window per marker"
    )
    record = publish(fitted.model, registry_dir, "demo-hand-movement")
    trials = test.subset(np.arange(n_trials))
    live = play_and_decode(
        trials.to_raw(), record.ref, registry=ModelRegistry(registry_dir), marker_locked=True
    )
    offline = fitted.outcome.proba[:n_trials]
    outputs = np.array([p.outputs for p in live.predictions])
    if outputs.shape != offline.shape:
        counts = live.summary["counts"]
        raise LiveError("demo", f"{len(outputs)} of {n_trials} trials decoded live ({counts})")
    offline_accuracy = np.mean(offline.argmax(1) == trials.labels)
    print(
        f"  accuracy live {live.accuracy():.3f}, offline {offline_accuracy:.3f}; "
        f"same decision on {np.mean(outputs.argmax(1) == offline.argmax(1)):.0%} of trials; "
        f"largest probability difference {np.abs(outputs - offline).max():.1e}"
    )
    print(format_summary(live.summary["latency_ms"], "stage (ONNX Runtime, live)"))


def _decode_recording_live(registry_dir: Path) -> None:
    """Train on the start of the MEG/EEG recording and decode its end live."""
    from bci_app.inference.tracing import format_summary
    from bci_app.session.demo import DEMO_CLASSES, DEMO_DECODER, DEMO_WINDOW
    from bci_app.session.held_out_replay import replay_held_out
    from decoders.datasets.loaders import load_meg_eeg

    print(
        "\n== Decoding live: the MEG/EEG recording, trained on its first 70 %, "
        "its last 30 % streamed in real time (stimulus kind in the 0.5 s after each event)"
    )
    outcome = replay_held_out(
        load_meg_eeg(), DEMO_DECODER, DEMO_CLASSES, registry_dir, window=DEMO_WINDOW
    )
    print(
        f"  {outcome.n_train} training events, {outcome.n_live} live events "
        f"(chance {1 / len(DEMO_CLASSES):.2f}): accuracy live {outcome.live_accuracy:.3f}, "
        f"offline {outcome.offline_accuracy:.3f}; same decision on {outcome.agreement:.0%}"
    )
    print(format_summary(outcome.summary["latency_ms"], "stage (ONNX Runtime, live)"))
