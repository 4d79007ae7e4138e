"""Predictions published as an LSL stream, for any program (and the GUI) to consume."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PREDICTION_TYPE = "Predictions"


class PredictionOutlet:
    """An irregular float32 LSL stream with one channel per model output.

    Each sample is stamped with the LSL time of the decoded window's last sample, so a
    consumer can align decisions with the signal and measure its own end-to-end delay.

    Parameters
    ----------
    name : str
        Stream name.
    output_names : sequence of str
        Channel labels (class or output names).
    source_id : str
        Source id (stable, so consumers reconnect after a restart).
    model : str
        ``name:version`` of the model, written in the stream header.
    """

    def __init__(
        self, name: str, output_names: Sequence[str], *, source_id: str, model: str
    ) -> None:
        import pylsl

        info = pylsl.StreamInfo(name, PREDICTION_TYPE, len(output_names), 0.0, "float32", source_id)
        channels = info.desc().append_child("channels")
        for label in output_names:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("type", "prediction")
            channel.append_child_value("unit", "")
        info.desc().append_child("model").append_child_value("ref", model)
        self.name = name
        self._outlet = pylsl.StreamOutlet(info)

    def push(self, outputs: np.ndarray, timestamp: float) -> None:
        """Publish one prediction stamped with its window's last-sample time."""
        self._outlet.push_sample(np.asarray(outputs, dtype=np.float32), timestamp)

    def close(self) -> None:
        """Remove the stream from the network."""
        self._outlet = None
