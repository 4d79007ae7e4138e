"""Reading XDF files (LabRecorder, bci-app recordings) into MNE objects."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from acquisition.channels import channels_from_fields

from .errors import DataError

if TYPE_CHECKING:
    import mne


def read_xdf(path: Path, *, stream: str | None = None) -> mne.io.RawArray:
    """Read one signal stream of an XDF file, with the marker streams as annotations.

    Parameters
    ----------
    path : Path
        The ``.xdf`` file.
    stream : str, optional
        Name or type of the signal stream; default is the one with the most channels.
    """
    import mne
    import pyxdf

    try:
        # Break the dejittering at gaps of 0.1 s (pyxdf's default, 1 s, smooths shorter
        # stream losses over instead of keeping them as gaps).
        streams, _ = pyxdf.load_xdf(
            str(path),
            verbose=False,
            jitter_break_threshold_seconds=0.1,
            jitter_break_threshold_samples=10,
        )
    except Exception as error:  # pyxdf raises bare Exceptions on malformed chunks
        raise DataError(path, f"cannot be read as XDF: {error}") from error
    signal = _pick_signal_stream(path, streams, stream)
    info_fields = signal["info"]
    n_channels = int(_first(info_fields["channel_count"]))
    channels = channels_from_fields(
        _channel_fields(info_fields), _first(info_fields["type"]), n_channels
    )
    unknown = [c.name for c in channels if not c.unit_known]
    if unknown:
        raise DataError(path, f"channels {unknown[:5]} have units that cannot be mapped to SI")
    samples = np.asarray(signal["time_series"], dtype=float)
    if samples.ndim != 2 or samples.shape[1] != n_channels:
        raise DataError(
            path,
            f"header declares {n_channels} channels but the data have shape {samples.shape}",
        )
    sfreq = float(_first(info_fields["nominal_srate"]))
    data = samples.T * np.array([c.scale for c in channels])[:, None]
    info = mne.create_info([c.name for c in channels], sfreq, [c.kind for c in channels])
    raw = mne.io.RawArray(data, info, verbose="error")
    stamps = np.asarray(signal["time_stamps"], dtype=float)
    raw.set_annotations(_annotations(streams, stamps, sfreq))
    return raw


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _pick_signal_stream(path: Path, streams: list[dict], wanted: str | None) -> dict:
    signals = [
        s
        for s in streams
        if float(_first(s["info"]["nominal_srate"])) > 0
        and _first(s["info"]["channel_format"]) != "string"
        and len(s["time_stamps"]) > 0
    ]
    if wanted is not None:
        signals = [
            s for s in signals if wanted in (_first(s["info"]["name"]), _first(s["info"]["type"]))
        ]
    if not signals:
        which = f" named or typed '{wanted}'" if wanted else ""
        raise DataError(path, f"holds no regularly sampled signal stream{which} with data")
    return max(signals, key=lambda s: int(_first(s["info"]["channel_count"])))


def _channel_fields(info: dict) -> list[dict[str, str]]:
    try:
        channels = info["desc"][0]["channels"][0]["channel"]
    except (KeyError, IndexError, TypeError):
        return []
    return [{key: str(_first(value)) for key, value in ch.items()} for ch in channels]


def _annotations(streams: list[dict], stamps: np.ndarray, sfreq: float) -> mne.Annotations:
    import mne

    onsets: list[float] = []
    descriptions: list[str] = []
    sample_index = np.arange(stamps.size)
    for stream in streams:
        if _first(stream["info"]["channel_format"]) != "string":
            continue
        for stamp, value in zip(stream["time_stamps"], stream["time_series"], strict=False):
            # Through the signal's own time stamps, so that gaps do not shift later markers.
            onsets.append(float(np.interp(stamp, stamps, sample_index)) / sfreq)
            descriptions.append(str(_first(value)))
    gaps = np.flatnonzero(np.diff(stamps) > 1.5 / sfreq)
    for index in gaps:
        onsets.append((index + 1) / sfreq)
        descriptions.append("BAD_ACQ_SKIP")
    return mne.Annotations(onsets, np.zeros(len(onsets)), descriptions)
