"""Fixtures of the acquisition tests: unique stream names, outlets, senders in other processes."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

SENDER = Path(__file__).with_name("sender.py")


@pytest.fixture
def unique() -> str:
    """Return a stream name no other test uses."""
    return f"t-{uuid.uuid4().hex[:10]}"


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "") -> None:
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.01)


@pytest.fixture
def wait() -> Callable[..., None]:
    """Return :func:`wait_until`."""
    return wait_until


@pytest.fixture
def outlet() -> Iterator[Callable[..., object]]:
    """Return a factory of pylsl outlets with described channels; they close after the test."""
    import pylsl

    made = []

    def make(
        name: str,
        *,
        n_channels: int = 4,
        sfreq: float = 250.0,
        stype: str = "EEG",
        source_id: str | None = None,
        channel_format: str = "float32",
        unit: str | None = "V",
        chunk_size: int = 0,
    ) -> pylsl.StreamOutlet:
        info = pylsl.StreamInfo(
            name, stype, n_channels, sfreq, channel_format, source_id or f"{name}-sid"
        )
        if unit is not None:
            channels = info.desc().append_child("channels")
            for index in range(n_channels):
                channel = channels.append_child("channel")
                channel.append_child_value("label", f"C{index}")
                channel.append_child_value("type", stype)
                channel.append_child_value("unit", unit)
        made.append(pylsl.StreamOutlet(info, chunk_size=chunk_size))
        return made[-1]

    def close(made_outlet: pylsl.StreamOutlet) -> None:
        """Forget an outlet so that deleting the test's reference destroys it."""
        made.remove(made_outlet)

    make.close = close
    yield make
    made.clear()


def push_block(outlet: object, n_times: int, *, start: int = 0) -> np.ndarray:
    """Push ``n_times`` samples whose first channel counts samples; return them (n, n_ch)."""
    n_channels = outlet.get_info().channel_count()
    values = np.zeros((n_times, n_channels), dtype=np.float32)
    values[:, 0] = np.arange(start, start + n_times)
    values[:, 1:] = np.random.default_rng(start).standard_normal((n_times, n_channels - 1))
    outlet.push_chunk(values)
    return values


@pytest.fixture
def push() -> Callable[..., np.ndarray]:
    """Return :func:`push_block`."""
    return push_block


@pytest.fixture
def sender() -> Iterator[Callable[..., subprocess.Popen]]:
    """Start ``sender.py`` processes (an outlet in another process); kill them after the test."""
    processes: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, str(SENDER), name, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(process)
        line = process.stdout.readline()
        assert line.strip() == "ready", f"sender {name} failed to start: {line!r}"
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(5)
