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

from .output import save_results
from .trials import (
    DATASETS,
    ROCKETS,
    SIMULATED,
    accuracy_table,
    parse_arguments,
    run_benchmark,
)

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
    args = parse_arguments(__doc__.splitlines()[0])

    def options_of(dataset: str, decoder: str) -> dict:
        options = dict(QUICK_TRAINING) if args.quick and decoder in NETWORKS else {}
        if dataset == SIMULATED:
            options.update(MI_OPTIONS.get(decoder, {}))
        return options

    records = run_benchmark(args, DECODERS, COST_ORDER, options_of)
    save_results("baselines", records, "\n".join(accuracy_table(records, list(DATASETS), DECODERS)))


if __name__ == "__main__":
    main()
