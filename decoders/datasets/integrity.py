"""Checks that a file's header agrees with the data it holds (truncated or padded files)."""

from __future__ import annotations

import configparser
import re
import struct
from pathlib import Path

from .errors import DataError

_BV_SAMPLE_BYTES = {"int_16": 2, "uint_16": 2, "int_32": 4, "ieee_float_32": 4}


def check_edf_size(path: Path) -> None:
    """Raise :class:`DataError` when an EDF/BDF file is shorter or longer than its header says."""
    sample_bytes = 3 if path.suffix.lower() == ".bdf" else 2
    with open(path, "rb") as handle:
        fixed = handle.read(256)
        if len(fixed) < 256:
            raise DataError(path, f"only {len(fixed)} bytes: shorter than an EDF header")
        try:
            header_bytes = int(fixed[184:192])
            n_records = int(fixed[236:244])
            n_signals = int(fixed[252:256])
        except ValueError as error:
            raise DataError(path, f"EDF header fields are not numbers ({error})") from error
        signal_header = handle.read(n_signals * 256)
    if len(signal_header) < n_signals * 256 or header_bytes != 256 * (n_signals + 1):
        raise DataError(path, f"EDF header declares {n_signals} signals but is truncated")
    if n_records < 0:  # -1: still being recorded; the reader counts the records itself
        return
    offset = 216 * n_signals  # samples-per-record fields follow 216 bytes of other fields
    try:
        per_record = [
            int(signal_header[offset + 8 * i : offset + 8 * (i + 1)]) for i in range(n_signals)
        ]
    except ValueError as error:
        raise DataError(path, f"EDF samples-per-record fields are not numbers ({error})") from error
    expected = header_bytes + n_records * sum(per_record) * sample_bytes
    actual = path.stat().st_size
    if actual != expected:
        raise DataError(
            path,
            f"header declares {n_records} data records ({expected} bytes) but the file has "
            f"{actual} bytes: truncated or padded",
        )


def check_brainvision_size(vhdr: Path) -> None:
    """Raise :class:`DataError` when a BrainVision data file does not fit its header.

    The binary file must hold whole samples of every channel, and every marker must point
    inside the data.
    """
    text = vhdr.read_text(encoding="utf-8", errors="replace")
    body = text.split("\n", 1)[1] if "\n" in text else ""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(body)
        infos = parser["Common Infos"]
        n_channels = int(infos["NumberOfChannels"])
        data_file = vhdr.parent / infos["DataFile"]
        marker_file = vhdr.parent / infos.get("MarkerFile", "")
        binary = parser["Binary Infos"]["BinaryFormat"].strip().lower()
    except (KeyError, ValueError, configparser.Error) as error:
        raise DataError(vhdr, f"BrainVision header is incomplete ({error})") from error
    if not data_file.is_file():
        raise DataError(vhdr, f"its data file {data_file.name} is missing")
    frame = n_channels * _BV_SAMPLE_BYTES.get(binary, 4)
    size = data_file.stat().st_size
    if size % frame:
        raise DataError(
            vhdr,
            f"{data_file.name} holds {size} bytes, not a whole number of {n_channels}-channel "
            "samples: truncated",
        )
    n_times = size // frame
    if marker_file.is_file():
        markers = marker_file.read_text(encoding="utf-8", errors="replace")
        positions = [int(p) for p in re.findall(r"^Mk\d+=[^,]*,[^,]*,(\d+)", markers, re.M)]
        beyond = [p for p in positions if p > n_times]
        if beyond:
            raise DataError(
                vhdr,
                f"markers point to sample {max(beyond)} but the data hold {n_times} samples: "
                "the data file is truncated",
            )


_FIF_TAG_HEADER = struct.Struct(">iIii")  # kind, type, size, next
_FIF_NEXT_SEQUENTIAL, _FIF_NEXT_NONE = 0, -1


def check_fif_size(path: Path) -> None:
    """Raise :class:`DataError` when a FIF file ends inside one of its tags (truncated).

    Walks the chain of tags (16-byte headers: kind, type, data size, next position) from
    the start, without reading the data, and names where the chain leaves the file.
    """
    actual = path.stat().st_size
    position = 0
    with open(path, "rb") as handle:
        while True:
            handle.seek(position)
            header = handle.read(_FIF_TAG_HEADER.size)
            if len(header) < _FIF_TAG_HEADER.size:
                if position == 0:
                    raise DataError(path, f"only {actual} bytes: shorter than a FIF tag")
                raise DataError(
                    path,
                    f"truncated: a tag starts at byte {position} but the file ends after "
                    f"{actual} bytes (expected at least {position + _FIF_TAG_HEADER.size})",
                )
            _, _, size, following = _FIF_TAG_HEADER.unpack(header)
            end = position + _FIF_TAG_HEADER.size + size
            if size < 0:
                raise DataError(path, f"FIF tag at byte {position} declares a negative size")
            if end > actual:
                raise DataError(
                    path,
                    f"truncated: the tag at byte {position} holds {size} bytes, so the file "
                    f"needs at least {end} bytes but has {actual}",
                )
            if following == _FIF_NEXT_NONE or (following == _FIF_NEXT_SEQUENTIAL and end == actual):
                return
            position = end if following == _FIF_NEXT_SEQUENTIAL else following
            if position > actual:
                raise DataError(
                    path,
                    f"truncated: a tag points to byte {position} but the file has {actual} bytes",
                )
