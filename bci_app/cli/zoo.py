"""``bci-app decoders``: list the registered decoders."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``decoders`` command."""
    parser = subparsers.add_parser("decoders", help="list the registered decoders")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table of the README's Decoders section"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each decoder's name, family and summary."""
    from decoders.registry import REGISTRY, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    for entry in REGISTRY.values():
        print(f"{entry.name:20s} {entry.family:24s} {entry.summary}")
    return 0
