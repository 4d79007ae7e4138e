"""Seizure alarms published as an LSL stream beside a forecaster's predictions."""

from __future__ import annotations

import numpy as np

from bci_app.models.alarm import AlarmPolicy, AlarmStatus

ALARM_TYPE = "SeizureAlarm"
ALARM_CHANNELS = ("alarm", "probability", "positives")


class AlarmOutlet:
    """An irregular float32 LSL stream: alarm on (1) or off (0), preictal probability, count.

    One sample per decoded window, stamped with the window's last-sample time, so a consumer
    sees the alarm state and the probability that drives it. The stream header carries the
    alarm policy (threshold, k of n, refractory period, SPH and SOP).

    Parameters
    ----------
    name : str
        Stream name.
    policy : AlarmPolicy
        The model's alarm policy.
    source_id : str
        Source id (stable, so consumers reconnect after a restart).
    model : str
        ``name:version`` of the model.
    """

    def __init__(self, name: str, policy: AlarmPolicy, *, source_id: str, model: str) -> None:
        import pylsl

        info = pylsl.StreamInfo(name, ALARM_TYPE, len(ALARM_CHANNELS), 0.0, "float32", source_id)
        channels = info.desc().append_child("channels")
        for label in ALARM_CHANNELS:
            channel = channels.append_child("channel")
            channel.append_child_value("label", label)
            channel.append_child_value("type", "alarm")
        description = info.desc().append_child("policy")
        for key, value in policy.to_dict().items():
            description.append_child_value(key, str(value))
        info.desc().append_child("model").append_child_value("ref", model)
        self.name = name
        self._outlet = pylsl.StreamOutlet(info)

    def push(self, status: AlarmStatus) -> None:
        """Publish one window's alarm status."""
        sample = np.array(
            [float(status.active), status.probability, float(status.positives)], np.float32
        )
        self._outlet.push_sample(sample, status.timestamp)

    def close(self) -> None:
        """Remove the stream from the network."""
        self._outlet = None
