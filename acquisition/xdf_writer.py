"""Writing XDF files (the chunked format of LabRecorder) incrementally.

Chunks are encoded in memory and written with one ``write`` call per :meth:`XdfWriter.flush`,
so a file cut short by a crash ends on a whole chunk (or, if the kill lands inside that one
call, on a partial Samples chunk, which readers skip). Format: https://github.com/sccn/xdf.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import BinaryIO
from xml.sax.saxutils import escape

import numpy as np

_FILE_HEADER, _STREAM_HEADER, _SAMPLES, _CLOCK_OFFSET, _BOUNDARY, _STREAM_FOOTER = range(1, 7)
BOUNDARY_UUID = bytes.fromhex("43A546DCCBF5410FB30ED5467383CBE4")
NUMERIC_FORMATS = {
    "float32": "<f4",
    "double64": "<f8",
    "int8": "i1",
    "int16": "<i2",
    "int32": "<i4",
    "int64": "<i8",
}


def varlen(value: int) -> bytes:
    """Encode a length as XDF does: a byte giving the width (1, 4 or 8), then the value."""
    if value < 2**8:
        return b"\x01" + struct.pack("<B", value)
    if value < 2**32:
        return b"\x04" + struct.pack("<I", value)
    return b"\x08" + struct.pack("<Q", value)


def chunk(tag: int, content: bytes) -> bytes:
    """Return one whole chunk: length, tag, content."""
    body = struct.pack("<H", tag) + content
    return varlen(len(body)) + body


def encode_samples(
    stream_id: int, channel_format: str, timestamps: np.ndarray, values: np.ndarray | Sequence
) -> bytes:
    """Return a Samples chunk holding samples ``(n, n_channels)`` each with its timestamp."""
    n_samples = len(timestamps)
    head = struct.pack("<I", stream_id) + varlen(n_samples)
    if channel_format == "string":
        parts = [head]
        for stamp, row in zip(timestamps, values, strict=True):
            parts.append(b"\x08" + struct.pack("<d", stamp))
            for value in row:
                raw = str(value).encode("utf-8")
                parts.append(varlen(len(raw)) + raw)
        return chunk(_SAMPLES, b"".join(parts))
    values = np.asarray(values)
    n_channels = values.shape[1]
    layout = np.dtype(
        [("flag", "u1"), ("stamp", "<f8"), ("values", NUMERIC_FORMATS[channel_format], n_channels)]
    )
    records = np.empty(n_samples, dtype=layout)
    records["flag"] = 8
    records["stamp"] = timestamps
    records["values"] = values
    return chunk(_SAMPLES, head + records.tobytes())


class XdfWriter:
    """An XDF file written chunk by chunk.

    Parameters
    ----------
    file : binary file object
        Opened for writing (any object with ``write``/``flush``; ``fileno`` enables fsync).
    """

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        self.bytes_written = 0
        self._pending = bytearray(b"XDF:")
        self._pending += chunk(
            _FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version></info>'
        )

    @property
    def pending(self) -> int:
        """Return the number of encoded bytes not yet written."""
        return len(self._pending)

    def stream_header(self, stream_id: int, xml: str) -> None:
        """Add a stream's header (its LSL ``<info>`` XML)."""
        self._pending += chunk(_STREAM_HEADER, struct.pack("<I", stream_id) + xml.encode("utf-8"))

    def samples(
        self,
        stream_id: int,
        channel_format: str,
        timestamps: np.ndarray,
        values: np.ndarray | Sequence,
    ) -> None:
        """Add samples ``(n, n_channels)`` of one stream with their timestamps."""
        if len(timestamps):
            self._pending += encode_samples(stream_id, channel_format, timestamps, values)

    def clock_offset(self, stream_id: int, time: float, offset: float) -> None:
        """Add one clock-offset measurement of a stream (local time, offset to add)."""
        self._pending += chunk(_CLOCK_OFFSET, struct.pack("<Idd", stream_id, time, offset))

    def boundary(self) -> None:
        """Add a boundary chunk (lets readers resynchronise after a damaged stretch)."""
        self._pending += chunk(_BOUNDARY, BOUNDARY_UUID)

    def stream_footer(
        self,
        stream_id: int,
        *,
        first: float,
        last: float,
        count: int,
        offsets: Sequence[tuple[float, float]],
    ) -> None:
        """Add a stream's footer: first and last timestamp, sample count, clock offsets."""
        clock = "".join(
            f"<offset><time>{time!r}</time><value>{value!r}</value></offset>"
            for time, value in offsets
        )
        xml = (
            f'<?xml version="1.0"?><info><first_timestamp>{first!r}</first_timestamp>'
            f"<last_timestamp>{last!r}</last_timestamp><sample_count>{count}</sample_count>"
            f"<clock_offsets>{clock}</clock_offsets></info>"
        )
        self._pending += chunk(_STREAM_FOOTER, struct.pack("<I", stream_id) + xml.encode())

    def flush(self, *, fsync: bool = True) -> int:
        """Write everything encoded so far in one call and return the bytes written.

        Raises
        ------
        OSError
            When the write fails (a full disk); nothing of the failed batch counts as written.
        """
        if not self._pending:
            return 0
        data = bytes(self._pending)
        self.file.write(data)
        self.file.flush()
        if fsync and hasattr(self.file, "fileno"):
            os.fsync(self.file.fileno())
        self._pending.clear()
        self.bytes_written += len(data)
        return len(data)

    def discard_pending(self) -> int:
        """Drop what is encoded but not written; return how many bytes were dropped."""
        dropped = len(self._pending)
        self._pending.clear()
        return dropped


def marker_header(name: str, stype: str, source_id: str) -> str:
    """Return the XML header of a text marker stream this application writes itself."""
    return (
        f'<?xml version="1.0"?><info><name>{escape(name)}</name><type>{escape(stype)}</type>'
        "<channel_count>1</channel_count><nominal_srate>0</nominal_srate>"
        f"<channel_format>string</channel_format><source_id>{escape(source_id)}</source_id>"
        "<desc /></info>"
    )
