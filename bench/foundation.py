"""What pretraining buys: EEGFormer pretrained and fine-tuned against networks from scratch.

Compared: the same network from scratch, braindecode's foundation architectures from scratch,
EEGNet and classical pipelines.

Corpus (unlabelled, pretraining only): the real EEG of ``bci-app data fetch`` (60 channels of
MNE's test recording), the abnormal-EEG simulator's training subjects (TUH layout) and
simulated motor-imagery recordings. No fine-tuning task's test trials are ever in it: the
abnormal task is scored on the simulator's ``eval`` subjects, which the corpus lacks, and the
trial sets are not recordings of the corpus.

Tasks: the abnormal-EEG simulator (10 s windows, train/eval subjects as the official split),
SelfRegulationSCP1 and FingerMovements (official splits). Every decoder is fitted through the
harness with 10 %, 30 % and 100 % of each task's training labels (stratified, per seed;
validation carved from that share; the test part scored once per fit), over the seeds. The
naive-Bayes token detector (the pretrained encoder's codes, no fine-tuning) is scored beside.

Part ``throughput``: pretraining speed (sequences/s) and peak memory (summed over processes)
of the tiny and small sizes, one process with two threads against two processes with one
thread each (torchrun, gloo), same global batch.

Writes ``bench/results/foundation.json`` (part ``accuracy``) and
``bench/results/foundation_throughput.json`` (part ``throughput``), each with its markdown
beside, and prints the tables with the targets:

- pretrained beats from-scratch at 10 % and 30 % labels;
- the best bci-app decoder beats braindecode's foundation architectures.

    python -m bench.foundation [--quick] [--seeds 0 1 2] [--jobs 2] [--part accuracy|throughput]
        [--tasks TASK ...] [--decoders LABEL ...]

``--quick``: fewer and shorter simulated recordings, 1 seed, shorter pretraining and
fine-tuning (the settings are in :data:`SETTINGS` and written into the results).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from .output import save_results

ABNORMAL = "abnormal EEG (simulated)"
TASKS = (ABNORMAL, "SelfRegulationSCP1", "FingerMovements")
FRACTIONS = (0.1, 0.3, 1.0)
METRICS = ("accuracy", "balanced_accuracy", "auroc")
PRETRAINED, SCRATCH, DETECTOR = "eegformer (pretrained)", "eegformer (scratch)", "token detector"
FOUNDATION = {"LaBraM": "Labram", "BIOT": "BIOT", "CBraMod": "CBraMod"}
PATCH_SAMPLES = {ABNORMAL: 250, "SelfRegulationSCP1": 128, "FingerMovements": 25}
"""Patch length (samples) of LaBraM per task: a divisor of the task's window (its default 200
divides none of them), about 0.25-1 s."""
CBRAMOD_UNFIT = (
    "braindecode {version}'s CBraMod takes patches of 200 samples only (its spectral branch "
    "fixes 101 frequency bins) and windows of whole patches; {n_times} samples are not"
)
"""Why CBraMod is not fitted on a task whose window is not a multiple of 200 samples."""
SCP1_ELECTRODES = {
    "A1-Cz": "A1",
    "A2-Cz": "A2",
    "C3f": "FCC3",
    "C3p": "CCP3",
    "C4f": "FCC4",
    "C4p": "CCP4",
}
"""SelfRegulationSCP1's channels placed for LaBraM: the mastoid derivations at their active
electrode, and the sites 2 cm in front of and behind C3/C4 at the 10-5 sites between
(FCC3 lies half-way from FC3 to C3, about 1.8 cm in front of it on an adult head)."""
BASELINES = ("eegnet", "csp-lda", "cov-ts-lr", "xdawncov-ts-lr")

SETTINGS = {
    "quick": {
        "abnormal": {"n_subjects": 16, "recording_s": 90.0, "sfreq": 250.0},
        "motor_imagery_s": (60.0, 2),
        "pretrain": {"size": "small", "set": ["depth=2", "n_codes=256", "segment_s=4"],
                     "steps": 150, "global_batch": 64, "micro_batch": 64},
        "finetune": {"max_epochs": 12, "patience": 4},
        "networks": {"max_epochs": 12, "patience": 4},
        "seeds": 1,
    },
    "full": {
        "abnormal": {"n_subjects": 40, "recording_s": 240.0, "sfreq": 250.0},
        "motor_imagery_s": (180.0, 6),
        "pretrain": {"size": "small", "set": ["segment_s=4"],
                     "steps": 1200, "global_batch": 128, "micro_batch": 64},
        "finetune": {"max_epochs": 40, "patience": 10},
        "networks": {"max_epochs": 60, "patience": 15},
        "seeds": 3,
    },
}  # fmt: skip
WINDOW_S = 10.0


# ---------------------------------------------------------------------- data
def write_corpus(root: Path, settings: dict) -> tuple[Path, list[Path]]:
    """Write the simulated recordings; return the abnormal corpus root and the pretraining sources."""
    from decoders.datasets.loaders import load_meg_eeg
    from decoders.simulators.registry import make_simulator, simulate_raw

    abnormal = make_simulator("abnormal_eeg", seed=0, **settings["abnormal"]).write_corpus(
        root / "abnormal"
    )
    imagery = root / "motor_imagery"
    imagery.mkdir(parents=True, exist_ok=True)
    seconds, count = settings["motor_imagery_s"]
    for subject in range(count):
        raw = simulate_raw("motor_imagery", seed=100 + subject, duration_s=seconds)
        raw.save(imagery / f"mi{subject}_raw.fif", overwrite=True, verbose="error")
    real = root / "real"
    real.mkdir(exist_ok=True)
    load_meg_eeg().pick("eeg").save(real / "meg-eeg_eeg_raw.fif", overwrite=True, verbose="error")
    sources = [abnormal / "edf" / "train", imagery, real]
    return abnormal, sources


@functools.cache
def load_task(task: str, abnormal_root: str):
    """Return the official split of a task (once per worker process)."""
    from decoders.datasets.trials import OfficialSplit

    if task != ABNORMAL:
        from decoders.datasets.loaders import load_trial_set

        data = load_trial_set(task)
        return _placed_scp1(data) if task == "SelfRegulationSCP1" else data
    from decoders.datasets.labelled_folders import find_labelled_files, labelled_windows

    files = find_labelled_files(Path(abnormal_root) / "edf", classes=("normal", "abnormal"))
    parts = {}
    for split in ("train", "eval"):
        chosen = [item for item in files if item.split == split]
        parts[split] = labelled_windows(chosen, WINDOW_S, name=f"abnormal/{split}")
    return OfficialSplit(parts["train"], parts["eval"])


def _placed_scp1(data):
    """Return SelfRegulationSCP1 with positions for its channels (:data:`SCP1_ELECTRODES`)."""
    from dataclasses import replace

    from decoders.datasets.trials import OfficialSplit
    from decoders.models.braindecode_zoo.channels import DEFAULT_MONTAGE, montage_positions

    sites = montage_positions(DEFAULT_MONTAGE)
    positions = {name: sites[site.lower()] for name, site in SCP1_ELECTRODES.items()}
    return OfficialSplit(
        replace(data.train, ch_pos=positions),
        replace(data.test, ch_pos=positions),
        data.description,
    )


# ---------------------------------------------------------------------- fits
def run(job: dict) -> dict:
    """Evaluate one decoder on one task at one label fraction with one seed (a worker)."""
    import torch

    from decoders.datasets.errors import DataError

    torch.set_num_threads(1)
    data = load_task(job["task"], job["abnormal"])
    init = job.get("init")
    identity = {key: job[key] for key in ("task", "decoder", "fraction", "seed")}
    if job["decoder"] == "CBraMod" and data.train.n_times % 200:
        import braindecode

        reason = CBRAMOD_UNFIT.format(version=braindecode.__version__, n_times=data.train.n_times)
        return {**identity, "failed": f"cbramod: {reason}"}
    try:
        result = _evaluate(job, data, init)
    except DataError as error:  # a model that cannot take this task's windows
        return {**identity, "failed": str(error)}
    return {
        **identity,
        "metrics": {name: result.metrics[name].mean for name in METRICS},
        "wall_time_s": result.wall_time_s,
    }


def _evaluate(job: dict, data, init: str | None):
    from decoders.evaluation.harness import evaluate
    from decoders.evaluation.protocols import OfficialProtocol

    return evaluate(
        lambda seed: make_decoder(job, seed),
        data,
        OfficialProtocol(),
        [job["seed"]],
        decoder_name=job["decoder"],
        dataset_name=job["task"],
        label_fraction=job["fraction"],
        fit_options=(lambda seed, fold: {"init": init}) if init else None,
    )


def make_decoder(job: dict, seed: int):
    """Return the decoder of a job (the token detector is a bench-only classifier)."""
    from decoders import registry

    if job["decoder"] == DETECTOR:
        return TokenDetector(Path(job["pretrained"]))
    return registry.create(job["registry"], seed=seed, **job["options"])


class TokenDetector:
    """The pretrained encoder's codes (frozen, not fine-tuned) and a naive-Bayes classifier."""

    def __init__(self, pretrained: Path) -> None:
        self.pretrained = pretrained

    def fit(self, train, valid):
        """Encode the training windows with the pretrained encoder; fit the detector."""
        from decoders import registry
        from decoders.contract import OutputSpec
        from decoders.models.eegformer.classifier import EEGFormer, _codes
        from decoders.models.eegformer.interpret import TokenNaiveBayes

        encoder = registry.create("eegformer", **EEGFormer.options_from(self.pretrained))
        module = encoder.build(encoder.spec_for(train), OutputSpec("probabilities", train.classes))
        encoder.initialize(module, self.pretrained)
        self.module = module.eval()
        n_codes = module.backbone.quantizer.n_codes
        self.detector = TokenNaiveBayes(n_codes).fit(
            _codes(module, train.data), train.labels, train.n_classes
        )
        return self

    def predict_proba(self, data):
        """Return the detector's class probabilities of windows."""
        from decoders.models.eegformer.classifier import _codes

        return self.detector.predict_proba(_codes(self.module, data))


