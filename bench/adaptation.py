"""Online adaptation under drift: trials one by one, each decided before its label is revealed.

Data (calibration -> online trials, in recorded order):

- the drifting motor-imagery simulator (``motor_imagery_drift``: one subject per seed, 22
  channels, three classes; session 0 calibrates, sessions 1 and 2, shifted cap, changed
  gains, patterns and rhythm power, drifting within the session, are decoded online), and the
  same without drift (``drift=0``: sessions differ only in noise and trial order);
- the three real trial sets: the official training split calibrates, the test split is
  decoded online in its recorded order (HandMovementDirection's test file is sorted by class,
  so its order is not the recording's: its trials are shuffled with the seed).

Decoders fitted on the calibration trials (a validation part carved out for early stopping,
as the harness does), then run online under :func:`decoders.adaptation.online.run_online`
(label revealed right after each decision): static ``cov-ts-lr``, ``csp-lda``, ``eegnet``
and ``rleegnet``; Riemannian re-centering in front of ``cov-ts-lr`` (pyRiemann); the
adaptive LDA bias of ``csp-lda``; ``eegnet`` fine-tuned online; RLEEGNet's online DQN
update. Each strategy is bounded (drift bound, clipped) as in the live path.

Writes ``bench/results/adaptation.json`` (per data set and strategy: mean accuracy over all
online trials and final accuracy over the last quarter, mean ± sd over seeds, and the mean
accuracy curve) and one PNG per data set beside it (``adaptation-<data set>.png``: accuracy
over the last 20 trials, after every trial, mean over seeds). A run of some data sets
(``--datasets``) keeps the records of the others.

    python -m bench.adaptation [--quick] [--seeds 0 1 2] [--jobs 2]

``--quick``: the simulator at 125 Hz with 20 trials per class and session, networks up to 40
epochs (patience 10), RLEEGNet up to 12 episodes; otherwise 250 Hz, 30 trials per class and
session, 150 epochs (patience 25), 60 episodes.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from .output import RESULTS_DIR, save_results

DRIFT = "simulated MI, drifting sessions"
STEADY = "simulated MI, no drift"
REAL = ("SelfRegulationSCP1", "HandMovementDirection", "FingerMovements")
DATASETS = (DRIFT, STEADY, *REAL)
RUNS = (
    ("cov-ts-lr", "static"),
    ("cov-ts-lr", "recentering"),
    ("csp-lda", "static"),
    ("csp-lda", "adaptive-lda-bias"),
    ("eegnet", "static"),
    ("eegnet", "fine-tuning"),
    ("rleegnet", "static"),
    ("rleegnet", "rleegnet-feedback"),
)
MI_BAND = {"csp-lda": {"band": [8.0, 30.0]}, "rleegnet": {"band": [8.0, 30.0]}}
SORTED_BY_CLASS = ("HandMovementDirection",)
"""Test files in class order, not recorded order: decoded in an order shuffled by the seed."""


def slug(dataset: str) -> str:
    """Return a file-name part for a data set."""
    return "-".join("".join(c if c.isalnum() else " " for c in dataset).split())


def label_of(decoder: str, strategy: str) -> str:
    """Return a run's name in the tables."""
    return f"{decoder} {strategy}"


def split(dataset: str, seed: int, quick: bool):
    """Return (calibration trials, online trials) of a data set for a seed."""
    if dataset in REAL:
        from decoders.datasets.loaders import load_trial_set

        trials = load_trial_set(dataset)
        online = trials.test
        if dataset in SORTED_BY_CLASS:
            online = online.subset(np.random.default_rng(seed).permutation(online.n_trials))
        return trials.train, online
    from decoders.simulators.registry import simulate_trials

    trials = simulate_trials(
        "motor_imagery_drift",
        seed=seed,
        n_subjects=1,
        n_sessions=3,
        n_runs=1,
        trials_per_class=20 if quick else 30,
        sfreq=125.0 if quick else 250.0,
        drift=1.0 if dataset == DRIFT else 0.0,
    )
    return trials.subset(trials.blocks == 0), trials.subset(trials.blocks > 0)


def options_of(decoder: str, dataset: str, quick: bool) -> dict:
    """Return the decoder's options for a data set."""
    options = dict(MI_BAND.get(decoder, {})) if dataset in (DRIFT, STEADY) else {}
    if quick and decoder == "eegnet":
        options |= {"max_epochs": 40, "patience": 10}
    if quick and decoder == "rleegnet":
        options |= {"episodes": 12, "patience": 4}
    return options


def run(job: dict) -> list[dict]:
    """Fit each decoder on the calibration trials and run every strategy online (a worker)."""
    import copy

    import torch

    from decoders import registry
    from decoders.adaptation.online import make_strategy, run_online
    from decoders.evaluation.protocols import validation_split

    torch.set_num_threads(1)
    dataset, seed, quick = job["dataset"], job["seed"], job["quick"]
    calibration, online = split(dataset, seed, quick)
    fit, valid = validation_split(calibration, 0.2, seed)
    fitted = {}
    outcomes = []
    for decoder_name, strategy_name in RUNS:
        if decoder_name not in fitted:
            started = time.perf_counter()
            decoder = registry.create(
                decoder_name, seed=seed, **options_of(decoder_name, dataset, quick)
            )
            fitted[decoder_name] = (decoder.fit(fit, valid), time.perf_counter() - started)
        decoder, fit_s = fitted[decoder_name]
        strategy = make_strategy(
            strategy_name, copy.deepcopy(decoder), calibration=calibration.data
        )
        started = time.perf_counter()
        outcome = run_online(strategy, online.data, online.labels)
        outcomes.append(
            {
                "dataset": dataset,
                "seed": seed,
                "run": label_of(decoder_name, strategy_name),
                "mean_accuracy": outcome.mean_accuracy,
                "final_accuracy": outcome.final_accuracy(),
                "curve": outcome.curve().tolist(),
                "updates": outcome.updates,
                "clipped": outcome.clipped,
                "final_drift": outcome.drift[-1] if outcome.drift else 0.0,
                "fit_s": fit_s,
                "online_s": time.perf_counter() - started,
                "n_calibration": calibration.n_trials,
                "n_online": online.n_trials,
            }
        )
    return outcomes


