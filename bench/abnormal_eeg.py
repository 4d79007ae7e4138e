"""Band-power baseline on the simulated abnormal-EEG corpus, read back from its EDF files.

For each seed, ``write_tuh_corpus`` writes a corpus (20 subjects x 2 recordings x 5 min,
250 Hz, every other option at its default) into a temporary folder in the TUH Abnormal
layout; ``find_labelled_files`` and ``read_recording`` read it back as they would a real TUH
corpus. Each recording is cut into 10 s windows, each window described by the log band power
of each of the 19 channels (Welch, 2 s Hann segments) in delta 1-4, theta 4-8, alpha 8-13 and
beta 13-30 Hz, absolute or relative to the 1-30 Hz total (76 features); standardised
features, L2 logistic regression (C = 0.1). Protocols: ``subject 5-fold`` (GroupKFold over
subjects, every subject tested once) and ``corpus split`` (trained on ``train``, tested once on
``eval``; subjects disjoint). AUROC per window and per recording (the mean of its windows'
probabilities), mean ± sd over seeds. Also the SNR the abnormal features reached (from
``truth.json``) and the time to simulate and write one recording.

    python -m bench.abnormal_eeg [--quick] [--seeds 0 1 2 3 4] [--corpus DIR]

``--quick``: 8 subjects x 2 recordings x 60 s, seeds 0 and 1. ``--corpus DIR`` scores an
existing TUH-layout corpus (a real one too) once instead of simulating.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .output import save_results

BANDS_HZ = {"delta": (1.0, 4.0), "theta": (4.0, 8.0), "alpha": (8.0, 13.0), "beta": (13.0, 30.0)}
WINDOW_S = 10.0
FULL = {"n_subjects": 20, "recordings_per_subject": 2, "recording_s": 300}
QUICK = {"n_subjects": 8, "recordings_per_subject": 2, "recording_s": 60}
FEATURES = ("relative", "absolute")
PROTOCOLS = ("subject 5-fold", "corpus split")


def window_band_powers(path: Path, channels: list[str]) -> np.ndarray:
    """Return the band powers (n_windows, n_channels, n_bands) of a recording's 10 s windows."""
    from scipy.signal import welch

    from decoders.datasets.readers import read_recording

    raw = read_recording(path)
    sfreq = raw.info["sfreq"]
    data = raw.get_data(picks=channels)
    n_window = round(WINDOW_S * sfreq)
    count = data.shape[1] // n_window
    windows = data[:, : count * n_window].reshape(len(channels), count, n_window).swapaxes(0, 1)
    freqs, density = welch(windows, fs=sfreq, nperseg=round(2 * sfreq), axis=-1)
    return np.stack(
        [density[..., (freqs >= lo) & (freqs < hi)].sum(-1) for lo, hi in BANDS_HZ.values()], -1
    )


def corpus_table(root: Path) -> dict[str, np.ndarray]:
    """Return every window's features and labels, subject, recording and split of a corpus."""
    from decoders.datasets.labelled_folders import find_labelled_files
    from decoders.simulators.montages import TUH_LAYOUT
    from decoders.simulators.tuh_corpus import tuh_label

    channels = [tuh_label(name) for name in TUH_LAYOUT]
    powers, labels, subjects, recordings, splits = [], [], [], [], []
    for index, item in enumerate(find_labelled_files(root, classes=("normal", "abnormal"))):
        power = window_band_powers(item.path, channels)
        powers.append(power)
        labels += [item.label == "abnormal"] * len(power)
        subjects += [item.subject] * len(power)
        recordings += [index] * len(power)
        splits += [item.split] * len(power)
    power = np.concatenate(powers)
    relative = power / power.sum(axis=-1, keepdims=True)
    return {
        "relative": np.log(relative).reshape(len(power), -1),
        "absolute": np.log(power).reshape(len(power), -1),
        "label": np.array(labels),
        "subject": np.array(subjects),
        "recording": np.array(recordings),
        "split": np.array(splits),
    }


