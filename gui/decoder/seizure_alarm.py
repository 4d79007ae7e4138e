"""The seizure-alarm banner of the decoder panel, for models that raise alarms."""

from __future__ import annotations

from bci_app.models.alarm import AlarmPolicy, AlarmStatus

from ..theme import Theme
from ..widgets import Banner


class SeizureAlarmBanner(Banner):
    """Red while a seizure alarm is on, quiet (grey) with the preictal probability otherwise.

    Hidden for models without an alarm policy.
    """

    def __init__(self, theme: Theme) -> None:
        super().__init__(theme)
        self.policy: AlarmPolicy | None = None

    def follow(self, policy: AlarmPolicy | None) -> None:
        """Show the alarms of a model with ``policy`` (None: hide the banner)."""
        self.policy = policy
        if policy is None:
            self.clear_message()
        else:
            self.show_message("info", f"seizure forecasting: no alarm yet ({_rule(policy)})")

    def show_status(self, status: AlarmStatus | None) -> None:
        """Show the alarm after the newest window."""
        policy = self.policy
        if policy is None or status is None:
            return
        if status.active:
            since = status.timestamp - (status.raised_at or status.timestamp)
            self.show_message(
                "alarm",
                f"SEIZURE ALARM, raised {since / 60:.1f} min ago: seizure expected "
                f"{policy.sph_s / 60:g}-{(policy.sph_s + policy.sop_s) / 60:g} min after the "
                f"alarm. {policy.positive} probability {status.probability:.2f}",
            )
        else:
            self.show_message(
                "info",
                f"no seizure alarm: {policy.positive} probability {status.probability:.2f}, "
                f"{status.positives} of the last {policy.n} windows positive ({_rule(policy)})",
            )


def _rule(policy: AlarmPolicy) -> str:
    return f"alarm at {policy.k} of {policy.n} windows >= {policy.threshold:g}"
