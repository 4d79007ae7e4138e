"""RLEEGNet, the spiking decoders and the registry baselines on real and simulated trials.

Data: FingerMovements, HandMovementDirection, SelfRegulationSCP1 (official train/test splits)
and the motor-imagery simulator (one subject, within-session stratified 5-fold), each decoder
over 3 seeds through :func:`decoders.evaluation.harness.evaluate` (validation split from the
training part only; the test part scored once per fit).

Writes ``bench/results/decoders.json``: records ``dataset, protocol, decoder, metric, mean,
sd, n_seeds`` (as ``bench/results/baselines.json``), plus for spiking decoders ``synops``,
``macs_equivalent``, ``energy_uj_spiking`` and ``energy_uj_equivalent`` per window (counted on
the validation windows of every fit, averaged). Prints markdown tables and whether each
target of the issue is met:

- RLEEGNet at least matches the best baseline on each data set;
- a spiking decoder within 3 points of the best non-spiking one at >= 5x lower estimated
  energy than its non-spiking equivalent (same architecture, real-valued activations).

    python -m bench.decoders [--quick] [--seeds 0 1 2] [--jobs 2]

``--quick`` shortens training (networks: 15 epochs, patience 5; RLEEGNet: 12 episodes,
patience 4; spiking decoders: at most 24 time steps) and simulates the motor imagery at 125 Hz
instead of 250 Hz, evaluated with the first seed only (its 5 folds); everything else is
identical. Fits run in ``--jobs`` worker processes with
one torch thread each, the longest first.
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "decoders.json"
TRIAL_SETS = ("SelfRegulationSCP1", "HandMovementDirection", "FingerMovements")
SIMULATED = "simulated motor imagery (1 subject)"
SIMULATOR_OPTIONS = {"n_subjects": 1, "n_runs": 3, "trials_per_class": 20}
BASELINES = ("csp-lda", "cov-ts-lr", "xdawncov-ts-lr", "eegnet", "shallow-fbcsp")
SPIKING = ("spiking-lif", "spiking-lif-delays", "spiking-rwkv")
DECODERS = (*BASELINES, "rleegnet", *SPIKING)
METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")
ENERGY = {
    "synops": "synops_per_window",
    "macs_equivalent": "macs_equivalent_per_window",
    "energy_uj_spiking": "energy_uj_spiking",
    "energy_uj_equivalent": "energy_uj_equivalent",
}
QUICK = {
    "eegnet": {"max_epochs": 15, "patience": 5},
    "shallow-fbcsp": {"max_epochs": 15, "patience": 5},
    "rleegnet": {"episodes": 12, "patience": 4},
    **{name: {"max_epochs": 15, "patience": 5, "max_steps": 24} for name in SPIKING},
}
QUICK_SIMULATOR = {"sfreq": 125.0}
# Motor imagery: decoders that declare a band-pass get the usual mu/beta band (as
# bench/baselines.py does for CSP; the spiking decoders then encode the filtered signal).
MI_BAND = {name: {"band": [8.0, 30.0]} for name in ("csp-lda", "rleegnet", *SPIKING)}
# Expected cost order (slowest first), to keep both workers busy until the end.
COST_ORDER = ("shallow-fbcsp", "eegnet", "rleegnet", "spiking-rwkv")


def simulator_task() -> str | None:
    """Return the registered motor-imagery task name, or None without a simulator."""
    try:
        from decoders.simulators.registry import available_tasks
    except ImportError:
        return None
    return next((t for t in available_tasks() if t.replace("-", "_") == "motor_imagery"), None)


@functools.cache
def load(dataset: str, quick: bool):
    """Return (data, protocol) of a data set (once per worker process)."""
    from decoders.evaluation.protocols import OfficialProtocol, WithinSessionKFold

    if dataset == SIMULATED:
        from decoders.simulators.registry import simulate_trials

        options = {**SIMULATOR_OPTIONS, **(QUICK_SIMULATOR if quick else {})}
        return simulate_trials(simulator_task(), seed=0, **options), WithinSessionKFold(5)
    from decoders.datasets.loaders import load_trial_set

    return load_trial_set(dataset), OfficialProtocol()


def run(dataset: str, decoder: str, seed: int, quick: bool) -> dict:
    """Evaluate one decoder on one data set with one seed (in a worker process)."""
    import torch

    from decoders import registry
    from decoders.evaluation.harness import evaluate

    torch.set_num_threads(1)
    data, protocol = load(dataset, quick)
    options = {**(QUICK.get(decoder, {}) if quick else {})}
    if dataset == SIMULATED:
        options.update(MI_BAND.get(decoder, {}))
    energies: list[dict] = []

    def keep_energy(fitted) -> None:
        extra = fitted.model.card_extra()
        if extra:
            energies.append({key: extra[source] for key, source in ENERGY.items()})

    result = evaluate(
        lambda seed: registry.create(decoder, seed=seed, **options),
        data,
        protocol,
        [seed],
        decoder_name=decoder,
        dataset_name=dataset,
        on_fitted=keep_energy,
    )
    return {
        "dataset": dataset,
        "decoder": decoder,
        "protocol": protocol.description,
        "metrics": {name: result.metrics[name].mean for name in METRICS},
        "energies": energies,
        "wall_time_s": result.wall_time_s,
    }


def merge(outcomes: list[dict]) -> list[dict]:
    """Return the records of one (data set, decoder) from its per-seed outcomes."""
    import numpy as np

    from decoders.evaluation.records import MetricSummary

    first = outcomes[0]
    energies = [energy for outcome in outcomes for energy in outcome["energies"]]
    energy = {key: float(np.mean([e[key] for e in energies])) for key in ENERGY} if energies else {}
    records = []
    for metric in METRICS:
        summary = MetricSummary.from_values([o["metrics"][metric] for o in outcomes])
        records.append(
            {
                "dataset": first["dataset"],
                "protocol": first["protocol"],
                "decoder": first["decoder"],
                "metric": metric,
                "mean": summary.mean,
                "sd": summary.sd,
                "n_seeds": len(outcomes),
                "wall_time_s": sum(o["wall_time_s"] for o in outcomes),
                **energy,
            }
        )
    return records


def accuracy_of(records: list[dict], dataset: str, decoder: str) -> dict | None:
    """Return the accuracy record of (dataset, decoder)."""
    return next(
        (
            r
            for r in records
            if r["dataset"] == dataset and r["decoder"] == decoder and r["metric"] == "accuracy"
        ),
        None,
    )


def targets(records: list[dict], datasets: list[str]) -> list[str]:
    """Return markdown rows saying, per data set, whether each target is met and by how much."""
    lines = ["| data set | target | best reference | candidate | met |", "|---|---|---|---|---|"]
    for dataset in datasets:
        baselines = [r for d in BASELINES if (r := accuracy_of(records, dataset, d))]
        best = max(baselines, key=lambda r: r["mean"])
        rl = accuracy_of(records, dataset, "rleegnet")
        gap = rl["mean"] - best["mean"]
        lines.append(
            f"| {dataset} | RLEEGNet >= best baseline | {best['decoder']} {best['mean']:.3f} | "
            f"rleegnet {rl['mean']:.3f} ({gap:+.3f}) | {'yes' if gap >= 0 else 'no'} |"
        )
        non_spiking = max([*baselines, rl], key=lambda r: r["mean"])
        candidates = []
        for name in SPIKING:
            record = accuracy_of(records, dataset, name)
            ratio = record["energy_uj_equivalent"] / record["energy_uj_spiking"]
            behind = non_spiking["mean"] - record["mean"]
            met = behind <= 0.03 + 1e-9 and ratio >= 5
            candidates.append((met, -behind, name, record, ratio))
        met, _, name, record, ratio = max(candidates)
        lines.append(
            f"| {dataset} | spiking within 3 points at >= 5x less energy | "
            f"{non_spiking['decoder']} {non_spiking['mean']:.3f} | {name} {record['mean']:.3f} "
            f"({record['mean'] - non_spiking['mean']:+.3f}), {ratio:.1f}x less energy | "
            f"{'yes' if met else 'no'} |"
        )
    return lines


def tables(records: list[dict], datasets: list[str]) -> list[str]:
    """Return the markdown accuracy and energy tables."""
    lines = ["| decoder | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
    for decoder in DECODERS:
        cells = []
        for dataset in datasets:
            record = accuracy_of(records, dataset, decoder)
            cells.append(f"{record['mean']:.3f} ± {record['sd']:.3f}" if record else "n/a")
        lines.append(f"| {decoder} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Spiking decoders, per window (validation windows): synaptic operations (AC), MACs of "
        "the non-spiking equivalent, estimated energy (0.9 pJ/AC, 4.6 pJ/MAC) and the ratio.",
        "",
        "| decoder | data set | SynOps | MACs (equivalent) | µJ spiking | µJ equivalent | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for decoder in SPIKING:
        for dataset in datasets:
            r = accuracy_of(records, dataset, decoder)
            lines.append(
                f"| {decoder} | {dataset} | {r['synops']:.0f} | {r['macs_equivalent']:.0f} | "
                f"{r['energy_uj_spiking']:.3f} | {r['energy_uj_equivalent']:.3f} | "
                f"{r['energy_uj_equivalent'] / r['energy_uj_spiking']:.1f}x |"
            )
    return lines


def main() -> None:
    """Run every decoder on every data set, write the records, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    started = time.perf_counter()
    datasets = [*TRIAL_SETS, *([SIMULATED] if simulator_task() else [])]
    pairs = sorted(
        ((dataset, decoder) for dataset in datasets for decoder in DECODERS),
        key=lambda pair: (pair[1] not in COST_ORDER, pair[0] not in (SIMULATED, TRIAL_SETS[0])),
    )

    def seeds_of(dataset: str) -> list[int]:
        return args.seeds[:1] if args.quick and dataset == SIMULATED else args.seeds

    records: list[dict] = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pair: [pool.submit(run, *pair, seed, args.quick) for seed in seeds_of(pair[0])]
            for pair in pairs
        }
        for (dataset, decoder), per_seed in futures.items():
            rows = merge([future.result() for future in per_seed])
            records.extend(rows)
            accuracy = accuracy_of(rows, dataset, decoder)
            print(
                f"{dataset:36s} {decoder:18s} {accuracy['mean']:.3f} ± {accuracy['sd']:.3f} "
                f"({accuracy['wall_time_s']:.0f} s)",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(records, indent=1))
    elapsed = time.perf_counter() - started
    print(
        f"\nTest accuracy, mean ± sd over seeds {args.seeds}"
        f"{' (simulator: first seed)' if args.quick else ''} ({'quick' if args.quick else 'full'}"
        f" run, {elapsed:.0f} s, {args.jobs} worker processes)\n"
    )
    print("\n".join(tables(records, datasets)))
    print("\nTargets\n")
    print("\n".join(targets(records, datasets)))


if __name__ == "__main__":
    main()
