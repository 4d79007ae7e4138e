"""``bci-app quality``: per-channel signal quality and artefacts of a file or a stream.

The same monitor as the desktop's viewer and the recorder's events (``acquisition.quality``):
for a file, a table of the share of blocks each channel was flagged in and the median of each
measure, and a PNG of the flags over time; for a stream, the same table over ``--seconds``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

_FLAG_COLOURS = {
    "eye": "tab:blue",
    "muscle": "tab:orange",
    "jump": "tab:red",
    "drift": "tab:purple",
    "saturated": "tab:brown",
    "flat": "tab:gray",
    "line_noisy": "tab:olive",
    "out_of_range": "black",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``quality`` command."""
    parser = subparsers.add_parser(
        "quality",
        help="per-channel signal quality and artefacts of a file or a stream",
        description="Flag each channel block by block (flat, line noise, out of range, "
        "NaN/Inf, saturation, drift; eye blinks and movements, muscle, pops and jumps) and "
        "print how often each channel was flagged; for a file, also draw the flags over time.",
    )
    parser.add_argument("file", nargs="?", type=Path, help="a recording (any readable format)")
    parser.add_argument("--stream", help="an LSL stream name instead of a file")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="seconds of a stream to assess (default 10)"
    )
    parser.add_argument(
        "--set",
        dest="thresholds",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a threshold (eye_uv, muscle_db, jump_uv, drift_uv_per_s, saturation_percent, "
        "window, line_freq, ...)",
    )
    parser.add_argument("--png", type=Path, help="flags over time (default FILE-quality.png)")
    parser.add_argument("--all", action="store_true", help="list unflagged channels too")
    parser.add_argument("--sfreq", type=float, help="sampling rate of a .ts trial file")
    parser.set_defaults(handler=run)


def settings_from(pairs: list[str]):
    """Return :class:`~acquisition.quality.QualitySettings` from ``NAME=VALUE`` pairs."""
    from acquisition.quality import QualitySettings
    from decoders.datasets.errors import DataError

    options: dict[str, float] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        try:
            options[name] = float(value)
        except ValueError:
            separator = ""
        if not separator:
            raise DataError("--set", f"'{pair}' is not NAME=NUMBER")
    try:
        return QualitySettings.from_options(options)
    except ValueError as error:
        raise DataError("--set", str(error)) from error


def run(args: argparse.Namespace) -> int:
    """Assess the file or stream and print the table."""
    from acquisition.quality_summary import channel_summary, format_table
    from decoders.datasets.errors import DataError

    if (args.file is None) == (args.stream is None):
        raise DataError("bci-app quality", "give a FILE or --stream NAME (one of them)")
    settings = settings_from(args.thresholds)
    if args.file is not None:
        reports, types, source = _file_reports(args.file, settings, args.sfreq)
    else:
        reports, types, source = _stream_reports(args.stream, settings, args.seconds)
    rows = channel_summary(reports, types)
    flagged = sum(any(row.flagged.values()) for row in rows)
    print(
        f"{source}: {len(reports)} blocks of {settings.window:g} s, {flagged} of {len(rows)} "
        "channels flagged at least once (share of blocks per flag; median measures)"
    )
    print(format_table(rows, only_flagged=not args.all))
    if args.file is not None:
        png = args.png or Path(f"{args.file.name.split('.')[0]}-quality.png")
        _plot(reports, png, source)
        print(f"flags over time: {png}")
    return 0


def _file_reports(path: Path, settings, sfreq: float | None):
    from acquisition.quality_summary import assess_recording
    from decoders.datasets.errors import DataError
    from decoders.datasets.readers import read_recording

    raw = read_recording(path, sfreq=sfreq)
    types = raw.get_channel_types()
    try:
        reports = assess_recording(raw.get_data(), raw.ch_names, types, raw.info["sfreq"], settings)
    except ValueError as error:
        raise DataError(path, str(error)) from error
    return reports, types, str(path)


def _stream_reports(name: str, settings, seconds: float):
    from acquisition.discovery import find_streams
    from acquisition.inlet import open_inlet
    from decoders.datasets.errors import DataError

    visible = find_streams(timeout=2.0, full=True)
    wanted = [s for s in visible if s.name == name and s.regular]
    if not wanted:
        listing = ", ".join(s.label for s in visible) or "none"
        raise DataError("LSL", f"no signal stream named '{name}' (visible: {listing})")
    stream = wanted[0]
    reports = []
    inlet = open_inlet(stream, seconds=max(seconds, 5.0), quality=settings)
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            report = inlet.quality
            if report is not None and (not reports or report.time != reports[-1].time):
                reports.append(report)
            time.sleep(min(0.05, settings.window / 4))
    finally:
        inlet.stop()
    if not reports:
        raise DataError(
            stream.label, f"sent no complete {settings.window:g} s block in {seconds:g} s"
        )
    return reports, list(stream.ch_types), stream.label


def _plot(reports, path: Path, title: str) -> None:
    """Draw the flags over time of the channels flagged at least once, one colour per kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    flags = {kind: np.array([getattr(r, kind) for r in reports]) for kind in _FLAG_COLOURS}
    shown = np.flatnonzero(np.any([hits.any(axis=0) for hits in flags.values()], axis=0))
    names = [reports[0].ch_names[i] for i in shown]
    n_channels = len(names)
    times = np.array([r.time for r in reports])
    width = times[1] - times[0] if len(times) > 1 else 1.0
    figure, axes = plt.subplots(figsize=(12, max(3.0, 0.12 * n_channels + 1.5)))
    for kind, colour in _FLAG_COLOURS.items():
        block, channel = np.nonzero(flags[kind][:, shown])
        if block.size:
            axes.barh(channel, width, left=times[block] - width, height=0.8, color=colour,
                      label=kind.replace("_", " "))  # fmt: skip
    axes.set_yticks(range(n_channels), names, fontsize=6 if n_channels > 40 else 8)
    axes.set_ylim(max(n_channels, 1) - 0.5, -0.5)
    axes.set_xlim(times[0] - width, times[-1])
    axes.set_xlabel("time (s)")
    axes.set_title(f"quality flags of {title} ({n_channels} channels flagged)")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(loc="upper right", fontsize=7, ncols=4)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