def summarise(outcomes: list[dict]) -> list[dict]:
    """Return one record per (data set, run): mean ± sd over seeds and the mean curve."""
    from decoders.evaluation.records import MetricSummary

    records = []
    for dataset in DATASETS:
        for decoder, strategy in RUNS:
            name = label_of(decoder, strategy)
            rows = [o for o in outcomes if o["dataset"] == dataset and o["run"] == name]
            if not rows:
                continue
            mean = MetricSummary.from_values([r["mean_accuracy"] for r in rows])
            final = MetricSummary.from_values([r["final_accuracy"] for r in rows])
            records.append(
                {
                    "dataset": dataset,
                    "run": name,
                    "decoder": decoder,
                    "strategy": strategy,
                    "mean_accuracy": mean.mean,
                    "mean_accuracy_sd": mean.sd,
                    "final_accuracy": final.mean,
                    "final_accuracy_sd": final.sd,
                    "n_seeds": len(rows),
                    "updates": float(np.mean([r["updates"] for r in rows])),
                    "clipped": float(np.mean([r["clipped"] for r in rows])),
                    "final_drift": float(np.mean([r["final_drift"] for r in rows])),
                    "fit_s": float(np.mean([r["fit_s"] for r in rows])),
                    "online_s": float(np.mean([r["online_s"] for r in rows])),
                    "n_calibration": rows[0]["n_calibration"],
                    "n_online": rows[0]["n_online"],
                    "curve": np.mean([r["curve"] for r in rows], axis=0).tolist(),
                }
            )
    return records


def plot(records: list[dict], dataset: str, path: Path) -> None:
    """Draw accuracy over the online trials of every run on one data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for record in (r for r in records if r["dataset"] == dataset):
        style = "--" if record["strategy"] == "static" else "-"
        axis.plot(
            np.arange(1, len(record["curve"]) + 1), record["curve"], style, label=record["run"]
        )
    axis.set_xlabel("online trial (recorded order)")
    axis.set_ylabel("accuracy over the last 20 trials")
    axis.set_title(f"{dataset}: mean over seeds; dashed: static")
    axis.set_ylim(0, 1)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def tables(records: list[dict]) -> list[str]:
    """Return the markdown table and the targets."""
    lines = [
        "| data set | run | mean accuracy | final accuracy (last 25 %) | updates (clipped) | "
        "fit (s) | online (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['dataset']} | {r['run']} | {r['mean_accuracy']:.3f} ± {r['mean_accuracy_sd']:.3f} "
            f"| {r['final_accuracy']:.3f} ± {r['final_accuracy_sd']:.3f} | {r['updates']:.0f} "
            f"({r['clipped']:.0f}) | {r['fit_s']:.1f} | {r['online_s']:.1f} |"
        )
    lines += ["", "| data set | adapted vs static (mean accuracy) |", "|---|---|"]

    def accuracy(dataset: str, run: str) -> float:
        return next(
            r["mean_accuracy"] for r in records if r["dataset"] == dataset and r["run"] == run
        )

    for dataset in sorted({r["dataset"] for r in records}, key=DATASETS.index):
        gains = []
        for decoder, strategy in RUNS:
            if strategy != "static":
                gain = accuracy(dataset, label_of(decoder, strategy)) - accuracy(
                    dataset, label_of(decoder, "static")
                )
                gains.append(f"{strategy} {gain:+.3f}")
        lines.append(f"| {dataset} | {', '.join(gains)} |")
    return lines


def main() -> None:
    """Run every data set and seed, write the records and the plots, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    args = parser.parse_args()
    started = time.perf_counter()
    jobs = [
        {"dataset": dataset, "seed": seed, "quick": args.quick}
        for dataset in args.datasets
        for seed in args.seeds
    ]
    outcomes = []
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        for job, result in zip(jobs, pool.map(run, jobs), strict=True):
            outcomes.extend(result)
            print(
                f"{job['dataset']} seed {job['seed']}: done ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    records = summarise(outcomes)
    path = RESULTS_DIR / "adaptation.json"
    if path.is_file():  # keep the records of the data sets not run now
        last = json.loads(path.read_text())["records"]
        kept = [r for r in last if r["dataset"] not in args.datasets]
        records = sorted(kept + records, key=lambda r: DATASETS.index(r["dataset"]))
    for stale in RESULTS_DIR.glob("adaptation-*.png"):
        stale.unlink()
    for dataset in sorted({r["dataset"] for r in records}, key=DATASETS.index):
        plot(records, dataset, RESULTS_DIR / f"adaptation-{slug(dataset)}.png")
    seconds = time.perf_counter() - started
    protocol = (
        f"{'quick' if args.quick else 'full'} run, seeds {args.seeds}, {seconds:.0f} s with "
        f"{args.jobs} worker processes"
    )
    save_results(
        "adaptation",
        {"protocol": protocol, "records": records},
        "\n".join([protocol, "", *tables(records)]),
    )


if __name__ == "__main__":
    main()
