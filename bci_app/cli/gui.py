"""``bci-app gui``: the clinician desktop (needs the ``gui`` extra and a display)."""

from __future__ import annotations

import argparse
import os
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gui`` command."""
    parser = subparsers.add_parser(
        "gui",
        help="open the clinician desktop (streams, signals, decoders, recording, calibration)",
        description="Open the desktop application. With --demo, the real MEG/EEG recording is "
        "played over LSL and decoded live by a model trained on it (trained and registered "
        "the first time, a few minutes).",
    )
    parser.add_argument("--demo", action="store_true", help="play a real recording and decode it")
    parser.add_argument("--theme", choices=("dark", "light"), help="colour theme (remembered)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Start the GUI, or explain in one message why it cannot start (exit code 2)."""
    import importlib.util

    if importlib.util.find_spec("PySide6") is None:
        print(
            "bci-app: error: the GUI needs the gui extra (PySide6 is not installed); "
            "install it with pip install 'bci-app[gui]'",
            file=sys.stderr,
        )
        return 1
    from gui.platform_check import check_platform

    check = check_platform()
    if check.problem is not None:
        print(check.problem, file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", check.platform)  # the platform checked is used
    from gui.app import run as run_app

    return run_app(demo=args.demo, theme=args.theme)
