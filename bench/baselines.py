"""Every baseline on the three real trial sets (official splits) and the motor-imagery simulator.

The registry's classical and braindecode baselines and aeon's MiniRocket and MultiRocket on
FingerMovements, HandMovementDirection and SelfRegulationSCP1 (official train/test splits) and
on the motor-imagery simulator (one subject, within-session stratified 5-fold), 3 seeds; the
networks stop early on a validation part of the training split. Writes
``bench/results/baselines.json`` (records: dataset, protocol, decoder, metric, mean, sd,
n_seeds) and prints a markdown table of test accuracy, mean ± sd over seeds.

    python -m bench.baselines [--quick] [--seeds 0 1 2] [--jobs 2]

``--quick`` trains the networks for at most 60 epochs (patience 15) instead of 150 (25) and
simulates the motor imagery at 125 Hz instead of 250 Hz, evaluated with the first seed only
(its 5 folds); everything else is identical.
Fits run in ``--jobs`` worker processes with one torch thread each, the longest first.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .trials import QUICK_SIMULATOR, ROCKETS, SIMULATED, TRIAL_SETS, accuracy_table, run_all

RESULTS = Path(__file__).parent / "results" / "baselines.json"
REGISTERED = ("csp-lda", "cov-ts-lr", "xdawncov-ts-lr", "eegnet", "shallow-fbcsp")
DECODERS = (*REGISTERED, *ROCKETS)
NETWORKS = ("eegnet", "shallow-fbcsp")
QUICK_TRAINING = {"max_epochs": 60, "patience": 15}
# Motor imagery: the usual 8-30 Hz band-pass before CSP, declared by the decoder.
MI_OPTIONS = {"csp-lda": {"band": [8.0, 30.0]}}
# Expected cost order (slowest first), to keep both workers busy until the end.
COST_ORDER = ("eegnet", "shallow-fbcsp", "multirocket")


def main() -> None:
    """Run every baseline on every data set, write the records, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    datasets = [*TRIAL_SETS, SIMULATED]
    pairs = sorted(
        ((dataset, decoder) for dataset in datasets for decoder in DECODERS),
        key=lambda pair: (pair[1] not in COST_ORDER, pair[0] != SIMULATED),
    )

    def seeds_of(dataset: str) -> list[int]:
        return args.seeds[:1] if args.quick and dataset == SIMULATED else args.seeds

    def job_of(dataset: str, decoder: str, seed: int) -> dict:
        options = dict(QUICK_TRAINING) if args.quick and decoder in NETWORKS else {}
        if dataset == SIMULATED:
            options.update(MI_OPTIONS.get(decoder, {}))
        return {
            "dataset": dataset,
            "decoder": decoder,
            "seed": seed,
            "options": options,
            "simulator": QUICK_SIMULATOR if args.quick else (),
        }

    records = run_all(pairs, seeds_of, job_of, args.jobs)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(records, indent=1))
    print(
        f"\nTest accuracy, mean ± sd over seeds {args.seeds}"
        f"{' (simulator: first seed)' if args.quick else ''} ({'quick' if args.quick else 'full'}"
        f" run, {time.perf_counter() - started:.0f} s, {args.jobs} worker processes)\n"
    )
    print("\n".join(accuracy_table(records, datasets, DECODERS)))


if __name__ == "__main__":
    main()