def scores(table: dict[str, np.ndarray], features: str, protocol: str) -> dict[str, float]:
    """Return window and recording AUROC of the baseline under ``protocol``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    x, y = table[features], table["label"]
    if protocol == "subject 5-fold":
        folds = list(GroupKFold(5).split(x, y, table["subject"]))
    else:
        folds = [
            (np.flatnonzero(table["split"] == "train"), np.flatnonzero(table["split"] == "eval"))
        ]
    tested = np.concatenate([test for _, test in folds])
    probability = np.full(len(y), np.nan)
    with threadpool_limits(1):
        for train, test in folds:
            model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
            probability[test] = model.fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    recordings = np.unique(table["recording"][tested])
    per_recording = [probability[table["recording"] == r].mean() for r in recordings]
    truth = [y[table["recording"] == r][0] for r in recordings]
    return {
        "window_auroc": float(roc_auc_score(y[tested], probability[tested])),
        "recording_auroc": float(roc_auc_score(truth, per_recording)),
        "n_windows": int(tested.size),
        "n_recordings": int(recordings.size),
    }


def score_corpus(root: Path) -> list[dict[str, object]]:
    """Return one record per feature set and protocol for the corpus at ``root``."""
    table = corpus_table(root)
    return [
        {"features": features, "protocol": protocol, **scores(table, features, protocol)}
        for features in FEATURES
        for protocol in PROTOCOLS
    ]


def simulate_and_score(seed: int, options: dict[str, int]) -> dict[str, object]:
    """Write one simulated corpus, score it and return its records, SNR and timing."""
    from decoders.simulators.tuh_corpus import write_tuh_corpus

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        root = write_tuh_corpus(Path(folder) / "corpus", seed=seed, **options)
        written_s = time.perf_counter() - start
        truth = json.loads((root / "truth.json").read_text())
        records = score_corpus(root)
    n_files = len(truth["files"])
    return {
        "seed": seed,
        "records": records,
        "snr_reached_db": truth["snr"]["reached_db"],
        "seconds_per_recording": written_s / n_files,
    }


def summary_table(runs: list[dict[str, object]]) -> str:
    """Return the markdown tables: AUROC mean ± sd over seeds, and the SNR reached."""
    lines = [
        "| features | protocol | window AUROC | recording AUROC |",
        "|---|---|---|---|",
    ]
    for features in FEATURES:
        for protocol in PROTOCOLS:
            found = [
                record
                for run in runs
                for record in run["records"]
                if record["features"] == features and record["protocol"] == protocol
            ]
            cells = [
                _mean_sd([record[key] for record in found])
                for key in ("window_auroc", "recording_auroc")
            ]
            lines.append(f"| log {features} band power | {protocol} | {cells[0]} | {cells[1]} |")
    if "snr_reached_db" in runs[0]:
        lines += ["", "| abnormality | SNR reached (dB), mean ± sd over recordings | recordings |"]
        lines.append("|---|---|---|")
        kinds = sorted({kind for run in runs for kind in run["snr_reached_db"]})
        for kind in kinds:
            figures = [run["snr_reached_db"][kind] for run in runs if kind in run["snr_reached_db"]]
            n = sum(figure["n"] for figure in figures)
            mean = sum(figure["mean"] * figure["n"] for figure in figures) / n
            spread = np.mean([figure["sd"] for figure in figures])
            lines.append(f"| {kind} | {mean:.1f} ± {spread:.1f} | {n} |")
    return "\n".join(lines)


def _mean_sd(values: list[float]) -> str:
    """Return ``mean ± sd`` (ddof=1) of ``values``, or the single value."""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def main() -> None:
    """Simulate, score and write ``bench/results/abnormal_eeg.json``; print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small corpora, two seeds")
    parser.add_argument("--seeds", type=int, nargs="+", help="simulator seeds (default 0-4)")
    parser.add_argument("--corpus", type=Path, help="score this TUH-layout corpus instead")
    args = parser.parse_args()
    if args.corpus is not None:
        runs = [{"corpus": str(args.corpus), "records": score_corpus(args.corpus)}]
        print(summary_table(runs))
        return
    options = QUICK if args.quick else FULL
    seeds = args.seeds or ([0, 1] if args.quick else [0, 1, 2, 3, 4])
    runs = []
    for seed in seeds:
        runs.append(simulate_and_score(seed, options))
        print(f"seed {seed}: {runs[-1]['records'][0]}", flush=True)
    results = {
        "protocol": __doc__,
        "corpus_options": options,
        "seeds": seeds,
        "quick": args.quick,
        "runs": runs,
    }
    save_results("abnormal_eeg", results, summary_table(runs))


if __name__ == "__main__":
    main()
