"""``bci-app decoders``: list the registered decoders."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``decoders`` command."""
    parser = subparsers.add_parser("decoders", help="list the registered decoders")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each decoder's name and summary."""
    from decoders.registry import REGISTRY

    for entry in REGISTRY.values():
        print(f"{entry.name:20s} {entry.summary}")
    return 0
