"""Decoder zoo, part 4: one benchmark function per part, selected with ``--part``.

Parts (``PARTS``; each returns its results and markdown, merged into
``bench/results/seeds.json`` beside the parts of earlier runs):

``seizure``
    Seizure forecasting on the seizure simulator in the CHB-MIT montage: per subject, leave
    one seizure out; 15-minute preictal period (SOP) after a 5-minute horizon (SPH), 90
    minutes of monitoring before every seizure, alarms when 24 of the last 30 windows (2 s
    each, so one minute) have a preictal probability of at least 0.5, refractory SPH + SOP.
    STAN against EEGNet and the band-power + logistic-regression forecaster, each against
    random predictors with its own time in warning (Monte Carlo, 2000 draws, and the
    binomial law). Then STAN's inference latency at batch 1 in ONNX Runtime with one thread
    (the live path's call) against eager torch, on CHB-MIT's 22 derivations at 256 Hz, for
    the default STAN and one of the paper's size.

``spiking``
    NALSM and the one-timestep SNN beside the LIF decoder and the baselines (CSP+LDA, Xdawn
    tangent space, EEGNet) on SelfRegulationSCP1 and FingerMovements (official splits) and
    the motor-imagery simulator (5-fold): accuracy, Cohen's kappa, SynOps and energy per
    window; ONNX Runtime latency at batch 1 of each spiking decoder.

    python -m bench.seeds [--quick] [--part seizure spiking ...]

``--quick`` (under 15 minutes on 2 idle cores): 3 simulated subjects with 3 seizures each,
2.5-3 h apart (about 25 hours of EEG) at 64 Hz, preictal training windows every 6 s, networks
up to 12 epochs, one seed; otherwise 4 subjects with 4 seizures at 128 Hz, preictal windows
every 2 s, up to 40 epochs, seeds 0, 1, 2. Torch runs on one thread throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .output import RESULTS_DIR, save_results

NAME = "seeds"


# -- part: seizure forecasting ------------------------------------------------------------------

FORECASTERS = ("stan", "eegnet", "bandpower-lr")
NETWORK_OPTIONS = {
    "stan": {"dim": 32, "heads": 4, "depth": 3, "patch_s": 0.5},
    "eegnet": {},
    "bandpower-lr": {},
}


def seizure_setup(quick: bool) -> dict:
    """Return the simulator options, forecast settings, seeds and training budget."""
    simulator = {
        "n_subjects": 3 if quick else 4,
        "seizures_per_subject": 3 if quick else 4,
        "seizure_interval_s": [9000.0, 10800.0],
        "sfreq": 64.0 if quick else 128.0,
    }
    settings = {
        "window_s": 2.0,
        "hop_s": 2.0,
        "preictal_hop_s": 6.0 if quick else 2.0,
        "sph_s": 300.0,
        "sop_s": 900.0,
        "interictal_gap_s": 3600.0,
        "postictal_s": 600.0,
        "monitoring_s": 5400.0,
        "threshold": 0.5,
        "k": 24,
        "n": 30,
    }
    training = {"max_epochs": 12, "patience": 3} if quick else {"max_epochs": 40, "patience": 8}
    return {
        "simulator": simulator,
        "settings": settings,
        "seeds": [0] if quick else [0, 1, 2],
        "training": training,
        "chance_draws": 2000,
    }


def bench_seizure(quick: bool, folder: Path) -> tuple[dict, str]:
    """Return the seizure-forecasting figures and their markdown."""
    from decoders import registry
    from decoders.datasets.forecast_windows import ForecastSettings
    from decoders.evaluation.forecast_harness import evaluate_forecaster
    from decoders.simulators.seizure import SeizureSimulator

    setup = seizure_setup(quick)
    simulator = SeizureSimulator(seed=0, **setup["simulator"])
    corpus = simulator.corpus()
    settings = ForecastSettings(**setup["settings"])
    truth = [simulator.subject(i) for i in range(len(corpus.subjects))]
    records = {}
    for name in FORECASTERS:
        print(f"  {name}", flush=True)
        options = {"hop_s": settings.monitor_hop_s, **NETWORK_OPTIONS[name]}
        if name != "bandpower-lr":
            options |= setup["training"]
        record = evaluate_forecaster(
            lambda seed, name=name, options=options: registry.create(name, seed=seed, **options),
            corpus,
            settings,
            setup["seeds"],
            decoder_name=name,
            chance_draws=setup["chance_draws"],
        )
        records[name] = record.to_dict()
    print("  latency", flush=True)
    latency = stan_latency(folder, quick)
    results = {
        "setup": setup,
        "corpus": corpus.description,
        "subjects": [
            {
                "name": t.name,
                "focus": t.focus,
                "snr_db": t.snr_db,
                "preictal_min": t.preictal_s / 60,
                "seizures": len(t.seizures),
                "hours": corpus.subjects[t.index].recorded_s / 3600,
            }
            for t in truth
        ],
        "records": records,
        "latency": latency,
        "targets": seizure_targets(records, latency),
    }
    return results, seizure_table(results)


def stan_latency(folder: Path, quick: bool) -> list[dict]:
    """Return ONNX Runtime and eager torch batch-1 latencies of STAN on 22 ch at 256 Hz."""
    import torch

    from bci_app.inference.model import OnnxModel
    from decoders import registry
    from decoders.datasets.trials import TrialSet
    from decoders.export.onnx_export import export_decoder
    from decoders.simulators.seizure import CHANNELS

    from .inference import eager, timed_rounds

    rng = np.random.default_rng(0)
    sfreq, n_times = 256.0, 512
    data = rng.normal(0, 20e-6, (40, len(CHANNELS), n_times))
    labels = np.arange(40) % 2
    trials = TrialSet(
        data, labels, ("interictal", "preictal"), sfreq, CHANNELS, ("eeg",) * len(CHANNELS), "noise"
    )
    calls, rounds = (300, 3) if quick else (1000, 10)
    rows = []
    for label, options in (
        ("stan (bench: dim 32, 3 blocks)", NETWORK_OPTIONS["stan"]),
        ("stan (default: dim 64, 3 blocks)", {}),
        ("stan (paper size: dim 224, 8 heads, 3 blocks)", {"dim": 224, "heads": 8}),
    ):
        decoder = registry.create("stan", max_epochs=1, patience=1, **options)
        decoder.fit(trials.subset(slice(0, 30)), trials.subset(slice(30, 40)))
        path = export_decoder(decoder, folder / f"stan-{len(rows)}.onnx").path
        model = OnnxModel(path.read_bytes(), path.name)
        window = data[0].astype(np.float32)
        times = timed_rounds(
            {
                "ort": lambda model=model, window=window: model.predict(window),
                "torch": eager(decoder.inference_module(), window),
            },
            calls,
            rounds,
        )
        rows.append(
            {
                "model": label,
                "parameters": int(sum(p.numel() for p in decoder.module_.parameters())),
                "window": f"{len(CHANNELS)} ch x {n_times} samples (2 s at 256 Hz)",
                "ort_ms_p50": float(np.percentile(times["ort"], 50)),
                "ort_ms_p99": float(np.percentile(times["ort"], 99)),
                "torch_ms_p50": float(np.percentile(times["torch"], 50)),
                "torch_ms_p99": float(np.percentile(times["torch"], 99)),
                "calls": int(times["ort"].size),
                "torch_threads": torch.get_num_threads(),
            }
        )
    return rows


def seizure_targets(records: dict, latency: list[dict]) -> list[dict]:
    """Return the issue's targets with what was measured."""
    stan, band = records["stan"]["metrics"], records["bandpower-lr"]["metrics"]
    p_value = stan["p_value"]["mean"]
    worst_p99 = max(row["ort_ms_p99"] for row in latency)
    return [
        {
            "target": "STAN's sensitivity above the random predictor's at p < 0.05",
            "measured": f"{stan['sensitivity']['mean']:.3f} vs {stan['chance_sensitivity']['mean']:.3f}, "
            f"p = {p_value:.4f} (Monte Carlo), {stan['p_value_analytic']['mean']:.4f} (binomial)",
            "met": bool(
                stan["sensitivity"]["mean"] > stan["chance_sensitivity"]["mean"] and p_value < 0.05
            ),
        },
        {
            "target": "STAN: fewer false alarms per hour than the band-power forecaster",
            "measured": f"{stan['false_alarms_per_hour']['mean']:.3f} vs "
            f"{band['false_alarms_per_hour']['mean']:.3f}",
            "met": bool(
                stan["false_alarms_per_hour"]["mean"] < band["false_alarms_per_hour"]["mean"]
            ),
        },
        {
            "target": "STAN inference p99 under 45 ms on one CPU thread",
            "measured": f"largest ORT p99 {worst_p99:.2f} ms (batch 1)",
            "met": bool(worst_p99 < 45.0),
        },
    ]


