"""``bci-app data``: fetch and list the real recordings; write simulated corpora."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

_SIMULATE_HELP = """\
Simulate TASK and write its recordings as files, with the ground truth beside them.

abnormal_eeg: normal and abnormal clinical EEG (focal slowing, interictal spikes, hemispheric
asymmetry, diffuse slowing) on the 19 electrodes of the 10-20 system, written in the layout of
the TUH Abnormal EEG Corpus: DIR/edf/{train,eval}/{normal,abnormal}/01_tcp_ar/*.edf plus
DIR/truth.json (seed, options, stated SNR, each file's abnormalities). Options (--set):
n_subjects, recordings_per_subject, recording_s, window_s, channels, sfreq (one rate or a list
given to subjects in turn), abnormal_fraction, kinds, snr_db, spikes_per_min, line_freq,
eval_fraction.

seizure: hours of scalp EEG per subject with interictal background, preictal changes of a
focal rhythm and seizures spreading from the focus, in the CHB-MIT layout: DIR/chbNN/chbNN_MM.edf
plus DIR/chbNN/chbNN-summary.txt (options: bci-app data list).

example: bci-app data simulate abnormal_eeg --out corpus --seed 1 --set n_subjects=20 \
sfreq=[250,256]
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its ``fetch``/``list``/``simulate`` actions."""
    parser = subparsers.add_parser(
        "data", help="fetch and list the real recordings, write simulated ones as files"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="download, verify and extract the recordings")
    fetch.add_argument("keys", nargs="*", help="archives to fetch (default: all)")
    fetch.set_defaults(handler=run_fetch)
    listing = actions.add_parser(
        "list", help="list the recordings (and whether they are here) and the simulated tasks"
    )
    listing.set_defaults(handler=run_list)
    simulate = actions.add_parser(
        "simulate",
        help="write a simulated corpus of recordings with its ground truth",
        description=_SIMULATE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    simulate.add_argument("task", metavar="TASK", help="simulated task (abnormal_eeg, seizure)")
    simulate.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="new or empty folder"
    )
    simulate.add_argument("--seed", type=int, default=0, help="same seed, same files")
    simulate.add_argument(
        "--set",
        dest="options",
        action="extend",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="task option (a number, a list like [250,256] or a,b, None, or text)",
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
    _list_simulators()
    return 0


def run_simulate(args: argparse.Namespace) -> int:
    """Write the corpus of a simulated task and say where."""
    from decoders.simulators.options import parse_option
    from decoders.simulators.registry import write_corpus

    options = dict(parse_option(text) for text in args.options)
    root = write_corpus(args.task, args.out, seed=args.seed, **options)
    count = sum(1 for path in root.rglob("*") if path.is_file())
    print(f"{args.task} (seed {args.seed}): {count} files in {root}")
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
