"""Shared machinery of the accuracy benchmarks: data sets, one fit per worker, records.

Each (data set, decoder, seed) is evaluated through :func:`decoders.evaluation.harness.evaluate`
in a worker process with one torch thread (validation split from the training part only; the
test part scored once per fit); the seeds of a pair are merged into records ``dataset,
protocol, decoder, metric, mean, sd, n_seeds, wall_time_s`` (plus, for spiking decoders, their
operation counts and energy per window).
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

TRIAL_SETS = ("SelfRegulationSCP1", "HandMovementDirection", "FingerMovements")
SIMULATED = "simulated motor imagery (1 subject)"
DATASETS = (*TRIAL_SETS, SIMULATED)
SIMULATOR_TASK = "motor_imagery"
SIMULATOR_OPTIONS = {"n_subjects": 1, "n_runs": 3, "trials_per_class": 20}
QUICK_SIMULATOR = (("sfreq", 125.0),)  # --quick: the simulator at half its 250 Hz
METRICS = ("accuracy", "balanced_accuracy", "kappa", "auroc")
ROCKETS = ("minirocket", "multirocket")
ENERGY = {
    "synops": "synops_per_window",
    "macs_equivalent": "macs_equivalent_per_window",
    "energy_uj_spiking": "energy_uj_spiking",
    "energy_uj_equivalent": "energy_uj_equivalent",
}


@functools.cache
def load(dataset: str, simulator_options: tuple = ()):
    """Return (data, protocol) of a data set (once per worker process)."""
    from decoders.evaluation.protocols import OfficialProtocol, WithinSessionKFold

    if dataset == SIMULATED:
        from decoders.simulators.registry import simulate_trials

        options = {**SIMULATOR_OPTIONS, **dict(simulator_options)}
        return simulate_trials(SIMULATOR_TASK, seed=0, **options), WithinSessionKFold(5)
    from decoders.datasets.loaders import load_trial_set

    return load_trial_set(dataset), OfficialProtocol()


def make_decoder(name: str, seed: int, options: dict):
    """Return a registered decoder, or one of aeon's ROCKET classifiers (bench only)."""
    if name in ROCKETS:
        from decoders.models.classical.rocket import RocketClassifier

        return RocketClassifier(name, seed)
    from decoders import registry

    return registry.create(name, seed=seed, **options)


def run(job: dict) -> dict:
    """Evaluate one decoder on one data set with one seed (in a worker process).

    ``job`` holds ``dataset``, ``decoder``, ``seed``, ``options`` (decoder keyword arguments)
    and ``simulator`` (simulator options, as sorted pairs).
    """
    import torch

    from decoders.evaluation.harness import evaluate

    torch.set_num_threads(1)
    data, protocol = load(job["dataset"], job["simulator"])
    energies: list[dict] = []

    def keep_energy(fitted) -> None:
        extra = getattr(fitted.model, "card_extra", dict)()
        if extra:
            energies.append({key: extra[source] for key, source in ENERGY.items()})

    result = evaluate(
        lambda seed: make_decoder(job["decoder"], seed, job["options"]),
        data,
        protocol,
        [job["seed"]],
        decoder_name=job["decoder"],
        dataset_name=job["dataset"],
        on_fitted=keep_energy,
    )
    return {
        "dataset": job["dataset"],
        "decoder": job["decoder"],
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


def parse_arguments(description: str) -> argparse.Namespace:
    """Return the options every accuracy benchmark takes: ``--quick``, ``--seeds``, ``--jobs``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    return parser.parse_args()


def run_benchmark(
    args: argparse.Namespace,
    decoders: Iterable[str],
    slowest: Iterable[str],
    options_of: Callable[[str, str], dict],
) -> list[dict]:
    """Evaluate ``decoders`` on every data set over the seeds; return the records.

    Each (data set, decoder, seed) runs in one of ``args.jobs`` worker processes, the
    ``slowest`` decoders and the simulator submitted first to keep the workers busy; a line per
    pair is printed as its seeds complete. ``options_of(dataset, decoder)`` gives the decoder's
    keyword arguments. With ``args.quick`` the simulator runs at :data:`QUICK_SIMULATOR` with the
    first seed only. Ends with the heading line of the accuracy table.
    """
    started = time.perf_counter()
    slowest = tuple(slowest)
    pairs = sorted(
        ((dataset, decoder) for dataset in DATASETS for decoder in decoders),
        key=lambda pair: (pair[1] not in slowest, pair[0] not in (SIMULATED, TRIAL_SETS[0])),
    )

    def job(dataset: str, decoder: str, seed: int) -> dict:
        return {
            "dataset": dataset,
            "decoder": decoder,
            "seed": seed,
            "options": options_of(dataset, decoder),
            "simulator": QUICK_SIMULATOR if args.quick else (),
        }

    def seeds_of(dataset: str) -> list[int]:
        return args.seeds[:1] if args.quick and dataset == SIMULATED else args.seeds

    records: list[dict] = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pair: [pool.submit(run, job(*pair, seed)) for seed in seeds_of(pair[0])]
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
    print(
        f"\nTest accuracy, mean ± sd over seeds {args.seeds}"
        f"{' (simulator: first seed)' if args.quick else ''} ({'quick' if args.quick else 'full'}"
        f" run, {time.perf_counter() - started:.0f} s, {args.jobs} worker processes)\n"
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


def accuracy_table(records: list[dict], datasets: list[str], decoders: Iterable[str]) -> list[str]:
    """Return the markdown table of test accuracy, mean ± sd, decoders by data sets."""
    lines = ["| decoder | " + " | ".join(datasets) + " |", "|---|" + "---|" * len(datasets)]
    for decoder in decoders:
        cells = []
        for dataset in datasets:
            record = accuracy_of(records, dataset, decoder)
            cells.append(f"{record['mean']:.3f} ± {record['sd']:.3f}" if record else "n/a")
        lines.append(f"| {decoder} | " + " | ".join(cells) + " |")
    return lines
