"""``bci-app streams``: list the LSL streams visible from this machine."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``streams`` command."""
    parser = subparsers.add_parser("streams", help="list visible LSL streams and their metadata")
    parser.add_argument(
        "--timeout", type=float, default=1.0, help="seconds to wait for answers (default 1)"
    )
    parser.add_argument("--channels", action="store_true", help="also list every channel")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per stream (and its channels when asked)."""
    from acquisition.discovery import find_streams

    streams = find_streams(timeout=args.timeout, full=True)
    if not streams:
        print(f"no LSL stream visible (waited {args.timeout:g} s)")
        return 0
    print(f"{'name':24s} {'type':10s} {'ch':>4s} {'rate':>9s} {'format':9s} {'host':12s} source id")
    for stream in streams:
        rate = f"{stream.sfreq:g} Hz" if stream.regular else "irregular"
        print(
            f"{stream.name:24s} {stream.stype:10s} {stream.n_channels:4d} {rate:>9s} "
            f"{stream.channel_format:9s} {stream.hostname:12s} {stream.source_id}"
        )
        kinds = [c.kind for c in stream.channels]
        summary = ", ".join(f"{kinds.count(k)} {k}" for k in sorted(set(kinds)))
        print(f"{'':24s} channels: {summary}")
        if args.channels:
            for channel in stream.channels:
                unit = channel.unit or "-"
                print(f"{'':26s}{channel.name:16s} {channel.kind:6s} {unit}")
    return 0
