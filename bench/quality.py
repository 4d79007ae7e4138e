"""Artefact flags of the quality monitor: precision and recall per kind, and their CPU cost.

Usage::

    python -m bench.quality [--quick]

1. Simulated recordings with known artefacts (``decoders.simulators.artifact_task``: blinks,
   muscle bursts, electrode pops, drifts; 32 EEG channels + EOG at 500 Hz; seeds 100 and up,
   thresholds were set on seeds 0-2): the monitor runs causally in 10 ms chunks with 0.5 s
   blocks. Per kind, recall is the share of events with a flag in a block overlapping the
   event; precision the share of flagged blocks overlapping an event of that kind, both
   allowing one block of lag (blinks, muscle, pops) or the drift window (drift: the slope
   looks back ``drift_s``). The offline anchors run on the same recordings:
   ``mne.preprocessing.find_eog_events`` on the EOG channel (blinks) and
   ``mne.preprocessing.annotate_muscle_zscore`` (muscle, 110-140 Hz, z > 4).
2. The real MEG/EEG recording (MNE's ``test_raw.fif``): blink truth from its EOG channel
   (``find_eog_events``); the monitor watches only the six most frontal EEG channels (by
   position), so the EOG never enters its decision.
3. CPU: the whole monitor (channel checks and artefact measures) on 256 channels at 2 kHz
   in 10 ms chunks, as a share of one core (process time over signal time), beside the
   monitor without its artefact measures, measured in the same run.

``--quick`` (under 5 minutes): two 120 s simulated recordings and 10 s of 256-channel
signal; the full run: five 300 s recordings and 60 s.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from .output import save_results

BLOCK_S = 0.5
CHUNK_S = 0.01
FLAG_OF = {"blink": "eye", "muscle": "muscle", "pop": "jump", "drift": "drift"}


@dataclass(frozen=True)
class Interval:
    """An artefact's time span in seconds."""

    start: float
    stop: float


def run_monitor(data: np.ndarray, ch_names, ch_types, sfreq: float, settings=None) -> list:
    """Feed ``data`` to a quality tracker in 10 ms chunks; return its block reports."""
    from acquisition.quality import QualitySettings, QualityTracker

    tracker = QualityTracker(ch_names, ch_types, sfreq, settings or QualitySettings(BLOCK_S))
    chunk = max(1, round(CHUNK_S * sfreq))
    reports = []
    for start in range(0, data.shape[1], chunk):
        report = tracker.update(data[:, start : start + chunk], (start + chunk) / sfreq)
        if report is not None:
            reports.append(report)
    return reports


def score(flagged: np.ndarray, events: list[Interval], lag_s: float) -> dict[str, float]:
    """Return event recall and block precision of per-block flags against intervals."""
    starts = np.arange(flagged.size) * BLOCK_S
    stops = starts + BLOCK_S

    def overlaps(index: int, event: Interval) -> bool:
        return starts[index] < event.stop + lag_s and stops[index] > event.start

    hits = [any(overlaps(i, e) for i in np.flatnonzero(flagged)) for e in events]
    true_blocks = [any(overlaps(i, e) for e in events) for i in np.flatnonzero(flagged)]
    return {
        "events": len(events),
        "flagged_blocks": int(flagged.sum()),
        "recall": float(np.mean(hits)) if events else float("nan"),
        "precision": float(np.mean(true_blocks)) if true_blocks else float("nan"),
    }


