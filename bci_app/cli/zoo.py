"""``bci-app decoders``: list the registered decoders."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``decoders`` command."""
    parser = subparsers.add_parser(
        "decoders",
        help="list the registered decoders",
        description="List the decoders that train, export to ONNX and run live, with their "
        "family and the licence of their code where it is not bci-app's own (non-commercial "
        "licences flagged).",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list decoders that train but do not export, and every braindecode model "
        "that does not export or is not registered, with the reason",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="print the table of the README's Decoders section"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print each decoder's name, family, licence and summary."""
    from decoders.models.braindecode_zoo.catalog import export_table
    from decoders.registry import REGISTRY, licence_note, markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    for entry in REGISTRY.values():
        if not entry.exports and not args.all:
            continue
        flag = "" if entry.exports else "  [trains, does not export]"
        licence = licence_note(entry)
        print(f"{entry.name:24s} {entry.family:24s} {licence:32s} {entry.summary}{flag}")
    if args.all:
        print("\nbraindecode models that do not export or are not registered:\n")
        print(export_table())
    else:
        print("\n(--all also lists the decoders that do not export, with the reason)")
    return 0
