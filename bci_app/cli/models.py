"""``bci-app models``: list, add, remove and verify the models of the registry."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command and its ``list``/``add``/``remove``/``verify`` actions."""
    parser = subparsers.add_parser(
        "models", help="list, add, remove and verify registered ONNX models"
    )
    _registry_option(parser, None)
    # Also accepted after the action (`bci-app models add FILE --registry DIR`).
    after = argparse.ArgumentParser(add_help=False)
    _registry_option(after, argparse.SUPPRESS)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[after], help="list every registered version")
    listing.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also the hashes, where each file came from and a summary of its card",
    )
    listing.set_defaults(handler=run_list)
    add = actions.add_parser(
        "add", parents=[after], help="register an exported .onnx file as a new version"
    )
    add.add_argument("file", help="an .onnx file written by `bci-app export`")
    add.add_argument("--name", required=True, help="model name in the registry")
    add.set_defaults(handler=run_add)
    remove = actions.add_parser(
        "remove", parents=[after], help="delete one registered version (its files and entry)"
    )
    remove.add_argument("ref", metavar="NAME:VERSION", help="the version to delete")
    remove.set_defaults(handler=run_remove)
    verify = actions.add_parser(
        "verify", parents=[after], help="check every file against the manifest's sha256"
    )
    verify.set_defaults(handler=run_verify)


def _registry_option(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument(
        "--registry", default=default, help="registry directory (default: $BCI_APP_MODELS)"
    )


def _registry(args: argparse.Namespace):
    from pathlib import Path

    from bci_app.models.registry import ModelRegistry

    return ModelRegistry(Path(args.registry) if args.registry else None)


def run_list(args: argparse.Namespace) -> int:
    """Print each registered version (with ``--verbose``, its hashes, origin and card)."""
    registry = _registry(args)
    records = registry.records()
    print(f"registry: {registry.root} ({len(records)} versions)")
    for record in records:
        print(
            f"{record.ref:24s} {record.decoder:18s} {record.created}  sha256 {record.sha256[:16]}"
            + ("  (+ step graph)" if record.step_file else "")
        )
        if args.verbose:
            print(_details(registry, record))
    return 0


def _details(registry, record) -> str:
    """Return the indented hashes, origin and card summary of one version."""
    from bci_app.errors import LiveError
    from bci_app.models.format import read_card
    from bci_app.session.models import summarize_card

    lines = [
        f"file          {registry.path(record)} (sha256 {record.sha256})",
        f"content hash  {record.content_sha256 or 'not recorded'}",
        f"origin        {record.origin or 'not recorded'}",
    ]
    try:
        card = read_card(registry.read_verified(record), record.ref)
    except LiveError as error:
        lines.append(f"FAILED        {error}")
        return "\n".join(f"    {line}" for line in lines)
    summary = summarize_card(card)
    lines.append(f"exported      {card.export.get('created', 'unknown')}")
    rows = summary.model + summary.training + summary.validation
    lines += [f"{label:13s} {text}" for label, text in rows]
    return "\n".join(f"    {line}" for line in lines)


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


def run_remove(args: argparse.Namespace) -> int:
    """Delete one version."""
    from bci_app.errors import LiveError

    name, _, version = args.ref.partition(":")
    if not version.isdigit():
        print(
            f"bci-app: error: {args.ref}: give the version to delete as NAME:VERSION "
            "(see `bci-app models list`)",
            file=sys.stderr,
        )
        return 2
    registry = _registry(args)
    try:
        record = registry.remove(name, int(version))
    except LiveError as error:
        print(f"bci-app: error: {error}", file=sys.stderr)
        return 1
    print(f"removed {record.ref} ({record.decoder}) from {registry.root}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Check every registered file; exit 1 if any fails."""
    from bci_app.errors import LiveError
    from bci_app.models.format import read_card

    registry = _registry(args)
    failed = 0
    for record in registry.records():
        try:
            read_card(registry.read_verified(record), record.ref)
            if record.step_file:
                read_card(registry.read_verified(record, step=True), f"{record.ref} (step)")
            print(f"{record.ref}: ok")
        except LiveError as error:
            failed += 1
            print(f"{record.ref}: FAILED: {error}")
    return 1 if failed else 0
