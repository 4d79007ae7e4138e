"""Acquisition: LSL inlets and outlets, ring buffers, causal filters, quality, recording.

Imports nothing of the other bci-app packages. Import the submodule you need:

- ``discovery``: :func:`find_streams`, :func:`find_stream` (by name, type, source id);
- ``session``: :class:`AcquisitionSession`, several streams sharing one event log;
- ``inlet``: :class:`SignalInlet`, :class:`MarkerInlet` (a thread each, loss detection,
  reconnection by source id, SI units, clock correction, dejittering, quality);
- ``ringbuffer`` / ``cursor`` / ``markers``: what the inlets fill and how readers follow it;
- ``windows``: :class:`Window`, the one window type (samples, first/last sample times,
  arrival, gap and non-finite flags, marker), and :class:`WindowStream` (a window every hop);
- ``epochs``: :class:`EpochStream` (a window around each marker of another stream);
- ``processed``: :class:`ProcessedBuffer`, a stream through a pipeline, its marks carried;
- ``preprocessing``: causal, stateful :class:`~acquisition.preprocessing.pipeline.Pipeline`;
- ``quality``: per-channel flags (flat, line noise, out of range, NaN);
- ``recorder`` / ``xdf_writer`` / ``export``: crash-safe XDF recording, FIF on a clean stop;
- ``player``: :class:`Player`, a recording replayed as LSL streams;
- ``events``: stream status and the event log; ``channels`` / ``streaminfo``: metadata.

Losses, reconnections and warnings go to the ``acquisition`` logger (silent unless the
application configures logging) and to each session's :class:`~acquisition.events.EventLog`.
"""

import logging

logging.getLogger("acquisition").addHandler(logging.NullHandler())