def foundation_entries() -> dict[str, str]:
    """Return the registry names of braindecode's foundation architectures (when registered)."""
    from decoders.registry import REGISTRY

    found = {}
    for label, architecture in FOUNDATION.items():
        for name, entry in REGISTRY.items():
            if entry.defaults.get("architecture") == architecture:
                found[label] = name
    return found


def jobs(args, settings, pretrained: Path, abnormal: Path) -> list[dict]:
    """Return every (task, decoder, fraction, seed) job, the slowest first."""
    seeds = args.seeds[: settings["seeds"]]
    decoders = {
        PRETRAINED: ("eegformer", settings["finetune"], str(pretrained)),
        SCRATCH: (
            "eegformer",
            {**settings["finetune"], "size": "small", "architecture": None},
            None,
        ),
        **{
            label: (name, settings["networks"], None)
            for label, name in foundation_entries().items()
        },
        "eegnet": ("eegnet", settings["networks"], None),
        **{name: (name, {}, None) for name in BASELINES[1:]},
        DETECTOR: (None, {}, None),
    }
    options = _architecture(pretrained)
    listed = []
    for task in TASKS:
        for label, (name, extra, init) in decoders.items():
            for fraction in FRACTIONS:
                for seed in seeds:
                    merged = {**extra}
                    if label in (PRETRAINED, SCRATCH):
                        merged.update(options)
                    if label == "LaBraM":
                        merged["network"] = {"patch_size": PATCH_SAMPLES[task]}
                    listed.append(
                        {
                            "task": task,
                            "decoder": label,
                            "registry": name,
                            "options": merged,
                            "init": init,
                            "pretrained": str(pretrained),
                            "abnormal": str(abnormal),
                            "fraction": fraction,
                            "seed": seed,
                        }
                    )
    listed = [
        job
        for job in listed
        if job["task"] in args.tasks and (not args.decoders or job["decoder"] in args.decoders)
    ]
    slow = (PRETRAINED, SCRATCH, *FOUNDATION)
    return sorted(listed, key=lambda job: (job["decoder"] not in slow, job["task"] != ABNORMAL))


