"""When a site's reply was made: its ClientApp process start, the app's start and end.

Every reply carries a ``timing`` record of wall-clock times (seconds since the epoch): when
the operating system started the ClientApp process, when the app's function began (after
Python, Flower and the app were imported and the message pulled from the SuperNode) and when
it returned. With the server's own push and pull times, they split a deployed stage into the
SuperNode's pick-up, the process start, the work and the reply's return
(:mod:`federated.server.timing`).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flwr.app import Message

TIMING_RECORD = "timing"


def process_start() -> float:
    """Return when this process started (wall clock, seconds since the epoch).

    On Linux from the process's start in clock ticks since boot and the uptime (10 ms
    resolution; psutil's boot time is whole seconds); elsewhere psutil's.
    """
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            ticks = int(stat.read().rpartition(")")[2].split()[19])
            since_boot = float(uptime.read().split()[0])
        return time.time() - since_boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        import psutil

        return float(psutil.Process(os.getpid()).create_time())


def stamped(reply: Message, started: float) -> Message:
    """Return ``reply`` with its timing record (``started``: when the app's function began)."""
    from flwr.app import ConfigRecord

    if reply.has_content():
        reply.content[TIMING_RECORD] = ConfigRecord(
            {"process-start": process_start(), "app-start": started, "app-end": time.time()}
        )
    return reply
