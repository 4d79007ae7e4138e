"""Every baseline on the three real trial sets (official splits) and the motor-imagery simulator.

Writes ``bench/results/baselines.json`` (records: dataset, protocol, decoder, metric, mean,
sd, n_seeds) and prints a markdown table of test accuracy, mean ± sd over seeds.

    python -m bench.baselines [--quick] [--seeds 0 1 2]

``--quick`` trains the networks for at most 60 epochs (patience 15) instead of 150 (25);
everything else is identical.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "baselines.json"
TRIAL_SETS = ("FingerMovements", "HandMovementDirection", "SelfRegulationSCP1")
SIMULATOR = "motor_imagery"
SIMULATOR_OPTIONS = {"n_subjects": 1, "n_runs": 3, "trials_per_class": 20}
REGISTERED = ("csp-lda", "cov-ts-lr", "xdawncov-ts-lr", "eegnet", "shallow-fbcsp")
ROCKETS = ("minirocket", "multirocket")
METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")


def datasets():
    """Yield (name, data, protocol, per-dataset decoder options)."""
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.protocols import OfficialProtocol, WithinSessionKFold
    from decoders.simulators.registry import simulate_trials

    for name in TRIAL_SETS:
        yield name, load_trial_set(name), OfficialProtocol(), {}
    trials = simulate_trials(SIMULATOR, seed=0, **SIMULATOR_OPTIONS)
    # motor imagery: the usual 8-30 Hz band-pass before CSP, declared by the decoder
    yield (
        "simulated motor imagery (1 subject)",
        trials,
        WithinSessionKFold(5),
        {"csp-lda": {"band": [8.0, 30.0]}},
    )


def factories(quick: bool, options: dict[str, dict]):
    """Yield (decoder name, seed -> decoder)."""
    from decoders import registry
    from decoders.baselines.rocket import RocketClassifier

    training = {"max_epochs": 60, "patience": 15} if quick else {}
    for name in REGISTERED:
        extra = {
            **(training if name in ("eegnet", "shallow-fbcsp") else {}),
            **options.get(name, {}),
        }
        yield name, lambda seed, name=name, extra=extra: registry.create(name, seed=seed, **extra)
    for kind in ROCKETS:
        yield kind, lambda seed, kind=kind: RocketClassifier(kind, seed)


def main() -> None:
    """Run every baseline on every data set and write the records."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args()

    from decoders.evaluation.harness import evaluate

    started = time.perf_counter()
    records, table = [], {}
    for dataset, data, protocol, options in datasets():
        for decoder, make in factories(args.quick, options):
            result = evaluate(
                make, data, protocol, args.seeds, decoder_name=decoder, dataset_name=dataset
            )
            for row in result.summary_rows(METRICS):
                records.append(
                    {**row, "protocol": protocol.description, "wall_time_s": result.wall_time_s}
                )
            accuracy = result.metrics["accuracy"]
            table[(dataset, decoder)] = f"{accuracy.mean:.3f} ± {accuracy.sd:.3f}"
            print(
                f"{dataset:40s} {decoder:16s} {table[(dataset, decoder)]}  ({result.wall_time_s:.0f} s)",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(records, indent=1))
    names = (
        [d for d, *_ in datasets()]
        if False
        else sorted({d for d, _ in table}, key=list(table).index)
    )
    decoders_ = [*REGISTERED, *ROCKETS]
    print(
        f"\nTest accuracy, mean ± sd over seeds {args.seeds} ({'quick' if args.quick else 'full'} run, "
        f"{time.perf_counter() - started:.0f} s)\n"
    )
    print("| decoder | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for decoder in decoders_:
        print(f"| {decoder} | " + " | ".join(table[(n, decoder)] for n in names) + " |")


if __name__ == "__main__":
    main()
