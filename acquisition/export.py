"""Turning a recorded XDF file into standard FIF files, with gaps and events as annotations."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .channels import channels_from_fields

if TYPE_CHECKING:
    import mne

GAP_ANNOTATION = "BAD_ACQ_SKIP"
_IEEG = {"seeg", "ecog", "dbs"}


def export_fif(path: str | Path, *, meas_date: datetime | None = None) -> list[Path]:
    """Write each signal stream of an XDF recording as ``<stem>_<stream>_raw.fif`` beside it.

    Parameters
    ----------
    path : str or Path
        The XDF file.
    meas_date : datetime, optional
        Start of the recording (UTC), stored in the FIF files.

    Returns
    -------
    paths : list of Path
        The FIF files written.
    """
    path = Path(path)
    raws = xdf_to_raws(path)
    written = []
    for name, raw in raws.items():
        if meas_date is not None:
            raw.set_meas_date(meas_date)
        target = path.with_name(f"{path.stem}_{_safe(name)}_raw.fif")
        raw.save(target, overwrite=True, verbose="error")
        written.append(target)
    return written


def export_bids(
    path: str | Path,
    root: str | Path,
    *,
    subject: str,
    session: str | None = None,
    task: str = "bci",
    meas_date: datetime | None = None,
) -> list[Path]:
    """Write each signal stream of an XDF recording into a BIDS data set (with mne-bids).

    Each stream becomes one recording ``sub-<subject>[_ses-<session>]_task-<task>_acq-<stream>``
    of datatype ``meg`` (MEG channels; FIF), ``ieeg`` (sEEG/ECoG/DBS; BrainVision) or ``eeg``
    (BrainVision), with its events and gaps in ``events.tsv``.

    Parameters
    ----------
    path : str or Path
        The XDF file.
    root : str or Path
        The BIDS root (created when missing).
    subject, session, task : str
        BIDS entities (letters and digits only; use a pseudonym, never a name).
    meas_date : datetime, optional
        Start of the recording (UTC).

    Returns
    -------
    paths : list of Path
        The recording files written.
    """
    import mne_bids

    written = []
    for name, raw in xdf_to_raws(path).items():
        if meas_date is not None:
            raw.set_meas_date(meas_date)
        types = set(raw.get_channel_types())
        datatype = "meg" if types & {"mag", "grad"} else "ieeg" if types & _IEEG else "eeg"
        bids_path = mne_bids.BIDSPath(
            subject=subject,
            session=session,
            task=task,
            acquisition=re.sub(r"[^A-Za-z0-9]+", "", name) or "stream",
            datatype=datatype,
            root=root,
        )
        target = mne_bids.write_raw_bids(
            raw,
            bids_path,
            format="FIF" if datatype == "meg" else "BrainVision",
            allow_preload=True,
            overwrite=True,
            verbose="error",
        )
        written.append(Path(target.fpath))
    return written


def xdf_to_raws(path: str | Path) -> dict[str, mne.io.RawArray]:
    """Read every signal stream of an XDF file as an MNE Raw in SI units.

    Timestamps are clock-synchronised and dejittered (pyxdf). Missing stretches (a lost
    stream) are filled with zeros and annotated ``BAD_ACQ_SKIP`` with their duration, so
    that sample times stay on the recording's clock. Every text marker of the file (the
    streams' markers, operator markers and acquisition events) within the stream's time span
    becomes an annotation (markers outside it stay in the XDF file only).
    """
    import pyxdf

    # Segments break at any jump of 0.1 s (or 10 samples): each is dejittered on its own, so
    # that a short stream loss stays a gap instead of being spread over the segment. pyxdf's
    # notes about streams without clock offsets (ours, on one machine) are not for users.
    pyxdf_logger = logging.getLogger("pyxdf.pyxdf")
    level = pyxdf_logger.level
    pyxdf_logger.setLevel(logging.ERROR)
    try:
        streams, _ = pyxdf.load_xdf(
            str(path),
            verbose=False,
            jitter_break_threshold_seconds=0.1,
            jitter_break_threshold_samples=10,
        )
    finally:
        pyxdf_logger.setLevel(level)
    markers = _markers(streams)
    raws = {}
    for stream in streams:
        info = stream["info"]
        regular = float(_first(info["nominal_srate"])) > 0
        numeric = _first(info["channel_format"]) != "string"
        if regular and numeric and len(stream["time_stamps"]):
            raws[_first(info["name"])] = _stream_to_raw(stream, markers)
    return raws


def _stream_to_raw(stream: dict, markers: list[tuple[float, str]]) -> mne.io.RawArray:
    import mne

    info = stream["info"]
    n_channels = int(_first(info["channel_count"]))
    sfreq = float(_first(info["nominal_srate"]))
    channels = channels_from_fields(_channel_fields(info), _first(info["type"]), n_channels)
    scales = np.array([c.scale if c.unit_known else 1.0 for c in channels])
    stamps = np.asarray(stream["time_stamps"], dtype=float)
    values = np.asarray(stream["time_series"], dtype=float).T * scales[:, None]
    # Each sample's position on a continuous grid: consecutive within a segment, and a jump
    # of the gap's length (in samples) across each gap.
    steps = np.diff(stamps)
    gaps = np.flatnonzero(steps > 1.5 / sfreq)
    advance = np.ones(stamps.size, dtype=int)
    advance[0] = 0
    advance[gaps + 1] = np.maximum(1, np.round(steps[gaps] * sfreq).astype(int))
    positions = np.cumsum(advance)
    data = np.zeros((n_channels, positions[-1] + 1))
    data[:, positions] = values
    mne_info = mne.create_info([c.name for c in channels], sfreq, [c.kind for c in channels])
    raw = mne.io.RawArray(data, mne_info, verbose="error")
    onsets, durations, descriptions = [], [], []
    for index in gaps:
        onsets.append((positions[index] + 1) / sfreq)
        durations.append((positions[index + 1] - positions[index] - 1) / sfreq)
        descriptions.append(GAP_ANNOTATION)
    for stamp, text in markers:
        position = float(np.interp(stamp, stamps, positions))
        if stamps[0] <= stamp <= stamps[-1]:
            onsets.append(position / sfreq)
            durations.append(0.0)
            descriptions.append(text)
    raw.set_annotations(mne.Annotations(onsets, durations, descriptions))
    return raw


def _markers(streams: list[dict]) -> list[tuple[float, str]]:
    found = []
    for stream in streams:
        info = stream["info"]
        if float(_first(info["nominal_srate"])) > 0:
            continue
        for stamp, row in zip(stream["time_stamps"], stream["time_series"], strict=False):
            found.append((float(stamp), "|".join(_text(v) for v in row)))
    return sorted(found)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"


def _channel_fields(info: dict) -> list[dict[str, str]]:
    try:
        channels = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return []
    return [{key: str(_first(value) or "") for key, value in ch.items()} for ch in channels]


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "stream"
