"""``bci-app demo``: the main job, headless, on the real recordings."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` command."""
    parser = subparsers.add_parser(
        "demo", help="fetch the real recordings, show what they hold and decode them"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Fetch, load and summarise every real recording, then decode one trial set."""
    from decoders.datasets.catalog import CATALOG
    from decoders.datasets.fetch import fetch_all
    from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg, load_trial_set

    fetch_all()
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
    _decode_offline()
    return 0


def _decode_offline() -> None:
    """Decode the MEG hand-movement directions, scoring the official test split once."""
    from decoders import registry
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.harness import evaluate
    from decoders.evaluation.protocols import OfficialProtocol

    print("\n== Decoding (offline)")
    record = evaluate(
        lambda seed: registry.create("xdawncov-ts-lr", seed=seed),
        load_trial_set("HandMovementDirection"),
        OfficialProtocol(),
        seeds=(0,),
        decoder_name="xdawncov-ts-lr",
    )
    accuracy = record.metrics["accuracy"].mean
    print(
        f"HandMovementDirection, Xdawn covariances + tangent space + logistic regression: "
        f"test accuracy {accuracy:.3f} (chance 0.25; {record.protocol_description})"
    )