def _architecture(pretrained: Path) -> dict:
    from decoders.models.eegformer.classifier import EEGFormer

    return EEGFormer.options_from(pretrained)


def pretrain(sources: list[Path], out: Path, settings: dict) -> Path:
    """Pretrain EEGFormer on the corpus with the CLI (one process); return the folder."""
    spec = settings["pretrain"]
    command = [
        sys.executable, "-m", "bci_app", "pretrain", "eegformer", "--size", spec["size"],
        "--data", *map(str, sources), "--out", str(out), "--steps", str(spec["steps"]),
        "--global-batch", str(spec["global_batch"]), "--micro-batch", str(spec["micro_batch"]),
        "--checkpoint-every", "50", "--no-progress",
    ] + [item for setting in spec["set"] for item in ("--set", setting)]  # fmt: skip
    subprocess.run(command, check=True)
    return out


# ---------------------------------------------------------------------- records and tables
def merge(outcomes: list[dict]) -> list[dict]:
    """Return the records (one per metric) of one (task, decoder, fraction) over its seeds."""
    from decoders.evaluation.records import MetricSummary

    first = outcomes[0]
    failed = [o["failed"] for o in outcomes if "failed" in o]
    if failed:
        return [
            {
                "dataset": first["task"],
                "decoder": first["decoder"],
                "label_fraction": first["fraction"],
                "failed": failed[0],
            }
        ]
    return [
        {
            "dataset": first["task"],
            "protocol": "official split; label share stratified per seed",
            "decoder": first["decoder"],
            "label_fraction": first["fraction"],
            "metric": metric,
            **_summary(MetricSummary.from_values([o["metrics"][metric] for o in outcomes])),
            "n_seeds": len(outcomes),
            "wall_time_s": sum(o["wall_time_s"] for o in outcomes),
        }
        for metric in METRICS
    ]


