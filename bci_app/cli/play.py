"""``bci-app play``: stream a recording or a simulator over LSL in real time."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import mne

# Real recordings playable by name (``bci-app data fetch`` gets them).
RECORDINGS = ("meg-eeg", "ecog-lfp")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``play`` command."""
    parser = subparsers.add_parser(
        "play",
        help="stream a recording (or a simulator) over LSL in real time",
        description="Replay a recording as an LSL stream at its own rate, with its events as a "
        "separate marker stream. SOURCE is a file any reader opens (FIF, EDF/BDF, BrainVision, "
        f"EEGLAB, BIDS, XDF) or a real recording by name ({', '.join(RECORDINGS)}).",
    )
    parser.add_argument("source", nargs="?", help="file, BIDS folder or recording name")
    parser.add_argument(
        "--simulate",
        metavar="TASK",
        help="stream a simulator instead of a file; options as 'TASK?KEY=VALUE&KEY=VALUE' "
        "(bci-app data list)",
    )
    parser.add_argument(
        "--sim-option", action="append", default=[], metavar="KEY=VALUE", help="simulator option"
    )
    parser.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    parser.add_argument("--name", help="stream name (default: from the source)")
    parser.add_argument("--source-id", help="LSL source id (default: from the name)")
    parser.add_argument("--chunk-size", type=int, help="samples per push (default ~10 ms)")
    parser.add_argument("--loop", action="store_true", help="start again at the end")
    parser.add_argument("--no-markers", action="store_true", help="do not stream the events")
    parser.add_argument("--stream", help="for XDF files: name or type of the stream to play")
    parser.add_argument(
        "--duration",
        type=float,
        help="seconds to stream (default: the whole recording; with --simulate, 60)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Stream until the recording ends, the duration passes or Ctrl-C."""
    from acquisition.player import Player

    if (args.source is None) == (args.simulate is None):
        raise SystemExit("bci-app play: give either SOURCE or --simulate TASK")
    raw, default_name, origin = _load(args)
    player = Player(
        raw,
        name=args.name or default_name,
        source_id=args.source_id,
        chunk_size=args.chunk_size,
        loop=args.loop,
        markers=not args.no_markers,
        source=origin,
    )
    kinds = sorted(set(player.ch_types))
    print(
        f"streaming '{player.name}' ({len(player.ch_names)} ch {player.stype} "
        f"[{', '.join(kinds)}] at {player.sfreq:g} Hz, {player.duration:.1f} s"
        f"{', looping' if player.loop else ''}; source id '{player.source_id}')"
    )
    if player.events:
        print(f"markers on '{player.marker_name}' ({len(player.events)} events)")
    print("Ctrl-C to stop", flush=True)
    player.start()
    try:
        limit = args.duration if args.source is not None else None
        deadline = None if limit is None else time.monotonic() + limit
        while not player.wait(0.2):
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        player.stop()
    print(f"streamed {player.pushed} samples ({player.pushed / player.sfreq:.1f} s)")
    return 0


def _load(args: argparse.Namespace) -> tuple[mne.io.BaseRaw, str, str]:
    """Return the recording to play, a default stream name and its origin."""
    if args.simulate is not None:
        from decoders.simulators.registry import simulate_raw
        from decoders.training.sources import (
            SIMULATOR_PREFIX,
            parse_simulator_source,
            with_simulator_options,
        )

        source = with_simulator_options(SIMULATOR_PREFIX + args.simulate, args.sim_option)
        task, options = parse_simulator_source(source)
        seed = int(options.pop("seed", args.seed))  # type: ignore[call-overload]
        duration = args.duration if args.duration is not None else 60.0
        raw = simulate_raw(task, seed=seed, duration_s=duration, **options)
        return (
            raw,
            f"sim-{task}",
            f"simulator {source.removeprefix(SIMULATOR_PREFIX)} (seed {seed})",
        )
    if args.source in RECORDINGS and not Path(args.source).exists():
        from decoders.datasets.loaders import load_ecog_lfp, load_meg_eeg

        loader = {"meg-eeg": load_meg_eeg, "ecog-lfp": load_ecog_lfp}[args.source]
        return loader(), args.source, f"real recording {args.source}"
    from decoders.datasets.readers import read_recording

    path = Path(args.source)
    raw = read_recording(path, stream=args.stream)
    return raw, path.name.split(".")[0], str(path)
