"""The ``bci-app`` command line: one module per command, each registering its sub-parser."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from bci_app import __version__

# Each name is a module of this package exposing ``register(subparsers)``; registering must
# stay cheap (no torch, Qt, flwr or mne imports) so that ``bci-app --help`` starts fast.
COMMANDS = (
    "data",
    "demo",
    "play",
    "streams",
    "record",
    "quality",
    "train",
    "evaluate",
    "compare",
    "zoo",
    "pretrain",
    "anomaly",
    "export",
    "candidates",
    "run",
    "models",
    "fed",
    "gui",
)


def _user_errors() -> tuple[type[BaseException], ...]:
    """Return the exception types whose message is shown to the user without a traceback."""
    from bci_app.errors import LiveError
    from decoders.datasets.errors import DataError, FetchError

    return (DataError, FetchError, LiveError)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="bci-app",
        description="Brain-computer-interface decoding: acquisition, decoders, live inference.",
    )
    parser.add_argument("--version", action="version", version=f"bci-app {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"bci_app.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``bci-app`` command and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the command as typed, for commands that start copies of themselves
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("bci-app: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
