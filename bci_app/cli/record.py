"""``bci-app record``: record LSL streams to a crash-safe XDF file until Ctrl-C."""

from __future__ import annotations

import argparse
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``record`` command."""
    parser = subparsers.add_parser(
        "record",
        help="record LSL streams (signals and markers) until Ctrl-C",
        description="Record the selected streams (all visible ones by default) to an XDF file "
        "written incrementally (readable after a crash), then, on a clean stop, one FIF file "
        "per signal stream with events and gap annotations (and, when asked, a BIDS copy).",
    )
    parser.add_argument("output", help="the .xdf file to create")
    parser.add_argument("--name", action="append", default=[], help="stream name (repeatable)")
    parser.add_argument("--type", action="append", default=[], help="stream type (repeatable)")
    parser.add_argument(
        "--source-id", action="append", default=[], help="stream source id (repeatable)"
    )
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    parser.add_argument("--no-fif", action="store_true", help="do not write the FIF files")
    parser.add_argument("--bids-root", help="also write the recording into this BIDS data set")
    parser.add_argument("--subject", help="BIDS subject label (a pseudonym, never a name)")
    parser.add_argument("--session", help="BIDS session label")
    parser.add_argument("--task", default="bci", help="BIDS task label (default: bci)")
    parser.add_argument(
        "--timeout", type=float, default=2.0, help="seconds to look for streams (default 2)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Record until Ctrl-C, the duration, or a failure of the disk."""
    from acquisition.discovery import find_streams
    from acquisition.session import AcquisitionSession
    from decoders.datasets.errors import DataError

    if args.bids_root and not args.subject:
        raise DataError(args.bids_root, "a BIDS export needs --subject")
    bids = None
    if args.bids_root:
        bids = {"root": args.bids_root, "subject": args.subject, "task": args.task}
        bids |= {"session": args.session} if args.session else {}
    visible = find_streams(timeout=args.timeout, full=True)
    wanted = [
        s
        for s in visible
        if (not (args.name or args.type or args.source_id))
        or s.name in args.name
        or s.stype in args.type
        or s.source_id in args.source_id
    ]
    if not wanted:
        listing = ", ".join(s.label for s in visible) or "none"
        raise DataError("LSL", f"no stream to record matches the selection (visible: {listing})")
    with AcquisitionSession() as session:
        for stream in wanted:
            session.open(stream)
        recorder = session.record(args.output, fif=not args.no_fif, bids=bids)
        print(f"recording {', '.join(s.label for s in wanted)} to {args.output}; Ctrl-C to stop")
        seen = session.events.next_seq
        deadline = None if args.duration is None else time.monotonic() + args.duration
        try:
            while recorder.recording and (deadline is None or time.monotonic() < deadline):
                time.sleep(0.2)
                for event in session.events.since(seen):
                    print(f"  {event.stream}: {event.message}", flush=True)
                    seen = event.seq + 1
        except KeyboardInterrupt:
            print("stopping...", flush=True)
        result = recorder.stop()
    counts = ", ".join(f"{name}: {n} samples" for name, n in result.samples.items())
    print(f"{result.xdf} ({result.bytes_written} bytes; {counts})")
    for path in [*result.fif, *result.bids]:
        print(f"{path}")
    if result.stop_reason != "stopped":
        print(f"recording ended early: {result.stop_reason}")
        return 1
    return 0