def _summary(summary) -> dict:
    return {"mean": summary.mean, "sd": summary.sd}


def table(records: list[dict], task: str, metric: str) -> list[str]:
    """Return a markdown table of ``metric`` by decoder (rows) and label fraction (columns)."""
    decoders = list(dict.fromkeys(r["decoder"] for r in records if r["dataset"] == task))
    header = "| decoder | " + " | ".join(f"{int(f * 100)} % labels" for f in FRACTIONS) + " |"
    lines = [f"**{task}**, test {metric} (mean ± sd)", "", header, "|---|" + "---|" * 3]
    for decoder in decoders:
        cells = []
        for fraction in FRACTIONS:
            found = _record(records, task, decoder, fraction, metric)
            cells.append(f"{found['mean']:.3f} ± {found['sd']:.3f}" if found else "failed")
        lines.append(f"| {decoder} | " + " | ".join(cells) + " |")
    return lines


def _record(records, task, decoder, fraction, metric):
    return next(
        (
            r
            for r in records
            if (r["dataset"], r["decoder"], r["label_fraction"], r.get("metric"))
            == (task, decoder, fraction, metric)
        ),
        None,
    )


def targets(records: list[dict]) -> list[str]:
    """Return markdown rows: pretrained vs scratch at 10 %/30 %, bci-app vs braindecode."""
    lines = ["| task | target | reference | candidate | met |", "|---|---|---|---|---|"]
    ours = (PRETRAINED, SCRATCH, "eegnet", *BASELINES[1:])
    for task in TASKS:
        metric = "auroc" if task == ABNORMAL else "balanced_accuracy"
        for fraction in (0.1, 0.3):
            pre = _record(records, task, PRETRAINED, fraction, metric)
            scratch = _record(records, task, SCRATCH, fraction, metric)
            if pre and scratch:
                met = pre["mean"] > scratch["mean"]
                lines.append(
                    f"| {task} | pretrained > scratch at {int(fraction * 100)} % ({metric}) | "
                    f"{scratch['mean']:.3f} | {pre['mean']:.3f} | {'yes' if met else 'no'} |"
                )
        for fraction in FRACTIONS:
            best_ours = _best(records, task, ours, fraction, metric)
            best_bd = _best(records, task, tuple(FOUNDATION), fraction, metric)
            if best_ours and best_bd:
                met = best_ours["mean"] > best_bd["mean"]
                lines.append(
                    f"| {task} | best bci-app > braindecode foundation at "
                    f"{int(fraction * 100)} % | {best_bd['decoder']} {best_bd['mean']:.3f} | "
                    f"{best_ours['decoder']} {best_ours['mean']:.3f} | {'yes' if met else 'no'} |"
                )
    return lines


def _best(records, task, decoders, fraction, metric):
    found = [r for d in decoders if (r := _record(records, task, d, fraction, metric))]
    return max(found, key=lambda r: r["mean"]) if found else None


# ---------------------------------------------------------------------- throughput
def throughput(sources: list[Path], folder: Path, quick: bool) -> list[dict]:
    """Measure pretraining speed and peak memory: tiny and small, 1 x 2 threads vs 2 x 1."""
    rows = []
    steps = 8 if quick else 30
    for size in ("tiny", "small"):
        for processes, threads in ((1, 2), (2, 1)):
            out = folder / f"{size}-{processes}x{threads}"
            command = [
                sys.executable, "-m", "bci_app", "pretrain", "eegformer", "--size", size,
                "--data", *map(str, sources), "--out", str(out), "--steps", str(steps),
                "--global-batch", "64", "--micro-batch", "32", "--no-progress",
                "--set", "segment_s=4", "--checkpoint-every", str(steps),
            ] + (["--nproc", "2"] if processes == 2 else [])  # fmt: skip
            environment = {**os.environ, "OMP_NUM_THREADS": str(threads)}
            peak = _run_measuring_memory(command, environment)
            card = json.loads((out / "pretrained.json").read_text())
            rows.append(
                {
                    "size": size,
                    "processes": processes,
                    "threads_per_process": threads,
                    "sequences_per_s": card["throughput"]["sequences_per_s"],
                    "peak_memory_mb": peak / 2**20,
                    "steps": steps,
                    "global_batch": 64,
                }
            )
            print(rows[-1], flush=True)
    return rows


