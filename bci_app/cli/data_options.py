"""Command-line options naming training or evaluation data, shared by several commands."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data`` and the options that label and cut it."""
    group = parser.add_argument_group("data")
    group.add_argument(
        "--data",
        required=True,
        help="catalog name (bci-app data list), simulate:TASK or "
        "'simulate:TASK?KEY=VALUE&KEY=VALUE' (options: bci-app data list), a recording, a "
        "file of trials (.ts, -epo.fif, .npz), a BIDS folder, a folder of class sub-folders, "
        "or a CHB-MIT folder (chbNN/ with its summary)",
    )
    group.add_argument(
        "--sim-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="simulator option, added to simulate:TASK (repeat; bci-app data list)",
    )
    group.add_argument("--classes", nargs="+", help="event names used as classes")
    group.add_argument("--label-file", type=Path, help="CSV/TSV with onset,label columns")
    group.add_argument("--tmin", type=float, default=0.0, help="epoch start after events (s)")
    group.add_argument("--tmax", type=float, default=1.0, help="epoch end after events (s)")
    group.add_argument(
        "--window-s", type=float, default=2.0, help="window length for class folders (s)"
    )
    group.add_argument(
        "--sfreq", type=float, help="sampling rate (Hz) of trial files that lack it (.ts)"
    )
    group.add_argument(
        "--unit",
        help="unit of trial files that lack it (.ts): V, mV, uV (default), nV, T, pT, fT",
    )
    group.add_argument(
        "--forecast",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="seizure-forecasting setting for seizure recordings (sph_s, sop_s, "
        "interictal_gap_s, monitoring_s, k, n, threshold, ...; see the README)",
    )
    group.add_argument(
        "--speech",
        nargs="*",
        metavar="KEY=VALUE",
        help="the data are speech listening (a BIDS folder whose events name sound files, or "
        "simulate:speech_meg/speech_eeg): pair brain windows with the speech heard; options "
        "window_s, lag_s, hop_s, sfreq, sound_channel, kind (mel, envelope, mel+envelope, "
        "wav2vec), frame_rate, n_mels, wav2vec (a local checkpoint), layers",
    )
    group.add_argument(
        "--crop",
        nargs=2,
        type=float,
        metavar=("START", "STOP"),
        help="keep this part of trials (s)",
    )


def data_request(args: argparse.Namespace):
    """Return the :class:`~decoders.training.sources.DataRequest` the options describe."""
    from decoders.training.sources import DataRequest, with_simulator_options

    from .train import parse_options

    return DataRequest(
        source=with_simulator_options(args.data, args.sim_option),
        classes=tuple(args.classes) if args.classes else None,
        label_file=args.label_file,
        tmin=args.tmin,
        tmax=args.tmax,
        window_s=args.window_s,
        crop=tuple(args.crop) if args.crop else None,
        forecast=parse_options(getattr(args, "forecast", [])),
        speech=parse_options(args.speech) if args.speech is not None else None,
        test_source=getattr(args, "test_data", None),
        sfreq=args.sfreq,
        unit=args.unit,
    )
