"""The error raised for unknown simulated tasks and invalid simulator options."""

from __future__ import annotations

from decoders.datasets.errors import DataError


class SimulatorError(DataError):
    """A simulator that cannot run as asked, with the task or option and the problem named."""
