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


def run(job: dict) -> dict:
    """Evaluate one decoder on one data set with one seed (in a worker process).

    ``job`` holds ``dataset``, ``decoder``, ``seed``, ``options`` (decoder keyword arguments)
    and ``simulator`` (simulator options, as sorted pairs). A decoder that cannot be built or
    trained on the data set gives ``{"error": reason}`` instead of metrics.
    """
    import torch

    from decoders import registry
    from decoders.evaluation.harness import evaluate

    torch.set_num_threads(1)
    data, protocol = load(job["dataset"], job["simulator"])
    energies: list[dict] = []

    def keep_energy(fitted) -> None:
        extra = getattr(fitted.model, "card_extra", dict)()
        if all(source in extra for source in ENERGY.values()):
            energies.append({key: extra[source] for key, source in ENERGY.items()})

    try:
        budget = job.get("max_params")
        if budget and (size := parameter_count(job["decoder"], job["options"], data)) > budget:
            return {
                "dataset": job["dataset"],
                "decoder": job["decoder"],
                "error": f"{size / 1e6:.1f} M parameters, over this run's budget of "
                f"{budget / 1e6:g} M on a 2-core CPU",
            }
        result = evaluate(
            lambda seed: registry.create(job["decoder"], seed=seed, **job["options"]),
            data,
            protocol,
            [job["seed"]],
            decoder_name=job["decoder"],
            dataset_name=job["dataset"],
            on_fitted=keep_energy,
        )
    except Exception as error:  # a decoder that cannot take this data set is a finding
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return {"dataset": job["dataset"], "decoder": job["decoder"], "error": reason[:300]}
    return {
        "dataset": job["dataset"],
        "decoder": job["decoder"],
        "protocol": protocol.description,
        "metrics": {name: result.metrics[name].mean for name in METRICS},
        "energies": energies,
        "wall_time_s": result.wall_time_s,
    }


def parameter_count(decoder: str, options: dict, data) -> int:
    """Return the trainable parameters of ``decoder`` built for a data set's trials."""
    from decoders import registry
    from decoders.contract import OutputSpec
    from decoders.datasets.trials import OfficialSplit

    trials = data.train if isinstance(data, OfficialSplit) else data
    instance = registry.create(decoder, **options)
    module = instance.build(instance.spec_for(trials), OutputSpec("probabilities", trials.classes))
    return sum(parameter.numel() for parameter in module.parameters())


def merge(outcomes: list[dict]) -> list[dict]:
    """Return the records of one (data set, decoder) from its per-seed outcomes.

    A failed pair gives one record with its ``error``.
    """
    import numpy as np

    from decoders.evaluation.records import MetricSummary

    first = outcomes[0]
    failed = [o for o in outcomes if "error" in o]
    if failed:
        return [
            {"dataset": first["dataset"], "decoder": first["decoder"], "error": failed[0]["error"]}
        ]
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


def parse_arguments(
    description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None
) -> argparse.Namespace:
    """Return the options every accuracy benchmark takes (and those ``extra`` adds).

    Every one takes ``--quick``, ``--seeds``, ``--jobs`` and ``--datasets`` (default: all).
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    if extra is not None:
        extra(parser)
    return parser.parse_args()


def run_benchmark(
    args: argparse.Namespace,
    decoders: Iterable[str],
    slowest: Iterable[str],
    options_of: Callable[[str, str], dict],
    seeds_for: Callable[[str, str], list[int]] | None = None,
    on_pair: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """Evaluate ``decoders`` on every data set over the seeds; return the records.

    Each (data set, decoder, seed) runs in one of ``args.jobs`` worker processes, the
    ``slowest`` decoders and the simulator submitted first to keep the workers busy; a line per
    pair is printed as its seeds complete. ``options_of(dataset, decoder)`` gives the decoder's
    keyword arguments. With ``args.quick`` the simulator runs at :data:`QUICK_SIMULATOR` with the
    first seed only; ``seeds_for(dataset, decoder)``, when given, chooses the seeds instead.
    ``on_pair(records)``, when given, receives the records so far after each pair, so that a
    long run stopped early keeps what it finished.
    Ends with the heading line of the accuracy table.
    """
    started = time.perf_counter()
    slowest = tuple(slowest)
    pairs = sorted(
        ((dataset, decoder) for dataset in args.datasets for decoder in decoders),
        key=lambda pair: (pair[1] not in slowest, pair[0] not in (SIMULATED, TRIAL_SETS[0])),
    )

    def job(dataset: str, decoder: str, seed: int) -> dict:
        return {
            "dataset": dataset,
            "decoder": decoder,
            "seed": seed,
            "options": options_of(dataset, decoder),
            "simulator": QUICK_SIMULATOR if args.quick else (),
            "max_params": getattr(args, "max_params", None),
        }

    def seeds_of(dataset: str, decoder: str) -> list[int]:
        if seeds_for is not None:
            return seeds_for(dataset, decoder)
        return args.seeds[:1] if args.quick and dataset == SIMULATED else args.seeds

    records: list[dict] = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            pair: [pool.submit(run, job(*pair, seed)) for seed in seeds_of(*pair)] for pair in pairs
        }
        for (dataset, decoder), per_seed in futures.items():
            rows = merge([future.result() for future in per_seed])
            records.extend(rows)
            accuracy = accuracy_of(rows, dataset, decoder)
            outcome = (
                f"not run: {rows[0]['error']}"
                if accuracy is None
                else f"{accuracy['mean']:.3f} ± {accuracy['sd']:.3f} ({accuracy['wall_time_s']:.0f} s)"
            )
            print(f"{dataset:36s} {decoder:18s} {outcome}", flush=True)
            if on_pair is not None:
                on_pair(records)
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
            if r["dataset"] == dataset and r["decoder"] == decoder and r.get("metric") == "accuracy"
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
