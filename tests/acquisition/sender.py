"""An LSL outlet in its own process, for the tests that kill or restart a source.

Usage: sender.py NAME [--channels N] [--sfreq HZ] [--chunk N] [--start K] [--markers]
Channel 0 counts samples from K, so receivers can check that nothing was lost. With
``--markers`` a marker stream is published beside it, as the player does.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pylsl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--sfreq", type=float, default=250.0)
    parser.add_argument("--chunk", type=int, default=5)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--markers", action="store_true")
    args = parser.parse_args()
    info = pylsl.StreamInfo(
        args.name, "EEG", args.channels, args.sfreq, "float32", f"{args.name}-sid"
    )
    outlet = pylsl.StreamOutlet(info, chunk_size=args.chunk)
    idle_outlets = []  # kept open while the process lives
    if args.markers:
        markers = pylsl.StreamInfo(
            f"{args.name}-markers", "Markers", 1, 0, "string", f"{args.name}-sid-markers"
        )
        idle_outlets.append(pylsl.StreamOutlet(markers))
    print("ready", flush=True)
    origin, sent = pylsl.local_clock(), 0
    while True:
        due = origin + (sent + args.chunk) / args.sfreq
        time.sleep(max(0.0, due - pylsl.local_clock()))
        values = np.zeros((args.chunk, args.channels), dtype=np.float32)
        values[:, 0] = args.start + sent + np.arange(args.chunk)
        outlet.push_chunk(values, timestamp=origin + (sent + args.chunk - 1) / args.sfreq)
        sent += args.chunk


if __name__ == "__main__":
    main()
