"""``bci-app data``: fetch and list the real recordings."""

from __future__ import annotations

import argparse
import textwrap


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its ``fetch``/``list`` actions."""
    parser = subparsers.add_parser("data", help="fetch and list the real recordings")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download, verify and extract the recordings")
    fetch.add_argument("keys", nargs="*", help="archives to fetch (default: all)")
    fetch.set_defaults(handler=run_fetch)
    listing = actions.add_parser(
        "list", help="list the recordings (and whether they are here) and the simulated tasks"
    )
    listing.set_defaults(handler=run_list)


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
    _list_simulators()
    return 0


def _list_simulators() -> None:
    """Print each simulated task, how to pass its options, and their defaults."""
    from decoders.simulators.registry import available_tasks, default_options, describe_task

    print(
        "\nsimulated tasks: --data simulate:TASK, with options as "
        "'simulate:TASK?KEY=VALUE&KEY=VALUE' or --sim-option KEY=VALUE (lists as a,b or "
        "JSON; seed=N seeds the simulation, default 0)"
    )
    for task in available_tasks():
        print(f"simulate:{task:15s} {describe_task(task)}")
        defaults = " ".join(f"{key}={_text(value)}" for key, value in default_options(task).items())
        print(textwrap.fill(defaults, 96, initial_indent=" " * 4, subsequent_indent=" " * 4))


def _text(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)
