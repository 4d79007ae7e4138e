"""Simulated abnormal EEG written as a corpus in the layout of the TUH Abnormal EEG Corpus (v3).

Layout::

    ROOT/truth.json
    ROOT/edf/{train,eval}/{normal,abnormal}/01_tcp_ar/<subject>_s<session>_t<take>.edf

Subjects have 8-letter ids (``aaaaaaaa``, ``aaaaaaab``, ...) and are split by subject,
stratified by class: ``eval_fraction`` of each class's subjects go to ``eval``. Each EDF file
holds one recording with TUH channel labels (``EEG FP1-REF``) in microvolts, 16-bit, in 1 s
data records. ``truth.json`` keeps the seed, options, SNR definition and figures, each
subject's ground truth and each file's (label, abnormality kinds, focus, spike times, SNR).
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path
from string import ascii_lowercase
from typing import TYPE_CHECKING

import numpy as np

from .abnormal_recording import CLASSES
from .abnormalities import BANDS_HZ
from .errors import SimulatorError

if TYPE_CHECKING:
    from .abnormal_eeg import AbnormalEEGSimulator

TUH_MONTAGE = "01_tcp_ar"
"""The montage folder of the TUH Abnormal corpus (recordings with an averaged reference)."""

SPLITS = ("train", "eval")
TRUTH_FILE = "truth.json"
_SPLIT_STREAM = 2**21


def subject_id(index: int) -> str:
    """Return the 8-letter id of subject ``index`` (0 gives ``aaaaaaaa``, 1 ``aaaaaaab``)."""
    letters = []
    for _ in range(8):
        index, letter = divmod(index, 26)
        letters.append(ascii_lowercase[letter])
    return "".join(reversed(letters))


def tuh_label(channel: str) -> str:
    """Return the TUH label of a 10-20 channel (``Fp1`` gives ``EEG FP1-REF``)."""
    return f"EEG {channel.upper()}-REF"


def write_tuh_corpus(root: str | Path, *, seed: int = 0, **options: object) -> Path:
    """Simulate abnormal EEG and write it as a TUH-layout corpus under ``root``.

    Parameters
    ----------
    root : str | Path
        New or empty folder.
    seed : int
        Same seed and options give identical files.
    **options
        Options of :class:`~decoders.simulators.abnormal_options.AbnormalEEGOptions`.

    Returns
    -------
    root : Path
        The corpus folder.
    """
    from .abnormal_eeg import AbnormalEEGSimulator

    return write_corpus(AbnormalEEGSimulator(seed=seed, **options), root)


def write_corpus(simulator: AbnormalEEGSimulator, root: str | Path) -> Path:
    """Write every recording of ``simulator`` as a TUH-layout corpus under ``root``."""
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise SimulatorError(root, "exists and is not an empty folder; give a new one")
    options = simulator.options
    splits = split_subjects(simulator.labels, options.eval_fraction, simulator.seed)
    subjects, files = {}, {}
    for subject, split in enumerate(splits):
        ident = subject_id(subject)
        truth = simulator.subject(subject)
        subjects[ident] = {
            "index": subject,
            "split": split,
            **{key: _plain(value) for key, value in asdict(truth).items() if key != "index"},
        }
        for index in range(options.recordings_per_subject):
            recording = simulator.recording(subject, index)
            relative = Path(
                "edf", split, truth.label, TUH_MONTAGE, f"{ident}_s{index + 1:03d}_t000.edf"
            )
            write_edf(root / relative, recording.signals, recording.ch_names, truth.sfreq, ident)
            files[relative.as_posix()] = {"subject_id": ident, "split": split, **recording.truth()}
    summary = {
        "task": "abnormal_eeg",
        "seed": simulator.seed,
        "options": {f.name: _plain(getattr(options, f.name)) for f in fields(options) if f.init},
        "layout": f"edf/{{split}}/{{label}}/{TUH_MONTAGE}/{{subject}}_s{{session}}_t000.edf",
        "channels": {name: tuh_label(name) for name in simulator.ch_names},
        "snr": _snr_summary(options.snr_db, files.values()),
        "subjects": subjects,
        "files": files,
    }
    (root / TRUTH_FILE).write_text(json.dumps(summary, indent=1))
    return root


def split_subjects(labels: tuple[str, ...], eval_fraction: float, seed: int) -> list[str]:
    """Return the split of each subject: ``eval_fraction`` of each class, at random, to ``eval``.

    A class with two or more subjects keeps at least one in each split when ``eval_fraction``
    is positive.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_SPLIT_STREAM,)))
    splits = ["train"] * len(labels)
    for name in CLASSES:
        members = [index for index, label in enumerate(labels) if label == name]
        count = round(eval_fraction * len(members))
        if eval_fraction > 0 and len(members) >= 2:
            count = min(max(count, 1), len(members) - 1)
        for index in rng.permutation(members)[:count]:
            splits[int(index)] = "eval"
    return splits


def write_edf(
    path: Path, signals: np.ndarray, ch_names: tuple[str, ...], sfreq: float, patient: str
) -> None:
    """Write ``signals`` (volts) as a 16-bit EDF file with TUH labels, in microvolts.

    Each channel's physical range is its largest absolute value rounded up to a whole
    microvolt, so the quantisation step is at most that over 65,535.
    """
    import edfio

    microvolts = signals * 1e6
    edf_signals = []
    for name, channel in zip(ch_names, microvolts, strict=True):
        bound = float(max(np.ceil(np.abs(channel).max()), 1.0))
        edf_signals.append(
            edfio.EdfSignal(
                channel,
                sfreq,
                label=tuh_label(name),
                physical_dimension="uV",
                physical_range=(-bound, bound),
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    edf = edfio.Edf(edf_signals, patient=edfio.Patient(code=patient), data_record_duration=1.0)
    edf.write(path)


def _snr_summary(target_db: float, files: object) -> dict[str, object]:
    """Return the SNR definition, target and the mean/sd/count reached per kind."""
    reached: dict[str, list[float]] = {}
    for truth in files:  # type: ignore[attr-defined]
        for kind, feature in truth["abnormalities"].items():
            reached.setdefault(kind, []).append(feature["snr_db"])
    return {
        "definition": "10 log10 of the feature's power over the normal background's power, "
        "in the kind's band, summed over channels, where the feature is expressed",
        "bands_hz": {kind: list(band) for kind, band in BANDS_HZ.items()},
        "target_db": target_db,
        "reached_db": {
            kind: {
                "mean": round(float(np.mean(values)), 2),
                "sd": round(float(np.std(values)), 2),
                "n": len(values),
            }
            for kind, values in sorted(reached.items())
        },
    }


def _plain(value: object) -> object:
    """Return ``value`` with arrays and tuples as lists and floats rounded (JSON-ready)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float | np.floating):
        return round(float(value), 6)
    return value