def seizure_table(results: dict) -> str:
    """Return the seizure part's markdown."""
    setup = results["setup"]
    settings = setup["settings"]
    subjects = results["subjects"]
    hours = sum(s["hours"] for s in subjects)
    seizures = sum(s["seizures"] for s in subjects)
    lines = [
        "#### Seizure forecasting (simulator, leave one seizure out within each subject)",
        "",
        f"Protocol: {len(subjects)} simulated subjects, {seizures} seizures, {hours:.1f} h of "
        f"22-derivation EEG at {setup['simulator']['sfreq']:g} Hz; per subject, each seizure "
        "left out in turn: the forecaster is fitted on the other seizures' preictal windows "
        f"(SOP {settings['sop_s'] / 60:g} min ending SPH {settings['sph_s'] / 60:g} min before "
        f"onset) and interictal windows at least {settings['interictal_gap_s'] / 3600:g} h from "
        f"any seizure ({settings['window_s']:g} s windows, balanced), 20 % held out for early "
        f"stopping, then scored on the {settings['monitoring_s'] / 60:g} minutes before the "
        f"left-out onset: alarm when {settings['k']} of the last {settings['n']} windows have a "
        f"preictal probability >= {settings['threshold']:g}, refractory SPH + SOP; false alarms "
        "per interictal hour; time in warning = share of monitored time announced by alarms. "
        f"Random predictor: Poisson alarms with the same refractory period and each subject's "
        f"time in warning, {setup['chance_draws']} draws. Seeds {setup['seeds']} "
        "(mean ± sd over seeds where more than one).",
        "",
        "| forecaster | sensitivity | false alarms / h | time in warning | lead time (min) |"
        " window AUROC | random predictor sensitivity | p (Monte Carlo) | p (binomial) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, record in results["records"].items():
        metrics = record["metrics"]
        cells = [
            _mean_sd(metrics[key])
            for key in (
                "sensitivity",
                "false_alarms_per_hour",
                "time_in_warning",
                "lead_time_min",
                "auroc",
                "chance_sensitivity",
                "p_value",
                "p_value_analytic",
            )
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Per subject (sensitivity / false alarms per hour):",
        "",
        "| subject | focus | SNR (dB) | preictal change (min) | hours | "
        + " | ".join(results["records"])
        + " |",
        "|---|---|---|---|---|" + "---|" * len(results["records"]),
    ]
    for subject in subjects:
        cells = []
        for record in results["records"].values():
            figures = record["subjects"].get(subject["name"])
            cells.append(
                "-"
                if figures is None
                else f"{figures['sensitivity']['mean']:.2f} / "
                f"{figures['false_alarms_per_hour']['mean']:.2f}"
            )
        lines.append(
            f"| {subject['name']} | {subject['focus']} | {subject['snr_db']:.1f} | "
            f"{subject['preictal_min']:.0f} | {subject['hours']:.1f} | " + " | ".join(cells) + " |"
        )
    lines += [
        "",
        "STAN inference, batch 1, ONNX Runtime (the live path's call, 1 thread) against eager "
        "torch (1 thread):",
        "",
        "| model | parameters | window | ORT p50 / p99 (ms) | torch p50 / p99 (ms) |",
        "|---|---|---|---|---|",
    ]
    for row in results["latency"]:
        lines.append(
            f"| {row['model']} | {row['parameters']:,} | {row['window']} | "
            f"{row['ort_ms_p50']:.2f} / {row['ort_ms_p99']:.2f} | "
            f"{row['torch_ms_p50']:.2f} / {row['torch_ms_p99']:.2f} |"
        )
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    for target in results["targets"]:
        lines.append(
            f"| {target['target']} | {target['measured']} | {'yes' if target['met'] else 'no'} |"
        )
    return "\n".join(lines)


def _mean_sd(summary: dict) -> str:
    mean, sd = summary["mean"], summary["sd"]
    if mean is None or not np.isfinite(mean):
        return "-"
    return f"{mean:.3f}" if len(summary["per_seed"]) < 2 else f"{mean:.3f} ± {sd:.3f}"


# -- part: spiking decoders without backpropagation (NALSM) or answering in one step -----------

SPIKING_DECODERS = ("spiking-lif", "spiking-lif-1step", "nalsm")
SPIKING_BASELINES = ("csp-lda", "xdawncov-ts-lr", "eegnet")
SPIKING_DATASETS = ("SelfRegulationSCP1", "FingerMovements", "simulated motor imagery (1 subject)")
SPIKING_QUICK = {
    "spiking-lif": {"max_epochs": 15, "patience": 5, "max_steps": 24},
    "spiking-lif-1step": {"max_epochs": 15, "patience": 5, "start_steps": 16},
    "nalsm": {"max_steps": 24, "n_neurons": 128},
    "eegnet": {"max_epochs": 15, "patience": 5},
}
MI_BAND = {"band": [8.0, 30.0]}


def bench_spiking(quick: bool, folder: Path) -> tuple[dict, str]:
    """Accuracy, kappa, SynOps, energy and ORT latency of the spiking decoders and baselines.

    Official splits for the trial sets, within-session 5-fold for the simulator (its first
    seed only in the quick run), 3 seeds (quick: 1), through the harness in worker processes.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from .trials import QUICK_SIMULATOR, SIMULATED, accuracy_of, merge, run

    seeds = [0] if quick else [0, 1, 2]
    decoders = (*SPIKING_DECODERS, *SPIKING_BASELINES)

    def options(dataset: str, decoder: str) -> dict:
        chosen = dict(SPIKING_QUICK.get(decoder, {})) if quick else {}
        if dataset == SIMULATED and decoder in ("csp-lda", *SPIKING_DECODERS):
            chosen.update(MI_BAND)
        return chosen

    jobs = [
        {
            "dataset": dataset,
            "decoder": decoder,
            "seed": seed,
            "options": options(dataset, decoder),
            "simulator": QUICK_SIMULATOR if quick else (),
        }
        for dataset in SPIKING_DATASETS
        for decoder in decoders
        for seed in seeds
    ]
    outcomes: dict[tuple[str, str], list[dict]] = {}
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        for outcome in pool.map(run, jobs):
            outcomes.setdefault((outcome["dataset"], outcome["decoder"]), []).append(outcome)
    records = [record for group in outcomes.values() for record in merge(group)]
    latency = spiking_latency(folder, quick)
    targets = spiking_targets(records, latency)
    lines = [
        "Spiking decoders (test accuracy and Cohen's kappa, mean ± sd over seeds; SynOps and "
        "energy per window counted on validation windows; official splits, simulator 5-fold):",
        "",
        "| decoder | " + " | ".join(SPIKING_DATASETS) + " |",
        "|---|" + "---|" * len(SPIKING_DATASETS),
    ]
    for decoder in decoders:
        cells = []
        for dataset in SPIKING_DATASETS:
            accuracy = accuracy_of(records, dataset, decoder)
            kappa = _metric(records, dataset, decoder, "kappa")
            energy = accuracy.get("energy_uj_spiking") if accuracy else None
            cell = f"{accuracy['mean']:.3f} ± {accuracy['sd']:.3f} (κ {kappa['mean']:.2f})"
            cells.append(cell + (f", {energy:.3f} µJ" if energy else ""))
        lines.append(f"| {decoder} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "ONNX Runtime, batch 1, one thread (SelfRegulationSCP1 windows):",
        "",
        "| decoder | time steps | ORT p50 (ms) | ORT p99 (ms) |",
        "|---|---|---|---|",
        *(
            f"| {r['decoder']} | {r['time_steps']} | {r['ort_ms_p50']:.3f} | "
            f"{r['ort_ms_p99']:.3f} |"
            for r in latency
        ),
        "",
        "| target | measured | met |",
        "|---|---|---|",
        *(f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'no'} |" for t in targets),
    ]
    return {"records": records, "latency": latency, "targets": targets}, "\n".join(lines)


def _metric(records: list[dict], dataset: str, decoder: str, metric: str) -> dict | None:
    return next(
        (
            r
            for r in records
            if (r["dataset"], r["decoder"], r["metric"]) == (dataset, decoder, metric)
        ),
        None,
    )


def spiking_latency(folder: Path, quick: bool) -> list[dict]:
    """Return ORT batch-1 latencies of the spiking decoders fitted on SelfRegulationSCP1."""
    from bci_app.inference.model import OnnxModel
    from decoders import registry
    from decoders.datasets.loaders import load_trial_set
    from decoders.evaluation.protocols import validation_split
    from decoders.export.onnx_export import export_decoder

    from .inference import timed_rounds

    split = load_trial_set("SelfRegulationSCP1")
    fit, valid = validation_split(split.train, 0.2, 0)
    calls, rounds = (300, 3) if quick else (2000, 10)
    rows = []
    for name in SPIKING_DECODERS:
        decoder = registry.create(name, **SPIKING_QUICK.get(name, {})).fit(fit, valid)
        path = export_decoder(decoder, folder / f"{name}.onnx").path
        model = OnnxModel(path.read_bytes(), path.name)
        window = split.test.data[0].astype(np.float32)
        times = timed_rounds({"ort": lambda m=model, w=window: m.predict(w)}, calls, rounds)["ort"]
        steps = getattr(decoder.module_.input, "bins", None)
        rows.append(
            {
                "decoder": name,
                "time_steps": steps.n_steps if steps is not None else None,
                "ort_ms_p50": float(np.percentile(times, 50)),
                "ort_ms_p99": float(np.percentile(times, 99)),
            }
        )
    return rows


def spiking_targets(records: list[dict], latency: list[dict]) -> list[dict]:
    """Return: one-step within 3 points of the LIF decoder at lower latency; NALSM's kappa.

    "NALSM above the best chance-corrected baseline" is read as: NALSM's Cohen's kappa (the
    chance-corrected accuracy) against the best baseline's kappa on each data set, and above
    zero (better than chance) with no gradient through the reservoir.
    """
    from .trials import accuracy_of

    timing = {row["decoder"]: row for row in latency}
    faster = timing["spiking-lif-1step"]["ort_ms_p50"] < timing["spiking-lif"]["ort_ms_p50"]
    targets = []
    for dataset in SPIKING_DATASETS:
        one, lif = (accuracy_of(records, dataset, d) for d in ("spiking-lif-1step", "spiking-lif"))
        behind = lif["mean"] - one["mean"]
        targets.append(
            {
                "target": f"{dataset}: one-step SNN within 3 points of spiking-lif, faster",
                "measured": f"{one['mean']:.3f} vs {lif['mean']:.3f} ({-behind:+.3f}); p50 "
                f"{timing['spiking-lif-1step']['ort_ms_p50']:.3f} vs "
                f"{timing['spiking-lif']['ort_ms_p50']:.3f} ms",
                "met": bool(behind <= 0.03 and faster),
            }
        )
        nalsm = _metric(records, dataset, "nalsm", "kappa")
        best = max(
            (_metric(records, dataset, d, "kappa") for d in SPIKING_BASELINES),
            key=lambda r: r["mean"],
        )
        targets.append(
            {
                "target": f"{dataset}: NALSM's kappa above chance (0) and against the best "
                "baseline's, no gradient through the reservoir",
                "measured": f"{nalsm['mean']:.3f} vs {best['decoder']} {best['mean']:.3f}",
                "met": bool(nalsm["mean"] > 0 and nalsm["mean"] >= best["mean"]),
            }
        )
    return targets


# -- the script ---------------------------------------------------------------------------------

PARTS: dict[str, Callable[[bool, Path], tuple[dict, str]]] = {
    "seizure": bench_seizure,
    "spiking": bench_spiking,
}
"""Benchmark parts by name; each takes (quick, scratch folder), returns (results, markdown)."""


def main() -> None:
    """Run the chosen parts; merge their results into ``bench/results/seeds.json``."""
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller and shorter (< 15 min)")
    parser.add_argument(
        "--part", nargs="+", choices=sorted(PARTS), help="parts to run (default: all)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    previous = RESULTS_DIR / f"{NAME}.json"
    results = json.loads(previous.read_text()) if previous.is_file() else {}
    for part in args.part or list(PARTS):
        print(f"{part}:", flush=True)
        started = time.perf_counter()
        load_before = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as folder:
            figures, markdown = PARTS[part](args.quick, Path(folder))
        results[part] = {
            **figures,
            "markdown": markdown,
            "quick": args.quick,
            "wall_time_s": time.perf_counter() - started,
            "machine": {
                "cpu_count": os.cpu_count(),
                "load_average_1min_start": load_before,
                "load_average_1min_end": os.getloadavg()[0],
                "platform": platform.platform(),
            },
        }
    markdown = "\n\n".join(
        f"{entry['markdown']}\n\n({'quick' if entry['quick'] else 'full'} run, "
        f"{entry['wall_time_s'] / 60:.1f} min, load average {entry['machine']['load_average_1min_start']:.1f}"
        f" at the start and {entry['machine']['load_average_1min_end']:.1f} at the end on "
        f"{entry['machine']['cpu_count']} cores)"
        for entry in results.values()
    )
    save_results(NAME, results, markdown)


if __name__ == "__main__":
    main()
