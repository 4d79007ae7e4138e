"""``bci-app data``: fetch and list the real recordings, write simulated ones as files."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its ``fetch``/``list``/``simulate`` actions."""
    parser = subparsers.add_parser(
        "data", help="fetch and list the real recordings, write simulated ones as files"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download, verify and extract the recordings")
    fetch.add_argument("keys", nargs="*", help="archives to fetch (default: all)")
    fetch.set_defaults(handler=run_fetch)
    listing = actions.add_parser("list", help="list the recordings and whether they are here")
    listing.set_defaults(handler=run_list)
    simulate = actions.add_parser(
        "simulate",
        help="write a simulator's recordings as files (seizure: the CHB-MIT layout)",
    )
    simulate.add_argument("task", help="simulated task (seizure)")
    simulate.add_argument("--out", type=Path, required=True, help="folder to write into")
    simulate.add_argument("--seed", type=int, default=0, help="simulator seed (default 0)")
    simulate.add_argument(
        "--set",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="simulator option (VALUE parsed as JSON when it can be)",
    )
    simulate.set_defaults(handler=run_simulate)


def run_fetch(args: argparse.Namespace) -> int:
    """Fetch the requested archives into the cache."""
    from decoders.datasets.archives import ARCHIVES
    from decoders.datasets.errors import DataError
    from decoders.datasets.fetch import fetch, is_fetched

    unknown = sorted(set(args.keys) - set(ARCHIVES))
    if unknown:
        raise DataError(", ".join(unknown), f"unknown archive (known: {', '.join(ARCHIVES)})")
    for key in args.keys or list(ARCHIVES):
        archive = ARCHIVES[key]
        if is_fetched(archive):
            print(f"{key}: already here, verified")
        else:
            fetch(archive)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print each recording, its archive and whether it is in the cache."""
    from decoders.datasets.cache import data_home
    from decoders.datasets.catalog import CATALOG
    from decoders.datasets.fetch import is_fetched

    print(f"cache: {data_home()}")
    for entry in CATALOG.values():
        state = "fetched" if is_fetched(entry.archive) else "not fetched"
        print(f"{entry.name:24s} {entry.kind:10s} {state:12s} {entry.description}")
        print(f"{'':24s} from {entry.archive.requirement} ({entry.archive.license})")
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Write the simulated recordings of a task as files."""
    from decoders.simulators.registry import write_corpus

    from .train import parse_options

    written = write_corpus(args.task, args.out, seed=args.seed, **parse_options(args.options))
    for path in written:
        print(f"wrote {path}")
    return 0
