"""Channel metadata: LSL/XDF channel descriptions mapped to MNE channel types and SI units."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# LSL/XDF channel "type" strings (case-insensitive) -> MNE channel type.
_MNE_TYPES = {
    "eeg": "eeg",
    "eog": "eog",
    "emg": "emg",
    "ecg": "ecg",
    "ekg": "ecg",
    "seeg": "seeg",
    "ecog": "ecog",
    "ieeg": "seeg",
    "dbs": "dbs",
    "lfp": "dbs",
    "meg": "mag",
    "mag": "mag",
    "megmag": "mag",
    "grad": "grad",
    "meggrad": "grad",
    "stim": "stim",
    "trigger": "stim",
    "marker": "stim",
    "markers": "stim",
    "resp": "resp",
    "bio": "bio",
    "gsr": "bio",
    "misc": "misc",
    "aux": "misc",
    "accelerometer": "misc",
    "force": "misc",
}

# Unit strings (as amplifiers and XDF files write them) -> factor to the SI unit.
_UNIT_SCALES = {
    "v": 1.0,
    "volt": 1.0,
    "volts": 1.0,
    "mv": 1e-3,
    "millivolt": 1e-3,
    "millivolts": 1e-3,
    "uv": 1e-6,
    "µv": 1e-6,
    "μv": 1e-6,
    "microvolt": 1e-6,
    "microvolts": 1e-6,
    "nv": 1e-9,
    "nanovolt": 1e-9,
    "nanovolts": 1e-9,
    "t": 1.0,
    "tesla": 1.0,
    "ft": 1e-15,
    "femtotesla": 1e-15,
    "pt": 1e-12,
    "t/m": 1.0,
    "ft/cm": 1e-13,
    "ft/m": 1e-15,
}

# The SI unit each MNE data type is streamed and stored in; types absent here are unitless.
SI_UNITS = {
    "eeg": "V",
    "eog": "V",
    "emg": "V",
    "ecg": "V",
    "seeg": "V",
    "ecog": "V",
    "dbs": "V",
    "mag": "T",
    "grad": "T/m",
}

# Stream-level LSL "type" strings for each MNE type, used when publishing.
LSL_TYPE_NAMES = {
    "eeg": "EEG",
    "eog": "EOG",
    "emg": "EMG",
    "ecg": "ECG",
    "seeg": "SEEG",
    "ecog": "ECOG",
    "dbs": "DBS",
    "mag": "MEGMAG",
    "grad": "MEGGRAD",
    "stim": "STIM",
    "resp": "RESP",
    "bio": "BIO",
    "misc": "MISC",
}


@dataclass(frozen=True)
class ChannelInfo:
    """One channel as the rest of the application sees it.

    Parameters
    ----------
    name : str
        Channel label.
    kind : str
        MNE channel type (``eeg``, ``mag``, ``seeg``, ...).
    unit : str
        Unit of the values as they arrive.
    scale : float
        Factor bringing arriving values to SI units (NaN when the unit is unknown).
    """

    name: str
    kind: str
    unit: str
    scale: float

    @property
    def unit_known(self) -> bool:
        """Return True when the unit could be mapped to SI."""
        return not math.isnan(self.scale)


def mne_channel_type(lsl_type: str | None, default: str = "misc") -> str:
    """Map an LSL/XDF channel type string to an MNE channel type."""
    if not lsl_type:
        return default
    return _MNE_TYPES.get(lsl_type.strip().lower(), default)


def unit_scale(unit: str | None, kind: str) -> float:
    """Return the factor bringing values in ``unit`` to SI; NaN when it is not known.

    A missing unit means SI for channel types that have one, and 1 for unitless types.
    """
    if not unit:
        return 1.0
    key = unit.strip().lower().replace(" ", "")
    if key in _UNIT_SCALES:
        return _UNIT_SCALES[key]
    if kind not in SI_UNITS:
        return 1.0
    return math.nan


def channels_from_fields(
    fields: Iterable[Mapping[str, str]], default_type: str, n_channels: int
) -> list[ChannelInfo]:
    """Build channel descriptions from ``label``/``type``/``unit`` fields (XDF/LSL convention).

    Parameters
    ----------
    fields : iterable of mapping
        One mapping per channel as found in the stream's ``desc/channels`` element; may be
        empty or shorter than ``n_channels``.
    default_type : str
        The stream's own type, used for channels that declare none.
    n_channels : int
        The stream's channel count; missing channels are named ``ch1``, ``ch2``, ...
    """
    described = list(fields)
    stream_kind = mne_channel_type(default_type)
    channels = []
    for index in range(n_channels):
        entry = described[index] if index < len(described) else {}
        name = (entry.get("label") or entry.get("name") or f"ch{index + 1}").strip()
        kind = mne_channel_type(entry.get("type"), default=stream_kind)
        unit = (entry.get("unit") or entry.get("units") or SI_UNITS.get(kind, "")).strip()
        channels.append(ChannelInfo(name, kind, unit, unit_scale(unit, kind)))
    return channels


def lsl_fields(name: str, kind: str) -> dict[str, str]:
    """Return the ``label``/``type``/``unit`` fields that describe a channel we publish in SI."""
    return {"label": name, "type": LSL_TYPE_NAMES.get(kind, "MISC"), "unit": SI_UNITS.get(kind, "")}
