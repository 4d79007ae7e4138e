"""``bci-app candidates``: the candidate set a speech model ranks live, from sound files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``candidates`` command."""
    parser = subparsers.add_parser(
        "candidates",
        help="make (and register) a candidate set of speech segments for a speech model",
        description="Cut the sound files of a listening test into segments as the registered "
        "speech MODEL was trained (its card's features, window and hop), compute their "
        "embeddings offline and write them as an .npz candidate set; --register adds it to "
        "the registry (sha256-verified when loaded), for `bci-app run --candidates NAME`.",
    )
    parser.add_argument("--model", help="registered speech model NAME or NAME:VERSION")
    parser.add_argument("--sounds", nargs="+", type=Path, help="sound files or folders")
    parser.add_argument("-o", "--output", type=Path, help="the .npz file to write")
    parser.add_argument("--register", metavar="NAME", help="register the set under NAME")
    parser.add_argument("--registry", help="registry directory (default: $BCI_APP_MODELS)")
    parser.add_argument("--list", action="store_true", help="list the registered sets")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Build, write and register a candidate set, or list the registered ones."""
    from bci_app.models.candidates import CandidateSet, CandidateStore
    from bci_app.models.format import read_card
    from bci_app.models.registry import ModelRegistry

    registry = ModelRegistry(Path(args.registry) if args.registry else None)
    store = CandidateStore(registry)
    if args.list:
        for record in store.records():
            print(f"{record.ref}: {record.size} segments, dimension {record.dimension}")
        return 0
    if not args.model or not args.sounds or not (args.output or args.register):
        print("bci-app: error: give --model, --sounds and -o and/or --register", file=sys.stderr)
        return 2
    from decoders.speech.candidates import candidate_embeddings

    record = registry.resolve(args.model)
    card = read_card(registry.read_verified(record), record.ref)
    speech = card.card.get("extra", {}).get("speech")
    if not speech:
        print(
            f"bci-app: error: {record.ref} is not a speech model (no speech settings)",
            file=sys.stderr,
        )
        return 1
    names, embeddings = candidate_embeddings(args.sounds, speech)
    settings = {key: speech.get(key) for key in ("features", "window_s", "hop_s", "lag_s")}
    candidates = CandidateSet(tuple(names), embeddings, {**settings, "model": record.ref})
    output = args.output or Path(f"{args.register}.npz")
    output.write_bytes(candidates.to_bytes())
    print(f"{output}: {len(names)} segments, dimension {candidates.dimension}")
    if args.register:
        registered = store.register(output, args.register)
        print(f"registered as {registered.ref} (sha256 {registered.sha256[:16]}...)")
    return 0