def blocks_of(times_s: list[Interval], n_blocks: int) -> np.ndarray:
    """Return per-block flags of intervals (an offline detector's output)."""
    flagged = np.zeros(n_blocks, dtype=bool)
    for interval in times_s:
        first = int(interval.start // BLOCK_S)
        last = int(min(n_blocks - 1, interval.stop // BLOCK_S))
        flagged[first : last + 1] = True
    return flagged


def simulated(seed: int, duration_s: float) -> dict[str, dict[str, dict[str, float]]]:
    """Score the monitor and the MNE anchors on one simulated recording."""
    import mne

    from acquisition.quality import QualitySettings
    from decoders.simulators.artifact_task import ArtifactSimulator

    simulator = ArtifactSimulator(seed=seed)
    raw = simulator.raw(duration_s)
    truth = {kind: [] for kind in FLAG_OF}
    for onset, duration, name in zip(
        raw.annotations.onset, raw.annotations.duration, raw.annotations.description, strict=True
    ):
        truth[name.removeprefix("BAD_")].append(Interval(onset, onset + duration))
    reports = run_monitor(raw.get_data(), raw.ch_names, raw.get_channel_types(), raw.info["sfreq"])
    drift_lag = QualitySettings().drift_s
    ours = {
        kind: score(
            np.array([getattr(r, flag).any() for r in reports]),
            truth[kind],
            drift_lag if kind == "drift" else BLOCK_S,
        )
        for kind, flag in FLAG_OF.items()
    }
    n_blocks = len(reports)
    raw.set_annotations(None)  # the anchors must not skip the artefacts' BAD_ spans
    eog = mne.preprocessing.find_eog_events(raw, ch_name="EOG", verbose="error")
    eog_times = [Interval(t - 0.25, t + 0.25) for t in eog[:, 0] / raw.info["sfreq"]]
    muscle, _ = mne.preprocessing.annotate_muscle_zscore(
        raw, ch_type="eeg", threshold=4.0, verbose="error"
    )
    muscle_times = [Interval(o, o + d) for o, d in zip(muscle.onset, muscle.duration, strict=True)]
    anchors = {
        "blink": score(blocks_of(eog_times, n_blocks), truth["blink"], BLOCK_S),
        "muscle": score(blocks_of(muscle_times, n_blocks), truth["muscle"], BLOCK_S),
    }
    return {"monitor": ours, "mne": anchors}


def real_blinks(home=None) -> dict[str, dict[str, float]]:
    """Score eye flags from frontal EEG against EOG-detected blinks on the real recording."""
    import mne

    from acquisition.quality import QualitySettings
    from decoders.datasets.loaders import load_meg_eeg

    raw = load_meg_eeg(home).pick(["eeg", "eog"])
    raw.del_proj()
    eeg = raw.copy().pick("eeg")
    positions = np.array([ch["loc"][:3] for ch in eeg.info["chs"]])
    frontal = [eeg.ch_names[i] for i in np.argsort(-positions[:, 1])[:6]]
    eog = mne.preprocessing.find_eog_events(raw, verbose="error")
    blinks = [
        Interval(t - 0.25, t + 0.25) for t in (eog[:, 0] - raw.first_samp) / raw.info["sfreq"]
    ]
    settings = QualitySettings(BLOCK_S, eye_channels=tuple(frontal))
    reports = run_monitor(
        eeg.get_data(), eeg.ch_names, eeg.get_channel_types(), raw.info["sfreq"], settings
    )
    flags = np.array([r.eye.any() for r in reports])
    return {"blink (frontal EEG vs EOG)": score(flags, blinks, BLOCK_S), "frontal": frontal}


def cpu_share(seconds: float, *, artifacts: bool) -> float:
    """Return the monitor's process time per second of 256-channel 2 kHz signal (share of a core)."""
    from acquisition.quality import QualityTracker

    rng = np.random.default_rng(0)
    sfreq, n_channels = 2000.0, 256
    names = [f"E{i}" for i in range(n_channels)]
    tracker = QualityTracker(names, ["eeg"] * n_channels, sfreq)
    if not artifacts:
        tracker._artifacts.add = lambda data: None  # the monitor as it was, for the ratio
        tracker._artifacts.finish = lambda jump_uv: _empty(n_channels)
    chunk = round(CHUNK_S * sfreq)
    block = rng.normal(size=(n_channels, round(sfreq))) * 20e-6
    started = time.process_time()
    for second in range(int(seconds)):
        for start in range(0, block.shape[1], chunk):
            tracker.update(block[:, start : start + chunk], second + start / sfreq)
    return (time.process_time() - started) / seconds


def _empty(n_channels: int):
    from acquisition.artifacts import ArtifactMeasures

    nan = np.full(n_channels, np.nan)
    return ArtifactMeasures(nan, nan, nan, nan, nan, np.zeros(n_channels, dtype=bool))


def summarise(runs: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Pool event and block counts over recordings into overall precision and recall."""
    pooled: dict[str, dict[str, dict[str, float]]] = {}
    for detector in ("monitor", "mne"):
        pooled[detector] = {}
        for kind in runs[0][detector]:
            parts = [run[detector][kind] for run in runs]
            events = sum(p["events"] for p in parts)
            flagged = sum(p["flagged_blocks"] for p in parts)
            hit_events = sum(p["recall"] * p["events"] for p in parts if p["events"])
            true_blocks = sum(
                p["precision"] * p["flagged_blocks"] for p in parts if p["flagged_blocks"]
            )
            pooled[detector][kind] = {
                "events": events,
                "flagged_blocks": flagged,
                "recall": hit_events / events if events else float("nan"),
                "precision": true_blocks / flagged if flagged else float("nan"),
            }
    return pooled


def table(results: dict) -> str:
    """Return the markdown tables of the results."""
    pooled = results["simulated"]
    lines = [
        f"Simulated artefacts ({results['recordings']} recordings of {results['duration_s']:g} s, "
        "32 EEG + EOG at 500 Hz, 0.5 s blocks):",
        "",
        "| kind | events | monitor recall | monitor precision | MNE anchor | anchor recall | "
        "anchor precision |",
        "|---|---|---|---|---|---|---|",
    ]
    anchors = {"blink": "find_eog_events (EOG)", "muscle": "annotate_muscle_zscore"}
    for kind, ours in pooled["monitor"].items():
        anchor = pooled["mne"].get(kind)
        lines.append(
            f"| {kind} | {ours['events']} | {ours['recall']:.2f} | {ours['precision']:.2f} | "
            + (
                f"{anchors[kind]} | {anchor['recall']:.2f} | {anchor['precision']:.2f} |"
                if anchor
                else "- | - | - |"
            )
        )
    real = results["real"]
    name = next(k for k in real if k != "frontal")
    lines += [
        "",
        f"Real MEG/EEG recording (`test_raw.fif`, 24 s): eye flags on {', '.join(real['frontal'])} "
        "against blinks found on the EOG channel by `find_eog_events`:",
        "",
        "| kind | events | recall | precision |",
        "|---|---|---|---|",
        f"| {name} | {real[name]['events']} | {real[name]['recall']:.2f} | "
        f"{real[name]['precision']:.2f} |",
        "",
        "CPU at 256 ch @ 2 kHz, 10 ms chunks (share of one core):",
        "",
        "| monitor | CPU % of one core | per channel (µs per s of signal) |",
        "|---|---|---|",
    ]
    for label, key in (("with artefact measures", "cpu_full"), ("channel checks only", "cpu_base")):
        share = results[key]
        lines.append(f"| {label} | {100 * share:.1f} | {share / 256 * 1e6:.1f} |")
    lines.append(f"\nMachine load (1-min average) at the start: {results['load']:.1f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 x 120 s recordings, 10 s of CPU")
    args = parser.parse_args()
    import os

    load = os.getloadavg()[0]
    count, duration, cpu_s = (2, 120.0, 10.0) if args.quick else (5, 300.0, 60.0)
    started = time.perf_counter()
    runs = [simulated(100 + seed, duration) for seed in range(count)]
    results = {
        "recordings": count,
        "duration_s": duration,
        "runs": runs,
        "simulated": summarise(runs),
        "real": real_blinks(),
        "cpu_full": cpu_share(cpu_s, artifacts=True),
        "cpu_base": cpu_share(cpu_s, artifacts=False),
        "load": load,
    }
    results["wall_s"] = time.perf_counter() - started
    save_results("quality", results, table(results))


if __name__ == "__main__":
    main()