def throughput_table(rows: list[dict]) -> str:
    """Return the markdown table of the throughput part."""
    lines = [
        "| size | processes x threads | sequences/s | peak memory (MB) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['size']} | {r['processes']} x {r['threads_per_process']} | "
        f"{r['sequences_per_s']:.0f} | {r['peak_memory_mb']:.0f} |"
        for r in rows
    ]
    return "\n".join(lines)


def _load_note() -> str:
    """Return the machine's cores and load average when the measurement ends."""
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end"


def _run_measuring_memory(command: list[str], environment: dict) -> float:
    """Run ``command``; return the peak of the summed resident memory of its process tree."""
    import psutil

    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
    peak = 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        parent = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    if process.wait() != 0:
        raise RuntimeError(f"pretraining failed: {' '.join(command)}")
    done.set()
    watcher.join()
    return peak


# ---------------------------------------------------------------------- main
def main() -> None:
    """Write the corpus, pretrain, fine-tune and compare; measure throughput; save records."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--part", choices=("all", "accuracy", "throughput"), default="all")
    parser.add_argument("--work", type=Path, help="keep the corpus and models here")
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--decoders", nargs="+", help="only these decoders (labels of the table)")
    args = parser.parse_args()
    settings = SETTINGS["quick" if args.quick else "full"]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-foundation-") as scratch:
        work = args.work or Path(scratch)
        abnormal, sources = write_corpus(work / "corpus", settings)
        if args.part in ("all", "accuracy"):
            results: dict = {
                "settings": settings,
                "quick": args.quick,
                "tasks": args.tasks,
                "decoders": args.decoders or "all",
            }
            markdown: list[str] = []
            pretrained = work / "pretrained"
            if not (pretrained / "pretrained.json").is_file():
                pretrain(sources, pretrained, settings)
            card = json.loads((pretrained / "pretrained.json").read_text())
            results["pretraining"] = {
                key: card[key] for key in ("size", "config", "steps", "final_losses", "throughput")
            }
            results["pretraining"]["corpus"] = {
                key: card["corpus"][key] for key in ("n_files", "hours_per_type", "hours_used")
            }
            records = fine_tune(args, settings, pretrained, abnormal)
            results["records"] = records
            for task in args.tasks:
                metric = "auroc" if task == ABNORMAL else "balanced_accuracy"
                markdown += [*table(records, task, metric), ""]
            markdown += ["Targets:", "", *targets(records), ""]
            markdown += [
                f"Failed: {r['decoder']} on {r['dataset']} ({r['failed']})"
                for r in {
                    (r["dataset"], r["decoder"]): r for r in records if "failed" in r
                }.values()
            ]
            results["wall_time_s"] = time.perf_counter() - started
            save_results("foundation", results, "\n".join(markdown))
        if args.part in ("all", "throughput"):
            started = time.perf_counter()
            rows = throughput(sources, work / "throughput", args.quick)
            measured = {"quick": args.quick, "rows": rows, "machine": _load_note()}
            measured["wall_time_s"] = time.perf_counter() - started
            save_results("foundation_throughput", measured, throughput_table(rows))


def fine_tune(args, settings, pretrained: Path, abnormal: Path) -> list[dict]:
    """Run every fine-tuning job in worker processes; return the merged records."""
    listed = jobs(args, settings, pretrained, abnormal)
    outcomes: dict[tuple, list[dict]] = {}
    with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
        for outcome in pool.map(run, listed):
            key = (outcome["task"], outcome["decoder"], outcome["fraction"])
            outcomes.setdefault(key, []).append(outcome)
            score = (
                f"failed: {outcome['failed']}"
                if "failed" in outcome
                else f"{outcome['metrics']['balanced_accuracy']:.3f}"
            )
            print(
                f"{outcome['task']:28s} {outcome['decoder']:24s} {outcome['fraction']:.1f} "
                f"seed {outcome['seed']}: {score}",
                flush=True,
            )
    return [record for group in outcomes.values() for record in merge(group)]


if __name__ == "__main__":
    main()
