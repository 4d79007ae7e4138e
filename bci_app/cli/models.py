"""``bci-app models``: list, add and verify the models of the registry."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command and its ``list``/``add``/``verify`` actions."""
    parser = subparsers.add_parser("models", help="list, add and verify registered ONNX models")
    parser.add_argument("--registry", help="registry directory (default: $BCI_APP_MODELS)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list every registered version")
    listing.set_defaults(handler=run_list)
    add = actions.add_parser("add", help="register an exported .onnx file as a new version")
    add.add_argument("file", help="an .onnx file written by `bci-app export`")
    add.add_argument("--name", required=True, help="model name in the registry")
    add.set_defaults(handler=run_add)
    verify = actions.add_parser("verify", help="check every file against the manifest's sha256")
    verify.set_defaults(handler=run_verify)


def _registry(args: argparse.Namespace):
    from pathlib import Path

    from bci_app.models.registry import ModelRegistry

    return ModelRegistry(Path(args.registry) if args.registry else None)


def run_list(args: argparse.Namespace) -> int:
    """Print each registered version."""
    registry = _registry(args)
    records = registry.records()
    print(f"registry: {registry.root} ({len(records)} versions)")
    for record in records:
        print(
            f"{record.ref:24s} {record.decoder:18s} {record.created}  sha256 {record.sha256[:16]}"
            + ("  (+ step graph)" if record.step_file else "")
        )
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Register a file."""
    from pathlib import Path

    from bci_app.errors import LiveError

    try:
        record = _registry(args).register(Path(args.file), args.name)
    except LiveError as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
    print(f"registered {args.file} as {record.ref} (sha256 {record.sha256[:16]}...)")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Check every registered file; exit 1 if any fails."""
    from bci_app.errors import LiveError

    registry = _registry(args)
    failed = 0
    for record in registry.records():
        try:
            registry.read_verified(record)
            if record.step_file:
                registry.read_verified(record, step=True)
            print(f"{record.ref}: ok")
        except LiveError as error:
            failed += 1
            print(f"{record.ref}: FAILED: {error}")
    return 1 if failed else 0
