"""LSL stream descriptions: read channel metadata from a stream's XML, build the XML we publish."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .channels import ChannelInfo, channels_from_fields, lsl_fields

if TYPE_CHECKING:
    import pylsl

# Channel types counted when choosing the stream-level type of a published stream.
_DATA_KINDS = ("seeg", "ecog", "dbs", "mag", "grad", "eeg")
_STREAM_TYPE = {"seeg": "SEEG", "ecog": "ECOG", "dbs": "DBS", "mag": "MEG", "grad": "MEG"}


@dataclass(frozen=True)
class StreamDescription:
    """What the application knows about one LSL stream.

    Parameters
    ----------
    name, stype, source_id : str
        The stream's name, type and source id (empty when the sender set none).
    sfreq : float
        Nominal sampling rate in Hz; 0 for irregular streams such as markers.
    n_channels : int
        Channel count.
    channel_format : str
        ``float32``, ``double64``, ``int16``, ``int32``, ``int8``, ``int64`` or ``string``.
    channels : tuple of ChannelInfo
        Names, MNE types, units and the factor to SI of each channel (from the ``desc/channels``
        element; defaults when the sender described none).
    hostname, uid : str
        The sending machine and the outlet's unique id (new each time an outlet is created).
    header : str
        The stream's XML header as received (what a recorder stores).
    info : pylsl.StreamInfo, optional
        The resolved LSL handle, used to open an inlet.
    """

    name: str
    stype: str
    source_id: str
    sfreq: float
    n_channels: int
    channel_format: str
    channels: tuple[ChannelInfo, ...]
    hostname: str = ""
    uid: str = ""
    header: str = field(default="", compare=False, repr=False)
    info: pylsl.StreamInfo | None = field(default=None, compare=False, repr=False)

    @property
    def regular(self) -> bool:
        """Return True for a regularly sampled stream (nominal rate above zero)."""
        return self.sfreq > 0

    @property
    def is_marker(self) -> bool:
        """Return True for an event stream (irregular rate), whatever its value format."""
        return not self.regular

    @property
    def ch_names(self) -> list[str]:
        """Return the channel names."""
        return [c.name for c in self.channels]

    @property
    def ch_types(self) -> list[str]:
        """Return the MNE channel types."""
        return [c.kind for c in self.channels]

    @property
    def label(self) -> str:
        """Return a short human label: name, type and source id."""
        source = f", source {self.source_id}" if self.source_id else ""
        return f"'{self.name}' ({self.stype}{source})"

    def compatible_with(self, other: StreamDescription) -> str | None:
        """Return why ``other`` cannot continue this stream, or None when it can."""
        changes = []
        if other.sfreq != self.sfreq:
            changes.append(f"sampling rate {self.sfreq:g} Hz -> {other.sfreq:g} Hz")
        if other.n_channels != self.n_channels:
            changes.append(f"channel count {self.n_channels} -> {other.n_channels}")
        if other.channel_format != self.channel_format:
            changes.append(f"format {self.channel_format} -> {other.channel_format}")
        return "; ".join(changes) or None


def describe(info: pylsl.StreamInfo) -> StreamDescription:
    """Return the description of a resolved (or full) LSL stream info."""
    return describe_xml(info.as_xml(), info=info)


def describe_xml(xml: str, *, info: pylsl.StreamInfo | None = None) -> StreamDescription:
    """Return the description held by a stream's XML header (LSL ``as_xml`` or XDF header)."""
    root = ElementTree.fromstring(xml)
    if root.tag != "info" and root.find("info") is not None:
        root = root.find("info")

    def text(tag: str, default: str = "") -> str:
        element = root.find(tag)
        return (element.text or default).strip() if element is not None else default

    n_channels = int(text("channel_count", "0"))
    stype = text("type")
    fields = [
        {child.tag: (child.text or "").strip() for child in channel}
        for channel in root.findall("./desc/channels/channel")
    ]
    return StreamDescription(
        name=text("name"),
        stype=stype,
        source_id=text("source_id"),
        sfreq=float(text("nominal_srate", "0")),
        n_channels=n_channels,
        channel_format=text("channel_format", "float32"),
        channels=tuple(channels_from_fields(fields, stype, n_channels)),
        hostname=text("hostname"),
        uid=text("uid"),
        header=xml,
        info=info,
    )


def stream_type_for(ch_types: Sequence[str]) -> str:
    """Return the LSL stream type naming the dominant data channel type (``EEG``, ``MEG``...)."""
    counts = {kind: sum(1 for t in ch_types if t == kind) for kind in _DATA_KINDS}
    meg = counts["mag"] + counts["grad"]
    best = max(_DATA_KINDS, key=lambda kind: meg if kind in ("mag", "grad") else counts[kind])
    if (meg if best in ("mag", "grad") else counts[best]) == 0:
        return "MISC"
    return _STREAM_TYPE.get(best, best.upper())


def build_stream_info(
    name: str,
    stype: str,
    ch_names: Sequence[str],
    ch_types: Sequence[str],
    sfreq: float,
    *,
    source_id: str,
    channel_format: str = "float32",
    extra: dict[str, str] | None = None,
) -> pylsl.StreamInfo:
    """Return an LSL stream info whose channels are described in SI units (XDF conventions).

    Parameters
    ----------
    name, stype, source_id : str
        Stream name, type and source id (a stable source id lets inlets reconnect).
    ch_names, ch_types : sequence of str
        Channel names and MNE channel types.
    sfreq : float
        Nominal rate in Hz (0 for an irregular stream).
    channel_format : str
        LSL value format.
    extra : dict, optional
        Text fields written under ``desc/acquisition`` (for instance the source file).
    """
    import pylsl

    if len(ch_names) != len(ch_types):
        raise ValueError(f"{len(ch_names)} channel names but {len(ch_types)} channel types")
    info = pylsl.StreamInfo(name, stype, len(ch_names), sfreq, channel_format, source_id)
    channels = info.desc().append_child("channels")
    for ch_name, kind in zip(ch_names, ch_types, strict=True):
        element = channels.append_child("channel")
        for key, value in lsl_fields(ch_name, kind).items():
            element.append_child_value(key, value)
    if extra:
        acquisition = info.desc().append_child("acquisition")
        for key, value in extra.items():
            acquisition.append_child_value(key, value)
    return info
