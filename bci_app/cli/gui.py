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
    """Start the GUI, or explain why it cannot start."""
    if not _display_available():
        print(
            "bci-app: error: no display (DISPLAY, WAYLAND_DISPLAY unset); run it on a desktop, "
            "or set QT_QPA_PLATFORM=offscreen to run without one",
            file=sys.stderr,
        )
        return 1
    try:
        from gui.app import run as run_app
    except ImportError as error:
        print(
            f"bci-app: error: the GUI needs the gui extra ({error}); "
            "install it with pip install 'bci-app[gui]'",
            file=sys.stderr,
        )
        return 1
    return run_app(demo=args.demo, theme=args.theme)


def _display_available() -> bool:
    """Return True when Qt has somewhere to draw."""
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
